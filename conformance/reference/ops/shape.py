"""Shape and layout ops: reshape, squeeze, transpose, concat/split, slice, pad, expand, tile..."""
from __future__ import annotations

import numpy as np

from ..registry import op


def _axes(axes, rank):
    return [int(a) + rank if int(a) < 0 else int(a) for a in axes]


@op("Identity")
def identity(ctx, x):
    return x


@op("Reshape", since=5)
def reshape(ctx, x, shape):
    shape = [int(s) for s in shape]
    # numpy takes any negative size for the inferred one (reshape to [-3, 4] works there); the
    # specification allows -1, once, and no -1 beside a 0 kept as zero (allowzero=1)
    if any(s < -1 for s in shape) or shape.count(-1) > 1:
        raise ValueError(f"Reshape: shape may hold sizes >= 0 and one -1, got {shape}")
    if ctx.attr("allowzero", 0) and -1 in shape and 0 in shape:
        raise ValueError(f"Reshape: with allowzero=1 a shape cannot hold both 0 and -1, got {shape}")
    if not ctx.attr("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


@op("Flatten")
def flatten(ctx, x):
    axis = ctx.attr("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), int(np.prod(x.shape[axis:], dtype=np.int64)))


@op("Squeeze")
def squeeze_attr(ctx, x):
    return _squeeze(x, ctx.attr("axes"))


@op("Squeeze", since=13)
def squeeze(ctx, x, axes=None):
    return _squeeze(x, None if axes is None else np.asarray(axes).reshape(-1).tolist())


def _squeeze(x, axes):
    # np.squeeze/expand_dims return views: no copy even when x is a strided slice.
    # An empty axes list squeezes every size-1 axis, as onnxruntime does (exporters emit it
    # for squeeze() without dims)
    if axes is None or len(axes) == 0:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(_axes(axes, x.ndim)))


@op("Unsqueeze")
def unsqueeze_attr(ctx, x):
    return _unsqueeze(x, ctx.attr("axes"))


@op("Unsqueeze", since=13)
def unsqueeze(ctx, x, axes):
    return _unsqueeze(x, np.asarray(axes).reshape(-1).tolist())


def _unsqueeze(x, axes):
    return np.expand_dims(x, tuple(_axes(axes, x.ndim + len(axes))))


@op("Transpose")
def transpose(ctx, x):
    perm = ctx.attr("perm")
    if perm is not None and sorted(perm) != list(range(x.ndim)):
        # the spec: "perm must contain each axis index in [0, n-1] exactly once" (numpy also takes -1)
        raise ValueError(f"Transpose: perm must hold each axis of [0, {x.ndim - 1}] once, got {list(perm)}")
    return np.transpose(x, perm)


@op("Concat")
def concat(ctx, *values):
    axis = ctx.attr("axis", 1 if ctx.opset < 4 else None)
    values = [v for v in values if v is not None]
    return np.concatenate(values, axis=axis)


@op("Split")
def split_attr(ctx, x, split=None):
    return _split(ctx, x, split if split is not None else ctx.attr("split"))


@op("Split", since=13)
def split(ctx, x, split=None):
    return _split(ctx, x, split)


def _split(ctx, x, sizes):
    axis = ctx.attr("axis", 0)
    axis = axis + x.ndim if axis < 0 else axis
    count = len(ctx.node.output)
    length = x.shape[axis]
    if sizes is None or len(sizes) == 0:
        count = ctx.attr("num_outputs", count)
        chunk = -(-length // count)  # ceil: the last chunk may be smaller (opset 18)
        sizes = [chunk] * (length // chunk) + ([length % chunk] if length % chunk else [])
    bounds = np.cumsum([0] + [int(s) for s in sizes])
    index = [slice(None)] * x.ndim
    out = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        index[axis] = slice(int(start), int(stop))
        out.append(x[tuple(index)])
    return tuple(out)


@op("Slice")
def slice_attr(ctx, x):
    starts, ends = ctx.attr("starts"), ctx.attr("ends")
    return _slice(x, starts, ends, ctx.attr("axes"), None)


@op("Slice", since=10)
def slice_(ctx, x, starts, ends, axes=None, steps=None):
    # the spec wants 1-D starts/ends/axes/steps; torch-script writes 0-d ones inside tensor_split's
    # Loop, and onnxruntime reads them as one element: so do we
    def listed(v):
        return None if v is None else np.atleast_1d(v).tolist()
    return _slice(x, listed(starts), listed(ends), listed(axes), listed(steps))


def _slice(x, starts, ends, axes, steps):
    if axes is None:
        axes = list(range(len(starts)))
    if steps is None:
        steps = [1] * len(starts)
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, _axes(axes, x.ndim), steps):
        dim = x.shape[axis]
        start, end, step = int(start), int(end), int(step)
        # clamp as ONNX does (python slicing would treat huge negatives differently for step < 0)
        if start < 0:
            start += dim
        if end < 0:
            end += dim
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:
            start, end = min(max(start, -1), dim - 1), min(max(end, -1), dim - 1)
        if step < 0 and start < 0:
            index[axis] = slice(0, 0)
        else:
            index[axis] = slice(start, None if end == -1 and step < 0 else end, step)
    return x[tuple(index)]


@op("Shape")
def shape(ctx, x):
    dims = np.array(x.shape, dtype=np.int64)
    start, end = ctx.attr("start", 0), ctx.attr("end", None)
    rank = len(dims)
    start = min(max(start + rank if start < 0 else start, 0), rank)
    end = rank if end is None else min(max(end + rank if end < 0 else end, 0), rank)
    return dims[start:end]


@op("Size")
def size(ctx, x):
    return np.array(x.size, dtype=np.int64)


@op("Expand", since=8)
def expand(ctx, x, shape):
    target = np.broadcast_shapes(x.shape, tuple(int(s) for s in shape))
    return np.broadcast_to(x, target).copy()


@op("Tile")
def tile(ctx, x, repeats):
    return np.tile(x, [int(r) for r in repeats])


@op("Pad")
def pad_attr(ctx, x):
    return _pad(x, ctx.attr("pads"), ctx.attr("mode", "constant"), ctx.attr("value", 0.0), None)


@op("Pad", since=11)
def pad(ctx, x, pads, value=None, axes=None):
    if value is not None and value.size:
        value = value.reshape(-1)[0]
    else:
        value = 0
    return _pad(x, pads.tolist(), ctx.attr("mode", "constant"), value, None if axes is None else axes.tolist())


def _pad(x, pads, mode, value, axes):
    rank = x.ndim
    axes = list(range(rank)) if axes is None else _axes(axes, rank)
    n = len(axes)
    before, after = [0] * rank, [0] * rank
    for i, axis in enumerate(axes):
        before[axis], after[axis] = int(pads[i]), int(pads[i + n])
    # negative pads crop
    crop = tuple(slice(max(-b, 0), x.shape[k] - max(-a, 0)) for k, (b, a) in enumerate(zip(before, after)))
    x = x[crop]
    widths = [(max(b, 0), max(a, 0)) for b, a in zip(before, after)]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=np.asarray(value).astype(x.dtype))
    numpy_mode = {"reflect": "reflect", "edge": "edge", "wrap": "wrap"}[mode]
    return np.pad(x, widths, mode=numpy_mode)


@op("DepthToSpace")
def depth_to_space(ctx, x):
    b = ctx.attr("blocksize")
    n, c, h, w = x.shape
    if ctx.attr("mode", "DCR") == "DCR":
        y = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (b * b), h * b, w * b)


@op("SpaceToDepth")
def space_to_depth(ctx, x):
    b = ctx.attr("blocksize")
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b)
    # DCR (default): depth is (row offset, column offset, channel); CRD (opset 25): (channel, row, column)
    y = y.transpose(0, 1, 3, 5, 2, 4) if ctx.attr("mode", "DCR") == "CRD" else y.transpose(0, 3, 5, 1, 2, 4)
    return y.reshape(n, c * b * b, h // b, w // b)


@op("CenterCropPad", since=18)
def center_crop_pad(ctx, x, shape):
    axes = ctx.attr("axes")
    axes = list(range(x.ndim)) if axes is None else _axes(axes, x.ndim)
    out = x
    for axis, size in zip(axes, shape.tolist()):
        dim = out.shape[axis]
        if size < dim:
            start = (dim - size) // 2
            index = [slice(None)] * out.ndim
            index[axis] = slice(start, start + size)
            out = out[tuple(index)]
        elif size > dim:
            before = (size - dim) // 2
            widths = [(0, 0)] * out.ndim
            widths[axis] = (before, size - dim - before)
            out = np.pad(out, widths)
    return out
