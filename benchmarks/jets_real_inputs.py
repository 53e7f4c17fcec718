"""Any process from a NanoAOD-like file: R* for Z→bb̄ from GenPart with a particle selection, on the command line.

Run: ``python -m benchmarks.jets_real_inputs [--events zbb.npz] [--n-events 300] [--out out/jets_real_inputs]``.

1. Without ``--events``, generates ``--n-events`` Pythia 8 qq̄ → Z/γ* → bb̄ events (seed 7411).
2. Writes them as a NanoAOD-like ROOT file: a TTree ``Events`` with ``nGenPart`` and
   ``GenPart_pt/eta/phi/mass`` (float32), ``GenPart_pdgId/status`` (int32); per event the two
   incoming partons (status 21, pdgId 21, pt = 0, η = ±23360), the b and b̄ of the hard process
   (status 23, pdgId ±5), then the generator's visible final-state particles (status 1;
   pdgId 0: the generator's events keep only four-momenta) — and the generator's metadata
   (its process) as the TObjString ``meta``, as ``stochgrad-jets generate`` writes it.
3. Runs ``stochgrad-jets optimize --events <file> --select "status == 1 and abs(pdgId) not in
   (12, 14, 16)" --target-mass 91.19`` (4 independent runs) and prints its R* ± uncertainty,
   the label its plots carry, and the wall time; the run without ``--select`` is shown to be
   refused (the incoming partons) with its one-line message.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SELECT = "status == 1 and abs(pdgId) not in (12, 14, 16)"


def write_nanoaod_like(ev, path):
    """``ev`` (with b quarks) as NanoAOD-like GenPart branches (see the module docs)."""
    import awkward as ak
    import uproot
    import vector

    parts = ev.to_awkward()
    bq = vector.zip({k: ev.bquarks[..., q] for q, k in enumerate(("px", "py", "pz", "E"))})
    cols = {k: [] for k in ("pt", "eta", "phi", "mass", "pdgId", "status")}
    for e in range(len(ev)):
        p = parts[e]
        n = len(p)
        cols["pt"].append(np.concatenate([[0.0, 0.0], bq.pt[e], np.asarray(p.pt)]))
        cols["eta"].append(np.concatenate([[23360.0, -23360.0], bq.eta[e], np.asarray(p.eta)]))
        cols["phi"].append(np.concatenate([[0.0, 0.0], bq.phi[e], np.asarray(p.phi)]))
        cols["mass"].append(np.concatenate([[0.0, 0.0], bq.mass[e], np.asarray(p.mass)]))
        cols["pdgId"].append(np.concatenate([[21, 21, 5, -5], np.zeros(n)]))
        cols["status"].append(np.concatenate([[21, 21, 23, 23], np.ones(n)]))
    dt = {"pdgId": np.int32, "status": np.int32}
    gp = ak.zip({k: ak.values_astype(ak.Array(v), dt.get(k, np.float32)) for k, v in cols.items()})
    with uproot.recreate(path) as f:
        f.mktree("Events", {"GenPart": gp.type.content}, field_name=lambda o, i: f"{o}_{i}",
                 counter_name=lambda c: f"n{c}")
        f["Events"].extend({"GenPart": gp})
        f["meta"] = json.dumps(ev.meta)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.jets_real_inputs", description=__doc__.splitlines()[0])
    ap.add_argument("--events", default=None, help="Z→bb̄ events with b quarks (.npz/.parquet/.root); default: generate")
    ap.add_argument("--n-events", type=int, default=300, help="events to generate (without --events)")
    ap.add_argument("--samples", type=int, default=4, help="sampled histories per event and step")
    ap.add_argument("--steps", type=int, default=48, help="optimisation steps per run")
    ap.add_argument("--seeds", type=int, default=4, help="independent runs")
    ap.add_argument("--out", default="out/jets_real_inputs", help="folder for the file, the JSON and the plots")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    from apps.jets import generate_events, load_events

    t0 = time.perf_counter()
    ev = load_events(args.events) if args.events else generate_events(args.n_events, seed=7411, process="zbb",
                                                                        progress=False)
    nano = write_nanoaod_like(ev, os.path.join(args.out, "zbb_nanoaod_like.root"))
    print(f"{len(ev)} Z→bb̄ events ({time.perf_counter() - t0:.1f} s) -> {nano}", flush=True)
    js = os.path.join(args.out, "optimize.json")
    cmd = [sys.executable, "-m", "apps.jets", "optimize", "--events", nano, "--samples", str(args.samples),
           "--steps", str(args.steps), "--seeds", str(args.seeds), "--json", js, "--force"]
    refused = subprocess.run(cmd + ["--target-mass", "91.19"], capture_output=True, text=True)
    print(f"without --select: exit {refused.returncode}: {refused.stderr.strip()}", flush=True)
    t0 = time.perf_counter()
    run = subprocess.run(cmd + ["--select", SELECT, "--target-mass", "91.19"], text=True, capture_output=True)
    wall = time.perf_counter() - t0
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        return run.returncode
    out = json.load(open(js))
    print(run.stdout.strip())
    print(f"\n| events | selection | target | label (plot titles) | R* ± MC stderr | wall |")
    print("|---:|---|---:|---|---|---:|")
    print(f"| {out['run']['n_events']} | `{SELECT}` | {out['run']['target_mass']:g} GeV | {out['run']['label']} | "
          f"{out['R']:.4f} ± {out['R_stderr']:.4f} | {wall:.0f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
