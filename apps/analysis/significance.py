"""Expected discovery significance of a counting experiment with an uncertain background (Asimov).

For ``s`` expected signal and ``b`` expected background events whose background
is known to ``σ_b = δ · b`` (a relative systematic ``δ``), the median discovery
significance under the signal-plus-background hypothesis (Cowan, Cranmer, Gross,
Vitells, EPJC 71 (2011) 1554; the profiled form of Cowan's 2012 note) is

    Z² = 2 [ (s + b) ln((s + b)(b + σ²) / (b² + (s + b)σ²)) − (b²/σ²) ln(1 + σ² s / (b (b + σ²))) ].

``δ = 0`` gives ``Z² = 2((s + b) ln(1 + s/b) − s)``; ``s ≪ b`` gives
``Z ≈ s / sqrt(b + σ²)``. Both logarithms are ``x − φ(x)`` with ``φ(x) = x − ln(1+x)``;
their linear parts cancel exactly into ``s² b² / ((b² + (s + b)σ²)(b + σ²))``, which
is what is computed, so the formula stays accurate when ``s/b`` is 10⁻⁵.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

__all__ = ["asimov_significance", "significance_objective"]


def _phi(x):
    """``x − log1p(x)`` accurate for small ``x`` (series below 1e-3)."""
    small = anp.abs(x) < 1e-3
    xs = anp.where(small, x, 0.0)
    series = xs * xs * (0.5 - xs * (1.0 / 3.0 - xs * (0.25 - xs / 5.0)))
    xl = anp.where(small, 1.0, x)
    return anp.where(small, series, xl - anp.log1p(xl))


def asimov_significance(s, b, rel_syst=0.0, b_min=1e-9):
    """Asimov discovery significance ``Z(s, b; δ)`` (see module docs), elementwise.

    Args:
        s: expected signal (floored at 0).
        b: expected background (floored at ``b_min`` > 0).
        rel_syst: relative background uncertainty ``δ ≥ 0``.
        b_min: background floor (keeps a selection without background finite).

    Returns:
        ``Z`` (numpy array or autograd box, shaped like ``s + b``).

    Raises:
        ValueError: ``rel_syst < 0`` or ``b_min <= 0``.
    """
    if not (np.isfinite(rel_syst) and rel_syst >= 0):
        raise ValueError(f"rel_syst must be a number >= 0, got {rel_syst!r}")
    if not (np.isfinite(b_min) and b_min > 0):
        raise ValueError(f"b_min must be a positive number, got {b_min!r}")
    s = anp.maximum(s, 0.0)
    b = anp.maximum(b, b_min)
    if rel_syst == 0:
        z2 = 2.0 * (s * s / b - (s + b) * _phi(s / b))
        return anp.sqrt(anp.maximum(z2, 0.0))
    v = (rel_syst * b) ** 2  # σ_b²
    den = b * b + (s + b) * v
    a = s * b / den
    c = v * s / (b * (b + v))
    z2 = 2.0 * (s * s * b * b / (den * (b + v)) - (s + b) * _phi(a) + (b * b / v) * _phi(c))
    return anp.sqrt(anp.maximum(z2, 0.0))


def significance_objective(rel_syst=0.0, b_min=1e-9):
    """:func:`asimov_significance` as an :class:`apps.cuts.Objective` (for the cuts app's tools)."""
    from apps.cuts import Objective

    asimov_significance(1.0, 1.0, rel_syst, b_min)  # validates the arguments now
    return Objective(lambda s, b: asimov_significance(s, b, rel_syst, b_min), name=f"asimov[δ={rel_syst:g}]")
