"""Derivative checks against exact answers: estimate, exact value, standard error per parameter."""

from __future__ import annotations

import dataclasses

import numpy as np

import stochgrad as sg

from . import exact
from .models import TELEGRAPH_TRUE, immigration_death_network, telegraph_network
from .traced import immigration_death
from .vectorised import batched_ssa

__all__ = ["CheckRow", "derivative_checks", "format_table", "ID_THETA", "ID_T", "TG_T"]

ID_THETA = (10.0, 0.5)  # immigration–death k, g
ID_T = 2.0
TG_T = 10.0


@dataclasses.dataclass
class CheckRow:
    """One line of the check table."""

    model: str
    simulator: str
    estimator: str
    param: str
    estimate: float
    exact: float
    stderr: float
    n: int

    @property
    def rel_error(self) -> float:
        return (self.estimate - self.exact) / abs(self.exact)

    @property
    def z(self) -> float:
        return (self.estimate - self.exact) / self.stderr


def _rows(model, sim, name, est, names, ex):
    g = np.atleast_1d(est.grad)
    se = np.atleast_1d(est.grad_stderr)
    return [CheckRow(model, sim, name, p, float(g[i]), float(ex[i]), float(se[i]), est.n) for i, p in enumerate(names)]


def derivative_checks(n_vec: int = 400_000, n_traced: int = 2000, n_telegraph: int = 100_000, seed: int = 0,
                      traced: bool = True, telegraph: bool = True) -> list:
    """Estimate ``∇θ E[X(T)]`` for immigration–death and the telegraph model and compare with exact.

    Args:
        n_vec: trajectories for the vectorised immigration–death checks.
        n_traced: samples for the traced-simulator checks (slow: ~3 ms each).
        n_telegraph: trajectories for the telegraph checks.
        seed: base seed.
        traced, telegraph: include those parts.

    Returns:
        A list of :class:`CheckRow`.
    """
    th = np.array(ID_THETA)
    ex = exact.immigration_death_mean_grad(th, ID_T)
    prog = batched_ssa(immigration_death_network(), {"X": 0}, ID_T, "X")
    ests = [("score (path)", sg.ScoreFunction()), ("stoch. derivative", sg.StochasticDerivative()),
            ("FD h=0.01, CRN", sg.FiniteDifference(0.01))]
    # FD: dominating rates fixed (θ-free), so θ ± h share proposal times as well as uniforms
    prog_fd = batched_ssa(immigration_death_network(), {"X": 0}, ID_T, "X", dominating=1.5 * th)
    rows = []
    for name, est in ests:
        e = sg.value_and_grad(prog_fd if name.startswith("FD") else prog, est, n=n_vec, seed=seed)(th)
        rows += _rows("immigration-death", "vectorised", name, e, ["k", "g"], ex)
    if traced:
        f = immigration_death(ID_T)
        for name, est in (("score (thinning choices)", ests[0][1]), ests[1]):
            e = sg.value_and_grad(f, est, n=n_traced, seed=seed)(th)
            rows += _rows("immigration-death", "traced", name, e, ["k", "g"], ex)
    if telegraph:
        tt = np.array(TELEGRAPH_TRUE)
        ext = exact.telegraph_mean_grad(tt, TG_T)
        progt = batched_ssa(telegraph_network(), {"G_off": 1}, TG_T, "M")
        for name, est in ests[:2]:
            e = sg.value_and_grad(progt, est, n=n_telegraph, seed=seed)(tt)
            rows += _rows("telegraph E[M(10)]", "vectorised", name, e, ["k_on", "k_off", "r", "gamma"], ext)
    return rows


def format_table(rows) -> str:
    """A Markdown table of check rows."""
    out = ["| model | simulator | estimator | θ | estimate | exact | stderr | rel. error | z | n |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r.model} | {r.simulator} | {r.estimator} | {r.param} | {r.estimate:.5f} | {r.exact:.5f} "
                   f"| {r.stderr:.5f} | {100 * r.rel_error:+.2f}% | {r.z:+.2f} | {r.n} |")
    return "\n".join(out)
