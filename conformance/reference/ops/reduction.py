"""Reductions (Reduce*, ArgMax/ArgMin) with every opset's way of giving axes."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..registry import op


def _reduce_axes(ctx, x, axes_input):
    """Axes as a tuple, or None for all; () when the reduction is a no-op."""
    if axes_input is not None:
        axes = [int(a) for a in np.asarray(axes_input).reshape(-1)]
    else:
        axes = ctx.attr("axes")
    if not axes:
        if ctx.attr("noop_with_empty_axes", 0):
            return ()
        return None
    return tuple(a + x.ndim if a < 0 else a for a in axes)


def _lowest(dtype):
    return -np.inf if dtypes.is_floating(dtype) else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtypes.is_floating(dtype) else np.iinfo(dtype).max


def _sum(x, axis, keep):
    return np.sum(x, axis=axis, keepdims=keep, dtype=x.dtype)


_REDUCERS = {
    "ReduceSum": _sum,
    "ReduceMean": lambda x, axis, keep: np.mean(x, axis=axis, keepdims=keep, dtype=x.dtype),
    "ReduceMax": lambda x, axis, keep: np.max(x, axis=axis, keepdims=keep, initial=_lowest(x.dtype)) if x.dtype != bool
    else np.any(x, axis=axis, keepdims=keep),
    "ReduceMin": lambda x, axis, keep: np.min(x, axis=axis, keepdims=keep, initial=_highest(x.dtype)) if x.dtype != bool
    else np.all(x, axis=axis, keepdims=keep),
    "ReduceProd": lambda x, axis, keep: np.prod(x, axis=axis, keepdims=keep, dtype=x.dtype),
    "ReduceL1": lambda x, axis, keep: _sum(np.abs(x), axis, keep),
    "ReduceL2": lambda x, axis, keep: np.sqrt(_sum(x * x, axis, keep)),
    "ReduceSumSquare": lambda x, axis, keep: _sum(x * x, axis, keep),
    "ReduceLogSum": lambda x, axis, keep: np.log(_sum(x, axis, keep)),
    "ReduceLogSumExp": lambda x, axis, keep: _log_sum_exp(x, axis, keep),
}


def _log_sum_exp(x, axis, keep):
    if x.size == 0:
        return np.log(_sum(x, axis, keep))
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keep else np.squeeze(out, axis=axis)


def _reduce(ctx, x, axes_input=None):
    axes = _reduce_axes(ctx, x, axes_input)
    keep = bool(ctx.attr("keepdims", 1))
    name = ctx.node.op_type
    if axes == ():
        # no-op reduction still applies the elementwise part of the composite reducers
        if name in ("ReduceL1",):
            return np.abs(x)
        if name == "ReduceL2":
            return np.abs(x)
        if name == "ReduceSumSquare":
            return x * x
        if name == "ReduceLogSum":
            return np.log(x)
        return x
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _REDUCERS[name](x, axes, keep)
    return np.asarray(out).astype(x.dtype, copy=False)


_NAMES = tuple(_REDUCERS)


@op(_NAMES)
def reduce_attr_axes(ctx, x):
    return _reduce(ctx, x)


@op("ReduceSum", since=13)
def reduce_sum(ctx, x, axes=None):
    return _reduce(ctx, x, axes)


@op(tuple(n for n in _NAMES if n != "ReduceSum"), since=18)
def reduce_axes_input(ctx, x, axes=None):
    return _reduce(ctx, x, axes)


def _arg(ctx, x, fn):
    axis = ctx.attr("axis", 0)
    if not -x.ndim <= axis < x.ndim:      # the spec's accepted range: none on a 0-d input
        raise ValueError(f"{ctx.node.op_type}: axis {axis} is outside [-r, r-1] for an input of rank {x.ndim}")
    axis = axis + x.ndim if axis < 0 else axis
    if ctx.attr("select_last_index", 0):
        flipped = np.flip(x, axis=axis)
        out = x.shape[axis] - 1 - fn(flipped, axis=axis)
    else:
        out = fn(x, axis=axis)
    out = out.astype(np.int64)
    return np.expand_dims(out, axis) if ctx.attr("keepdims", 1) else out


@op("ArgMax")
def arg_max(ctx, x):
    return _arg(ctx, x, np.argmax)


@op("ArgMin")
def arg_min(ctx, x):
    return _arg(ctx, x, np.argmin)
