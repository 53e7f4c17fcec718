import numpy as np
import pytest


def make_event(pt, y, phi, m=None):
    """(n, 4) massless (or massive) four-vectors from pT, rapidity, φ."""
    pt, y, phi = map(np.asarray, (pt, y, phi))
    m = np.zeros_like(pt) if m is None else np.asarray(m)
    mt = np.sqrt(pt**2 + m**2)
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y), mt * np.cosh(y)], axis=1)


@pytest.fixture(scope="session")
def default_events():
    pytest.importorskip("numba")
    import apps.jets as J

    return J.load_default_events()
