"""Standard errors that mean what they say: over many seeds, E[se²] / Var(estimate) within 0.85–1.15, per path.

Each path (dual-number score function with and without a shared baseline, the
stochastic derivative, finite differences on plain runs, autograd's reverse mode
for a θ with 5 components, a batched program) estimates Sin&Cos-like programs
with few samples, ``R`` times over independent seeds. With ``R = 1000`` the
variance over seeds has a relative standard deviation of 4.5 %, so the band
(±15 %) is three of them wide (the seeds are fixed: the test is deterministic); a standard error off by 25 % fails.
"""

import numpy as np
import pytest

import stochgrad as sg
import stochgrad.numpy as snp
from stochgrad.examples import sincos, sincos_batched

R = 1000


@sg.stochastic
def five(t):
    """A θ with 5 components (more than the dual path's 4: autograd's reverse mode)."""
    s = snp.sum(t * snp.arange(1.0, 6.0)) / 10.0
    return snp.sin(s) if sg.bernoulli(1.0 / (1.0 + snp.exp(-s))) else snp.cos(s) + t[0]


PATHS = [
    ("dual, score, no baseline", sincos, sg.ScoreFunction("none"), 0.7, 16),
    ("dual, score, leave-one-out", sincos, sg.ScoreFunction(), 0.7, 16),
    ("dual, stochastic derivative", sincos, sg.StochasticDerivative(), 0.7, 16),
    ("plain, finite differences", sincos, sg.FiniteDifference(0.05), 0.7, 16),
    ("boxed reverse mode, score", five, sg.ScoreFunction("none"), np.full(5, 0.2), 8),
    ("batched, score, leave-one-out", sincos_batched(), sg.ScoreFunction(), 0.7, 16),
]


@pytest.mark.parametrize("name, prog, est, theta, n", PATHS, ids=[p[0] for p in PATHS])
def test_squared_stderr_matches_the_variance_over_seeds(name, prog, est, theta, n):
    g, se2 = [], []
    for seed in range(R):
        e = sg.value_and_grad(prog, est, n=n, seed=seed)(theta)
        g.append(np.ravel(e.grad)[0])
        se2.append(np.ravel(e.grad_stderr)[0] ** 2)
    ratio = np.mean(se2) / np.var(g, ddof=1)
    assert 0.85 <= ratio <= 1.15, (name, ratio)
