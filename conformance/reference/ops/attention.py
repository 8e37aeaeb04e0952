"""Softmax, LogSoftmax, Hardmax (axis semantics before and after opset 13) and Gelu (opset 20).

Attention itself (opset 23+) lives in transformer.py with the other transformer ops.
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import op


def _coerce_2d(x: np.ndarray, axis: int):
    """Opset < 13: the op sees x as (prod(shape[:axis]), prod(shape[axis:]))."""
    axis = axis % x.ndim if x.ndim else 0
    rows = int(np.prod(x.shape[:axis]))
    return x.reshape(rows, -1)


def _axis_apply(ctx, x, fn):
    if x.size == 0:                    # an empty input has an empty softmax (np.max has no identity)
        return x.copy()
    if ctx.opset < 13:
        return fn(_coerce_2d(x, int(ctx.attr("axis", 1))), 1).reshape(x.shape)
    return fn(x, int(ctx.attr("axis", -1)))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = x - np.max(x, axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def hardmax(x: np.ndarray, axis: int) -> np.ndarray:
    idx = np.expand_dims(np.argmax(x, axis=axis), axis)
    y = np.zeros_like(x)
    np.put_along_axis(y, idx, 1, axis=axis)
    return y


@op("Softmax", since=1)
def softmax_op(ctx, x):
    return _axis_apply(ctx, x, softmax).astype(x.dtype, copy=False)


@op("LogSoftmax", since=1)
def log_softmax_op(ctx, x):
    return _axis_apply(ctx, x, log_softmax).astype(x.dtype, copy=False)


@op("Hardmax", since=1)
def hardmax_op(ctx, x):
    return _axis_apply(ctx, x, hardmax)


def _erfc_cf(v: np.ndarray, terms: int = 60) -> np.ndarray:
    """erfc(v) by its continued fraction, evaluated bottom-up: 60 terms reach float64 accuracy
    for v >= 2, 200 terms for v >= 1."""
    frac = np.zeros_like(v)
    for k in range(terms, 0, -1):
        frac = (k / 2.0) / (v + frac)
    return np.exp(-v * v) / math.sqrt(math.pi) / (v + frac)


def erf(x: np.ndarray) -> np.ndarray:
    """erf to float64 accuracy, vectorised (numpy has none and scipy is off limits here).

    |x| < 3: the all-positive series erf(x) = 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1)/(2n+1)!!
    (no cancellation); |x| >= 3: 1 - erfc by its continued fraction."""
    xd = np.asarray(x, dtype=np.float64)
    ax = np.abs(xd)
    out = np.empty_like(xd)
    small = ax < 3.0
    if small.any():
        v = ax[small]
        v2 = v * v
        term = v.copy()
        total = v.copy()
        for n in range(1, 90):
            term *= 2.0 * v2 / (2 * n + 1)
            total += term
        out[small] = 2.0 / math.sqrt(math.pi) * np.exp(-v2) * total
    big = ~small
    if big.any():
        out[big] = 1.0 - _erfc_cf(ax[big])
    return np.copysign(out, xd)


def erfc(x: np.ndarray) -> np.ndarray:
    """erfc without the cancellation of 1 - erf(x) in the tail x >= 1."""
    xd = np.asarray(x, dtype=np.float64)
    out = 1.0 - erf(xd)
    tail = xd >= 1.0
    if tail.any():
        out[tail] = _erfc_cf(xd[tail], 200)
    return out


@op("Gelu", since=20)
def gelu(ctx, x):
    approximate = ctx.attr("approximate", "none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
    xd = x.astype(np.float64)
    if approximate == "tanh":
        y = 0.5 * xd * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (xd + 0.044715 * xd ** 3)))
    else:
        # 1 + erf(x / sqrt 2) == erfc(-x / sqrt 2), which keeps its digits for negative x.
        y = 0.5 * xd * erfc(-xd / math.sqrt(2.0))
    return y.astype(x.dtype, copy=False)
