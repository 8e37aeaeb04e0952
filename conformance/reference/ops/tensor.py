"""Tensor creation and type conversion: Constant, ConstantOfShape, Range, EyeLike, Trilu, Cast."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from .. import dtypes
from ..registry import op


def _in_precision(ctx, array):
    array = np.asarray(array)
    if ctx.precision == "float64" and array.dtype in (np.float32, np.float16):
        return array.astype(np.float64)
    return array


@op("Constant")
def constant(ctx):
    for name, make in (
        ("value", lambda v: v),
        ("sparse_value", lambda v: v),
        ("value_float", lambda v: np.array(v, dtype=np.float32)),
        ("value_floats", lambda v: np.array(v, dtype=np.float32)),
        ("value_int", lambda v: np.array(v, dtype=np.int64)),
        ("value_ints", lambda v: np.array(v, dtype=np.int64)),
        ("value_string", lambda v: np.array(v, dtype=object)),
        ("value_strings", lambda v: np.array(v, dtype=object)),
    ):
        if ctx.has_attr(name):
            return _in_precision(ctx, make(ctx.attr(name)))
    raise ValueError("Constant has no value attribute")


@op("ConstantOfShape", since=9)
def constant_of_shape(ctx, shape):
    value = ctx.attr("value")
    value = np.zeros(1, dtype=np.float32) if value is None else value
    return _in_precision(ctx, np.full(tuple(int(s) for s in shape), value.reshape(-1)[0], dtype=value.dtype))


@op("Range", since=11)
def range_(ctx, start, limit, delta):
    start, limit, delta = start.reshape(()), limit.reshape(()), delta.reshape(())
    count = int(max(np.ceil((float(limit) - float(start)) / float(delta)), 0))
    return (start + np.arange(count, dtype=start.dtype) * delta).astype(start.dtype)


@op("EyeLike", since=9)
def eye_like(ctx, x):
    elem = ctx.attr("dtype")
    dtype = x.dtype if elem is None else dtypes.to_dtype(elem)
    return _in_precision(ctx, np.eye(x.shape[0], x.shape[1], k=ctx.attr("k", 0), dtype=dtype))


@op("Trilu", since=14)
def trilu(ctx, x, k=None):
    k = 0 if k is None else int(k.reshape(()))
    return np.triu(x, k) if ctx.attr("upper", 1) else np.tril(x, k)


def _cast(ctx, x, elem_type: int):
    saturate = bool(ctx.attr("saturate", 1))
    if ctx.precision == "float64" and isinstance(x, np.ndarray) and not dtypes.is_custom(x.dtype):
        if elem_type in (TensorProto.FLOAT, TensorProto.DOUBLE) and (x.dtype.kind in "fiub" and x.dtype != object):
            return x.astype(np.float64)
        if elem_type == TensorProto.FLOAT16 and x.dtype.kind == "f":
            return x.astype(np.float16).astype(np.float64)
    return dtypes.cast(x, elem_type, saturate, ctx.attr("round_mode", "up"), wrap_ints=ctx.opset >= 23)


@op("Cast")
def cast(ctx, x):
    to = ctx.attr("to")
    if isinstance(to, str):  # opset 1 spelled the type as a string
        to = TensorProto.DataType.Value(to.upper())
    return _cast(ctx, x, to)


@op("CastLike", since=15)
def cast_like(ctx, x, like):
    return _cast(ctx, x, dtypes.elem_type_of(like.dtype))


@op("BitCast", since=26)
def bit_cast(ctx, x):
    """Reinterpret the bits of each element as ``to`` (same width; strings are refused)."""
    target = dtypes.to_dtype(ctx.attr("to"))
    if target == object or x.dtype == object or target.itemsize != x.dtype.itemsize:
        raise ValueError(f"BitCast from {x.dtype} to {target}: the element widths must match (no strings)")
    return (x if x.flags.c_contiguous else x.copy()).view(target)


@op("TensorScatter", since=24)
def tensor_scatter(ctx, past_cache, update, write_indices=None):
    """Write ``update`` into a copy of the cache along ``axis`` at each batch's write index."""
    axis = ctx.attr("axis", -2) % past_cache.ndim
    batch, max_len, length = past_cache.shape[0], past_cache.shape[axis], update.shape[axis]
    starts = np.zeros(batch, np.int64) if write_indices is None else np.asarray(write_indices, np.int64).reshape(-1)
    positions = starts[:, None] + np.arange(length)[None, :]
    if ctx.attr("mode", "linear") == "circular":
        positions %= max_len
    out = np.moveaxis(past_cache.copy(), axis, 1)
    out[np.arange(batch)[:, None], positions] = np.moveaxis(update, axis, 1)
    return np.moveaxis(out, 1, axis)
