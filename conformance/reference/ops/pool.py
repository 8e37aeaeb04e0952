"""Pooling: MaxPool (with Indices), AveragePool, LpPool, their Global forms, MaxUnpool, RoiAlign.

Every windowed pool reads the padded input through a strided view and reduces it with one
vectorised operation per kernel tap (9 for a 3x3 window), never a loop over elements.
Max pooling pads with -inf (the dtype's minimum for integers) so padding never wins; average
pooling divides by per-axis valid counts, which are separable, so the divisor is an outer
product of 1-D counts.
"""
from __future__ import annotations

import numpy as np

from ..registry import op
from .conv import _ints, pad_spatial, resolve_pads, windows


class PoolGeometry:
    """Output shape and padding of one pooling node on one input shape.

    ``begin``/``end`` are the declared pads (explicit or from auto_pad); ``extra`` is the
    additional right padding that ceil_mode needs so the last window fits. A ceil_mode window
    that would start inside the right padding is dropped (PyTorch's and ONNX's rule).
    """

    def __init__(self, in_shape, kernel, strides, dilations, auto_pad, pads, ceil_mode):
        n = len(in_shape)
        self.in_shape = list(in_shape)
        self.kernel = list(kernel)
        self.strides = _ints(strides, n, 1)
        self.dilations = _ints(dilations, n, 1)
        if isinstance(auto_pad, bytes):
            auto_pad = auto_pad.decode()
        self.begin, self.end = resolve_pads(auto_pad or "NOTSET", in_shape, kernel,
                                            self.strides, self.dilations, pads)
        self.out_shape, self.extra = [], []
        for size, k, s, d, b, e in zip(in_shape, kernel, self.strides, self.dilations,
                                       self.begin, self.end):
            span = (k - 1) * d + 1
            avail = size + b + e - span
            if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                out = -(-size // s)
            elif ceil_mode:
                out = -(-avail // s) + 1
                if (out - 1) * s >= size + b:
                    out -= 1
            else:
                out = avail // s + 1
            out = max(out, 0)
            self.out_shape.append(out)
            self.extra.append(max(0, (out - 1) * s + span - (size + b + e)))

    def padded(self, x: np.ndarray, value) -> np.ndarray:
        ends = [e + x_ for e, x_ in zip(self.end, self.extra)]
        return pad_spatial(x, self.begin, ends, value)

    def view(self, xp: np.ndarray) -> np.ndarray:
        return windows(xp, self.out_shape, self.kernel, self.strides, self.dilations)

    def taps(self):
        return list(np.ndindex(*self.kernel))

    def axis_counts(self, include_pad: bool):
        """Per-axis number of window taps that land on data (or on data or declared padding)."""
        counts = []
        for size, k, s, d, b, e, out in zip(self.in_shape, self.kernel, self.strides,
                                            self.dilations, self.begin, self.end, self.out_shape):
            pos = np.arange(out)[:, None] * s - b + np.arange(k)[None, :] * d
            lo, hi = (-b, size + e) if include_pad else (0, size)
            counts.append(((pos >= lo) & (pos < hi)).sum(axis=1))
        return counts


def _geometry(ctx, x, kernel=None):
    kernel = kernel if kernel is not None else list(ctx.attr("kernel_shape"))
    return PoolGeometry(x.shape[2:], kernel, ctx.attr("strides"), ctx.attr("dilations"),
                        ctx.attr("auto_pad", "NOTSET"), ctx.attr("pads"), ctx.attr("ceil_mode", 0))


def _tap(view, nsp, idx):
    return view[(slice(None), slice(None), *([slice(None)] * nsp), *idx)]


def _lowest(dtype):
    if np.issubdtype(dtype, np.floating):
        return -np.inf
    if dtype == np.bool_:
        return False
    return np.iinfo(dtype).min


def _outer(counts):
    total = np.ones((), dtype=np.int64)
    for c in counts:
        total = np.multiply.outer(total, c)
    return total


def max_pool(x, geom: PoolGeometry, want_indices=False, storage_order=0):
    nsp = x.ndim - 2
    view = geom.view(geom.padded(x, _lowest(x.dtype)))
    taps = geom.taps()
    best = _tap(view, nsp, taps[0]).copy()
    if not want_indices:
        for idx in taps[1:]:
            np.maximum(best, _tap(view, nsp, idx), out=best)
        return best
    arg = np.zeros(best.shape, dtype=np.int64)
    for t, idx in enumerate(taps[1:], start=1):
        cand = _tap(view, nsp, idx)
        better = cand > best
        best = np.where(better, cand, best)
        arg[better] = t
    # Flat index of the chosen element in the unpadded input (row- or column-major plane).
    tap_coords = np.array(taps, dtype=np.int64).reshape(len(taps), nsp)
    n, c = x.shape[:2]
    in_shape = x.shape[2:]
    if storage_order == 0:
        plane_strides = [int(np.prod(in_shape[i + 1:])) for i in range(nsp)]
    else:
        plane_strides = [int(np.prod(in_shape[:i])) for i in range(nsp)]
    flat = np.zeros(best.shape, dtype=np.int64)
    for axis in range(nsp):
        o = np.arange(geom.out_shape[axis]).reshape([-1 if i == axis else 1 for i in range(nsp)])
        pos = (o * geom.strides[axis] - geom.begin[axis]
               + tap_coords[arg, axis] * geom.dilations[axis])
        flat += pos * plane_strides[axis]
    plane = int(np.prod(in_shape))
    flat += (np.arange(n * c, dtype=np.int64) * plane).reshape(n, c, *([1] * nsp))
    return best, flat


@op("MaxPool", since=1)
def maxpool(ctx, x):
    geom = _geometry(ctx, x)
    return max_pool(x, geom, ctx.output_count > 1, ctx.attr("storage_order", 0))


def avg_pool(x, geom: PoolGeometry, count_include_pad: bool):
    nsp = x.ndim - 2
    acc_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    view = geom.view(geom.padded(x.astype(acc_dtype, copy=False), 0))
    taps = geom.taps()
    total = _tap(view, nsp, taps[0]).copy()
    for idx in taps[1:]:
        total += _tap(view, nsp, idx)
    counts = _outer(geom.axis_counts(count_include_pad)).astype(acc_dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / counts).astype(x.dtype, copy=False)


@op("AveragePool", since=1)
def averagepool(ctx, x):
    return avg_pool(x, _geometry(ctx, x), bool(ctx.attr("count_include_pad", 0)))


def lp_pool(x, geom: PoolGeometry, p: float):
    nsp = x.ndim - 2
    view = geom.view(geom.padded(np.abs(x), 0))
    taps = geom.taps()
    total = np.zeros(view.shape[:2 + nsp], dtype=x.dtype)
    for idx in taps:
        total += _tap(view, nsp, idx) ** p
    return (total ** (1.0 / p)).astype(x.dtype, copy=False)


@op("LpPool", since=1)
def lppool(ctx, x):
    return lp_pool(x, _geometry(ctx, x), float(ctx.attr("p", 2)))


@op("GlobalMaxPool", since=1)
def global_maxpool(ctx, x):
    return x.max(axis=tuple(range(2, x.ndim)), keepdims=True)


@op("GlobalAveragePool", since=1)
def global_averagepool(ctx, x):
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True).astype(x.dtype, copy=False)


@op("GlobalLpPool", since=1)
def global_lppool(ctx, x):
    p = float(ctx.attr("p", 2))
    axes = tuple(range(2, x.ndim))
    return (np.sum(np.abs(x) ** p, axis=axes, keepdims=True) ** (1.0 / p)).astype(x.dtype, copy=False)


@op("MaxUnpool", since=9)
def maxunpool(ctx, x, indices, output_shape=None):
    nsp = x.ndim - 2
    kernel = list(ctx.attr("kernel_shape"))
    strides = _ints(ctx.attr("strides"), nsp, 1)
    pads = _ints(ctx.attr("pads"), 2 * nsp, 0)
    if output_shape is not None and output_shape.size:
        # Indices are flat positions in the requested output, as in PyTorch's max_unpool and
        # onnxruntime. ONNX's test_maxunpool_export_with_output_shape expects positions in the
        # default shape instead (onnx/onnx#2398); we follow the frameworks and runtime.
        shape = [int(v) for v in output_shape]
    else:
        shape = list(x.shape[:2]) + [(i - 1) * s + k - pads[a] - pads[a + nsp]
                                     for a, (i, s, k) in enumerate(zip(x.shape[2:], strides, kernel))]
    y = np.zeros(int(np.prod(shape)), dtype=x.dtype)
    y[indices.reshape(-1).astype(np.int64)] = x.reshape(-1)
    return y.reshape(shape)


# --------------------------------------------------------------------------- RoiAlign

def _roi_align(x, rois, batch_indices, *, mode, out_h, out_w, sampling_ratio, spatial_scale,
               half_pixel):
    """RoiAlign with bilinear sampling, vectorised over channels, bins and sample points.

    One Python iteration per region of interest (a handful per image), none per element."""
    n, c, height, width = x.shape
    num = rois.shape[0]
    y = np.zeros((num, c, out_h, out_w), dtype=x.dtype)
    offset = 0.5 if half_pixel else 0.0
    for r in range(num):
        x0, y0, x1, y1 = (float(v) * spatial_scale - offset for v in rois[r])
        roi_w, roi_h = x1 - x0, y1 - y0
        if not half_pixel:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / out_h, roi_w / out_w
        gh = sampling_ratio if sampling_ratio > 0 else int(np.ceil(roi_h / out_h))
        gw = sampling_ratio if sampling_ratio > 0 else int(np.ceil(roi_w / out_w))
        gh, gw = max(gh, 1), max(gw, 1)
        ys = (y0 + np.arange(out_h)[:, None] * bin_h
              + (np.arange(gh)[None, :] + 0.5) * bin_h / gh).reshape(-1)     # (out_h*gh,)
        xs = (x0 + np.arange(out_w)[:, None] * bin_w
              + (np.arange(gw)[None, :] + 0.5) * bin_w / gw).reshape(-1)
        wy, iy_lo, iy_hi, vy = _bilinear_axis(ys, height)
        wx, ix_lo, ix_hi, vx = _bilinear_axis(xs, width)
        img = x[int(batch_indices[r])]
        # Four corner contributions, each (C, out_h*gh, out_w*gw).
        parts = []
        for iy, wyk in ((iy_lo, wy[0]), (iy_hi, wy[1])):
            for ix, wxk in ((ix_lo, wx[0]), (ix_hi, wx[1])):
                w = (wyk * vy)[:, None] * (wxk * vx)[None, :]
                parts.append(img[:, iy[:, None], ix[None, :]] * w)
        if mode == "max":
            # ONNX (and onnxruntime) take the max over samples of the largest weighted corner.
            val = np.maximum.reduce(parts)
            val = val.reshape(c, out_h, gh, out_w, gw).max(axis=(2, 4))
        else:
            val = sum(parts).reshape(c, out_h, gh, out_w, gw).mean(axis=(2, 4))
        y[r] = val
    return y


def _bilinear_axis(coords, size):
    valid = ((coords >= -1.0) & (coords <= size)).astype(np.float64)
    c = np.clip(coords, 0.0, None)
    lo = np.floor(c).astype(np.int64)
    at_edge = lo >= size - 1
    lo = np.where(at_edge, size - 1, lo)
    hi = np.where(at_edge, size - 1, lo + 1)
    c = np.where(at_edge, lo.astype(np.float64), c)
    frac = c - lo
    return (1.0 - frac, frac), lo, hi, valid


@op("RoiAlign", since=10)
def roialign(ctx, x, rois, batch_indices):
    mode = ctx.attr("mode", "avg")
    default_ct = "half_pixel" if ctx.opset >= 16 else "output_half_pixel"
    half = ctx.attr("coordinate_transformation_mode", default_ct) == "half_pixel"
    return _roi_align(x, rois, batch_indices, mode=mode,
                      out_h=int(ctx.attr("output_height", 1)), out_w=int(ctx.attr("output_width", 1)),
                      sampling_ratio=int(ctx.attr("sampling_ratio", 0)),
                      spatial_scale=float(ctx.attr("spatial_scale", 1.0)), half_pixel=half)


@op("MaxRoiPool", since=1)
def maxroipool(ctx, x, rois):
    """Caffe's ROI max pooling: rounded ROI corners, bins of size roi / pooled, empty bins 0.

    One iteration per (ROI, bin), each a max over a channel-vectorised window; ROI pooling
    heads have a handful of ROIs and 7x7 bins, not a hot path."""
    ph, pw = (int(v) for v in ctx.attr("pooled_shape"))
    scale = float(ctx.attr("spatial_scale", 1.0))
    n, c, height, width = x.shape
    y = np.zeros((rois.shape[0], c, ph, pw), dtype=x.dtype)
    for r, roi in enumerate(rois):
        b = int(roi[0])
        # C's round(): halves away from zero (np.round would round them to even).
        x1, y1, x2, y2 = (int(np.copysign(np.floor(abs(float(v) * scale) + 0.5), float(v)))
                          for v in roi[1:5])
        roi_h, roi_w = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
        bin_h, bin_w = roi_h / ph, roi_w / pw
        for i in range(ph):
            hs = min(max(int(np.floor(i * bin_h)) + y1, 0), height)
            he = min(max(int(np.ceil((i + 1) * bin_h)) + y1, 0), height)
            for j in range(pw):
                ws = min(max(int(np.floor(j * bin_w)) + x1, 0), width)
                we = min(max(int(np.ceil((j + 1) * bin_w)) + x1, 0), width)
                if he > hs and we > ws:
                    y[r, :, i, j] = x[b, :, hs:he, ws:we].max(axis=(1, 2))
    return y
