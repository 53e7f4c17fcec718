"""The jets engine on extreme but finite inputs: finite jets or a ValueError, never a crash,
hang or NaN (issue 17). The kernels run once with numba's bounds checking."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import apps.jets as J  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MAGNITUDES = [0.0, 1e-300, 1e-200, 1e-150, 1e-30, 1e-8, 1.0, 37.0, 1e8, 1e30, 1e100, 1e150, 1e200, 1e300]


ORDINARY = {0.0, 1e-8, 1.0, 37.0, 1e8}  # magnitudes a refusal of which would be a bug


def _finite_or_value_error(fn, ordinary=False):
    """Call ``fn``; None if it raised ValueError (not allowed for an ordinary input), else its result."""
    try:
        return fn()
    except ValueError as exc:
        assert str(exc)
        assert not ordinary, f"an ordinary input was refused: {exc}"
        return None


def _is_ordinary(p4, R, alpha):
    """Moderate momenta (no all-zero four-vector), a moderate radius and α: these must be clustered."""
    comps = np.abs(p4[..., :3]).ravel()
    with np.errstate(all="ignore"):
        return (all(any(np.isclose(c, m, rtol=1e-12, atol=0) for m in ORDINARY) for c in comps)
                and bool(np.all(p4[..., 3] >= 1e-8)) and bool(np.all(p4[..., 3] <= 1e9))
                and 0.1 <= R <= 3.0 and (alpha is None or alpha <= 1e8))


def _check_all(p4, counts, R, alpha, p, backend="cpu"):
    ordinary = _is_ordinary(p4, R, alpha)
    res = _finite_or_value_error(lambda: J.cluster((p4, counts), R, p=p, backend=backend), ordinary)
    if res is not None:
        assert np.isfinite(res.inclusive_jets().p4).all()
        assert np.isfinite(res.dij[..., : int(counts.min())]).all()
    res = _finite_or_value_error(lambda: J.cluster((p4, counts), R, alpha=alpha, n_samples=3, seed=1, p=p,
                                                   backend=backend), ordinary)
    if res is not None:
        assert np.isfinite(res.inclusive_jets().p4).all()
        assert np.isfinite(res.score).all()
    out = _finite_or_value_error(lambda: J.sample_mjj_and_alternatives(p4, counts, R, alpha, 3, 2, n_alternatives=2,
                                                                       ptmin=0.0, p=p, backend=backend))
    if out is not None:
        mjj, score, alt_mjj, alt_w = out
        assert np.isfinite(score).all() and np.isfinite(alt_w).all()
        assert not np.isinf(mjj).any() and not np.isinf(alt_mjj).any()
        # where a gradient term is asked (non-zero weight) both masses are defined or both NaN-as-documented
        assert np.isfinite(alt_w[np.isnan(alt_mjj)]).all()


@st.composite
def _extreme_event(draw):
    n = draw(st.integers(1, 8))
    signed = st.builds(lambda m, s: m * s, st.sampled_from(MAGNITUDES), st.sampled_from([1.0, -1.0]))
    rows = []
    for _ in range(n):
        px, py, pz = draw(signed), draw(signed), draw(signed)
        with np.errstate(over="ignore"):
            pabs = float(np.sqrt(px * px + py * py + pz * pz))
        E = pabs * draw(st.sampled_from([1.0, 1.5])) + draw(st.sampled_from([0.0, 1e-300, 1.0]))
        rows.append([px, py, pz, E])
    ev = np.array(rows)
    kind = draw(st.sampled_from(["plain", "duplicate", "collinear", "back-to-back"]))
    if kind == "duplicate":
        ev = np.concatenate([ev, ev])
    elif kind == "collinear":
        with np.errstate(over="ignore"):
            ev = np.concatenate([ev, ev * draw(st.sampled_from([1e-100, 0.5, 3.0, 1e100]))])
    elif kind == "back-to-back":
        back = ev.copy()
        back[:, :3] *= -1.0
        ev = np.concatenate([ev, back])
    return ev


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=_extreme_event(), R=st.sampled_from([1e-100, 1e-8, 0.4, 1.0, 3.0, 1e3]),
       alpha=st.sampled_from([0.0, 1e-300, 1e-8, 1.0, 1e8, 1e50, 1e100]), p=st.sampled_from([-1, 0, 1]))
def test_extreme_events_give_finite_jets_or_value_error(ev, R, alpha, p):
    with np.errstate(all="ignore"):
        _check_all(ev[None], np.array([len(ev)]), R, alpha, p)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=_extreme_event(), R=st.sampled_from([0.4, 1.0, 3.0]), alpha=st.sampled_from([0.0, 1e-8, 1.0, 1e8]),
       p=st.sampled_from([-1, 0, 1]))
def test_ordinary_events_are_clustered(ev, R, alpha, p):
    """The property above with its teeth: an event of moderate momenta is never refused."""
    with np.errstate(all="ignore"):
        keep = np.all(np.isin(np.abs(ev[:, :3]), list(ORDINARY)), axis=1) & (ev[:, 3] >= 1e-8) & (ev[:, 3] <= 1e9)
    ev = ev[keep]
    if len(ev) == 0:
        ev = np.array([[37.0, 0.0, 1.0, 40.0]])
    assert _is_ordinary(ev[None], R, alpha)
    _check_all(ev[None], np.array([len(ev)]), R, alpha, p)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=_extreme_event(), R=st.sampled_from([1e-100, 0.4, 1e3]), alpha=st.sampled_from([0.0, 1.0, 1e50]),
       p=st.sampled_from([-1, 0, 1]))
def test_extreme_events_on_the_cuda_source(ev, R, alpha, p):
    """The same inputs through qantikt.cu (host emulation): no out-of-bounds, no NaN."""
    with np.errstate(all="ignore"):
        _check_all(ev[None], np.array([len(ev)]), R, alpha, p, backend="cuda-emulated")


def test_one_and_two_thousand_particles():
    rng = np.random.default_rng(0)
    n = 2000
    pt, y, phi = rng.exponential(5.0, n) + 0.5, rng.uniform(-4, 4, n), rng.uniform(0, 2 * np.pi, n)
    big = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(y), pt * np.cosh(y)], axis=1)
    big[:10] = big[10:20]  # duplicates
    big[20:30, :3] = -big[30:40, :3]  # back-to-back
    big[20:30, 3] = big[30:40, 3]
    p4 = np.zeros((2, n, 4))
    p4[0] = big
    p4[1, 0] = [3.0, 4.0, 1.0, 6.0]
    counts = np.array([n, 1])
    for p in (-1, 0, 1):
        res = J.cluster((p4, counts), 0.4, p=p)
        assert np.isfinite(res.inclusive_jets().p4).all()
        assert res.constituents()[1, 0, 0] == 0
    mjj, score = J.sample_mjj_and_score(p4, counts, 0.4, 1.0, 1, 0)
    assert np.isfinite(score).all() and np.isnan(mjj[1, 0])


# ---- regressions: one per example of issue 17 --------------------------------------------------

EV3 = np.array([[[10.0, 0, 1, 12.0], [0, 10.0, -1, 11.0], [3, 3, 3, 6.0]]])


def test_tiny_R_is_refused_not_a_segfault():
    with pytest.raises(ValueError, match="event 0: jet radius"):
        J.cluster(EV3, 1e-200, alpha=1.0, seed=0)
    with pytest.raises(ValueError, match="event 0: jet radius"):
        J.sample_mjj_and_score(EV3, np.array([3]), 1e-200, 1.0, 2, 0)


def test_overflowing_momentum_is_refused_not_a_hang():
    ev = np.array([[[1e200, 0, 0, 1e200], [0, 10.0, -1, 11.0]]])
    with pytest.raises(ValueError, match="event 0, particle 0"):
        J.cluster(ev, 0.4, alpha=1.0, seed=1)
    with pytest.raises(ValueError, match="event 0, particle 0"):
        J.cluster(ev, 0.4)  # anti-kT gave NaN jets silently


def test_huge_alpha_gives_finite_gradients_or_value_error():
    mjj, score, alt_mjj, alt_w = J.sample_mjj_and_alternatives(EV3, np.array([3]), 0.4, 1e50, 64, 0, ptmin=0.0)
    assert np.isfinite(score).all() and np.isfinite(alt_w).all()
    with pytest.raises(ValueError, match="alpha"):
        J.sample_mjj_and_score(EV3, np.array([3]), 0.4, 1e200, 2, 0)


def test_collinear_duplicates_sample_uniformly():
    """d_min = 0 (exact duplicates): uniform among the d = 0 candidates (this path read
    e^x outside its table before), no NaN score."""
    ev = np.repeat(np.array([[[10.0, 0, 1, 12.0]]]), 3, axis=1)
    res = J.cluster(ev, 0.4, alpha=1.0, n_samples=3000, seed=0)
    first = [tuple(h) for h in res.history[0, :, 0].tolist()]
    assert set(first) == {(0, 1), (0, 2), (1, 2)}  # the three pairs (d = 0); beams have d > 0
    counts = np.array([first.count(k) for k in sorted(set(first))])
    assert np.all(np.abs(counts - 1000) < 150)
    assert np.all(res.score == 0)


def test_kernels_with_numba_boundscheck(tmp_path):
    """Every numba kernel (batch, alternatives, replay; three algorithms; duplicates) once with
    NUMBA_BOUNDSCHECK=1, compiled into its own cache (first run ≈ 30 s of compilation)."""
    script = textwrap.dedent("""
        import numpy as np, apps.jets as J
        ev = J.load_default_events().subset(slice(0, 3))
        p4, c = np.ascontiguousarray(ev.p4[:, :30]), np.minimum(ev.counts, 30)
        p4[0, 5] = p4[0, 4]  # a duplicate: d_min = 0 steps
        for p in (-1, 0, 1):
            J.cluster((p4, c), 0.8, p=p).constituents()
            J.sample_mjj_and_alternatives(p4, c, 0.8, 1.0, 4, 0, n_alternatives=2, p=p)
        J.cluster((p4, c), 0.8, alpha=1.0, n_samples=2, seed=1).mjj()
        small = np.array([[[1e-140, 0, 0, 1e-140], [0, 1e-140, 0, 1e-140], [1e-140, 1e-140, 1e-140, 2e-140]]])
        J.sample_mjj_and_alternatives(small, np.array([3]), 0.4, 1.0, 3, 0)  # (1e-300 is refused at the edge)
        print("boundscheck ok")
    """)
    cache = Path(os.environ.get("STOCHGRAD_CACHE", Path.home() / ".cache" / "stochgrad")) / "numba-boundscheck"
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "boundscheck ok" in proc.stdout
