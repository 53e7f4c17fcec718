"""Clustering backends of the jets engine and the one place that picks one.

* ``cpu`` — numba kernels on NumPy arrays (:mod:`.cpu`);
* ``cuda`` — the CUDA C kernels of ``qantikt.cu`` compiled by NVRTC and launched with
  CuPy on CuPy arrays (:mod:`.cuda`);
* ``cuda-emulated`` — the same ``qantikt.cu`` compiled by the host C++ compiler through
  a shim header and run on NumPy arrays (tests and CI without a GPU);
* ``auto`` — ``cuda`` when CuPy sees a device, else ``cpu``.

The interface every backend implements is :class:`.protocol.Backend`. CuPy is imported
only when a CUDA backend is asked for (or CuPy arrays are passed).
"""

from __future__ import annotations

from .protocol import Backend, BatchResult, Job, ReplayResult

__all__ = ["BACKENDS", "get_backend", "is_cupy", "cuda_available", "Backend", "BatchResult", "Job", "ReplayResult"]

BACKENDS = ("cpu", "cuda", "cuda-emulated", "auto")


def is_cupy(a) -> bool:
    """True for a CuPy array (checked by module name: cupy is not imported)."""
    return type(a).__module__.split(".")[0] == "cupy"


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, no driver, no device: all mean "no"
        return False


def get_backend(name, p4) -> Backend:
    """The backend for ``name`` (None: ``cuda`` for CuPy arrays, else ``cpu``) and input ``p4``.

    Raises:
        ValueError: unknown name.
        TypeError: CuPy arrays with a NumPy backend (``cpu``, ``cuda-emulated``).
        RuntimeError: ``cuda`` without CuPy or without a device (names ``backend="cpu"``).
    """
    if name is None:
        name = "cuda" if is_cupy(p4) else "cpu"
    if name not in BACKENDS:
        raise ValueError(f"backend = {name!r}: choose one of {', '.join(map(repr, BACKENDS))}")
    if name == "auto":
        name = "cuda" if (is_cupy(p4) or cuda_available()) else "cpu"
    if name in ("cpu", "cuda-emulated") and is_cupy(p4):
        raise TypeError(f"backend={name!r} runs on NumPy arrays but got CuPy arrays: pass p4.get() and "
                        "counts.get(), or use backend='cuda'")
    if name == "cpu":
        from .cpu import CpuBackend

        return CpuBackend()
    from .cuda import CudaBackend, EmulatedBackend

    return EmulatedBackend() if name == "cuda-emulated" else CudaBackend.get()
