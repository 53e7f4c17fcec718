"""The estimator example of docs/estimators.md, as a module (so a process pool and Dask workers can import it)."""

import numpy as np

import stochgrad as sg
from stochgrad import extend


class PlainScore(sg.Estimator):
    """Score function without a baseline: ``∂f/∂θ + f·∇θ log p(trace)`` per sample. Unbiased."""

    def traced_arrays(self, fn, theta, args, kwargs, tapes, index):
        values, grads = [], []
        for i, tape in zip(index, tapes):
            run = extend.run_differentiated(fn, theta, args, kwargs, tape, f"sample {i}")
            values.append(run.value)
            grads.append(np.ravel(run.grad_of(run.out) + run.value * run.score()))
        return {"value": np.array(values), "grad": np.array(grads).reshape(len(values), -1)}


@sg.stochastic
def walk(p, steps=10):
    x = 0
    for _ in range(steps):
        x += 1 if sg.bernoulli(sg.numpy.exp(-x / p)) else -1
    return x * x
