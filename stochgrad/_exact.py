"""Exact, order-free sums of floats (the reductions of :mod:`stochgrad.distributed`).

Every finite double is an integer multiple of ``2^-1126``, so a sum of doubles is
an integer ``K`` (the sum is ``K · 2^-1126``): adding two such integers is the
exact sum of the union, in any order.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["exact_sum", "exact_value", "ColumnSums"]

_SHIFT = 1126  # every finite double is an integer multiple of 2^-1126 (frexp exponent − 53 ≥ −1126)
_ONE = 1 << _SHIFT


def exact_sum(a) -> int:
    """Exact sum of a 1-D float64 array as an integer ``K`` (the sum is ``K · 2^-1126``).

    Order-independent and exact: adding two such integers is the exact sum of
    the union. Convert with :func:`exact_value`.

    Raises:
        ValueError: a non-finite entry.
    """
    a = np.ascontiguousarray(a, dtype=np.float64).ravel()
    sums = ColumnSums(1)
    for i in range(0, a.size, _BLOCK):
        sums.add(a[i:i + _BLOCK, None])
    return sums.totals()[0]


def exact_value(K) -> Fraction:
    """The rational number represented by an :func:`exact_sum` integer."""
    return Fraction(K, _ONE)


_NEXP = 2100  # exponent slots per column (frexp exponent − 53 + 1126 lies in [0, 2098])
_BLOCK = 1 << 15  # rows per block of the column sums (bounds the temporaries)


class ColumnSums:
    """Exact sums of many float columns at once, fed block by block (no sort, O(rows × columns)).

    Each double is ``mi · 2^(e − 53)`` with ``mi`` a 53-bit integer, cut as ``hi·2^27 + lo``
    (``|hi| < 2^26``, ``0 ≤ lo < 2^27``): per column and exponent, float sums of these parts stay
    exact (< 2^53) for up to 2^26 rows, after which they are flushed into Python integers. The
    accumulators are laid out exponent-major, so a block only touches the span of its exponents.
    """

    _FLUSH = 1 << 26

    def __init__(self, n_cols):
        self.n_cols = n_cols
        self.out = [0] * n_cols
        self.acc = [np.zeros(n_cols * _NEXP) for _ in range(2)]
        self.rows, self.span = 0, (n_cols * _NEXP, 0)  # the accumulators' entries touched since the last flush

    def add(self, M):
        M = np.ascontiguousarray(M, dtype=np.float64)
        if M.size == 0:
            return
        if not np.all(np.isfinite(M)):
            raise ValueError("a per-sample quantity is not finite (inf/NaN); the estimate would be meaningless")
        if self.rows + M.shape[0] > self._FLUSH:
            self._flush()
        self.rows += M.shape[0]
        m, e = np.frexp(M)
        mi = (m * 9007199254740992.0).astype(np.int64)
        idx = ((e.astype(np.intp) + (_SHIFT - 53)) * self.n_cols + np.arange(self.n_cols, dtype=np.intp)).ravel()
        lo, hi = int(idx.min()), int(idx.max()) + 1
        idx -= lo
        self.span = (min(lo, self.span[0]), max(hi, self.span[1]))
        for acc, part in zip(self.acc, (mi >> 27, mi & 0x7FFFFFF)):
            acc[lo:hi] += np.bincount(idx, weights=part.ravel().astype(np.float64), minlength=hi - lo)

    def _flush(self):
        lo, hi = self.span
        for acc, shift in zip(self.acc, (27, 0)):
            part = acc[lo:hi]
            nz = np.flatnonzero(part)
            for k, v in zip((nz + lo).tolist(), part[nz].tolist()):
                ex, c = divmod(k, self.n_cols)
                self.out[c] += int(v) << (ex + shift)
            part[nz] = 0.0
        self.rows, self.span = 0, (self.n_cols * _NEXP, 0)

    def totals(self) -> list:
        """The exact sums as integers (value ``K · 2^-1126``), one per column."""
        self._flush()
        return list(self.out)
