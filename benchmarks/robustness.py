"""Robustness harness: bad and edge-case inputs, each in its own subprocess, classified by outcome.

Run: ``python -m benchmarks.robustness`` (prints the table; writes nothing),
``python -m benchmarks.robustness --write-docs`` (also rewrites the table in
docs/reliability.md), ``--only CATEGORY``, ``--jobs N``, ``--timeout S``, ``-v``
(one line per case).

Every case runs in a fresh temporary directory (its working directory) in a
subprocess with a timeout, so a segfault or a hang is seen as such. Outcomes:

* **clear error**: API: ``ValueError``/``TypeError``/``RuntimeError`` (or a
  subclass) with a message; CLI: exit status 2 and exactly one error line on
  stderr (warning lines aside);
* **valid result**: API: a finite result; CLI: exit 0, no ``nan`` in the output
  or in JSON written;
* **warned**: a valid result that came with a warning about the setting;
* **crash**: killed by a signal (e.g. exit 139, segmentation fault);
* **raw traceback**: a Python traceback on a CLI's stderr, an API exception of
  an unexpected type (IndexError, ZeroDivisionError, ...), or a CLI error that is
  not one line with exit 2;
* **silent NaN**: a NaN/inf result (API) or NaN in a CLI's output with exit 0;
* **hang**: still running at the timeout;
* **file lost**: a file that existed before the command changed or vanished, a
  file appeared under ``docs/`` or where a refused command must not write, or a
  temporary file was left behind.

Each case also says what it expects (``error`` for bad input, ``ok`` for an edge
case that has an answer); ``unexpected`` counts cases whose outcome is a clear
error where a result was expected, or a result where an error was expected.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTCOMES = ["clear error", "valid result", "warned", "crash", "raw traceback", "silent NaN", "hang", "file lost"]
CLEAR_TYPES = ("ValueError", "TypeError", "RuntimeError", "SharpnessWarning", "BiasWarning", "CliError")

PRELUDE = """
import numpy as np, autograd.numpy as anp, stochgrad as sg

@sg.stochastic
def quad(theta):
    k = sg.bernoulli(0.5)
    return theta * theta + k

@sg.stochastic
def flip(theta):
    k = sg.bernoulli(theta)
    return 3.0 * k + theta

def prog_from(**kw):
    @sg.batched
    def prog(theta, n, seed, want):
        rng = np.random.default_rng(seed)
        d = np.shape(theta)
        out = sg.BatchSamples(value=rng.random(n), score=rng.normal(size=(n,) + d),
                              pathwise=np.zeros((n,) + d))
        if want.alternatives:
            out.alt_weight, out.alt_delta = np.ones((n,) + d), np.ones(n)
        for k, v in kw.items():
            setattr(out, k, v(n) if callable(v) else v)
        return out
    return prog

def with_(shape_fn, i, v):
    def make(n):
        a = np.ones(shape_fn(n)); a.reshape(-1)[i] = v; return a
    return make

EV3 = np.array([[[10., 0, 1, 12.], [0, 10., -1, 11.], [3, 3, 3, 6.]]])
"""

# --------------------------------------------------------------------------------------------- cases


def api(cat, name, code, expect="error", timeout=None, user_error=None):
    """An API case: ``code`` sets ``result``; ``user_error``: an exception type raised by the user's own
    code, which must come through unchanged (counted as a clear error)."""
    return {"cat": cat, "name": name, "kind": "api", "code": code, "expect": expect, "timeout": timeout,
            "user_error": user_error}


def cli(cat, name, prog, args, expect="error", files=None, protect=(), absent=(), timeout=None, json_out=()):
    return {"cat": cat, "name": name, "kind": "cli", "prog": prog, "args": list(args), "expect": expect,
            "files": files or {}, "protect": list(protect), "absent": list(absent), "timeout": timeout,
            "json_out": list(json_out)}


def _core_cases():
    c = "core estimators"
    vg = "sg.value_and_grad"
    out = []
    for b in ["float('nan')", "float('inf')", "-float('inf')", "'bogus'", "None", "True", "[1.0]", "1e308"]:
        out.append(api(c, f"ScoreFunction({b})", f"result = {vg}(flip, sg.ScoreFunction({b}), n=20, seed=0)(0.3)"))
    for s, th, exp in [("0", "0.3", "error"), ("-1e-2", "0.3", "error"), ("float('nan')", "0.3", "error"),
                       ("float('inf')", "0.3", "error"), ("1e-300", "0.3", "error"), ("1e-9", "0.3", "error"),
                       ("1e-12", "1e6", "error"), ("'0.1'", "0.3", "error"), ("True", "0.3", "error"),
                       ("1e-4", "0.3", "ok"), ("1e-300", "0.0", "ok"), ("1e300", "0.3", "error")]:
        out.append(api(c, f"FiniteDifference({s}) at θ={th}",
                       f"result = {vg}(quad, sg.FiniteDifference({s}), n=20, seed=0)({th})", exp))
    for t, exp in [("float('nan')", "error"), ("float('inf')", "error"), ("0.0", "error"), ("-1.0", "error"),
                   ("1e-300", "ok"), ("1e300", "ok")]:
        out.append(api(c, f"GumbelSTE({t})",
                       f"result = {vg}(lambda th: sg.bernoulli(0.5) * th ** 2, sg.GumbelSTE({t}), n=20, seed=0)(0.3)",
                       exp))
    for a in ["0", "-1", "1.5", "float('nan')"]:
        out.append(api(c, f"StochasticDerivative({a})", f"result = {vg}(flip, sg.StochasticDerivative({a}), n=20)(0.3)"))
    for m in ["0", "-1", "2.5"]:
        out.append(api(c, f"Exact(max_traces={m})", f"result = {vg}(flip, sg.Exact(max_traces={m}))(0.3)"))
    for n in ["0", "-5", "1.5", "True", "'10'"]:
        out.append(api(c, f"n={n}", f"result = {vg}(quad, 'score', n={n}, seed=0)(0.3)"))
    for th in ["float('nan')", "float('inf')", "'abc'", "None", "1j", "np.array([0.3, np.nan])"]:
        out.append(api(c, f"θ={th}", f"result = {vg}(quad, 'score', n=20, seed=0)({th})"))
    for est in ["'bogus'", "42", "sg.ScoreFunction"]:
        out.append(api(c, f"estimator={est}", f"result = {vg}(quad, {est}, n=20, seed=0)(0.3)",
                       "ok" if est == "sg.ScoreFunction" else "error"))
    for seed in ["-1", "'abc'", "1.5"]:
        out.append(api(c, f"seed={seed}", f"result = {vg}(quad, 'score', n=20, seed={seed})(0.3)"))
    progs = {
        "f not callable": "result = sg.value_and_grad(3.0, 'score')(0.3)",
        "f returns NaN on a branch": "result = sg.value_and_grad(lambda th: np.nan if sg.bernoulli(th) else 1.0, "
                                     "'score', n=50, seed=0)(0.5)",
        "f returns inf": "result = sg.value_and_grad(lambda th: np.inf * sg.bernoulli(th), 'sd', n=50, seed=0)(0.5)",
        "f returns a string": "result = sg.value_and_grad(lambda th: 'x', 'score', n=5, seed=0)(0.5)",
        "f returns an array": "result = sg.value_and_grad(lambda th: np.ones(3) * sg.bernoulli(th), 'score', n=5, "
                              "seed=0)(0.5)",
        "bernoulli(1.5)": "result = sg.value_and_grad(lambda th: sg.bernoulli(th + 1.2), 'score', n=5, seed=0)(0.3)",
        "bernoulli(-0.1)": "result = sg.value_and_grad(lambda th: sg.bernoulli(th - 0.4), 'score', n=5, seed=0)(0.3)",
        "bernoulli(NaN)": "result = sg.value_and_grad(lambda th: sg.bernoulli(th * np.nan), 'score', n=5, seed=0)(0.3)",
        "categorical NaN logits": "result = sg.value_and_grad(lambda th: sg.categorical(anp.array([th, np.nan])), "
                                  "'score', n=5, seed=0)(0.3)",
        "categorical empty logits": "result = sg.value_and_grad(lambda th: sg.categorical(anp.zeros(0) * th), "
                                    "'score', n=5, seed=0)(0.3)",
        "categorical all -inf": "result = sg.value_and_grad(lambda th: sg.categorical(anp.array([-np.inf, -np.inf]) "
                                "* th), 'score', n=5, seed=0)(0.3)",
        "sqrt kink (score)": "result = sg.value_and_grad(lambda th: anp.sqrt(th - 0.3) + sg.bernoulli(0.5), "
                             "'score', n=10, seed=0)(0.3)",
        "sqrt kink (exact)": "result = sg.value_and_grad(lambda th: anp.sqrt(th - 0.3) + sg.bernoulli(0.5), "
                             "'exact')(0.3)",
        "1/0 in f": "result = sg.value_and_grad(lambda th: 1.0 / (sg.bernoulli(th) * 0.0), 'score', n=5, "
                    "seed=0)(0.3)",
        "bernoulli at θ = 0 boundary": "result = sg.value_and_grad(flip, 'score', n=50, seed=0)(0.0)",
        "FD with n = 1": "result = sg.value_and_grad(quad, sg.FiniteDifference(0.01), n=1, seed=0)(0.3)",
        "leave-one-out with n = 1": "result = sg.value_and_grad(quad, 'score', n=1, seed=0)(0.3)",
    }
    for name, code in progs.items():
        exp = "ok" if name in ("bernoulli at θ = 0 boundary", "FD with n = 1") else "error"
        out.append(api(c, name, code, exp, user_error="ZeroDivisionError" if name == "1/0 in f" else None))
    return out


def _batched_cases():
    c = "batched programs"
    vg = "sg.value_and_grad"
    n1 = "lambda n: (n,)"
    cases = [
        ("returns a dict", "@sg.batched\ndef p(theta, n, seed, want):\n    return {'value': np.zeros(n)}\n"
                           f"result = {vg}(p, 'score', n=8)(0.3)"),
        ("value wrong shape", f"result = {vg}(prog_from(value=np.zeros(3)), 'score', n=8)(0.3)"),
        ("value NaN", f"result = {vg}(prog_from(value=with_({n1}, 2, np.nan)), 'score', n=8)(0.3)"),
        ("value inf", f"result = {vg}(prog_from(value=with_({n1}, 0, np.inf)), 'sd', n=8)(0.3)"),
        ("score NaN", f"result = {vg}(prog_from(score=with_({n1}, 1, np.nan)), 'score', n=8)(0.3)"),
        ("score wrong shape", f"result = {vg}(prog_from(score=np.zeros((8, 2))), 'score', n=8)(0.3)"),
        ("score missing", f"result = {vg}(prog_from(score=None), 'score', n=8)(0.3)"),
        ("pathwise inf", f"result = {vg}(prog_from(pathwise=with_({n1}, 4, np.inf)), 'score', n=8)(0.3)"),
        ("alt_weight NaN", f"result = {vg}(prog_from(alt_weight=with_({n1}, 3, np.nan)), 'sd', n=8)(0.3)"),
        ("alt_weight inf", f"result = {vg}(prog_from(alt_weight=with_({n1}, 0, np.inf)), 'sd', n=8)(0.3)"),
        ("alt_delta NaN", f"result = {vg}(prog_from(alt_delta=with_({n1}, 5, np.nan)), 'sd', n=8)(0.3)"),
        ("alt shapes mismatched", f"result = {vg}(prog_from(alt_weight=np.ones((8, 3))), 'sd', n=8)(0.3)"),
        ("alternatives missing", f"result = {vg}(prog_from(alt_weight=None), 'sd', n=8)(0.3)"),
        ("group of floats", f"result = {vg}(prog_from(group=np.zeros(8)), 'score', n=8)(0.3)"),
        ("group negative", f"result = {vg}(prog_from(group=-np.ones(8, dtype=int)), 'score', n=8)(0.3)"),
        ("group singleton (leave-one-out)", f"result = {vg}(prog_from(group=np.arange(8)), 'score', n=8)(0.3)"),
        ("GS-STE without pathwise", f"result = {vg}(prog_from(pathwise=None), sg.GumbelSTE(), n=8)(0.3)"),
        ("program raises", "@sg.batched\ndef p(theta, n, seed, want):\n    raise ValueError('my sim failed')\n"
                           f"result = {vg}(p, 'score', n=8)(0.3)"),
        ("θ vector, score scalar per sample", f"result = {vg}(prog_from(score=np.zeros(8)), 'score', n=8)"
                                             "(np.array([0.1, 0.2]))"),
        ("extra args to a batched program", f"result = {vg}(prog_from(), 'score', n=8)(0.3, 1)"),
        ("FD step 1e-300 on a batched program", f"result = {vg}(prog_from(), sg.FiniteDifference(1e-300), n=8)(0.3)"),
        ("valid program (SD)", f"result = {vg}(prog_from(), 'sd', n=8, seed=1)(0.3)"),
    ]
    return [api(c, name, code, "ok" if name.startswith("valid") else "error") for name, code in cases]


def _jets_api_cases():
    c = "jets API"
    pre = "from apps.jets import cluster\nfrom apps.jets.clustering.engine import sample_mjj_and_score\n"

    def cl(name, ev, R="0.4", alpha="1.0", extra="", expect="error"):
        code = (pre + f"ev = {ev}\nr = cluster(ev, {R}, alpha={alpha}, seed=0{extra})\n"
                "J = r.inclusive_jets()\nresult = [r.score, J.p4]")
        return api(c, name, code, expect, timeout=120)

    big = "np.array([[[1e200, 0, 0, 1e200], [0, 10., -1, 11.]]])"
    return [
        cl("R = 1e-200 (Qanti-kT)", "EV3", R="1e-200"),
        cl("R = 1e-200 (anti-kT)", "EV3", R="1e-200", alpha="None"),
        cl("R = 0", "EV3", R="0"), cl("R = -1", "EV3", R="-1"), cl("R = NaN", "EV3", R="np.nan"),
        cl("R = inf", "EV3", R="np.inf"), cl("R = 1e300", "EV3", R="1e300"),
        cl("R = 1e-5 (small, finite)", "EV3", R="1e-5", expect="ok"),
        cl("alpha = 1e50", "EV3", alpha="1e50", expect="any"), cl("alpha = -1", "EV3", alpha="-1"),
        cl("alpha = NaN", "EV3", alpha="np.nan"), cl("alpha = inf (anti-kT)", "EV3", alpha="np.inf", expect="ok"),
        cl("|p| = 1e200 (Qanti-kT)", big), cl("|p| = 1e200 (anti-kT)", big, alpha="None"),
        cl("momenta 1e-300", "EV3 * 1e-300"), cl("momenta 1e-150", "EV3 * 1e-150"),
        cl("momenta 1e-140 (small, normal)", "EV3 * 1e-140", expect="ok"),
        cl("float32 momenta, E short of |p| by rounding", "np.array([[[3., 4., 12., np.nextafter(np.float32(13), "
           "np.float32(0))]]], np.float32)", alpha="None", expect="ok"),
        cl("NaN momentum", "np.where(EV3 == 3, np.nan, EV3)"),
        cl("E < |p|", "np.array([[[10., 0, 0, 5.], [0, 10., 0, 10.]]])"),
        cl("all-zero particle", "np.array([[[0., 0, 0, 0], [0, 10., 0, 10.]]])"),
        cl("one particle", "EV3[:, :1]", expect="ok"),
        cl("exact duplicates", "np.repeat(EV3[:, :1], 5, axis=1)", expect="ok"),
        cl("back-to-back pair", "np.array([[[10., 0, 0, 10.], [-10., 0, 0, 10.]]])", expect="ok"),
        cl("wrong last axis (3)", "EV3[..., :3]"), cl("1-D array", "np.ones(4)"),
        cl("n_samples = 0", "EV3", extra=", n_samples=0"),
        api(c, "seed = 'a'", pre + "result = cluster(EV3, 0.4, alpha=1.0, seed='a').score", timeout=120),
        api(c, "sample_mjj_and_score R = 1e-200",
            pre + "m, s = sample_mjj_and_score(EV3, np.array([3]), 1e-200, 1.0, 4, 0)\nresult = s", timeout=120),
        api(c, "sample_mjj_and_score counts > n_max",
            pre + "m, s = sample_mjj_and_score(EV3, np.array([7]), 0.4, 1.0, 4, 0)\nresult = s", timeout=120),
        api(c, "sample_mjj_and_score negative counts",
            pre + "m, s = sample_mjj_and_score(EV3, np.array([-1]), 0.4, 1.0, 4, 0)\nresult = s", timeout=120),
        api(c, "JetDefinition R = np.float32(0.4) (valid)",
            "import apps.jets as J\nresult = J.JetDefinition(J.antikt_algorithm, np.float32(0.4)).R()", expect="ok"),
        api(c, "JetDefinition R = '0.4'", "import apps.jets as J\nresult = J.JetDefinition(J.antikt_algorithm, '0.4')"),
        api(c, "JetDefinition R = 0.4j", "import apps.jets as J\nresult = J.JetDefinition(J.antikt_algorithm, 0.4j)"),
        api(c, "exclusive_dmerge on empty events (valid)",
            "import apps.jets as J\nev = J.load_default_events().subset(slice(0, 2)).to_awkward()[:, :0]\n"
            "result = J.ClusterSequence(ev, J.JetDefinition(J.antikt_algorithm, 0.4)).exclusive_dmerge(1).to_numpy()",
            expect="ok", timeout=120),
        api(c, "counts = [2.5]", "import apps.jets as J\nresult = J.Events(np.ones((1, 3, 4)), [2.5]).p4"),
        api(c, "counts = ['2']", "import apps.jets as J\nresult = J.Events(np.ones((1, 3, 4)), ['2']).p4"),
        api(c, "negative pt record", "import awkward as ak, apps.jets as J\nresult = J.io.to_padded(ak.Array("
                                     "[[{'pt': -5.0, 'eta': 0.1, 'phi': 0.2, 'mass': 0.0}]]))[0]"),
        api(c, "GenPart beam parton (pt = 0, eta = 23360)", "import awkward as ak, apps.jets as J\nresult = "
            "J.io.to_padded(ak.Array([[{'pt': 0.0, 'eta': 23360.0, 'phi': 0.0, 'mass': 0.0, 'status': 21}]]))[0]"),
        api(c, "selection with a call", "import awkward as ak, apps.jets as J\nresult = J.io.to_padded(ak.Array("
            "[[{'pt': 5.0, 'eta': 0.1, 'phi': 0.2, 'mass': 0.0}]]), select=\"__import__('os').getcwd() == 1\")[0]"),
        api(c, "sample_mjj_and_score ptmin = NaN",
            pre + "m, s = sample_mjj_and_score(EV3, np.array([3]), 0.4, 1.0, 4, 0, ptmin=np.nan)\nresult = s",
            timeout=120),
    ]


def _jets_cli_cases():
    c = "jets CLI"
    P = "jets"
    small = ["--n-events", "3", "--samples", "2"]
    cases = [
        cli(c, "no arguments", P, []), cli(c, "unknown command", P, ["frobnicate"]),
        cli(c, "--help", P, ["--help"], expect="ok"),
        cli(c, "optimize --r0 0", P, ["optimize", "--r0", "0"]), cli(c, "optimize --r0 nan", P, ["optimize", "--r0", "nan"]),
        cli(c, "optimize --lr 0", P, ["optimize", "--lr", "0"]),
        cli(c, "optimize --lr-decay 2", P, ["optimize", "--lr-decay", "2"]),
        cli(c, "optimize --estimator bogus", P, ["optimize", "--estimator", "bogus"]),
        cli(c, "optimize --fd-step 0", P, ["optimize", "--fd-step", "0"]),
        cli(c, "optimize --n-alternatives 0", P, ["optimize", "--n-alternatives", "0"]),
        cli(c, "optimize --loss bogus", P, ["optimize", "--loss", "bogus"]),
        cli(c, "optimize --width 0", P, ["optimize", "--width", "0"]),
        cli(c, "optimize --ptmin -1", P, ["optimize", "--ptmin", "-1"]),
        cli(c, "optimize --seed -1", P, ["optimize", "--seed", "-1"]),
        cli(c, "optimize --steps 0", P, ["optimize", "--steps", "0"]),
        cli(c, "optimize --samples 1", P, ["optimize", "--samples", "1"]),
        cli(c, "optimize --alpha nan", P, ["optimize", "--alpha", "nan"]),
        cli(c, "optimize --alpha 1e50", P, ["optimize", "--alpha", "1e50", "--steps", "1", "--json", "o.json"] + small,
            expect="any"),
        cli(c, "optimize --n-events 0", P, ["optimize", "--n-events", "0"]),
        cli(c, "optimize --json p/result.png", P, ["optimize", "--json", "p/result.png"], absent=["p/result.png"]),
        cli(c, "optimize --json ''", P, ["optimize", "--json", ""]),
        cli(c, "optimize --json <directory>", P, ["optimize", "--json", "d.json"], files={"d.json": "dir"}),
        cli(c, "optimize --json under a file", P, ["optimize", "--json", "f/o.json"], files={"f": "text:x"},
            protect=["f"]),
        cli(c, "scan --r-step 0", P, ["scan", "--r-step", "0"]),
        cli(c, "scan --r-step 1e-9 (huge grid)", P, ["scan", "--r-step", "1e-9"]),
        cli(c, "scan --r-max < --r-min", P, ["scan", "--r-min", "1", "--r-max", "0.5"]),
        cli(c, "scan --r-min -1", P, ["scan", "--r-min", "-1"]),
        cli(c, "compare-estimators --R 0", P, ["compare-estimators", "--R", "0"]),
        cli(c, "compare-estimators --event 99999", P, ["compare-estimators", "--event", "99999"]),
        cli(c, "compare-estimators --event -1", P, ["compare-estimators", "--event", "-1"]),
        cli(c, "compare-estimators --n 1", P, ["compare-estimators", "--n", "1"]),
        cli(c, "compare-estimators --estimators bogus", P, ["compare-estimators", "--estimators", "score,bogus"]),
        cli(c, "compare-estimators --R 1e-200", P, ["compare-estimators", "--R", "1e-200", "--n", "10",
                                                    "--estimators", "score"]),
        cli(c, "widths --global-json missing", P, ["widths", "--global-json", "nope.json"]),
        cli(c, "widths --global-json invalid", P, ["widths", "--global-json", "g.json"], files={"g.json": "text:{"}),
        cli(c, "widths --global-json no R", P, ["widths", "--global-json", "g.json"], files={"g.json": "text:{}"}),
        cli(c, "widths --per-event-json wrong length", P, ["widths", "--per-event-json", "g.json", "--n-events", "5"],
            files={"g.json": 'text:{"R": [0.4, 0.5]}'}),
        cli(c, "widths --png x.json", P, ["widths", "--png", "x.json"]),
        cli(c, "generate --events 0", P, ["generate", "--events", "0", "-o", "e.npz"]),
        cli(c, "generate --seed -1", P, ["generate", "--events", "1", "--seed", "-1", "-o", "e.npz"]),
        cli(c, "generate -o e.txt", P, ["generate", "--events", "1", "-o", "e.txt"]),
        cli(c, "optimize --json /proc/r.json (unwritable)", P, ["optimize", "--json", "/proc/r.json"]),
        cli(c, "optimize --partition-events 0", P, ["optimize", "--partition-events", "0"]),
        cli(c, "optimize --target-mass 5000 (flat loss)", P, ["optimize", "--target-mass", "5000", "--json", "o.json"]
            + small, absent=["o.json"]),
        cli(c, "scan --target-mass 0", P, ["scan", "--target-mass", "0"]),
        cli(c, "scan --select 'import os'", P, ["scan", "--select", "import os"] + small),
        cli(c, "scan --select 'nocolumn == 1'", P, ["scan", "--select", "nocolumn == 1"] + small),
        cli(c, "scan --particle-pt-min -1", P, ["scan", "--particle-pt-min", "-1"]),
        cli(c, "optimize --resume, invalid JSON", P, ["optimize", "--resume", "--json", "r.json"] + small,
            files={"r.json": "text:{"}, protect=["r.json"]),
        cli(c, "optimize --resume, foreign JSON", P, ["optimize", "--resume", "--json", "r.json"] + small,
            files={"r.json": 'text:{"theta": 1}'}, protect=["r.json"]),
        cli(c, "optimize --resume, finished run", P, ["optimize", "--resume", "--steps", "1", "--json", "r.json"] + small,
            files={"r.json": 'text:{"run": {}, "finished": true, "history": [{"step": 0, "theta": 0.0, "value": 1.0, '
                             '"value_stderr": 0.0, "grad": [0.0], "grad_stderr": [0.0]}]}'}, protect=["r.json"]),
        cli(c, "scan --select, --target-mass (valid)", P, ["scan", "--r-min", "0.4", "--r-max", "0.4", "--select",
                                                         "pt > 0.5 and abs(eta) < 2.5", "--target-mass", "91.19"]
            + small, expect="ok"),
        cli(c, "scan, 3 events (valid)", P, ["scan", "--r-min", "0.4", "--r-max", "0.6", "--r-step", "0.2",
                                             "--json", "s.json"] + small, expect="ok", json_out=["s.json"]),
        cli(c, "compare-estimators, small (valid)", P, ["compare-estimators", "--n", "10", "--estimators", "score,fd",
                                                        "--json", "c.json"], expect="ok", json_out=["c.json"]),
    ]
    return cases


def _files_cases():
    c = "files"
    J = "jets"
    ev = {"empty.npz": "empty_npz", "zero.npz": "zero", "trunc.npz": "trunc_npz", "junk.npz": "text:hello",
          "dir.npz": "dir", "keys.npz": "wrongkeys_npz", "events.txt": "text:1 2 3 4", "nan.npz": "nan_npz"}
    out = []
    for f in ev:
        out.append(cli(c, f"jets scan --events {f}", J, ["scan", "--events", f, "--json", "s.json"],
                       files={f: ev[f]}, absent=["s.json"]))
    out.append(cli(c, "jets scan --events missing.npz", J, ["scan", "--events", "missing.npz"]))
    out.append(cli(c, "jets optimize --events empty.npz", J, ["optimize", "--events", "empty.npz", "--json", "o.json"],
                   files={"empty.npz": "empty_npz"}, absent=["o.json", "o.png"]))
    out += [
        cli(c, "jets optimize --json p/result.png (existing)", J, ["optimize", "--json", "p/result.png"],
            files={"p/result.png": "text:PNG"}, protect=["p/result.png"]),
        cli(c, "jets scan --json existing (no --force)", J, ["scan", "--json", "r.json", "--n-events", "3"],
            files={"r.json": 'text:{"keep": 1}'}, protect=["r.json"]),
        cli(c, "jets scan plot beside --json exists", J, ["scan", "--json", "r.json", "--n-events", "3"],
            files={"r.png": "text:PNG"}, protect=["r.png"], absent=["r.json"]),
        cli(c, "jets widths --png existing", J, ["widths", "--png", "w.png"], files={"w.png": "text:PNG"},
            protect=["w.png"]),
        cli(c, "jets generate -o existing", J, ["generate", "--events", "1", "-o", "e.npz"],
            files={"e.npz": "valid_npz"}, protect=["e.npz"]),
        cli(c, "jets scan --force over an old result", J, ["scan", "--json", "r.json", "--force", "--r-min", "0.4",
                                                           "--r-max", "0.4", "--n-events", "3", "--samples", "2"],
            files={"r.json": "text:old"}, expect="ok", json_out=["r.json"]),
        cli(c, "cuts demo existing result", "cuts", ["demo", "--out", "o", "--steps", "1"],
            files={"o/cuts_problem_a.json": "text:{}"}, protect=["o/cuts_problem_a.json"],
            absent=["o/cuts_problem_a.png"]),
        cli(c, "reactions plots existing figure", "reactions", ["plots", "--out", "img", "--quick"],
            files={"img/reactions_fit.png": "text:PNG"}, protect=["img/reactions_fit.png"],
            absent=["img/reactions_immigration_death.png"]),
        cli(c, "reactions plots default leaves docs/ alone", "reactions", ["plots", "--quick"],
            files={"docs/img/reactions_fit.png": "text:PNG"}, protect=["docs/img/reactions_fit.png"],
            absent=["docs/img/reactions_immigration_death.png"], expect="ok", timeout=300),
        cli(c, "jets widths default leaves docs/ alone", J, ["widths", "--n-events", "5"],
            files={"docs/img/keep.png": "text:PNG"}, protect=["docs/img/keep.png"], expect="ok",
            absent=["docs/img/widths.png"]),
    ]
    return out


def _cuts_cases():
    c = "cuts"
    pre = ("from apps.cuts import CutSpec, Events, stochastic_cut\n"
           "rng = np.random.default_rng(0)\nEV = Events(rng.normal(size=(100, 2)), np.arange(100) % 4 == 0)\n"
           "SPEC = CutSpec([(0, '>'), (1, '<')])\n")

    def g(name, scale, theta="[0.1, 0.4]", est="'sd'", expect="error", events="EV"):
        return api(c, name, pre + f"result = sg.value_and_grad(stochastic_cut({events}, SPEC, {scale}), {est}, n=16, "
                                  f"seed=0)(np.array({theta}))", expect)

    out = [g(f"scale = {s}", s) for s in ["0", "-1", "np.nan", "np.inf", "[0.1]"]]
    out += [g("scale = 1e-25 (saturates; SD)", "1e-25", expect="any"),
            g("scale = 1e-25 (saturates; score)", "1e-25", est="'score'", expect="any"),
            g("scale = 1e300", "1e300", expect="ok"), g("scale = 0.05", "0.05", expect="ok"),
            g("θ NaN", "0.1", theta="[np.nan, 0.4]"), g("θ wrong length", "0.1", theta="[0.1]"),
            api(c, "Events with NaN features", pre + "result = Events(np.array([[np.nan, 1.0]]), [1])"),
            api(c, "Events empty", pre + "result = Events(np.zeros((0, 2)), [])"),
            api(c, "Events labels 2", pre + "result = Events(np.ones((3, 1)), [0, 1, 2])"),
            api(c, "Events negative weight", pre + "result = Events(np.ones((3, 1)), [0, 1, 1], [1, -1, 1]).n",
                expect="any"),
            cli(c, "demo --seed -1", "cuts", ["demo", "--seed", "-1"]),
            cli(c, "demo --steps 0", "cuts", ["demo", "--steps", "0"]),
            cli(c, "demo --out <file>", "cuts", ["demo", "--out", "f"], files={"f": "text:x"}, protect=["f"]),
            cli(c, "demo --out ''", "cuts", ["demo", "--out", ""]),
            cli(c, "demo --problem C", "cuts", ["demo", "--problem", "C"]),
            cli(c, "demo --steps 2 (valid)", "cuts", ["demo", "--steps", "2", "--out", "o"], expect="ok",
                json_out=["o/cuts_problem_a.json"], timeout=300)]
    return out


def _reactions_cases():
    c = "reactions"
    R = "reactions"
    pre = "from apps.reactions import immigration_death_network, simulate\nnet = immigration_death_network()\n"

    def sim(name, call, expect="error"):
        return api(c, name, pre + f"result = simulate(net, {call})['X']", expect, timeout=120)

    out = [cli(c, f"simulate --T {t}", R, ["simulate", "--T", t, "--n", "100"])
           for t in ["1e9", "1e5", "nan", "-1", "0", "inf"]]
    out += [
        cli(c, "simulate --T 1e4 --time-limit 1", R, ["simulate", "--T", "1e4", "--n", "1000", "--time-limit", "1"]),
        cli(c, "simulate --n 0", R, ["simulate", "--n", "0"]), cli(c, "simulate --n 1", R, ["simulate", "--n", "1"]),
        cli(c, "simulate --theta (1 value)", R, ["simulate", "--theta", "1"]),
        cli(c, "simulate --theta negative", R, ["simulate", "--theta", "1", "-1"]),
        cli(c, "simulate --theta nan", R, ["simulate", "--theta", "1", "nan"]),
        cli(c, "simulate --max-steps 0", R, ["simulate", "--max-steps", "0"]),
        cli(c, "simulate --time-limit 0", R, ["simulate", "--time-limit", "0"]),
        cli(c, "simulate --model bogus", R, ["simulate", "--model", "bogus"]),
        cli(c, "fit --steps 0", R, ["fit", "--steps", "0"]), cli(c, "fit --estimator bogus", R, ["fit", "--estimator", "x"]),
        cli(c, "check --n 1", R, ["check", "--n", "1"]),
        cli(c, "plots --out <file>", R, ["plots", "--out", "f"], files={"f": "text:x"}, protect=["f"]),
        cli(c, "simulate --T 2 --n 2000 (valid)", R, ["simulate", "--T", "2", "--n", "2000"], expect="ok"),
        sim("T = inf", "[10., .5], {'X': 0}, np.inf, 10, 0"), sim("n = 0", "[10., .5], {'X': 0}, 2.0, 0, 0"),
        sim("θ negative", "[10., -.5], {'X': 0}, 2.0, 10, 0"), sim("x0 negative", "[10., .5], {'X': -3}, 2.0, 10, 0"),
        sim("x0 unknown species", "[10., .5], {'Y': 3}, 2.0, 10, 0"),
        sim("max_steps = 0", "[10., .5], {'X': 0}, 2.0, 10, 0, max_steps=0"),
        sim("time_limit = -1", "[10., .5], {'X': 0}, 2.0, 10, 0, time_limit=-1"),
        api(c, "explosive network (X -> 2X), max_steps 1e4",
            "from apps.reactions import ReactionNetwork, simulate\n"
            "net = ReactionNetwork(['X'], [('X -> 2 X', 'b')])\n"
            "result = simulate(net, [5.0], {'X': 1}, 20.0, 10, 0, max_steps=10**4)['X']", timeout=120),
        sim("θ = 0 (valid)", "[0., .5], {'X': 5}, 2.0, 10, 0", expect="ok"),
    ]
    return out


def _analysis_cli_cases():
    c = "analysis CLI"
    A = "analysis"
    return [
        cli(c, "no arguments", A, []),
        cli(c, "optimize --start lo > hi", A, ["optimize", "--start", "0.4,150,90,30"]),
        cli(c, "optimize --samples 1", A, ["optimize", "--samples", "1"]),
        cli(c, "scan --lumi nan", A, ["scan", "--lumi", "nan"]),
        cli(c, "scan --hbb missing.npz", A, ["scan", "--hbb", "missing.npz", "-o", "s.json"], absent=["s.json"]),
        cli(c, "scan --hbb garbage", A, ["scan", "--hbb", "junk.npz", "-o", "s.json"], files={"junk.npz": "text:hello"},
            absent=["s.json"]),
        cli(c, "scan --zbb truncated", A, ["scan", "--zbb", "t.npz", "-o", "s.json"], files={"t.npz": "trunc_npz"},
            absent=["s.json"]),
        cli(c, "scan --qcdbb without cross section", A, ["scan", "--qcdbb", "e.npz", "-o", "s.json"],
            files={"e.npz": "valid_npz"}, absent=["s.json"]),
        cli(c, "scan --hbb NaN momenta", A, ["scan", "--hbb", "n.npz"], files={"n.npz": "nan_npz"}),
        cli(c, "plot invalid result JSON", A, ["plot", "r.json", "-o", "p.png"], files={"r.json": "text:{"},
            absent=["p.png"]),
        cli(c, "scan -o s.png (wrong kind)", A, ["scan", "-o", "s.png"], absent=["s.png"]),
        cli(c, "optimize -o <directory>", A, ["optimize", "-o", "d.json"], files={"d.json": "dir"}),
        cli(c, "plot -o the result itself (--force)", A, ["plot", "r.json", "-o", "r.json", "--force"],
            files={"r.json": 'text:{"keep": 1}'}, protect=["r.json"]),
        cli(c, "scan -o existing (no --force)", A, ["scan", "-o", "r.json"], files={"r.json": 'text:{"keep": 1}'},
            protect=["r.json"]),
        cli(c, "plot -o existing (no --force)", A, ["plot", "r.json", "-o", "p.png"],
            files={"r.json": "text:{}", "p.png": "text:PNG"}, protect=["p.png"]),
        cli(c, "scan default leaves docs/ alone (valid)", A, ["scan"], files={"docs/keep.json": "text:{}"},
            protect=["docs/keep.json"], expect="ok", timeout=180),
        cli(c, "scan --force over an old result (valid)", A, ["scan", "-o", "r.json", "--force"],
            files={"r.json": "text:old"}, expect="ok", json_out=["r.json"], timeout=180),
    ]


def all_cases():
    """Every case, in category order."""
    return (_core_cases() + _batched_cases() + _jets_api_cases() + _jets_cli_cases() + _cuts_cases()
            + _reactions_cases() + _files_cases() + _analysis_cli_cases())


# --------------------------------------------------------------------------------------------- one case

_CLI_MAIN = {"jets": "apps.jets.cli", "cuts": "apps.cuts.cli", "reactions": "apps.reactions.cli",
             "analysis": "apps.analysis.cli"}


def _make_files(files, where):
    import numpy as np

    for rel, kind in files.items():
        path = os.path.join(where, rel)
        os.makedirs(os.path.dirname(path) or where, exist_ok=True)
        if kind == "dir":
            os.makedirs(path, exist_ok=True)
        elif kind == "zero":
            open(path, "wb").close()
        elif kind.startswith("text:"):
            with open(path, "w") as fh:
                fh.write(kind[5:])
        elif kind == "empty_npz":
            with open(path, "wb") as fh:
                np.savez(fh, p4=np.zeros((0, 3, 4)), counts=np.zeros(0, dtype=np.int64))
        elif kind in ("valid_npz", "trunc_npz", "nan_npz"):
            rng = np.random.default_rng(0)
            p = rng.normal(size=(5, 10, 3)) * 10
            p4 = np.concatenate([p, np.linalg.norm(p, axis=2, keepdims=True) * 1.01], axis=2)
            if kind == "nan_npz":
                p4[2, 3, 0] = np.nan
            with open(path, "wb") as fh:
                np.savez_compressed(fh, p4=p4, counts=np.full(5, 10))
            if kind == "trunc_npz":
                data = open(path, "rb").read()
                with open(path, "wb") as fh:
                    fh.write(data[: len(data) // 2])
        elif kind == "wrongkeys_npz":
            with open(path, "wb") as fh:
                np.savez(fh, x=np.zeros(3))
        else:
            raise ValueError(kind)


def _snapshot(where):
    snap = {}
    for d, _, fs in os.walk(where):
        for f in fs:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                snap[os.path.relpath(p, where)] = fh.read()
    return snap


_RUNNER = r"""
import json, sys, warnings, math
warnings.simplefilter("always")
caught = []
def _show(message, category, *a, **k):
    caught.append(f"{category.__name__}: {message}")
warnings.showwarning = _show
def finite(x, depth=0):
    import numpy as np
    if depth > 3:
        return True
    if hasattr(x, "grad") and hasattr(x, "value"):  # an Estimate (grad_stderr is NaN by definition at n = 1)
        return finite([x.value, x.grad, x.samples] + ([x.grad_stderr] if x.n > 1 else []), depth + 1)
    if isinstance(x, (list, tuple)):
        return all(finite(v, depth + 1) for v in x)
    if isinstance(x, dict):
        return all(finite(v, depth + 1) for v in x.values())
    try:
        a = np.asarray(x)
    except Exception:
        return True
    if a.dtype.kind in "fc":
        return bool(np.all(np.isfinite(a)))
    return True
ns = {}
try:
    exec(compile(sys.stdin.read(), "<case>", "exec"), ns)
    out = {"status": "ok", "finite": finite(ns.get("result")), "warnings": caught}
except BaseException as e:
    mro = [c.__name__ for c in type(e).__mro__]
    out = {"status": "error", "type": type(e).__name__, "mro": mro, "msg": str(e)[:300], "warnings": caught}
print("@@RESULT@@" + json.dumps(out))
"""


def run_case(case, timeout):
    """Run one case in a fresh temporary directory; return ``(outcome, detail)``."""
    where = tempfile.mkdtemp(prefix="sg_robust_")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg", PYTHONWARNINGS="default")
    t = case.get("timeout") or timeout
    try:
        _make_files(case.get("files", {}), where)
        before = _snapshot(where)
        if case["kind"] == "api":
            cmd = [sys.executable, "-c", _RUNNER]
            stdin = PRELUDE + "\n" + case["code"]
        else:
            cmd = [sys.executable, "-c", f"import sys; from {_CLI_MAIN[case['prog']]} import main; "
                   "sys.exit(main(sys.argv[1:]))"] + case["args"]
            stdin = ""
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=where, env=env, timeout=t)
        except subprocess.TimeoutExpired:
            return "hang", f"no answer in {t} s", t
        secs = time.perf_counter() - t0
        lost = _files_lost(case, where, before)
        if p.returncode < 0 or p.returncode >= 128:
            return "crash", f"exit {p.returncode}", secs
        if lost:
            return "file lost", lost, secs
        return (_classify_api(case, p) if case["kind"] == "api" else _classify_cli(case, p, where)) + (secs,)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _files_lost(case, where, before):
    after = _snapshot(where)
    for rel in case.get("protect", []):
        if after.get(rel) != before.get(rel):
            return f"{rel} changed or removed"
    for rel in case.get("absent", []):
        if os.path.lexists(os.path.join(where, rel)):
            return f"{rel} written"
    for rel in after:
        if rel.endswith(".tmp") or "/.tmp" in rel:
            return f"temporary file {rel} left behind"
        if rel.split(os.sep)[0] == "docs" and rel not in before:
            return f"{rel} written into docs/"
    return ""


def _classify_api(case, p):
    m = re.search(r"@@RESULT@@(.*)", p.stdout)
    if not m:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        return "raw traceback", f"exit {p.returncode}: {tail[:200]}"
    r = json.loads(m.group(1))
    if r["status"] == "ok":
        if not r["finite"]:
            return "silent NaN", "returned a non-finite result"
        if r["warnings"]:
            return "warned", r["warnings"][0][:200]
        return "valid result", ""
    if (any(t in CLEAR_TYPES for t in r["mro"]) and r["msg"]) or r["type"] == case.get("user_error"):
        return "clear error", f"{r['type']}: {r['msg'][:200]}"
    return "raw traceback", f"{r['type']}: {r['msg'][:200]}"


_BAR = re.compile(r"^.*\[\d+:\d\d(?::\d\d)?<[^\]]*\]")  # a tqdm frame, up to its [elapsed<remaining, rate] bracket


def _stderr_lines(text):
    """stderr lines without progress-bar frames (tqdm redraws with carriage returns)."""
    out = []
    for ln in text.replace("\r", "\n").splitlines():
        ln = _BAR.sub("", ln).strip()
        if ln:
            out.append(ln)
    return out


def _classify_cli(case, p, where):
    err = [ln for ln in _stderr_lines(p.stderr)  # progress lines (stderr is not a terminal here) are neither
           if not re.search(r", \d+ s elapsed$", ln)]  # errors nor warnings
    if any("Traceback (most recent call last)" in ln for ln in err):
        return "raw traceback", err[-1][:200]
    errors = [ln for ln in err if ": warning:" not in ln and not ln.startswith("note:")]
    if p.returncode == 0:
        text = p.stdout
        for rel in case.get("json_out", []):
            path = os.path.join(where, rel)
            if not os.path.exists(path):
                return "file lost", f"{rel} not written"
            text += open(path).read()
            try:
                json.loads(open(path).read(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            except ValueError as exc:
                return "silent NaN", f"{rel}: non-strict JSON ({exc})"
        if re.search(r"(?<![\w-])nan(?![\w-])", text, re.IGNORECASE):
            return "silent NaN", "nan in the output, exit 0"
        if errors:
            return "raw traceback", f"exit 0 after an error: {errors[0][:200]}"
        return ("warned", err[0][:200]) if err else ("valid result", "")
    if p.returncode == 2 and len(errors) == 1:
        return "clear error", errors[0][:200]
    return "raw traceback", f"exit {p.returncode}, {len(errors)} error lines: {(errors or [''])[0][:200]}"


# --------------------------------------------------------------------------------------------- table

def summarise(results):
    """Rows per category: cases, counts per outcome, unexpected."""
    cats = []
    for r in results:
        if r["cat"] not in cats:
            cats.append(r["cat"])
    rows = []
    for cat in cats + ["all"]:
        rs = [r for r in results if cat in ("all", r["cat"])]
        row = {"category": cat, "cases": len(rs)}
        for o in OUTCOMES:
            row[o] = sum(r["outcome"] == o for r in rs)
        row["unexpected"] = sum(_unexpected(r) for r in rs)
        rows.append(row)
    return rows


def _unexpected(r):
    ok = r["outcome"] in ("valid result", "warned")
    return (r["expect"] == "error" and ok) or (r["expect"] == "ok" and r["outcome"] == "clear error")


def format_table(rows):
    head = ["category", "cases"] + OUTCOMES + ["unexpected"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        cells = [f"**{r['category']}**" if r["category"] == "all" else r["category"]] + [str(r[h]) for h in head[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_problems(results):
    bad = [r for r in results if r["outcome"] not in ("clear error", "valid result", "warned") or _unexpected(r)]
    if not bad:
        return "Every case gave a clear error or a valid result, as expected."
    lines = ["| category | case | outcome | expected | detail |", "|---|---|---|---|---|"]
    for r in bad:
        d = r["detail"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r['cat']} | {r['name'].replace('|', '/')} | {r['outcome']} | {r['expect']} | {d} |")
    return "\n".join(lines)


BEGIN, END = "<!-- robustness-table:begin -->", "<!-- robustness-table:end -->"


def write_docs(text, path=os.path.join(ROOT, "docs", "reliability.md")):
    """Replace the text between the table markers in docs/reliability.md."""
    with open(path) as fh:
        doc = fh.read()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{path} lacks the {BEGIN} / {END} markers")
    new = doc[: doc.index(BEGIN) + len(BEGIN)] + "\n" + text + "\n" + doc[doc.index(END):]
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(new)
    os.replace(tmp, path)


def main(argv=None):
    """Run the cases and print the table (and, with ``--write-docs``, update docs/reliability.md)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.robustness", description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="one category (e.g. 'jets CLI')")
    ap.add_argument("--match", default=None, help="only cases whose name contains this text")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as a hang")
    ap.add_argument("--write-docs", action="store_true", help="rewrite the table in docs/reliability.md")
    ap.add_argument("--json", default=None, help="also write every case's outcome to this JSON file")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    args = ap.parse_args(argv)
    cases = [c for c in all_cases() if (args.only is None or c["cat"] == args.only)
             and (args.match is None or args.match in c["name"])]
    if not cases:
        ap.error("no case matches")
    t0 = time.perf_counter()
    results = [None] * len(cases)
    with cf.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futs = {pool.submit(run_case, c, args.timeout): i for i, c in enumerate(cases)}
        for f in cf.as_completed(futs):
            i = futs[f]
            outcome, detail, secs = f.result()
            results[i] = dict(cases[i], outcome=outcome, detail=detail, seconds=round(secs, 2))
            if args.verbose:
                print(f"[{outcome:13s}] {cases[i]['cat']}: {cases[i]['name']}  {detail[:120]}", flush=True)
    wall = time.perf_counter() - t0
    table = format_table(summarise(results))
    problems = format_problems(results)
    print(table)
    print()
    print(problems)
    print(f"\n{len(results)} cases in {wall:.0f} s ({args.jobs} at a time, timeout {args.timeout:g} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{k: r[k] for k in ("cat", "name", "expect", "outcome", "detail", "seconds")} for r in results],
                      fh, indent=1)
    if args.write_docs:
        if args.only or args.match:
            ap.error("--write-docs needs the full set of cases (no --only/--match)")
        write_docs(f"{table}\n\nCases that did not end in a clear error or a valid result, or not as expected:\n\n"
                   f"{problems}\n\n({len(results)} cases, `python -m benchmarks.robustness --write-docs`, "
                   f"{wall:.0f} s with {args.jobs} at a time.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
