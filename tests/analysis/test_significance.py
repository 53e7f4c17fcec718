"""The Asimov significance with a background systematic against its closed forms and limits."""

import math

import numpy as np
import pytest

from apps.analysis.significance import asimov_significance


def cowan_direct(s, b, sigma):
    """The textbook formula, evaluated naively (accurate when s/b is not tiny)."""
    if sigma == 0:
        return math.sqrt(2 * ((s + b) * math.log(1 + s / b) - s))
    v = sigma * sigma
    t1 = (s + b) * math.log((s + b) * (b + v) / (b * b + (s + b) * v))
    t2 = b * b / v * math.log(1 + v * s / (b * (b + v)))
    return math.sqrt(2 * (t1 - t2))


@pytest.mark.parametrize("s,b,delta", [(10, 100, 0.0), (10, 100, 0.1), (50, 20, 0.3), (3, 1000, 0.01),
                                       (1e3, 1e4, 0.05), (0.5, 0.7, 1.0)])
def test_matches_textbook_formula(s, b, delta):
    assert asimov_significance(s, b, delta) == pytest.approx(cowan_direct(s, b, delta * b), rel=1e-9)


def test_no_systematic_is_the_standard_asimov_formula():
    from apps.cuts import asimov_z

    s, b = np.array([1.0, 10.0, 200.0]), np.array([100.0, 30.0, 5.0])
    np.testing.assert_allclose(asimov_significance(s, b), asimov_z(s, b), rtol=1e-12)


def test_small_signal_limit_is_s_over_sqrt_b_plus_sigma2():
    # s ≪ b: Z → s / sqrt(b + σ²); here s/b = 5e-6, where the naive formula loses digits
    s, b = 1e5, 2e10
    for delta in (0.0, 1e-5, 1e-3, 0.1):
        expect = s / math.sqrt(b + (delta * b) ** 2)
        assert asimov_significance(s, b, delta) == pytest.approx(expect, rel=1e-4)


def test_continuous_at_zero_systematic_and_monotone():
    s, b = 30.0, 400.0
    assert asimov_significance(s, b, 1e-7) == pytest.approx(asimov_significance(s, b, 0.0), rel=1e-9)
    z = [asimov_significance(s, b, d) for d in (0.0, 0.01, 0.05, 0.2, 1.0)]
    assert all(x > y for x, y in zip(z, z[1:]))  # more systematic, less significance
    zs = asimov_significance(np.array([1.0, 5.0, 20.0]), b, 0.05)
    assert np.all(np.diff(zs) > 0)


def test_floor_and_validation():
    assert asimov_significance(10.0, 0.0, 0.0, b_min=4.0) == pytest.approx(asimov_significance(10.0, 4.0))
    assert asimov_significance(0.0, 50.0, 0.1) == 0.0
    with pytest.raises(ValueError):
        asimov_significance(1.0, 1.0, -0.1)
    with pytest.raises(ValueError):
        asimov_significance(1.0, 1.0, 0.0, b_min=0.0)
