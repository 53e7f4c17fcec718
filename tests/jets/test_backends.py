"""The CUDA source (qantikt.cu) against the numba CPU backend, item by item.

Every test runs the CUDA kernels twice where it can: on NumPy through the host
emulation (``backend="cuda-emulated"``: the same .cu compiled by g++ through a shim),
and on CuPy on a real device (``backend="cuda"``; skipped without one). Deterministic
clustering (anti-kT, C/A, kt) must be identical; sampled histories identical for the
same seed on ≥ 99 % of (event, sample) items, every difference a floating-point
near-tie (the item's closest call, ``margin``, below 1e-9 on the CPU side); scores and
alternatives equal to 1e-12 where the histories agree.
"""

import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("numba")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import apps.jets as J  # noqa: E402
from apps.jets.clustering.backends import Job, cuda_available, get_backend  # noqa: E402
from apps.jets.clustering.backends.cuda import SOURCE, host_library  # noqa: E402

from .conftest import make_event  # noqa: E402

NEAR_TIE = 1e-9  # relative margin below which two backends may round a step's choice differently


@pytest.fixture(scope="module", params=["numpy", "cupy"])
def device(request):
    """(backend name, host → backend array, backend → host array) for the CUDA source."""
    if request.param == "numpy":
        if not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
            pytest.skip("no host C++ compiler for the emulation")
        return "cuda-emulated", np.asarray, np.asarray
    if not cuda_available():
        pytest.skip("no CUDA device (CuPy)")
    import cupy

    return "cuda", cupy.asarray, cupy.asnumpy


@pytest.fixture(scope="module")
def trimmed(default_events):
    """The shipped sample's first 40 events, trimmed to their first ≤ 40 particles."""
    ev = default_events.subset(slice(0, 40))
    return np.ascontiguousarray(ev.p4[:, :40]), np.minimum(ev.counts, 40)


def _both(device, p4, counts, R, p, alpha, ns, seed, want_hist=True, n_alt=0, event_offset=0):
    """Run one job on the CPU backend and on the CUDA source; return both results on the host."""
    name, to_dev, to_host = device
    job = Job(p4, counts, np.full(len(counts), float(R)), p, alpha, ns if alpha is not None else 1, seed, 20.0,
              event_offset)
    cpu = get_backend("cpu", p4)
    a = cpu.run_batch(job, want_hist, n_alt)
    dev = get_backend(name, to_dev(p4))
    djob = job._replace(p4=to_dev(p4), counts=to_dev(counts), R=to_dev(job.R))
    b = dev.run_batch(djob, want_hist, n_alt)
    b = type(b)(*map(to_host, b))
    alts = None
    if n_alt:
        alts = (cpu.run_alternatives(job, a.reservoir), to_host(dev.run_alternatives(djob, to_dev(b.reservoir))))
    return a, b, alts


def _check_sampled(device, p4, counts, R, p, alpha, ns, seed, n_alt=2, min_agree=0.99, event_offset=0):
    a, b, (alt_a, alt_b) = _both(device, p4, counts, R, p, alpha, ns, seed, True, n_alt, event_offset)
    same = (a.history == b.history).all(axis=(1, 2))
    diffs = [(int(i) // ns, int(i) % ns, float(a.margin[i]), float(b.margin[i])) for i in np.flatnonzero(~same)]
    print(f"p={p} R={R} α={alpha}: {same.sum()}/{same.size} histories identical; differences "
          f"(event, sample, margin cpu, margin {device[0]}): {diffs}")
    assert same.mean() >= min_agree
    for e, s, ma, mb in diffs:  # every difference is a near-tie on both sides
        assert min(ma, mb) < NEAR_TIE, (e, s, ma, mb)
    np.testing.assert_allclose(b.score[same], a.score[same], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.isnan(a.mjj[same]), np.isnan(b.mjj[same]))
    np.testing.assert_allclose(b.mjj[same], a.mjj[same], rtol=1e-12)
    assert np.array_equal(a.status, b.status) and not a.status.any()
    if n_alt:
        np.testing.assert_array_equal(a.reservoir[same], b.reservoir[same])
        np.testing.assert_array_equal(a.reservoir_sign[same], b.reservoir_sign[same])
        np.testing.assert_allclose(b.alt_total[same], a.alt_total[same], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(alt_b[same], alt_a[same], rtol=1e-12)
    return same


@pytest.mark.parametrize("p", [-1, 0, 1], ids=["antikt", "cambridge", "kt"])
@pytest.mark.parametrize("R", [0.4, 1.0])
def test_deterministic_identical(device, trimmed, p, R):
    p4, counts = trimmed
    a, b, _ = _both(device, p4, counts, R, p, None, 1, 0)
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.dij, b.dij)
    np.testing.assert_array_equal(a.mjj, b.mjj)
    assert not a.score.any() and not b.score.any()


@pytest.mark.parametrize("p", [-1, 0, 1], ids=["antikt", "cambridge", "kt"])
def test_sampled_histories_identical(device, trimmed, p):
    p4, counts = trimmed
    _check_sampled(device, p4, counts, 0.8, p, 1.0, 24, 11)


def test_event_offset_cpu_and_cuda_source_agree(device, trimmed):
    """A non-zero event_offset keys the CUDA source's streams (clustering and reservoirs) as the CPU backend's."""
    p4, counts = trimmed
    p4, counts = p4[:20], counts[:20]
    _check_sampled(device, p4, counts, 0.8, -1, 1.0, 12, 11, event_offset=1000)
    # the offset is applied: the same events at offset 0 draw other histories
    a0, _, _ = _both(device, p4, counts, 0.8, -1, 1.0, 12, 11, True, 0, 0)
    a1, _, _ = _both(device, p4, counts, 0.8, -1, 1.0, 12, 11, True, 0, 1000)
    assert (a0.history != a1.history).any(axis=(1, 2)).mean() > 0.5


def _backend_or_skip(name):
    if name == "cuda-emulated" and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        pytest.skip("no host C++ compiler for the emulation")
    if name == "cuda" and not cuda_available():
        pytest.skip("no CUDA device (CuPy)")
    return name


@pytest.mark.parametrize("backend", ["cpu", "cuda-emulated", "cuda"])
def test_partition_with_event_offset_is_the_slice_of_the_whole_batch(backend, trimmed):
    """Events a..b with event_offset=a give exactly rows a..b of the whole batch (what a Dask partition relies on)."""
    backend = _backend_or_skip(backend)
    p4, counts = trimmed
    p4, counts = p4[:24], counts[:24]
    R = np.linspace(0.5, 1.1, 24)
    kw = dict(n_alternatives=2, backend=backend)
    whole = J.sample_mjj_and_alternatives(p4, counts, R, 1.0, 6, 9, **kw)
    whole_c = J.cluster((p4, counts), R, alpha=1.0, n_samples=6, seed=9, backend=backend)
    for a, b in [(0, 7), (7, 16), (16, 24)]:
        n = int(counts[a:b].max())  # a partition is padded to its own largest event
        part = (np.ascontiguousarray(p4[a:b, :n]), counts[a:b])
        got = J.sample_mjj_and_alternatives(*part, R[a:b], 1.0, 6, 9, event_offset=a, **kw)
        for x, y in zip(whole, got):
            np.testing.assert_array_equal(y, x[a:b])
        m, s = J.sample_mjj_and_score(*part, R[a:b], 1.0, 6, 9, event_offset=a, backend=backend)
        np.testing.assert_array_equal(m, whole[0][a:b])
        np.testing.assert_array_equal(s, whole[1][a:b])
        c = J.cluster(part, R[a:b], alpha=1.0, n_samples=6, seed=9, backend=backend, event_offset=a)
        np.testing.assert_array_equal(c.history, whole_c.history[a:b, :, :n])
        np.testing.assert_array_equal(c.score, whole_c.score[a:b])
    # without its offset a partition draws other numbers
    m, s = J.sample_mjj_and_score(p4[7:16], counts[7:16], R[7:16], 1.0, 6, 9, backend=backend)
    assert not np.array_equal(s, whole[1][7:16])


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3", None, 2**63])
def test_event_offset_must_be_an_integer_at_least_0(bad, trimmed):
    p4, counts = trimmed
    p4, counts = p4[:2], counts[:2]
    with pytest.raises(ValueError, match="event_offset"):
        J.sample_mjj_and_score(p4, counts, 0.8, 1.0, 2, 0, event_offset=bad)
    with pytest.raises(ValueError, match="event_offset"):
        J.sample_mjj_and_alternatives(p4, counts, 0.8, 1.0, 2, 0, event_offset=bad)
    with pytest.raises(ValueError, match="event_offset"):
        J.cluster((p4, counts), 0.8, alpha=1.0, seed=0, event_offset=bad)


def test_replay_identical(device, trimmed):
    """Final jets and labels from the histories (the ClusterResult selectors)."""
    name, to_dev, to_host = device
    p4, counts = trimmed
    res = J.cluster((p4, counts), 0.8, alpha=1.0, n_samples=4, seed=2)
    h = np.ascontiguousarray(res.history.reshape(-1, p4.shape[1], 2))
    a = get_backend("cpu", p4).replay(p4, counts, 4, h)
    b = get_backend(name, to_dev(p4)).replay(to_dev(p4), to_dev(counts), 4, to_dev(h))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, to_host(y))


def test_engine_entry_points(device, trimmed):
    """cluster / sample_mjj_and_score / sample_mjj_and_alternatives with backend=...; results on the input's module."""
    name, to_dev, to_host = device
    p4, counts = trimmed
    p4, counts = p4[:10], counts[:10]
    ref = J.sample_mjj_and_alternatives(p4, counts, 0.8, 1.0, 8, 5, n_alternatives=2)
    got = J.sample_mjj_and_alternatives(to_dev(p4), to_dev(counts), 0.8, 1.0, 8, 5, n_alternatives=2, backend=name)
    assert type(got[0]) is type(to_dev(p4))
    for x, y in zip(ref, got):
        np.testing.assert_allclose(to_host(y), x, rtol=1e-12, atol=1e-12)
    m, s = J.sample_mjj_and_score(to_dev(p4), to_dev(counts), 0.8, 1.0, 8, 5, backend=name)
    np.testing.assert_array_equal(to_host(s), ref[1])
    r_cpu = J.cluster((p4, counts), 0.6, p=0)
    r_dev = J.cluster((to_dev(p4), to_dev(counts)), 0.6, p=0, backend=name)
    np.testing.assert_array_equal(to_host(r_dev.mjj()), r_cpu.mjj())
    np.testing.assert_array_equal(to_host(r_dev.constituents()), r_cpu.constituents())


def test_use_backend_context(trimmed, monkeypatch):
    pytest.importorskip("ctypes")
    from apps.jets.clustering import engine

    ran, real = [], engine.get_backend
    monkeypatch.setattr(engine, "get_backend", lambda name, p4: ran.append(name) or real(name, p4))
    p4, counts = trimmed
    ref = J.sample_mjj_and_score(p4[:5], counts[:5], 0.8, 1.0, 4, 1)
    with J.clustering.engine.use_backend("cuda-emulated"):
        got = J.sample_mjj_and_score(p4[:5], counts[:5], 0.8, 1.0, 4, 1)
    assert ran == [None, "cuda-emulated"]  # the context's backend was the one asked for
    np.testing.assert_array_equal(np.nan_to_num(ref[0]), np.nan_to_num(got[0]))
    with pytest.raises(ValueError, match="choose one of"):
        with J.clustering.engine.use_backend("gpu"):
            pass


@st.composite
def _events(draw):
    n = draw(st.integers(1, 20))
    pt = draw(st.lists(st.floats(0.5, 200.0), min_size=n, max_size=n))
    y = draw(st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n))
    phi = draw(st.lists(st.floats(0.0, 6.283), min_size=n, max_size=n))
    ev = make_event(pt, y, phi)
    if n > 2 and draw(st.booleans()):
        ev = np.concatenate([ev, ev[:2]])  # exact duplicates: ΔR² = 0
    if draw(st.booleans()):
        ev[0, :2] = 0.0  # a particle along the beam (kt² = 0)
        ev[0, 3] = abs(ev[0, 2]) + draw(st.sampled_from([0.0, 1.0]))
    return ev


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=_events(), R=st.sampled_from([0.3, 0.8, 1.5]), p=st.sampled_from([-1, 0, 1]),
       alpha=st.sampled_from([0.5, 1.0, 4.0]), seed=st.integers(0, 2**64 - 1))
def test_generated_events(device, ev, R, p, alpha, seed):
    p4, counts = ev[None], np.array([len(ev)])
    a, b, _ = _both(device, p4, counts, R, p, None, 1, 0)
    np.testing.assert_array_equal(a.history, b.history)
    _check_sampled(device, p4, counts, R, p, alpha, 16, seed, n_alt=1, min_agree=0.9)


def test_nvcc_compiles_the_source_for_the_device(tmp_path):
    """CI has nvcc but no GPU: catch device compile errors (what NVRTC would refuse)."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc not installed")
    out = tmp_path / "qantikt.ptx"
    proc = subprocess.run([nvcc, "-ptx", "-arch=sm_90", "--fmad=false", "-std=c++11", str(SOURCE), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ptx = out.read_text()
    for kernel in ("qk_batch", "qk_alternatives", "qk_replay"):
        assert f".entry {kernel}(" in ptx


def test_emulation_builds_into_the_cache_not_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCHGRAD_CACHE", str(tmp_path))
    from apps.jets.clustering.backends import cuda

    monkeypatch.setattr(cuda, "_host_lib", {})
    lib = host_library()
    built = list(tmp_path.rglob("qantikt-*.so"))
    assert len(built) == 1 and lib._name == str(built[0])
    assert not list(SOURCE.parent.glob("*.so"))
    with pytest.raises(RuntimeError, match='backend="cpu"'):
        host_library(compiler="/nonexistent/c++")


# ---- bad input -------------------------------------------------------------------------------

class _FakeCupyArray:
    """Stands in for a CuPy array (the engine recognises them by module, never imports cupy for that)."""

    __module__ = "cupy._core.core"
    shape = (1, 2, 4)


def test_cuda_without_cupy_or_device_names_cpu():
    if cuda_available():
        pytest.skip("a CUDA device is present")
    ev = np.array([[[10.0, 0, 1, 12.0], [0, 10.0, -1, 11.0]]])
    with pytest.raises(RuntimeError, match='backend="cpu"'):
        J.cluster(ev, 0.4, backend="cuda")
    assert J.cluster(ev, 0.4, backend="auto").history.shape == (1, 1, 2, 2)  # auto falls back to cpu


@pytest.mark.parametrize("backend", ["cpu", "cuda-emulated"])
def test_cupy_arrays_refused_by_numpy_backends(backend):
    fake = _FakeCupyArray()
    with pytest.raises(TypeError, match=r"\.get\(\)"):
        J.sample_mjj_and_score(fake, fake, 0.4, 1.0, 2, 0, backend=backend)
    with pytest.raises(TypeError, match=r"\.get\(\)"):
        J.cluster((fake, fake), 0.4, backend=backend)


def test_unknown_backend():
    with pytest.raises(ValueError, match="cuda-emulated"):
        J.cluster(np.array([[[10.0, 0, 1, 12.0]]]), 0.4, backend="gpu")


def test_cli_backend_unavailable_is_one_line_exit_2(tmp_path, capsys):
    if cuda_available():
        pytest.skip("a CUDA device is present")
    from apps.jets.cli import main

    assert main(["widths", "--n-events", "3", "--backend", "cuda", "--png", str(tmp_path / "w.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'backend="cpu"' in err[0]
    assert not (tmp_path / "w.png").exists()
