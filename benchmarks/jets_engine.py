"""Jets engine vs FastJet on the same events, one run: ``python -m benchmarks.jets_engine``.

Per core (one thread each, CPU time per event or per sampled history, best of
``--repeat``, configurations interleaved over blocks of events, one untimed call before
each), on three samples: the embedded 300 events (≈ 105 particles), ``--fresh`` freshly
generated events (≈ 100 particles) and ``--fresh-400`` events of ≈ 400 particles (four
fresh events overlaid, as pile-up would):

* FastJet anti-kT (PyPI, awkward interface): ``ClusterSequence(array, antikt R).inclusive_jets()``
  — every ratio is ÷ this row, except kt and C/A (÷ FastJet's kt / C/A, embedded sample);
* ours anti-kT: ``cluster(events, R).inclusive_jets()`` and the fast path
  ``sample_mjj_and_score(..., alpha=None)``;
* ours Qanti-kT at α, fast path (mjj + score): one history per event, and
  ``--histories`` (100) histories per event (the events' shared work done once), per history.

End to end (``--e2e``, on by default) as users call it, default threads, wall time:
awkward array in, ``apps.jets.ClusterSequence(array, JetDefinition(antikt, R)).inclusive_jets()``
(Momentum4D jets out) against FastJet's same call.

Before and after (``--before DIR``, another checkout, e.g. ``git archive main``): the
public calls of the per-core table on the embedded sample (and anti-kT on its events
overlaid four by four, ≈ 420 particles), one thread, CPU time, in alternating fresh
processes of each tree (``--before-rounds``), best per call.

R-gradient (``--gradient-events`` × ``--histories``, default 1000 × 100, 0 to skip):
``sample_mjj_and_score`` (mjj + ∂/∂R log p: one score-function gradient step) in a fresh
subprocess per (code, threads), seconds of wall time on 1 and 2 threads, for this
tree and for ``--before DIR`` (another checkout, e.g. ``git archive main``), interleaved,
best of ``--gradient-repeat``. Numba compile time is measured in a subprocess with an
empty cache (``--compile``).

``--quick``: 100 embedded + 60 fresh + 12 overlaid events, 3 repeats, gradient 200 × 20.

``--agreement``: no timing; for anti-kT, kt and C/A at R = 0.4, 0.8, 1.2, ours against
FastJet on the embedded 300 events plus ``--generated N`` fresh Pythia events (default
500, ``--gen-seed`` 4242, as tests/jets/test_fastjet_agreement.py) — see
:func:`agreement`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _timed(fn):
    """(wall seconds, CPU seconds of this process — all its threads)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


ALGORITHMS = {-1: ("anti-kT", "antikt_algorithm"), 0: ("C/A", "cambridge_algorithm"),
              1: ("kt", "kt_algorithm")}


def _compare(events, R, p):
    """Ours (CPU backend) against FastJet on ``events`` at ``R`` with power ``p``.

    Per event, both jet lists sorted by pT (FastJet's with a stable sort of its own
    order). An event is identical "in pT order" when it has the same number of jets and
    every four-momentum is equal bit for bit, jet by jet, and each jet's constituent set
    is the same. An event that fails only because of the order among jets of equal pT
    counts as identical "as sets": its jets matched by constituent set have bit-equal
    four-momenta and their pTs in FastJet's order equal ours (the permutation is among
    ties only). Constituents: particles whose jet (as a set of particles) is the same jet
    in both (order-free). Four-momentum differences are also reported as the worst
    relative difference (÷ |E|) over events with the same number of jets.

    Returns:
        dict with events, ordered (identical in pT order), as_sets (extra events identical
        only as sets), jets_ours, jets_fj, cons_same, cons_total, worst.
    """
    import awkward as ak
    import fastjet

    import apps.jets as J

    res = J.cluster(events, R, p=p, backend="cpu")
    jets = res.inclusive_jets(0.0)
    labels = res.constituents(0.0)[:, 0]
    cs = fastjet.ClusterSequence(events.to_awkward(with_name=None),
                                 fastjet.JetDefinition(getattr(fastjet, ALGORITHMS[p][1]), R))
    fj = cs.inclusive_jets()
    fci = cs.constituent_index().to_list()
    comp = [np.asarray(ak.flatten(fj[c])) for c in ("px", "py", "pz", "E")]
    offs = np.concatenate([[0], np.cumsum(np.asarray(ak.num(fj)))])
    jp4 = np.asarray(jets.p4)
    jcounts = np.asarray(jets.counts)
    out = dict(events=len(events), ordered=0, as_sets=0, jets_ours=0, jets_fj=0,
               cons_same=0, cons_total=0, worst=0.0)
    for e in range(len(events)):
        sl = slice(offs[e], offs[e + 1])
        fp = np.stack([c[sl] for c in comp], axis=1)
        order = np.argsort(-(fp[:, 0] ** 2 + fp[:, 1] ** 2), kind="stable")
        fp = fp[order]
        cons_f = [frozenset(fci[e][k]) for k in order]
        n_o = int(jcounts[e, 0])
        op = jp4[e, 0, :n_o]
        lab = labels[e, : events.counts[e]]
        cons_o = [frozenset(np.flatnonzero(lab == j).tolist()) for j in range(n_o)]
        out["jets_ours"] += n_o
        out["jets_fj"] += len(fp)
        set_f = set(cons_f)
        same = [c for c in cons_o if c in set_f]
        out["cons_same"] += sum(len(c) for c in same)
        out["cons_total"] += int(events.counts[e])
        if n_o != len(fp):
            continue
        if n_o:
            rel = np.max(np.abs(op - fp) / np.maximum(np.abs(fp[:, 3:4]), 1e-300))
            out["worst"] = max(out["worst"], float(rel))
        if np.array_equal(op, fp) and cons_o == cons_f:
            out["ordered"] += 1
            continue
        if len(same) == n_o:
            idx_f = {c: k for k, c in enumerate(cons_f)}
            perm = [idx_f[c] for c in cons_o]
            pt_o = op[:, 0] ** 2 + op[:, 1] ** 2
            pt_f = fp[:, 0] ** 2 + fp[:, 1] ** 2
            if np.array_equal(op, fp[perm]) and np.array_equal(pt_o, pt_f):
                out["as_sets"] += 1
    return out


def agreement(args):
    """Print the FastJet agreement table (see the module docs)."""
    import apps.jets as J

    ev = J.load_default_events() if args.events == "default" else J.load_events(args.events)
    n_ship = len(ev)
    if args.generated > 0:
        t0 = time.perf_counter()
        gen = J.generate_events(args.generated, seed=args.gen_seed, progress=False)
        t_gen = time.perf_counter() - t0
        n_max = max(gen.p4.shape[1], ev.p4.shape[1])
        p4 = np.zeros((len(ev) + len(gen), n_max, 4))
        p4[: len(ev), : ev.p4.shape[1]] = ev.p4
        p4[len(ev):, : gen.p4.shape[1]] = gen.p4
        ev = J.Events(p4, np.concatenate([ev.counts, gen.counts]))
        print(f"{n_ship} shipped + {args.generated} generated events (Pythia seed {args.gen_seed}, "
              f"{t_gen:.1f} s), {ev.counts.sum()} particles")
    else:
        print(f"{n_ship} events, {ev.counts.sum()} particles")
    import fastjet

    print(f"FastJet {getattr(fastjet, '__version__', '?')} (awkward interface); ours: CPU backend")
    print("| algorithm | R | events identical / total (in pT order + as sets) | jets (ours / FastJet) "
          "| constituents identical / total | worst relative four-momentum difference |")
    print("|---|---:|---:|---:|---:|---:|")
    for p in (-1, 1, 0):
        for R in args.radii:
            o = _compare(ev, R, p)
            ident = o["ordered"] + o["as_sets"]
            sets = f" ({o['ordered']} + {o['as_sets']})" if o["as_sets"] else ""
            jets = f"{o['jets_ours']}" if o["jets_ours"] == o["jets_fj"] else f"{o['jets_ours']} / {o['jets_fj']}"
            print(f"| {ALGORITHMS[p][0]} | {R:g} | {ident} / {o['events']}{sets} | {jets} "
                  f"| {o['cons_same']} / {o['cons_total']} | {o['worst']:.3g} |")
    return 0


def _overlay(events, k):
    """Events of ``k`` consecutive events' particles each (pile-up-like multiplicities)."""
    import apps.jets as J

    n = len(events) // k
    counts = events.counts[: n * k].reshape(n, k).sum(axis=1)
    p4 = np.zeros((n, int(counts.max()), 4))
    for e in range(n):
        parts = [events.p4[e * k + j, : events.counts[e * k + j]] for j in range(k)]
        p4[e, : counts[e]] = np.concatenate(parts)
    return J.Events(p4, counts.astype(np.int64))


def _interleaved(configs, n_blocks, repeat):
    """Best (wall, CPU) per configuration and block over ``repeat`` interleaved rounds, summed over blocks.

    ``configs``: (threads, make) with ``make(k)`` the timed call on block k. One untimed
    call precedes each configuration in every round (absorbs thread switches, caches).
    """
    import numba

    best = np.full((len(configs), n_blocks, 2), np.inf)
    for _ in range(repeat):
        for c, (th, make) in enumerate(configs):
            numba.set_num_threads(th)
            make(0)()
            for k in range(n_blocks):
                best[c, k] = np.minimum(best[c, k], _timed(make(k)))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return best.sum(axis=1)


def per_core(name, ev, args, with_family=False):
    """The one-thread table of one sample (see the module docs); returns its rows."""
    import fastjet

    import apps.jets as J

    R, a, H = args.R, args.alpha, args.histories
    blk = max(1, min(args.block, len(ev)))
    blocks = [ev.subset(slice(b, b + blk)) for b in range(0, len(ev), blk)]
    arrs = [b.to_awkward(with_name=None) for b in blocks]
    n_h = max(1, min(len(ev), args.h_events))  # events for the many-histories row
    hblk = max(1, min(n_h, max(1, blk // 5)))
    hblocks = [ev.subset(slice(b, min(b + hblk, n_h))) for b in range(0, n_h, hblk)]
    jd = {p: fastjet.JetDefinition(getattr(fastjet, ALGORITHMS[p][1]), R) for p in (-1, 0, 1)}

    def fj(p):
        return lambda k: (lambda: fastjet.ClusterSequence(arrs[k], jd[p]).inclusive_jets())

    rows = [("FastJet anti-kT (PyPI, awkward): ClusterSequence + inclusive_jets", 1, len(ev), fj(-1), -1, None),
            ("ours anti-kT: cluster + inclusive_jets", 1, len(ev),
             lambda k: (lambda: J.cluster(blocks[k], R, backend="cpu").inclusive_jets()), -1, None),
            ("ours anti-kT: fast path (mjj)", 1, len(ev),
             lambda k: (lambda: J.sample_mjj_and_score(blocks[k].p4, blocks[k].counts, R, None, 1, 0,
                                                       backend="cpu")), -1, None),
            (f"ours Qanti-kT α={a:g}, 1 history per event: fast path (mjj + score), per history", 1, len(ev),
             lambda k: (lambda: J.sample_mjj_and_score(blocks[k].p4, blocks[k].counts, R, a, 1, 1,
                                                       backend="cpu")), -1, None),
            (f"ours Qanti-kT α={a:g}, {H} histories per event ({n_h} events): fast path, per history", 1, n_h * H,
             lambda k: (lambda: J.sample_mjj_and_score(hblocks[k].p4, hblocks[k].counts, R, a, H, 1,
                                                       backend="cpu")), -1, "h")]
    if with_family:
        rows += [(f"FastJet {ALGORITHMS[p][0]} (PyPI, awkward): ClusterSequence + inclusive_jets", 1, len(ev),
                  fj(p), p, None) for p in (1, 0)]
        rows += [(f"ours {ALGORITHMS[p][0]}: cluster(p={p}) + inclusive_jets", 1, len(ev),
                  (lambda p: lambda k: (lambda: J.cluster(blocks[k], R, p=p, backend="cpu").inclusive_jets()))(p),
                  p, None) for p in (1, 0)]
    # warm-up: numba compilation or cache load, FastJet's banner
    for _, _, _, make, _, kind in rows:
        make(0)()
    plain = [(th, make) for (_, th, _, make, _, kind) in rows if kind is None]
    many = [(th, make) for (_, th, _, make, _, kind) in rows if kind == "h"]
    tot_plain = _interleaved(plain, len(blocks), args.repeat)
    tot_many = _interleaved(many, len(hblocks), args.repeat)
    it_p, it_m = iter(tot_plain), iter(tot_many)
    tot = [next(it_m) if kind == "h" else next(it_p) for (*_, kind) in rows]
    ref = {}
    for (label, _, per, _, p, _), t in zip(rows, tot):
        if label.startswith("FastJet"):
            ref[p] = t / per
    print(f"\n{name}: {len(ev)} events, {ev.counts.mean():.1f} particles/event (max {ev.counts.max()}), R = {R}, "
          f"one thread, best of {args.repeat}")
    print("| clustering | CPU µs | ÷ FastJet CPU | wall µs | ÷ FastJet wall |")
    print("|---|---:|---:|---:|---:|")
    out = []
    for (label, _, per, _, p, _), t in zip(rows, tot):
        w, c = t / per
        out.append((label, c, c / ref[p][1]))
        print(f"| {label} | {c * 1e6:.1f} | {c / ref[p][1]:.2f} | {w * 1e6:.1f} | {w / ref[p][0]:.2f} |")
    return out


def end_to_end(name, ev, args):
    """Awkward in, Momentum4D jets out, default threads (wall): ours ÷ FastJet's same call."""
    import fastjet
    import numba

    import apps.jets as J

    arr = ev.to_awkward(with_name=None)
    fjd = fastjet.JetDefinition(fastjet.antikt_algorithm, args.R)
    ojd = J.JetDefinition(J.antikt_algorithm, args.R)
    calls = [(numba.config.NUMBA_NUM_THREADS, lambda k: (lambda: fastjet.ClusterSequence(arr, fjd).inclusive_jets())),
             (numba.config.NUMBA_NUM_THREADS, lambda k: (lambda: J.ClusterSequence(arr, ojd).inclusive_jets()))]
    for _, make in calls:
        make(0)()
    (fw, fc), (ow, oc) = _interleaved(calls, 1, args.repeat) / len(ev)
    print(f"| {name} | {len(ev)} | {fw * 1e6:.1f} | {ow * 1e6:.1f} | {ow / fw:.2f} | {oc / fc:.2f} |")


_GRAD = """
import sys, time, numpy as np
import apps.jets as J
d = np.load(sys.argv[1])
p4, counts, H = d["p4"], d["counts"], int(sys.argv[2])
J.sample_mjj_and_score(p4[:4], counts[:4], 0.8, 1.0, 2, 0)  # compile or load the cache
t = time.perf_counter()
mjj, score = J.sample_mjj_and_score(p4, counts, 0.8, 1.0, H, 1)
wall = time.perf_counter() - t
loss = np.where(np.isfinite(mjj), (mjj - 125.0) ** 2, 0.0)
grad = np.mean((loss - loss.mean(axis=1, keepdims=True)) * score)
print(wall, grad, J.__file__)
"""


def _grad_run(tree, path, H, threads):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", _GRAD, str(path), str(H)], env=env, cwd=tempfile.gettempdir(),
                         capture_output=True, text=True, check=True).stdout.split()
    if not out[2].startswith(str(Path(tree).resolve())):
        raise RuntimeError(f"the gradient run imported {out[2]}, not the tree {tree}")
    return float(out[0]), float(out[1])


def gradient(ev, args):
    """R-gradient seconds on 1 and 2 threads, this tree and ``--before``, interleaved (subprocesses)."""
    here = Path(__file__).resolve().parents[1]
    trees = [("this tree", here)] + ([("before: " + args.before, Path(args.before))] if args.before else [])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.npz"
        np.savez(path, p4=ev.p4, counts=ev.counts)
        best = {}
        for _ in range(args.gradient_repeat):
            for th in (1, 2):
                for label, tree in trees:
                    w, g = _grad_run(tree, path, args.histories, th)
                    key = (label, th)
                    best[key] = (min(best.get(key, (np.inf,))[0], w), g)
    print(f"\nR-gradient: sample_mjj_and_score on {len(ev)} events × {args.histories} histories (R = 0.8, α = 1, "
          f"seed 1), wall seconds, best of {args.gradient_repeat}, fresh process each")
    print("| code | threads | seconds | FastJet passes (1 thread) | estimate d⟨(mjj−125)²⟩/dR |")
    print("|---|---:|---:|---:|---:|")
    for (label, th), (w, g) in best.items():
        print(f"| {label} | {th} | {w:.2f} | {w / (len(ev) * args.fj_event_s):.0f} | {g:.6g} |")


_PERCORE = """
import sys, time, numpy as np, numba
numba.set_num_threads(1)
import apps.jets as J
ev = J.load_default_events()
sub = ev.subset(slice(0, 30))
k = 4  # ≈ 420-particle events: 4 embedded events overlaid each
cnt = ev.counts.reshape(-1, k).sum(axis=1)
p4b = np.zeros((len(cnt), int(cnt.max()), 4))
for e in range(len(cnt)):
    p4b[e, :cnt[e]] = np.concatenate([ev.p4[e * k + j, :ev.counts[e * k + j]] for j in range(k)])
big = J.Events(p4b, cnt.astype(np.int64))
def best(f, k=5):
    b = 1e9
    for _ in range(k):
        t = time.process_time(); f(); b = min(b, time.process_time() - t)
    return b
calls = [(lambda: J.sample_mjj_and_score(ev.p4, ev.counts, 0.8, None, 1, 0), len(ev)),
         (lambda: J.cluster(ev, 0.8).inclusive_jets(), len(ev)),
         (lambda: J.sample_mjj_and_score(ev.p4, ev.counts, 0.8, 1.0, 1, 1), len(ev)),
         (lambda: J.sample_mjj_and_score(sub.p4, sub.counts, 0.8, 1.0, 100, 1), 100 * len(sub)),
         (lambda: J.sample_mjj_and_score(big.p4, big.counts, 0.8, None, 1, 0), len(big)),
         (lambda: J.cluster(big, 0.8).inclusive_jets(), len(big))]
arr = ev.to_awkward(with_name=None)  # as users call it: awkward in, Momentum4D jets out (one thread here)
jd = J.JetDefinition(J.antikt_algorithm, 0.8)
calls.append((lambda: J.ClusterSequence(arr, jd).inclusive_jets(), len(ev)))
for f, _ in calls:
    f()
print(" ".join(str(best(f) / k) for f, k in calls), J.__file__)
"""


def before_after(args):
    """One thread, CPU time: this tree against ``--before``, alternating fresh processes, best per call."""
    here = Path(__file__).resolve().parents[1]
    trees = [("before: " + args.before, Path(args.before)), ("this tree", here)]
    best = {}
    for _ in range(args.before_rounds):
        for label, tree in trees:
            env = dict(os.environ, PYTHONPATH=str(tree))
            out = subprocess.run([sys.executable, "-c", _PERCORE], env=env, cwd=tempfile.gettempdir(),
                                 capture_output=True, text=True, check=True).stdout.split()
            if not out[-1].startswith(str(Path(tree).resolve())):
                raise RuntimeError(f"the run imported {out[-1]}, not the tree {tree}")
            best[label] = np.minimum(best.get(label, np.inf), np.array(out[:-1], float))
    print(f"\nBefore and after, embedded sample (and its events overlaid 4 by 4: 75 events of ≈ 420 particles), "
          f"one thread, CPU µs per event / history (R = 0.8, α = 1), "
          f"{args.before_rounds} alternating fresh processes each, best of 5 inside")
    print("| code | anti-kT fast path | anti-kT cluster + inclusive_jets | Qanti-kT, 1 history per event "
          "| Qanti-kT, 100 histories per event (30 events), per history "
          "| ≈ 420 particles: anti-kT fast path | ≈ 420 particles: anti-kT cluster + inclusive_jets "
          "| awkward in: ClusterSequence + inclusive_jets (Momentum4D out) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, v in best.items():
        print(f"| {label} | " + " | ".join(f"{x * 1e6:.1f}" for x in v) + " |")


_COMPILE = """
import time, numpy as np
t = time.perf_counter()
import apps.jets as J
ev = J.load_default_events().subset(slice(0, 4))
t0 = time.perf_counter()
J.sample_mjj_and_score(ev.p4, ev.counts, 0.8, None, 1, 0)
t1 = time.perf_counter()
J.sample_mjj_and_score(ev.p4, ev.counts, 0.8, 1.0, 2, 0)
t2 = time.perf_counter()
J.cluster(ev, 0.8).inclusive_jets()
t3 = time.perf_counter()
print(t0 - t, t1 - t0, t2 - t1, t3 - t2)
"""


def compile_time():
    """Seconds to compile the CPU kernels (empty numba cache) and to load them from the cache."""
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(here))
        runs = [subprocess.run([sys.executable, "-c", _COMPILE], env=env, cwd=tempfile.gettempdir(),
                               capture_output=True, text=True, check=True).stdout.split() for _ in range(2)]
    (imp, det, smp, tab), (_, det2, smp2, tab2) = [[float(x) for x in r] for r in runs]
    print(f"\nnumba compilation (empty cache): first anti-kT call {det:.1f} s, first sampled call {smp:.1f} s, "
          f"first cluster + inclusive_jets {tab:.1f} s (import {imp:.1f} s); from the cache: "
          f"{det2:.2f} / {smp2:.2f} / {tab2:.2f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", default="default", help="events file or 'default' (embedded 300 events)")
    ap.add_argument("--R", type=float, default=0.8, help="jet radius")
    ap.add_argument("--alpha", type=float, default=1.0, help="Qanti-kT alpha")
    ap.add_argument("--histories", type=int, default=100, help="histories per event (many-histories row, gradient)")
    ap.add_argument("--h-events", type=int, default=30, help="events of the many-histories row")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved rounds (best kept)")
    ap.add_argument("--block", type=int, default=50, help="events per timed call")
    ap.add_argument("--fresh", type=int, default=300, help="freshly generated events (~100 particles)")
    ap.add_argument("--fresh-400", type=int, default=40, help="events of ~400 particles (4 fresh events each)")
    ap.add_argument("--gen-seed", type=int, default=4242, help="Pythia seed of the fresh events")
    ap.add_argument("--no-e2e", action="store_true", help="skip the end-to-end table")
    ap.add_argument("--gradient-events", type=int, default=1000, help="R-gradient events (0: skip)")
    ap.add_argument("--gradient-repeat", type=int, default=1, help="R-gradient runs per (code, threads)")
    ap.add_argument("--before", default=None, help="another checkout (e.g. git archive main) for the R-gradient")
    ap.add_argument("--before-rounds", type=int, default=3, help="--before: alternating rounds of the per-core check")
    ap.add_argument("--no-compile", action="store_true", help="skip the compile-time measurement")
    ap.add_argument("--quick", action="store_true", help="small samples, 3 repeats (a smoke run)")
    ap.add_argument("--agreement", action="store_true", help="FastJet agreement table instead of timings")
    ap.add_argument("--generated", type=int, default=500, help="--agreement: generated events added")
    ap.add_argument("--radii", type=float, nargs="+", default=[0.4, 0.8, 1.2], help="--agreement: R values")
    args = ap.parse_args(argv)
    if (args.repeat < 1 or args.block < 1 or args.histories < 1 or args.h_events < 1 or args.generated < 0
            or args.fresh < 0 or args.fresh_400 < 0 or args.gradient_events < 0 or args.gradient_repeat < 1 or args.before_rounds < 1):
        print("jets_engine: --repeat, --block, --histories, --h-events, --gradient-repeat must be >= 1; "
              "--generated, --fresh, --fresh-400, --gradient-events >= 0", file=sys.stderr)
        return 2
    if args.before is not None and not (Path(args.before) / "apps" / "jets").is_dir():
        print(f"jets_engine: --before {args.before}: no apps/jets there (give a checkout's root)", file=sys.stderr)
        return 2
    if args.agreement:
        return agreement(args)
    if args.quick:
        args.repeat = min(args.repeat, 3)
        args.fresh, args.fresh_400, args.h_events = min(args.fresh, 60), min(args.fresh_400, 12), 10
        args.gradient_events, args.histories = min(args.gradient_events, 200), min(args.histories, 20)

    import numba

    import apps.jets as J

    t_start = time.perf_counter()
    ev = J.load_default_events() if args.events == "default" else J.load_events(args.events)
    if args.quick:
        ev = ev.subset(slice(0, 100))
    n_gen = args.fresh + 4 * args.fresh_400
    gen_needed = max(n_gen, args.gradient_events - len(ev))
    t0 = time.perf_counter()
    gen = J.generate_events(gen_needed, seed=args.gen_seed, progress=False) if gen_needed > 0 else None
    t_gen = time.perf_counter() - t0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads by default), "
          f"load average {load:.2f} at the start; {gen_needed} events generated (Pythia seed {args.gen_seed}, "
          f"{t_gen:.0f} s)")
    samples = [("embedded sample", ev, True)]
    if args.fresh:
        samples.append(("fresh events (~100 particles)", gen.subset(slice(0, args.fresh)), False))
    if args.fresh_400:
        samples.append(("fresh events (~400 particles: 4 overlaid)",
                        _overlay(gen.subset(slice(args.fresh, args.fresh + 4 * args.fresh_400)), 4), False))
    fj_event = None
    for name, sample, fam in samples:
        rows = per_core(name, sample, args, with_family=fam)
        if fj_event is None:
            fj_event = rows[0][1]
    if not args.no_e2e:
        print(f"\nEnd to end as users call it (awkward in, Momentum4D jets out, default threads = "
              f"{numba.config.NUMBA_NUM_THREADS}, anti-kT R = {args.R}), per event, best of {args.repeat}")
        print("| sample | events | FastJet wall µs | ours wall µs | ÷ FastJet wall | ÷ FastJet CPU |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, sample, _ in samples:
            end_to_end(name, sample, args)
    if args.before:
        before_after(args)
    if args.gradient_events:
        n_emb = min(len(ev), args.gradient_events)
        parts = [ev.subset(slice(0, n_emb))]
        if args.gradient_events > n_emb:
            parts.append(gen.subset(slice(0, args.gradient_events - n_emb)))
        n_max = max(p.p4.shape[1] for p in parts)
        p4 = np.zeros((sum(len(p) for p in parts), n_max, 4))
        o = 0
        for p in parts:
            p4[o: o + len(p), : p.p4.shape[1]] = p.p4
            o += len(p)
        args.fj_event_s = fj_event
        gradient(J.Events(p4, np.concatenate([p.counts for p in parts])), args)
    if not args.no_compile:
        compile_time()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{time.perf_counter() - t_start:.0f} s in all; load average {load:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
