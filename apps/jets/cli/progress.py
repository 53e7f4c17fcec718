"""Progress of the jets CLI on stderr: a tqdm bar on a terminal, a line at least every 10 s otherwise.

* :func:`bar` — a plain counter over a loop (``scan``'s radii, estimators, ...);
* :class:`OptimizeProgress` — an optimiser callback that shows R (not log R) and the
  loss; with one R per event it shows their median and 16–84 % range, not the values.
"""

from __future__ import annotations

import numpy as np

from apps.cliutil import Progress

__all__ = ["bar", "OptimizeProgress"]


def bar(total, desc, unit="it", enabled=True):
    """A progress display on stderr (:class:`apps.cliutil.Progress`): a tqdm bar on a terminal, else a
    line at least every 10 s (step count, the state shown with ``set_postfix_str``, elapsed time);
    ``enabled=False`` is silent."""
    return Progress(total, desc, unit=unit, enabled=enabled)


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
