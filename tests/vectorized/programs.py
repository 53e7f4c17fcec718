"""Programs written once, branch-free, for both the per-sample and the vectorised mode."""

import autograd.numpy as anp

import stochgrad as sg


def walk(p, steps=100):
    """StochasticAD.jl's random walk written with sg.select: +1 with probability exp(−x/p), else −1; f = x²."""
    x = 0
    for _ in range(steps):
        k = sg.bernoulli(anp.exp(-x / p))
        x = x + sg.select(k, [-1, 1])
    return x * x


def sigmoid(z):
    return 1.0 / (1.0 + anp.exp(-z))


def mixed(theta):
    """Two parameters, a Bernoulli whose probability depends on the state, a categorical with per-sample logits."""
    t0, t1 = theta[0], theta[1]
    k = sg.bernoulli(sigmoid(t0 - 0.3))
    x = sg.select(k, [0.5 * t1, anp.sin(t0) + 1.0])
    j = sg.categorical(logits=anp.stack([t1 + 0.0 * x, 0.4 * x, -t0 + 0.2 * x], axis=-1))
    y = x + sg.select(j, [1.0, t0 * t1, -0.5])
    b = sg.bernoulli(sigmoid(t1 * y - 0.2))
    return y * y + sg.select(b, [0.0, 1.5 - t0])
