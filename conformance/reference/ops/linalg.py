"""Matrix products: MatMul (numpy broadcasting, 1-D promotion) and Gemm.

Both go straight to BLAS through np.matmul; half-precision inputs are multiplied in float32
(numpy has no half BLAS and would round every partial sum) and rounded once at the end.
"""
from __future__ import annotations

import contextlib
import ctypes
import os

import numpy as np

from ..registry import op


# --------------------------------------------------------------------------- BLAS threads

class _OpenBlasThreads:
    """Set the number of OpenBLAS threads numpy uses, found the way threadpoolctl finds it
    (the loaded library in /proc/self/maps), thread-locally where OpenBLAS supports that.

    Why: on a CPU shared with other busy processes, OpenBLAS's spinning worker threads turn
    every matmul into a scheduling fight; measured here, a 2-layer GRU went from 1.3 ms to
    ~100 ms and a ResNet18 from 0.3 s to 1.2 s with the default threads. One thread per
    executor is the robust default; ``CONFORMANCE_REFERENCE_BLAS_THREADS`` overrides it
    (0 keeps OpenBLAS's own setting)."""

    def __init__(self):
        self.set_local = self.set_global = self.get_global = None
        try:
            with open("/proc/self/maps") as maps:
                paths = sorted({line.split()[-1] for line in maps
                                if "openblas" in line.lower() and ".so" in line})
        except OSError:
            paths = []
        for path in paths:
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            self.set_local = getattr(lib, "openblas_set_num_threads_local", None)
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", "_64_", ""):
                    setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    if setter is not None and getter is not None:
                        self.set_global, self.get_global = setter, getter
                        break
                if self.set_global is not None:
                    break
            if self.set_local is not None or self.set_global is not None:
                break
        if self.set_local is not None:
            self.set_local.restype = ctypes.c_int
            self.set_local.argtypes = [ctypes.c_int]

    @contextlib.contextmanager
    def limit(self, n: int):
        if n <= 0 or (self.set_local is None and self.set_global is None):
            yield
            return
        if self.set_local is not None:
            previous = self.set_local(n)
            try:
                yield
            finally:
                self.set_local(previous)
            return
        previous = self.get_global()
        self.set_global(n)
        try:
            yield
        finally:
            self.set_global(previous)


_BLAS = _OpenBlasThreads()
_THREADS = int(os.environ.get("CONFORMANCE_REFERENCE_BLAS_THREADS", "1") or 0)


def blas_threads():
    """Context manager: BLAS calls inside use the reference executor's thread setting."""
    return _BLAS.limit(_THREADS)


def set_blas_threads(n: int) -> None:
    """N threads for the executor's BLAS calls from now on; 0 keeps the library's own setting."""
    global _THREADS
    _THREADS = int(n)


def get_blas_threads() -> int:
    return _THREADS


def _widen(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.float16 or a.dtype.name == "bfloat16":
        return a.astype(np.float32)
    return a


def _blas_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul shaped so that numpy always reaches BLAS: numpy falls back to a naive loop
    for stacked operands whose strides BLAS cannot take (e.g. a transposed activation),
    which measured 20-80 ms instead of 1 ms on a transformer projection."""
    if b.ndim == 2 and a.ndim > 2:
        lead = a.shape[:-1]
        return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(*lead, b.shape[-1])
    if a.ndim > 2 or b.ndim > 2:
        return np.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b))
    return np.matmul(a, b)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out_dtype = np.result_type(a.dtype, b.dtype)
    with blas_threads():
        return _blas_matmul(_widen(a), _widen(b)).astype(out_dtype, copy=False)


@op("MatMul", since=1)
def matmul_op(ctx, a, b):
    return matmul(a, b)


@op("Gemm", since=1)
def gemm(ctx, a, b, c=None):
    alpha = float(ctx.attr("alpha", 1.0))
    beta = float(ctx.attr("beta", 1.0))
    if ctx.attr("transA", 0):
        a = a.T
    if ctx.attr("transB", 0):
        b = b.T
    out_dtype = np.result_type(a.dtype, b.dtype)
    with blas_threads():
        y = np.matmul(_widen(a), _widen(b))
    if alpha != 1.0:
        y = y * np.asarray(alpha, dtype=y.dtype) if y.dtype.kind == "f" else y * alpha
    if c is not None and beta != 0.0:
        c = _widen(c)
        y = y + (c if beta == 1.0 else c * np.asarray(beta, dtype=c.dtype if c.dtype.kind == "f" else np.float64))
    return y.astype(out_dtype, copy=False)
