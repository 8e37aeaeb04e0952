"""Matrix products: MatMul (numpy broadcasting, 1-D promotion) and Gemm.

Both go straight to BLAS through np.matmul; half-precision inputs are multiplied in float32
(numpy has no half BLAS and would round every partial sum) and rounded once at the end.
"""
from __future__ import annotations

import numpy as np

from ..registry import op


def _widen(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.float16 or a.dtype.name == "bfloat16":
        return a.astype(np.float32)
    return a


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out_dtype = np.result_type(a.dtype, b.dtype)
    return np.matmul(_widen(a), _widen(b)).astype(out_dtype, copy=False)


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
    y = np.matmul(_widen(a), _widen(b))
    if alpha != 1.0:
        y = y * np.asarray(alpha, dtype=y.dtype) if y.dtype.kind == "f" else y * alpha
    if c is not None and beta != 0.0:
        c = _widen(c)
        y = y + (c if beta == 1.0 else c * np.asarray(beta, dtype=c.dtype if c.dtype.kind == "f" else np.float64))
    return y.astype(out_dtype, copy=False)
