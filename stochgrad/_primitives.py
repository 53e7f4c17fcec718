"""The recording primitives of the families beyond Bernoulli and categorical (the tracer's side).

Each validates its arguments with its family's ``check`` and records one choice
through :func:`stochgrad._trace.sample`; the families themselves
(``stochgrad.distributions``) know nothing of the tracer.
"""

from __future__ import annotations

from ._trace import sample
from .distributions import BINOMIAL, EXPONENTIAL, GAMMA, GEOMETRIC, NEGATIVE_BINOMIAL, NORMAL, POISSON

__all__ = ["binomial", "geometric", "poisson", "negative_binomial", "normal", "exponential", "gamma"]


def binomial(n, p, *, key=None, rng=None) -> int:
    """Sample ``k ~ Binomial(n, p)`` as a traced choice (see :func:`stochgrad.bernoulli` for ``key``/``rng``).

    Args:
        n: number of trials, a non-negative int (not differentiated).
        p: success probability in [0, 1]; may depend on θ.

    Returns:
        The number of successes (an ``int``).

    Raises:
        ValueError: ``n`` not a non-negative int, ``p`` outside [0, 1] or NaN.
    """
    return sample(BINOMIAL, BINOMIAL.check(n, p), key=key, rng=rng)


def geometric(p, *, key=None, rng=None) -> int:
    """Sample the number of failures before the first success, success probability ``p``, as a traced choice.

    Args:
        p: success probability in (0, 1]; may depend on θ.

    Returns:
        ``k ≥ 0`` (an ``int``).

    Raises:
        ValueError: ``p`` outside (0, 1] or NaN.
    """
    return sample(GEOMETRIC, GEOMETRIC.check(p), key=key, rng=rng)


def poisson(rate, *, key=None, rng=None) -> int:
    """Sample ``k ~ Poisson(rate)`` as a traced choice.

    Args:
        rate: ``λ ≥ 0``; may depend on θ.

    Returns:
        ``k ≥ 0`` (an ``int``).

    Raises:
        ValueError: ``rate`` negative, NaN or above 1e15.
    """
    return sample(POISSON, POISSON.check(rate), key=key, rng=rng)


def negative_binomial(r, p, *, key=None, rng=None) -> int:
    """Sample the number of failures before the ``r``-th success (success probability ``p``) as a traced choice.

    Args:
        r: number of successes, a plain number ``> 0`` (not differentiated).
        p: success probability in (0, 1]; may depend on θ.

    Returns:
        ``k ≥ 0`` (an ``int``).

    Raises:
        ValueError: ``r`` not a plain positive number, ``p`` outside (0, 1] or NaN.
    """
    return sample(NEGATIVE_BINOMIAL, NEGATIVE_BINOMIAL.check(r, p), key=key, rng=rng)


def normal(mean=0.0, sd=1.0, *, key=None, rng=None):
    """Sample ``x ~ Normal(mean, sd)`` as a reparameterised traced choice.

    Args:
        mean, sd: may depend on θ (``sd ≥ 0``).

    Returns:
        A float (carrying its θ-derivative inside an estimator).

    Raises:
        ValueError: non-finite parameters or ``sd < 0``; under Exact.
    """
    return sample(NORMAL, NORMAL.check(mean, sd), key=key, rng=rng)


def exponential(rate=1.0, *, key=None, rng=None):
    """Sample ``x ~ Exponential(rate)`` (mean ``1/rate``) as a reparameterised traced choice.

    Args:
        rate: ``> 0``; may depend on θ.

    Returns:
        A float (carrying its θ-derivative inside an estimator).

    Raises:
        ValueError: ``rate`` not finite and positive; under Exact.
    """
    return sample(EXPONENTIAL, EXPONENTIAL.check(rate), key=key, rng=rng)


def gamma(shape, rate=1.0, *, key=None, rng=None):
    """Sample ``x ~ Gamma(shape, rate)`` (mean ``shape/rate``) as a reparameterised traced choice.

    Args:
        shape, rate: ``> 0``; may depend on θ.

    Returns:
        A float (carrying its θ-derivative inside an estimator).

    Raises:
        ValueError: non-finite or non-positive parameters; under Exact.
    """
    return sample(GAMMA, GAMMA.check(shape, rate), key=key, rng=rng)
