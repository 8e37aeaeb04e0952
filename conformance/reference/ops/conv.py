"""Convolution: Conv and ConvTranspose for 1-D, 2-D and 3-D inputs.

Conv gathers every kernel tap through a strided view of the padded input (im2col without a
Python loop) and multiplies it with the weights in one batched BLAS matmul over (batch, group).
Depthwise convolutions (one input channel per group) skip im2col: the padded planes are split
into stride phases and each kernel tap is one multiply-add over contiguous shifted rows.
ConvTranspose is one matmul per group followed by a col2im that scatters each kernel tap with
a strided slice (one vectorised add per tap).

The padding helpers here are shared with pooling (``pool.py``).
"""
from __future__ import annotations

import weakref

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..registry import op
from .linalg import blas_threads


# --------------------------------------------------------------------------- padding helpers

def _ints(value, n, default):
    if value is None or len(value) == 0:
        return [default] * n
    return [int(v) for v in value]


def resolve_pads(auto_pad: str, in_shape, kernel, strides, dilations, pads):
    """Begin and end padding per spatial axis, following the ONNX auto_pad rules.

    SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the beginning; both target an
    output of ceil(in / stride). VALID pads nothing; NOTSET uses ``pads`` as given.
    """
    n = len(in_shape)
    if isinstance(auto_pad, bytes):
        auto_pad = auto_pad.decode()
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(in_shape, kernel, strides, dilations):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small, large = total // 2, total - total // 2
            if auto_pad == "SAME_UPPER":
                begin.append(small)
                end.append(large)
            else:
                begin.append(large)
                end.append(small)
        return begin, end
    if auto_pad == "VALID" or pads is None or len(pads) == 0:
        return [0] * n, [0] * n
    pads = [int(p) for p in pads]
    return pads[:n], pads[n:2 * n]


def windows(xp: np.ndarray, out_shape, kernel, strides, dilations) -> np.ndarray:
    """A read-only view of shape (*xp.shape[:2], *out_shape, *kernel) over the padded input:
    element [..., o..., k...] is xp[..., o*stride + k*dilation ...]. No copy."""
    lead = xp.shape[:2]
    lead_strides = xp.strides[:2]
    sp_strides = xp.strides[2:]
    shape = (*lead, *out_shape, *kernel)
    st = (*lead_strides,
          *(a * s for a, s in zip(sp_strides, strides)),
          *(a * d for a, d in zip(sp_strides, dilations)))
    return as_strided(xp, shape=shape, strides=st, writeable=False)


def pad_spatial(x: np.ndarray, begin, end, value=0) -> np.ndarray:
    """np.pad over the spatial axes (axes 2...); negative pads crop."""
    if not any(begin) and not any(end):
        return x
    if any(v < 0 for v in (*begin, *end)):
        crop = tuple(slice(max(0, -bb), size - max(0, -ee))
                     for size, bb, ee in zip(x.shape[2:], begin, end))
        x = x[(slice(None), slice(None), *crop)]
    widths = [(0, 0), (0, 0)] + [(max(0, b), max(0, e)) for b, e in zip(begin, end)]
    return np.pad(x, widths, mode="constant", constant_values=value)


# --------------------------------------------------------------------------- per-weight cache

class _WeightCache:
    """Prepared forms of weight tensors, keyed by the identity of the array they came from.

    A weak reference guards against id reuse: an entry is valid only while the original array
    is alive and is the same object. Initializers stay alive for the model's lifetime, so a
    model run repeatedly prepares each weight once.
    """

    def __init__(self):
        self._entries: dict = {}

    def get(self, array: np.ndarray, key, build):
        full_key = (id(array), key)
        entry = self._entries.get(full_key)
        if entry is not None and entry[0]() is array:
            return entry[1]
        value = build(array)
        try:
            ref = weakref.ref(array, lambda _r, k=full_key: self._entries.pop(k, None))
        except TypeError:
            return value
        self._entries[full_key] = (ref, value)
        return value


WEIGHTS = _WeightCache()


def prepared(ctx, key, array: np.ndarray, build):
    """``build(array)``, computed once per node while the same array object keeps arriving.

    Uses the executor's per-node ``ctx.cache`` when it has one (holding the source array, so
    an identity check is enough), else the process-wide weak cache."""
    cache = getattr(ctx, "cache", None)
    if cache is None:
        return WEIGHTS.get(array, key, build)
    entry = cache.get(key)
    if entry is not None and entry[0] is array:
        return entry[1]
    value = build(array)
    cache[key] = (array, value)
    return value


# --------------------------------------------------------------------------- Conv

def _compute_dtype(x, w):
    """Half precision is multiplied in float32 (numpy has no half BLAS and would round every
    partial sum), integers in int64; the caller casts the result back to x's dtype."""
    dtype = np.result_type(x.dtype, w.dtype)
    if dtype == np.float16 or dtype.name == "bfloat16":
        return np.dtype(np.float32)
    if np.issubdtype(dtype, np.integer):
        return np.dtype(np.int64)
    return dtype


def conv_nd(x: np.ndarray, w: np.ndarray, b=None, *, auto_pad="NOTSET", pads=None, strides=None,
            dilations=None, group=1) -> np.ndarray:
    """ONNX Conv on numpy arrays: x (N, C, *spatial), w (M, C/group, *kernel), b (M,)."""
    nsp = x.ndim - 2
    kernel = list(w.shape[2:])
    strides = _ints(strides, nsp, 1)
    dilations = _ints(dilations, nsp, 1)
    begin, end = resolve_pads(auto_pad, x.shape[2:], kernel, strides, dilations, pads)
    n, c = x.shape[:2]
    m = w.shape[0]
    g = int(group)
    cg, mg = c // g, m // g
    if cg != w.shape[1]:
        raise ValueError(f"Conv: input has {c} channels, weights expect {w.shape[1]} x group {g}")
    out_shape = [(size + bb + ee - (k - 1) * d - 1) // s + 1
                 for size, bb, ee, k, d, s in zip(x.shape[2:], begin, end, kernel, dilations, strides)]
    dtype = _compute_dtype(x, w)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    p = int(np.prod(out_shape))
    ksize = int(np.prod(kernel))

    if ksize == 1 and not any(begin) and not any(end):
        # Pointwise: a strided slice, then one matmul per (batch, group).
        xs = x[(slice(None), slice(None), *(slice(None, None, s) for s in strides))]
        xs = xs[(slice(None), slice(None), *(slice(0, o) for o in out_shape))]
        cols = xs.reshape(n, g, cg, p)
        wr = w.reshape(g, mg, cg)
        y = np.matmul(wr, cols).reshape(n, m, *out_shape)
    else:
        xp = pad_spatial(x, begin, end, 0)
        if cg == 1 and g > 1:
            y = _depthwise(xp, w, g, mg, out_shape, strides, dilations)
        else:
            view = windows(xp, out_shape, kernel, strides, dilations)   # (N, C, *out, *k)
            # im2col: (N, g, Cg, *k, *out) -> (N, g, Cg*K, P), one copy, then one batched matmul.
            axes = (0, 1, *range(2 + nsp, 2 + 2 * nsp), *range(2, 2 + nsp))
            cols = view.transpose(axes).reshape(n, g, cg * ksize, p)
            wr = w.reshape(g, mg, cg * ksize)
            y = np.matmul(wr, cols).reshape(n, m, *out_shape)
    if b is not None:
        y += b.astype(dtype, copy=False).reshape(1, m, *([1] * nsp))
    return y


def _depthwise(xp, w, g, mg, out_shape, strides, dilations):
    """One input channel per group (depthwise), any stride and dilation.

    The padded planes are split into stride phases (polyphase: plane[p] = x[p::stride], one
    copy in all, none for stride 1) and flattened; each kernel tap then reads one contiguous
    shifted slice of one phase plane, so a tap is a multiply-add over long contiguous rows:
    a loop over the taps only (9 for 3x3), no loop over channels or positions. Outputs are
    computed on the phase-plane row pitch (a few wasted columns per row) and cut out at the end.
    """
    n = xp.shape[0]
    nsp = xp.ndim - 2
    sp = xp.shape[2:]
    phase_shape = [-(-size // st) for size, st in zip(sp, strides)]
    if any(p * st != size for p, st, size in zip(phase_shape, strides, sp)):
        ext = np.zeros((n, g, *[p * st for p, st in zip(phase_shape, strides)]), xp.dtype)
        ext[(slice(None), slice(None), *(slice(0, size) for size in sp))] = xp
        xp = ext
    if any(st != 1 for st in strides):
        split = [n, g]
        for p, st in zip(phase_shape, strides):
            split += [p, st]
        axes = [0, 1] + [3 + 2 * a for a in range(nsp)] + [2 + 2 * a for a in range(nsp)]
        planes = np.ascontiguousarray(xp.reshape(split).transpose(axes))   # (n, g, *phase, *plane)
    else:
        planes = xp.reshape(n, g, *([1] * nsp), *phase_shape)
    flat = planes.reshape(n, g, *planes.shape[2:2 + nsp], -1)
    pitch = [int(np.prod(phase_shape[a + 1:])) for a in range(nsp)]
    q = sum((o - 1) * e for o, e in zip(out_shape, pitch)) + 1
    taps = w.reshape(g, mg, -1)
    y = np.zeros((n, g, mg, q), np.result_type(xp.dtype, w.dtype))
    tmp = np.empty_like(y)
    for t, idx in enumerate(np.ndindex(*w.shape[2:])):
        pos = [k * d for k, d in zip(idx, dilations)]
        phase = tuple(p % st for p, st in zip(pos, strides))
        off = sum((p // st) * e for p, st, e in zip(pos, strides, pitch))
        src = flat[(slice(None), slice(None), *phase)]                      # (n, g, plane)
        np.multiply(src[:, :, None, off:off + q], taps[None, :, :, t, None], out=tmp)
        y += tmp
    view = as_strided(y, shape=(n, g, mg, *out_shape),
                      strides=(*y.strides[:3], *(e * y.itemsize for e in pitch)))
    return np.ascontiguousarray(view).reshape(n, g * mg, *out_shape)


def _conv_attrs(ctx) -> dict:
    """The attributes Conv and ConvTranspose share, with their ONNX defaults. Negative pads are
    refused, as ONNX's own shape inference (and onnxruntime) refuse them: the oracle must not
    quietly crop instead."""
    pads = ctx.attr("pads")
    if pads is not None and any(int(p) < 0 for p in pads):
        raise ValueError(f"{ctx.node.op_type}: pads must not be negative, got {list(pads)}")
    return dict(auto_pad=ctx.attr("auto_pad", "NOTSET"), pads=pads, strides=ctx.attr("strides"),
                dilations=ctx.attr("dilations"), group=ctx.attr("group", 1))


@op("Conv", since=1)
def conv(ctx, x, w, b=None):
    attrs = _conv_attrs(ctx)
    with blas_threads():
        return conv_nd(x, w, b, **attrs).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- ConvTranspose

def conv_transpose_nd(x, w, b=None, *, auto_pad="NOTSET", pads=None, strides=None, dilations=None,
                      group=1, output_padding=None, output_shape=None, ctx=None) -> np.ndarray:
    """ONNX ConvTranspose: x (N, C, *spatial), w (C, M/group, *kernel), b (M,).
    ``ctx`` (optional) lends its per-node cache for the transposed weights."""
    if isinstance(auto_pad, bytes):
        auto_pad = auto_pad.decode()
    nsp = x.ndim - 2
    in_shape = list(x.shape[2:])
    kernel = list(w.shape[2:])
    strides = _ints(strides, nsp, 1)
    dilations = _ints(dilations, nsp, 1)
    out_pad = _ints(output_padding, nsp, 0)[:nsp]
    full = [(i - 1) * s + (k - 1) * d + 1 for i, s, k, d in zip(in_shape, strides, kernel, dilations)]

    if output_shape is not None and len(output_shape) > 0:
        out = [int(v) for v in output_shape][-nsp:]
        total = [f + op_ - o for f, op_, o in zip(full, out_pad, out)]
        if auto_pad == "SAME_UPPER":
            begin = [t // 2 for t in total]
        else:
            begin = [t - t // 2 for t in total]
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out = [i * s for i, s in zip(in_shape, strides)]
        total = [f + op_ - o for f, op_, o in zip(full, out_pad, out)]
        if auto_pad == "SAME_UPPER":
            begin = [t // 2 for t in total]
        else:
            begin = [t - t // 2 for t in total]
    else:
        if auto_pad == "VALID" or pads is None or len(pads) == 0:
            begin, end = [0] * nsp, [0] * nsp
        else:
            begin, end = [int(v) for v in pads[:nsp]], [int(v) for v in pads[nsp:2 * nsp]]
        out = [f + op_ - bb - ee for f, op_, bb, ee in zip(full, out_pad, begin, end)]

    n, c = x.shape[:2]
    g = int(group)
    cg = c // g
    mg = w.shape[1]
    m = mg * g
    ksize = int(np.prod(kernel))
    p = int(np.prod(in_shape))
    dtype = _compute_dtype(x, w)
    x = x.astype(dtype, copy=False)
    # (g, Mg*K, Cg) @ (N, g, Cg, P) -> (N, g, Mg, *k, *in)
    wt = prepared(ctx, ("convT", g, dtype.str), w, lambda a: np.ascontiguousarray(
        a.astype(dtype, copy=False).reshape(g, cg, mg * ksize).transpose(0, 2, 1)))
    cols = np.matmul(wt, x.reshape(n, g, cg, p)).reshape(n, g, mg, *kernel, *in_shape)

    # col2im into a buffer covering the full output plus any extra the requested size needs.
    shift = [max(0, -bb) for bb in begin]
    buf_shape = [max(f, bb + o) + sh for f, bb, o, sh in zip(full, begin, out, shift)]
    buf = np.zeros((n, g, mg, *buf_shape), dtype=dtype)
    for idx in np.ndindex(*kernel):
        dst = tuple(slice(sh + k * d, sh + k * d + (i - 1) * s + 1, s)
                    for sh, k, d, i, s in zip(shift, idx, dilations, in_shape, strides))
        buf[(slice(None), slice(None), slice(None), *dst)] += cols[(slice(None), slice(None), slice(None), *idx)]
    crop = tuple(slice(bb + sh, bb + sh + o) for bb, sh, o in zip(begin, shift, out))
    y = buf[(slice(None), slice(None), slice(None), *crop)].reshape(n, m, *out)
    if b is not None:
        y = y + b.astype(dtype, copy=False).reshape(1, m, *([1] * nsp))
    return y


@op("ConvTranspose", since=1)
def conv_transpose(ctx, x, w, b=None):
    attrs = _conv_attrs(ctx)
    with blas_threads():
        return conv_transpose_nd(x, w, b, **attrs, output_padding=ctx.attr("output_padding"),
                                 output_shape=ctx.attr("output_shape"), ctx=ctx).astype(x.dtype, copy=False)
