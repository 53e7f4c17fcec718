"""tqdm progress bars for the jets CLI (on stderr; ``enabled=False`` or a missing tqdm: silent).

* :func:`bar` — a plain counter over a loop (``scan``'s radii, estimators, ...);
* :class:`OptimizeProgress` — an optimiser callback that shows R (not log R) and the
  loss; with one R per event it shows their median and 16–84 % range, not the values.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["bar", "OptimizeProgress"]


class _Null:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s, refresh=True):
        pass

    def close(self):
        pass


def bar(total, desc, unit="it", enabled=True):
    """A tqdm bar on stderr (a silent stand-in when disabled or tqdm is missing).

    ``enabled=True`` shows it only when stderr is a terminal (scripts keep stderr to the
    error line), ``"always"`` shows it regardless, ``False`` never.
    """
    if not enabled:
        return _Null()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Null()
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
                disable=None if enabled is True else False)


class OptimizeProgress:
    """``callback(record)`` for :func:`stochgrad.optim.minimize`: one tick per step, R and the loss shown."""

    def __init__(self, steps, desc="optimise R", enabled=True):
        self._bar = bar(steps, desc, unit="step", enabled=enabled)

    def __call__(self, rec):
        R = np.exp(np.asarray(rec["theta"], dtype=float))
        if R.size == 1:
            r = f"R={float(R.ravel()[0]):.4f}"
        else:
            lo, med, hi = np.percentile(R, [16, 50, 84])
            r = f"R median {med:.3f} [{lo:.3f}, {hi:.3f}] over {R.size} events"
        self._bar.set_postfix_str(f"{r} loss={rec['value']:.4g}±{rec['value_stderr']:.2g}", refresh=False)
        self._bar.update(1)

    def close(self):
        self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
