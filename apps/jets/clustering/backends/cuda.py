"""CUDA backend (CuPy + NVRTC) and its host emulation, both from ``qantikt.cu``.

* :class:`CudaBackend` (``backend="cuda"``) compiles ``qantikt.cu`` with NVRTC through
  ``cupy.RawModule`` (``--fmad=false``: no FMA contraction, so the doubles match the CPU
  backend's) and launches its kernels on CuPy arrays: one thread per (event, sample)
  work item, a grid-stride loop over the items of a launch.
* :class:`EmulatedBackend` (``backend="cuda-emulated"``) compiles the very same source
  with the host C++ compiler through ``cuda_shim.h`` (``__global__``/``__device__``
  vanish, a launch is one block of one thread, so the grid-stride loop visits every
  item) into a shared library cached under ``$STOCHGRAD_CACHE`` (default
  ``~/.cache/stochgrad``) keyed by the hash of source, shim and flags, and calls it with
  ctypes on NumPy arrays. It exists to check the CUDA source on machines without a GPU;
  its speed means nothing.

Per-item scratch (jets, NN bookkeeping, the candidate-pair list of up to
``n(n+1)/2 + n + 1`` pairs) lives in two global buffers, column-major over the work
items of a launch. A batch whose scratch would exceed the memory budget is split into
several launches (in order, on one stream: no host round-trip between them).

CuPy is imported only here, and only when a CUDA backend is built.
"""

from __future__ import annotations

import abc
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from .protocol import ReplayResult, empty_batch

__all__ = ["CudaBackend", "EmulatedBackend", "SOURCE", "SHIM", "scratch_columns", "host_library"]

SOURCE = Path(__file__).with_name("qantikt.cu")
SHIM = Path(__file__).with_name("cuda_shim.h")
NVRTC_OPTIONS = ("--fmad=false", "--std=c++11")
HOST_FLAGS = ("-x", "c++", "-std=c++11", "-O2", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared")

# argument kinds of each kernel: P pointer, q int64, i int32, d double, Q uint64
SIGNATURES = {
    "qk_batch": "PPPqidiqQqdiiqqqPPPPPPPPPPP",
    "qk_alternatives": "PPPqidqQqdiPqqqPPP",
    "qk_replay": "PPqqPqqPPPPP",
}


def scratch_columns(n_max, det):
    """``(ncap, double columns, integer columns)`` of one clustering work item."""
    N = max(int(n_max), 1)
    ncap = 1 if det else N * (N + 1) // 2 + N + 1
    return ncap, 10 * N + 3 * ncap, 5 * N + 2 * ncap


def _chunks(n_work, bytes_per_item, budget):
    step = max(1, min(n_work, int(budget // max(bytes_per_item, 1))))
    return [(a, min(step, n_work - a)) for a in range(0, n_work, step)]


class _KernelBackend(abc.ABC):
    """Launch logic shared by the device and the emulated backend (same kernels, same chunks)."""

    name = ""
    xp = np
    budget = 256 << 20  # bytes of scratch per launch

    @abc.abstractmethod
    def _launch(self, kernel, n_work, args):
        """Run ``kernel`` over ``n_work`` items with ``args`` (on the device, or in the host build)."""

    def _scratch(self, n, cols, dtype):
        return self.xp.empty(n * cols, dtype)

    def _run_chunks(self, kernel, chunks, dcols, icols, make_args):
        """Launch ``kernel`` once per chunk ``(first, n_work)``; scratch allocated per launch."""
        xp = self.xp
        for first, n_work in chunks:
            dbuf, ibuf = self._scratch(n_work, dcols, xp.float64), self._scratch(n_work, icols, xp.int64)
            self._launch(kernel, n_work, make_args(first, n_work, dbuf, ibuf))

    def run_batch(self, job, want_hist, n_alt):
        n_items = len(job.counts) * job.n_samples
        n_max = job.p4.shape[1]
        det = job.alpha is None
        out = empty_batch(self.xp, n_items, n_max, want_hist, n_alt)
        ncap, dcols, icols = scratch_columns(n_max, det)
        self._run_chunks("qk_batch", _chunks(n_items, 8 * (dcols + icols), self.budget), dcols, icols,
                         lambda item0, n_work, dbuf, ibuf: (
                             job.p4, job.counts, job.R, n_max, job.p, 0.0 if det else job.alpha, int(det),
                             job.n_samples, job.seed, job.event_offset, job.ptmin, int(want_hist), n_alt, item0,
                             n_work, ncap, dbuf,
                             ibuf, out.history, out.dij, out.mjj, out.score, out.reservoir, out.reservoir_sign,
                             out.alt_total, out.status, out.margin))
        return out

    def run_alternatives(self, job, reservoir):
        xp = self.xp
        n_items, m_alt = reservoir.shape[:2]
        n_max = job.p4.shape[1]
        alt = xp.empty((n_items, m_alt))
        reservoir = xp.ascontiguousarray(reservoir, dtype=xp.int64)
        ncap, dcols, icols = scratch_columns(n_max, False)
        self._run_chunks("qk_alternatives", _chunks(n_items * m_alt, 8 * (dcols + icols), self.budget), dcols, icols,
                         lambda w0, n_work, dbuf, ibuf: (
                             job.p4, job.counts, job.R, n_max, job.p, job.alpha, job.n_samples, job.seed,
                             job.event_offset, job.ptmin, m_alt, reservoir, w0, n_work, ncap, dbuf, ibuf, alt))
        return alt

    def replay(self, p4, counts, n_samples, history):
        xp = self.xp
        n_items, n_max = history.shape[:2]
        N = max(n_max, 1)
        jets = xp.zeros((n_items, n_max, 4))
        nj = xp.zeros(n_items, xp.int64)
        lab = xp.full((n_items, n_max), -1, xp.int64)
        hist = xp.ascontiguousarray(history, dtype=xp.int64)
        self._run_chunks("qk_replay", _chunks(n_items, 8 * 14 * N, self.budget), 9 * N, 5 * N,
                         lambda item0, n_work, dbuf, ibuf: (p4, counts, n_max, n_samples, hist, item0, n_work,
                                                            dbuf, ibuf, jets, nj, lab))
        return ReplayResult(jets, nj, lab)


# ---- host emulation -----------------------------------------------------------------------

_host_lock = threading.Lock()
_host_lib = {}


def _cache_dir():
    return Path(os.environ.get("STOCHGRAD_CACHE", Path.home() / ".cache" / "stochgrad")) / "cuda-emulated"


def host_library(compiler=None):
    """``qantikt.cu`` built for the host through ``cuda_shim.h`` (cached by content hash).

    Raises:
        RuntimeError: no C++ compiler (``$CXX``, ``g++``, ``c++`` or ``clang++``) or the
            build failed (its message included).
    """
    cxx = compiler or os.environ.get("CXX") or next(
        (c for c in ("g++", "c++", "clang++") if shutil.which(c)), None)
    if cxx is None or shutil.which(cxx) is None:
        raise RuntimeError('backend="cuda-emulated" needs a host C++ compiler (g++, c++ or clang++; or set $CXX) '
                           'to build qantikt.cu; install one or use backend="cpu"')
    h = hashlib.sha256()
    for part in (SOURCE.read_bytes(), SHIM.read_bytes(), " ".join((cxx,) + HOST_FLAGS).encode()):
        h.update(part)
    key = h.hexdigest()[:20]
    with _host_lock:
        if key in _host_lib:
            return _host_lib[key]
        path = _cache_dir() / f"qantikt-{key}.so"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
                tmp_so = Path(tmp) / path.name
                cmd = [cxx, *HOST_FLAGS, "-include", str(SHIM), str(SOURCE), "-o", str(tmp_so), "-lm"]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"building qantikt.cu for the host failed ({' '.join(cmd)}):\n{proc.stderr}")
                os.replace(tmp_so, path)  # atomic: concurrent builders see a whole library or none
        lib = ctypes.CDLL(str(path))
        kinds = {"P": ctypes.c_void_p, "q": ctypes.c_int64, "i": ctypes.c_int32, "d": ctypes.c_double,
                 "Q": ctypes.c_uint64}
        for name, sig in SIGNATURES.items():
            fn = getattr(lib, name)
            fn.argtypes = [kinds[c] for c in sig]
            fn.restype = None
        _host_lib[key] = lib
        return lib


class EmulatedBackend(_KernelBackend):
    """``qantikt.cu`` on the host (NumPy arrays): the CUDA source checked without a GPU.

    Same kernels, same chunking and the same random stream as :class:`CudaBackend`; its
    histories equal the CPU backend's (same libm). Not a performance figure. The chunks
    of a batch run on ``os.cpu_count()`` threads (ctypes releases the GIL).
    """

    name = "cuda-emulated"
    xp = np
    budget = 64 << 20

    def __init__(self):
        self.lib = host_library()

    def _run_chunks(self, kernel, chunks, dcols, icols, make_args):
        def one(chunk):
            first, n_work = chunk
            dbuf, ibuf = np.empty(n_work * dcols), np.empty(n_work * icols, np.int64)
            self._launch(kernel, n_work, make_args(first, n_work, dbuf, ibuf))

        if len(chunks) == 1:
            one(chunks[0])
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(len(chunks), os.cpu_count() or 1)) as pool:
            list(pool.map(one, chunks))

    def _launch(self, kernel, n_work, args):
        sig = SIGNATURES[kernel]
        conv = []
        for kind, a in zip(sig, args):
            if kind == "P":
                if not (a.flags.c_contiguous):
                    raise ValueError(f"{kernel}: argument arrays must be C-contiguous")
                conv.append(a.ctypes.data)
            else:
                conv.append(int(a) if kind in "qiQ" else float(a))
        getattr(self.lib, kernel)(*conv)


# ---- device ---------------------------------------------------------------------------------

class CudaBackend(_KernelBackend):
    """``qantikt.cu`` compiled by NVRTC and launched with CuPy: one thread per work item."""

    name = "cuda"
    block = 128
    _instance = None
    _lock = threading.Lock()

    def __init__(self, cupy):
        self.xp = cupy
        self.module = cupy.RawModule(code=SOURCE.read_text(), options=NVRTC_OPTIONS)
        self.kernels = {k: self.module.get_function(k) for k in SIGNATURES}
        free, _ = cupy.cuda.runtime.memGetInfo()
        self.budget = int(min(8 << 30, free // 4))

    def _scratch(self, n, cols, dtype):
        return self.xp.empty(n * cols, dtype)

    @classmethod
    def get(cls):
        """The process's CUDA backend (compiled once).

        Raises:
            RuntimeError: CuPy missing, or no CUDA device — naming ``backend="cpu"``.
        """
        try:
            import cupy
        except ImportError:
            raise RuntimeError('backend="cuda" needs CuPy (pip install cupy-cuda12x or cupy-cuda13x) and a CUDA '
                               'device; use backend="cpu" (or "auto") on this machine') from None
        try:
            n_dev = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # driver missing or broken
            raise RuntimeError(f'backend="cuda": CuPy sees no CUDA device ({exc}); use backend="cpu" '
                               '(or "auto")') from None
        if n_dev < 1:
            raise RuntimeError('backend="cuda": CuPy sees no CUDA device; use backend="cpu" (or "auto")')
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls(cupy)
            return cls._instance

    def _launch(self, kernel, n_work, args):
        sig = SIGNATURES[kernel]
        conv = []
        for kind, a in zip(sig, args):
            if kind == "P":
                conv.append(a)
            else:
                conv.append({"q": np.int64, "i": np.int32, "d": np.float64, "Q": np.uint64}[kind](a))
        grid = max(1, min((n_work + self.block - 1) // self.block, 1 << 20))
        self.kernels[kernel]((grid,), (self.block,), tuple(conv))
