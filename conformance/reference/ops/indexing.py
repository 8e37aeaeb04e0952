"""Indexing ops: Gather*, Scatter*, Compress, OneHot, NonZero, TopK, Unique, ReverseSequence, CumSum, CumProd."""
from __future__ import annotations

import numpy as np

from ..registry import op


def _axis(ctx, rank, default=0):
    axis = ctx.attr("axis", default)
    return axis + rank if axis < 0 else axis


def _wrap(indices, dim):
    indices = np.asarray(indices).astype(np.int64)
    return np.where(indices < 0, indices + dim, indices)


@op("Gather")
def gather(ctx, x, indices):
    axis = _axis(ctx, x.ndim)
    return np.take(x, _wrap(indices, x.shape[axis]), axis=axis)


@op("GatherElements", since=11)
def gather_elements(ctx, x, indices):
    axis = _axis(ctx, x.ndim)
    return np.take_along_axis(x, _wrap(indices, x.shape[axis]), axis=axis)


@op("GatherND", since=11)
def gather_nd(ctx, x, indices):
    batch = ctx.attr("batch_dims", 0)
    indices = np.asarray(indices).astype(np.int64)
    depth = indices.shape[-1]
    batch_shape = x.shape[:batch]
    nbatch = int(np.prod(batch_shape, dtype=np.int64))
    xb = x.reshape((nbatch,) + x.shape[batch:])
    # the count per batch spelled out, not -1: an empty batch or empty indices cannot infer it
    ib = indices.reshape((nbatch, int(np.prod(indices.shape[batch:-1], dtype=np.int64)), depth))
    dims = np.array(x.shape[batch:batch + depth])
    ib = np.where(ib < 0, ib + dims, ib)
    batch_index = np.arange(nbatch)[:, None]
    picked = xb[(batch_index,) + tuple(ib[..., k] for k in range(depth))]
    return picked.reshape(indices.shape[:-1] + x.shape[batch + depth:])


def _reduce_into(target, index, updates, reduction):
    if reduction in (None, "none"):
        target[index] = updates
    elif reduction == "add":
        np.add.at(target, index, updates)
    elif reduction == "mul":
        np.multiply.at(target, index, updates)
    elif reduction == "max":
        np.maximum.at(target, index, updates)
    elif reduction == "min":
        np.minimum.at(target, index, updates)
    else:
        raise ValueError(f"unknown reduction {reduction!r}")


@op(("Scatter", "ScatterElements"))
def scatter_elements(ctx, x, indices, updates):
    axis = _axis(ctx, x.ndim)
    out = x.copy()
    indices = _wrap(indices, x.shape[axis])
    grids = list(np.indices(indices.shape, sparse=True))
    grids[axis] = indices
    _reduce_into(out, tuple(grids), updates, ctx.attr("reduction", "none"))
    return out


@op("ScatterND", since=11)
def scatter_nd(ctx, x, indices, updates):
    out = x.copy()
    indices = np.asarray(indices).astype(np.int64)
    depth = indices.shape[-1]
    dims = np.array(x.shape[:depth])
    indices = np.where(indices < 0, indices + dims, indices)
    index = tuple(indices[..., k] for k in range(depth))
    _reduce_into(out, index, updates, ctx.attr("reduction", "none"))
    return out


@op("Compress", since=9)
def compress(ctx, x, condition):
    axis = ctx.attr("axis")
    condition = np.asarray(condition).astype(bool)
    if axis is None:
        return np.compress(condition, x.reshape(-1))
    return np.compress(condition, x, axis=axis)


@op("OneHot", since=9)
def one_hot(ctx, indices, depth, values):
    depth = int(np.asarray(depth).reshape(-1)[0])
    axis = ctx.attr("axis", -1)
    rank = indices.ndim + 1
    axis = axis + rank if axis < 0 else axis
    idx = np.asarray(indices).astype(np.int64)
    idx = np.where(idx < 0, idx + depth, idx)
    hot = np.expand_dims(idx, axis) == np.arange(depth).reshape([-1 if d == axis else 1 for d in range(rank)])
    return np.where(hot, values[1], values[0]).astype(values.dtype)


@op("NonZero", since=9)
def non_zero(ctx, x):
    if x.ndim == 0:
        return np.zeros((0, int(bool(x))), dtype=np.int64)
    return np.array(np.nonzero(x), dtype=np.int64)


@op("TopK")
def top_k_attr(ctx, x):
    return _top_k(ctx, x, ctx.attr("k"))


@op("TopK", since=10)
def top_k(ctx, x, k):
    return _top_k(ctx, x, int(np.asarray(k).reshape(-1)[0]))


def _top_k(ctx, x, k):
    axis = _axis(ctx, x.ndim, -1)
    largest = ctx.attr("largest", 1)
    # stable sort keeps the lower index first among equal values, as ONNX requires
    keys = -x if largest and x.dtype.kind in "fi" else x
    if largest and x.dtype.kind not in "fi":
        order = np.flip(np.argsort(np.flip(x, axis=axis), axis=axis, kind="stable"), axis=axis)
        order = x.shape[axis] - 1 - order
    else:
        order = np.argsort(keys, axis=axis, kind="stable")
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, k)
    order = order[tuple(index)]
    return np.take_along_axis(x, order, axis=axis), order.astype(np.int64)


@op("Unique", since=11)
def unique(ctx, x):
    axis = ctx.attr("axis")
    sort = ctx.attr("sorted", 1)
    flat = x.reshape(-1) if axis is None else x
    if axis is None:
        values, first, inverse, counts = np.unique(flat, return_index=True, return_inverse=True, return_counts=True)
    else:
        axis = axis + x.ndim if axis < 0 else axis
        values, first, inverse, counts = np.unique(flat, axis=axis, return_index=True, return_inverse=True,
                                                   return_counts=True)
    inverse = inverse.reshape(-1)
    if not sort:
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        values = np.take(values, order, axis=0 if axis is None else axis)
        first, counts, inverse = first[order], counts[order], rank[inverse]
    return (values, first.astype(np.int64), inverse.astype(np.int64), counts.astype(np.int64))


@op("ReverseSequence", since=10)
def reverse_sequence(ctx, x, lengths):
    batch_axis, time_axis = ctx.attr("batch_axis", 1), ctx.attr("time_axis", 0)
    steps = x.shape[time_axis]
    t = np.arange(steps)[:, None]
    lengths = np.asarray(lengths).astype(np.int64)[None, :]
    source = np.where(t < lengths, lengths - 1 - t, t)  # (time, batch)
    moved = np.moveaxis(x, (time_axis, batch_axis), (0, 1))
    out = moved[source, np.arange(moved.shape[1])[None, :]]
    return np.moveaxis(out, (0, 1), (time_axis, batch_axis))


def _cumulative(ctx, x, axis, accumulate, identity):
    axis = int(np.asarray(axis).reshape(-1)[0])
    axis = axis + x.ndim if axis < 0 else axis
    data = np.flip(x, axis) if ctx.attr("reverse", 0) else x
    out = accumulate(data, axis=axis, dtype=x.dtype)
    if ctx.attr("exclusive", 0) and x.shape[axis] > 0:         # an empty axis has no slot 0 to clear
        out = np.roll(out, 1, axis=axis)
        index = [slice(None)] * x.ndim
        index[axis] = 0
        out[tuple(index)] = identity
    return np.flip(out, axis) if ctx.attr("reverse", 0) else out


@op("CumSum", since=11)
def cum_sum(ctx, x, axis):
    return _cumulative(ctx, x, axis, np.cumsum, 0)


@op("CumProd", since=26)
def cum_prod(ctx, x, axis):
    return _cumulative(ctx, x, axis, np.cumprod, 1)
