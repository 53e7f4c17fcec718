"""Shared numba helpers of the CPU backend: the keyed random stream, e^x, FastJet's
rapidity/φ, the generalised-kt scale and ΔR².

Every formula here has a line-for-line twin in ``qantikt.cu`` (the CUDA backend), with
the same operation order, so that both backends compute the same doubles (the CUDA
source is compiled without FMA contraction).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

LOGW_CUT = 37.0  # candidates with weight < e^-37 ≈ 8.5e-17 (relative to the largest) are skipped
CAP_GROWTH = 1.25  # the pair list holds every pair with d̃ ≤ C, C = 1.25·D when rebuilt (measured best of 1.2–5)
MAXRAP = 1e5  # FastJet's MaxRap
TWOPI = 2.0 * math.pi
_INV53 = 1.0 / 9007199254740992.0
_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
_POW2 = np.array([2.0 ** -j for j in range(1024)])  # 2^-j


OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
_opts = OPTS


@nb.njit(inline="always", **_opts)
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(inline="always", **_opts)
def exp_split(x):
    """``(k, p)`` with e^x = p · 2^k (k integral, as a float; p = e^r by its degree-13 Taylor polynomial).

    The one copy of the reduction and the polynomial: :func:`exp_neg` multiplies by 2^k
    from a table, the vectorised weight loop (``_numba_steps._exp_weights``) by 2^k built
    from its exponent bits; both give the same doubles.
    """
    k = math.floor(x * LOG2E + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return k, p


@nb.njit(inline="always", **_opts)
def exp_neg(x):
    """e^x for x in [−700, 0]; ≤ 2 ulp; written so that a loop over it vectorises."""
    k, p = exp_split(x)
    return p * _POW2[np.uint64(-k)]


@nb.njit(**_opts)
def stream_key(seed, event, sample):
    """uint64 key of the (seed, event, sample) stream."""
    k = _mix(seed ^ _G)
    k = _mix(k + np.uint64(event) * _G)
    return _mix(k ^ (np.uint64(sample) * _M1 + _G))


@nb.njit(inline="always", **_opts)
def uniform_at(key, step):
    """Counter-based uniform in [0, 1) of draw ``step`` of stream ``key``: mix(key + (step+1)·G).

    Depends only on (key, step): the clustering draws ``uniform_at(key, t)`` at step t.
    """
    return float(_mix(key + (np.uint64(step) + np.uint64(1)) * _G) >> _S11) * _INV53


@nb.njit(inline="always", **_opts)
def uniform(state):
    """Next uniform of a sequential splitmix64 stream (the reservoirs' salted stream)."""
    state = state + _G
    return state, float(_mix(state) >> _S11) * _INV53


@nb.njit(inline="always", **_opts)
def jet_scale(kt2, p):
    """FastJet's jet scale s = kt^(2p) for p = −1 (anti-kT), 0 (C/A), 1 (kt).

    anti-kT: ``1/kt²``, or ``1e300`` when ``kt² ≤ 1e-300`` (FastJet's guard).
    """
    if p < 0:
        return 1.0 / kt2 if kt2 > 1e-300 else 1e300
    if p == 0:
        return 1.0
    return kt2


@nb.njit(inline="always", **_opts)
def rap_phi_kt2(px, py, pz, E):
    """FastJet's PseudoJet rapidity, φ ∈ [0, 2π) and kt²."""
    kt2 = px * px + py * py
    phi = 0.0 if kt2 == 0.0 else math.atan2(py, px)
    if phi < 0.0:
        phi += TWOPI
    if phi >= TWOPI:
        phi -= TWOPI
    if E == abs(pz) and kt2 == 0.0:
        r = MAXRAP + abs(pz)
        rap = r if pz >= 0.0 else -r
    else:
        m2 = (E + pz) * (E - pz) - kt2
        if m2 < 0.0:
            m2 = 0.0
        epz = E + abs(pz)
        rap = 0.5 * math.log((kt2 + m2) / (epz * epz))
        if pz > 0.0:
            rap = -rap
    return rap, phi, kt2


@nb.njit(inline="always", **_opts)
def dist(rap, phi, a, b):
    """ΔR² of slots a and b (FastJet: if dphi > π: dphi = 2π − dphi).

    The select below gives the same double as FastJet's branch (and as ``min``) and,
    unlike numba's ``min``, lets a loop over b vectorise.
    """
    dphi = abs(phi[a] - phi[b])
    other = TWOPI - dphi
    dphi = other if other < dphi else dphi
    deta = rap[a] - rap[b]
    return dphi * dphi + deta * deta


@nb.njit(inline="always", **_opts)
def set_jet(k, px, py, pz, E, p, jp, rap, phi, s):
    jp[k, 0] = px
    jp[k, 1] = py
    jp[k, 2] = pz
    jp[k, 3] = E
    y, f, kt2 = rap_phi_kt2(px, py, pz, E)
    rap[k] = y
    phi[k] = f
    s[k] = jet_scale(kt2, p)
