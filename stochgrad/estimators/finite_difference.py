"""Central finite differences of the expectation, with common random numbers."""

from __future__ import annotations

import numpy as np

from .._batched import Want
from .._chunks import _call_range, _flat
from .._run import run_plain
from .._trace import NoiseTape, Trace
from ..backend import array_module, to_numpy
from .base import Estimator

__all__ = ["FiniteDifference"]


class FiniteDifference(Estimator):
    """Central finite difference ``(f(θ + h e_j) − f(θ − h e_j)) / 2h`` per sample.

    With ``common_random_numbers=True`` both sides of a sample replay the same
    noise (same uniforms for the same choice sites), so most samples take the same
    discrete path on both sides and the variance stays O(1/h) instead of O(1/h²).

    Bias: ``O(h²)`` for smooth ``E[f]``; it vanishes only as ``h → 0`` (while the
    variance grows as ``1/h``). Costs ``2·dim(θ) + 1`` runs per sample; needs no
    autograd and works on any program, including ones that compare θ-dependent
    values.

    Args:
        step: the step ``h > 0``.
        common_random_numbers: replay the same noise on both sides.

    Raises:
        ValueError: ``step`` not a positive finite number; at call time (see
            :meth:`validate`), a step below ``1e-8·|θ_j|`` for some component.
    """

    unbiased = False
    #: smallest step relative to |θ_j| (below it θ ± h loses most of h to rounding)
    MIN_RELATIVE_STEP = 1e-8

    def __init__(self, step=1e-2, common_random_numbers=True):
        if isinstance(step, bool) or not (isinstance(step, (int, float, np.floating, np.integer))
                                          and np.isfinite(step) and step > 0):
            raise ValueError(f"FiniteDifference: step must be a positive number, got {step!r}")
        self.step = float(step)
        self.common_random_numbers = bool(common_random_numbers)

    def validate(self, theta):
        """Refuse a step too small for θ: ``h < 1e-8·|θ_j|`` for some ``j``.

        At such a step ``θ_j ± h`` rounds to (nearly) ``θ_j``: the differences are
        rounding noise, or exactly 0 (``FiniteDifference(1e-300)`` gave an
        exact-looking ``0 ± 0``).

        Raises:
            ValueError: naming the component and the smallest usable step.
        """
        a = np.abs(np.asarray(theta, dtype=float)).reshape(-1)
        if a.size == 0:
            return
        j = int(np.argmax(a))
        if self.step < self.MIN_RELATIVE_STEP * a[j]:
            where = "" if np.ndim(theta) == 0 else f"[{j}]"
            raise ValueError(
                f"FiniteDifference: step {self.step:g} is below {self.MIN_RELATIVE_STEP:g}·|θ{where}| = "
                f"{self.MIN_RELATIVE_STEP * a[j]:.3g}; θ ± h would be lost to rounding and the difference quotient "
                f"would be noise or an exact-looking 0. Use a step of at least {self.MIN_RELATIVE_STEP * a[j]:.3g} "
                "(typically 1e-4 to 1e-2 of |θ|), or rescale θ")

    def _directions(self, theta):
        theta = np.asarray(theta, dtype=float)
        for j in range(theta.size):
            e = np.zeros(theta.size)
            e[j] = self.step
            e = e.reshape(theta.shape)
            yield j, theta + e, theta - e

    def traced_arrays(self, fn, theta, args, kwargs, tapes, index):
        """Per-sample ``value (m,)`` and ``grad (m, θ.size)`` of the samples ``index`` (their ``tapes``).
        Each sample depends only on its own tape: any subset can run anywhere (:mod:`stochgrad.distributed`).
        """
        theta = np.asarray(theta, dtype=float)
        values, grads = [], []
        for i, tape in zip(index, tapes):
            values.append(run_plain(fn, _scalar(theta), args, kwargs, Trace(tape), f"sample {i}").value)
            g = np.empty(theta.size)
            for j, tp, tm in self._directions(theta):
                t2 = tape if self.common_random_numbers else NoiseTape(tape.rng)
                fp = run_plain(fn, _scalar(tp), args, kwargs, Trace(tape), f"sample {i}, θ+h").value
                fm = run_plain(fn, _scalar(tm), args, kwargs, Trace(t2), f"sample {i}, θ−h").value
                g[j] = (fp - fm) / (2 * self.step)
            grads.append(g)
        return {"value": np.array(values, dtype=float), "grad": np.array(grads, dtype=float).reshape(-1, theta.size)}

    def per_sample(self, program, theta, n, seed):
        """Values at θ and per-sample central differences, running the program at θ and θ ± h·e_j.

        The θ + h side uses ``seed``; the θ − h side uses it too with common
        random numbers, else :meth:`other_seed` (one rule for every batched program).
        """
        theta = np.asarray(theta, dtype=float)
        value = program(_scalar(theta), n, seed, Want()).value
        xp = array_module(value)
        cols = []
        for j, tp, tm in self._directions(theta):
            s2 = seed if self.common_random_numbers else self.other_seed(seed, j)
            fp = program(_scalar(tp), n, seed, Want()).value
            fm = program(_scalar(tm), n, s2, Want()).value
            cols.append((fp - fm) / (2 * self.step))
        grads = xp.stack(cols, axis=1).reshape((value.shape[0],) + theta.shape)
        return value, grads, {"runs_per_sample": 2 * theta.size + 1}

    @staticmethod
    def other_seed(seed, j=0):
        """The seed of the θ − h side of component ``j`` without common random numbers."""
        return int(np.random.SeedSequence([0 if seed is None else int(seed), 7919, j]).generate_state(1)[0])

    # the chunk protocol (see Estimator; traced programs: its defaults on traced_arrays)
    def chunk_arrays(self, spec, start, stop):
        if "call" in spec:
            return super().chunk_arrays(spec, start, stop)
        program, theta, n, m = spec["program"], spec["theta"], spec["n"], stop - start

        def part(th, m_, seed_, want):  # this estimator's own per_sample (θ ± h, its seed rule) on this range
            return _call_range(program, th, start, stop, n, seed_, want)

        value, grad, _ = self.per_sample(part, theta, m, spec["seed"])
        return {"value": np.asarray(to_numpy(value), dtype=float), "grad": _flat(grad, m)}

    def chunk_info(self, metas, n, size, batched):
        return {"runs_per_sample": 2 * size + 1}


def _scalar(theta):
    return float(theta) if np.ndim(theta) == 0 else theta
