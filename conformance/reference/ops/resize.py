"""Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9).

Interpolation is separable, so each resized axis is one step: nearest is a gather of one index
per output position; linear and cubic (with or without antialias) build a small dense
(out_len, in_len) weight matrix per axis and contract it with the data in one tensordot.
Coordinates, neighbour selection, edge clamping, exclude_outside and tf_crop_and_resize's
extrapolation follow the spec's formulas with the float scale (``length_resized`` is
``scale * length_original``, as in ONNX's own reference).
"""
from __future__ import annotations

import numpy as np

from ..registry import op


def _str(v, default):
    if v is None:
        return default
    return v.decode() if isinstance(v, bytes) else v


def original_coords(ctm: str, out_len: int, in_len: int, scale: float, roi=(0.0, 1.0),
                    dtype=np.float64):
    """x_original for every output index along one axis.

    ``length_resized`` is the integer output length, as in onnxruntime and PyTorch
    (align_corners maps the first and last output samples onto the first and last input
    samples exactly; ONNX's test data use ``scale * length_original`` instead, and
    onnxruntime fails those two cases as we do). The arithmetic runs in ``dtype``: float32 for
    nearest, as onnxruntime computes, so that ties of the rounding (a coordinate meant to be
    2.0 or 4.5 under a scale such as 0.6 that float32 cannot hold) fall the same way."""
    x = np.arange(out_len, dtype=dtype)
    scale = dtype(scale)
    half = dtype(0.5)
    if ctm == "half_pixel":
        return (x + half) / scale - half
    if ctm == "half_pixel_symmetric":
        adjustment = dtype(out_len) / (scale * dtype(in_len))
        offset = dtype(in_len) / 2 * (1 - adjustment)
        return offset + (x + half) / scale - half
    if ctm == "pytorch_half_pixel":
        if out_len > 1:
            return (x + half) / scale - half
        return np.zeros_like(x)
    if ctm == "align_corners":
        if out_len == 1:
            return np.zeros_like(x)
        return x * dtype(in_len - 1) / dtype(out_len - 1)
    if ctm == "asymmetric":
        return x / scale
    if ctm == "tf_half_pixel_for_nn":
        return (x + half) / scale
    if ctm == "tf_crop_and_resize":
        start, end = dtype(roi[0]), dtype(roi[1])
        if out_len == 1:
            return np.full_like(x, (end - start) * dtype(in_len - 1) / 2 + start * dtype(in_len - 1))
        return start * dtype(in_len - 1) + x * (end - start) * dtype(in_len - 1) / dtype(out_len - 1)
    raise ValueError(f"Resize: unknown coordinate_transformation_mode {ctm!r}")


def nearest_indices(xo: np.ndarray, in_len: int, nearest_mode: str, scale: float) -> np.ndarray:
    floor = np.floor(xo)
    frac = xo - floor
    if nearest_mode == "round_prefer_floor":
        idx = np.where(frac <= 0.5, floor, floor + 1)
    elif nearest_mode == "round_prefer_ceil":
        idx = np.where(frac < 0.5, floor, floor + 1)
    elif nearest_mode == "floor":
        idx = floor
    elif nearest_mode == "ceil":
        idx = np.ceil(xo)
    elif nearest_mode == "simple":      # opset < 11 (onnxruntime): ceil when downsampling
        idx = np.ceil(xo) if scale < 1 else floor
    else:
        raise ValueError(f"Resize: unknown nearest_mode {nearest_mode!r}")
    return np.clip(idx, 0, in_len - 1).astype(np.int64)


def _cubic_kernel(t: np.ndarray, a: float) -> np.ndarray:
    t = np.abs(t)
    t2, t3 = t * t, t * t * t
    near = (a + 2) * t3 - (a + 3) * t2 + 1
    far = a * t3 - 5 * a * t2 + 8 * a * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def interpolation_matrix(xo: np.ndarray, in_len: int, scale: float, mode: str, *,
                         cubic_a=-0.75, exclude_outside=False, antialias=False) -> np.ndarray:
    """Dense (out_len, in_len) weights of linear or cubic interpolation at coordinates xo."""
    floor = np.floor(xo)
    integral = floor == xo
    # The spec's neighbours of an integral coordinate are taken on its left (ratio 1).
    base = np.where(integral, xo - 1, floor)
    ratio = xo - base                                           # in (0, 1]
    s = min(scale, 1.0) if antialias else 1.0
    if mode == "linear":
        start = int(np.floor(-1 / s) + 1)
        offsets = np.arange(start, 2 - start)
        coeffs = np.clip(1 - np.abs((offsets[None, :] - ratio[:, None]) * s), 0, 1)
    else:
        start = int(np.floor(-2 / s) + 1)
        offsets = np.arange(start, 2 - start)
        coeffs = _cubic_kernel((offsets[None, :] - ratio[:, None]) * s, cubic_a)
    if antialias or mode == "linear":
        coeffs = coeffs / coeffs.sum(axis=1, keepdims=True)
    idx = base[:, None].astype(np.int64) + offsets[None, :]
    if exclude_outside:
        coeffs = np.where((idx < 0) | (idx >= in_len), 0.0, coeffs)
        coeffs = coeffs / coeffs.sum(axis=1, keepdims=True)
    idx = np.clip(idx, 0, in_len - 1)
    mat = np.zeros((len(xo), in_len), dtype=np.float64)
    rows = np.broadcast_to(np.arange(len(xo))[:, None], idx.shape)
    np.add.at(mat, (rows, idx), coeffs)
    return mat


def resize_nd(x: np.ndarray, out_sizes, scales, *, mode="nearest", ctm="half_pixel",
              nearest_mode="round_prefer_floor", cubic_a=-0.75, exclude_outside=False,
              extrapolation_value=0.0, antialias=False, roi=None,
              coord_dtype=np.float64) -> np.ndarray:
    """Resize every axis i from x.shape[i] to out_sizes[i] with scale factor scales[i]."""
    rank = x.ndim
    work = x if mode == "nearest" else x.astype(np.float64)
    outside = None
    for axis in range(rank):
        in_len, out_len, scale = x.shape[axis], int(out_sizes[axis]), float(scales[axis])
        if out_len == in_len and scale == 1.0 and ctm != "tf_crop_and_resize":
            continue
        axis_roi = (roi[axis], roi[rank + axis]) if roi is not None else (0.0, 1.0)
        # Nearest picks indices, so ties decide: follow onnxruntime's float32 arithmetic there.
        # Linear and cubic weights are continuous in the coordinate: keep float64 accuracy.
        dtype = coord_dtype if mode == "nearest" else np.float64
        xo = original_coords(ctm, out_len, in_len, scale, axis_roi, dtype).astype(np.float64)
        if mode == "nearest":
            work = np.take(work, nearest_indices(xo, in_len, nearest_mode, scale), axis=axis)
        else:
            mat = interpolation_matrix(xo, in_len, scale, mode, cubic_a=cubic_a,
                                       exclude_outside=exclude_outside, antialias=antialias)
            work = np.moveaxis(np.tensordot(mat, work, axes=([1], [axis])), 0, axis)
        if ctm == "tf_crop_and_resize":
            out_of_range = (xo < 0) | (xo > in_len - 1)
            shape = [1] * rank
            shape[axis] = out_len
            m = out_of_range.reshape(shape)
            outside = m if outside is None else (outside | m)
    if outside is not None and outside.any():
        work = np.where(np.broadcast_to(outside, work.shape), extrapolation_value, work)
    if work.dtype != x.dtype:
        if np.issubdtype(x.dtype, np.integer):
            info = np.iinfo(x.dtype)
            work = np.clip(np.round(work), info.min, info.max)
        work = work.astype(x.dtype)
    return work


def _present(a):
    return a is not None and np.asarray(a).size > 0


@op("Resize", since=10)
def resize(ctx, x, roi=None, scales=None, sizes=None):
    if ctx.opset < 11:           # Resize-10: (X, scales); asymmetric coordinates
        scales, roi, sizes = roi, None, None
        ctm, nearest_mode = "asymmetric", "simple"
    else:
        ctm = _str(ctx.attr("coordinate_transformation_mode"), "half_pixel")
        nearest_mode = _str(ctx.attr("nearest_mode"), "round_prefer_floor")
    mode = _str(ctx.attr("mode"), "nearest")
    rank = x.ndim
    axes = ctx.attr("axes")
    axes = [int(a) % rank for a in axes] if axes else list(range(rank))
    policy = _str(ctx.attr("keep_aspect_ratio_policy"), "stretch")

    full_roi = None
    if _present(roi):
        roi = np.asarray(roi, dtype=np.float64).reshape(-1)
        full_roi = np.array([0.0] * rank + [1.0] * rank)
        for i, a in enumerate(axes):
            full_roi[a] = roi[i]
            full_roi[rank + a] = roi[len(axes) + i]

    out_sizes = list(x.shape)
    full_scales = [1.0] * rank
    if _present(sizes):
        sizes = [int(v) for v in np.asarray(sizes).reshape(-1)]
        ratios = [sizes[i] / x.shape[a] for i, a in enumerate(axes)]
        if policy == "stretch":
            for i, a in enumerate(axes):
                out_sizes[a] = sizes[i]
                full_scales[a] = ratios[i]
        else:
            scale = min(ratios) if policy == "not_larger" else max(ratios)
            for a in axes:
                full_scales[a] = scale
                out_sizes[a] = int(scale * x.shape[a] + 0.5)
    elif _present(scales):
        scales = [float(v) for v in np.asarray(scales).reshape(-1)]
        for i, a in enumerate(axes):
            full_scales[a] = scales[i]
            # in float32, as onnxruntime does: scales arrive as float32, and 3 * 1.6666666f
            # rounds to 5.0 in float32 where the float64 product floors to 4
            out_sizes[a] = int(np.floor(np.float32(scales[i]) * np.float32(x.shape[a])))
    else:
        raise ValueError("Resize needs scales or sizes")

    return resize_nd(
        x, out_sizes, full_scales, mode=mode, ctm=ctm, nearest_mode=nearest_mode,
        cubic_a=float(ctx.attr("cubic_coeff_a", -0.75)),
        exclude_outside=bool(ctx.attr("exclude_outside", 0)),
        extrapolation_value=float(ctx.attr("extrapolation_value", 0.0)),
        antialias=bool(ctx.attr("antialias", 0)), roi=full_roi, coord_dtype=np.float32)


@op("Upsample", since=7)
def upsample(ctx, x, scales=None):
    if scales is None:
        scales = ctx.attr("scales")
    scales = [float(v) for v in np.asarray(scales).reshape(-1)]
    mode = _str(ctx.attr("mode"), "nearest")
    if mode == "bilinear":
        mode = "linear"
    out_sizes = [int(np.floor(s * n)) for s, n in zip(scales, x.shape)]
    return resize_nd(x, out_sizes, scales, mode=mode, ctm="asymmetric", nearest_mode="simple",
                     coord_dtype=np.float32)
