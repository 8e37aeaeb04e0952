"""Normalization: BatchNormalization (every opset signature, training outputs),
InstanceNormalization, LayerNormalization, GroupNormalization, LRN, MeanVarianceNormalization,
LpNormalization.

Statistics are computed in at least float32 (float16/bfloat16 inputs are promoted, as
``stash_type`` asks) and results are cast back to the input's dtype.
"""
from __future__ import annotations

import numpy as np

from ..registry import op


def _compute_dtype(x, stash_type: int | None = 1):
    if stash_type == 11 or x.dtype == np.float64:   # TensorProto.DOUBLE
        return np.float64
    return np.float32


def _channel_shape(x, values):
    """Broadcast a per-channel vector (or a per-(C, spatial...) tensor when spatial=0) on x."""
    values = np.asarray(values)
    if values.ndim <= 1:
        return values.reshape(1, -1, *([1] * (x.ndim - 2)))
    return values.reshape(1, *values.shape)


def _batchnorm_fold(x, scale, bias, mean, var, eps, dt):
    scale, bias, mean, var = (_channel_shape(x, v).astype(dt, copy=False)
                              for v in (scale, bias, mean, var))
    k = scale / np.sqrt(var + dt(eps))
    return k, bias - mean * k


def _batchnorm_infer(x, scale, bias, mean, var, eps, dt, ctx=None):
    """One multiply and one add over x, with the per-channel factors folded once per node
    (kept in ctx.cache while the same four arrays keep arriving)."""
    cache = getattr(ctx, "cache", None)
    arrays = (scale, bias, mean, var)
    entry = cache.get("bn-fold") if cache is not None else None
    if entry is not None and all(a is b for a, b in zip(entry[0], arrays)) and entry[1] == (x.ndim, eps, dt):
        k, shift = entry[2]
    else:
        k, shift = _batchnorm_fold(x, scale, bias, mean, var, eps, dt)
        if cache is not None:
            cache["bn-fold"] = (arrays, (x.ndim, eps, dt), (k, shift))
    y = x.astype(dt, copy=False) * k
    y += shift
    return y


def _batch_stats(x, dt):
    axes = (0, *range(2, x.ndim))
    xd = x.astype(dt, copy=False)
    return xd.mean(axis=axes), xd.var(axis=axes)


@op("BatchNormalization", since=1)
def batchnorm(ctx, x, scale, bias, mean, var):
    dt = _compute_dtype(x)
    eps = float(ctx.attr("epsilon", 1e-5))
    momentum = float(ctx.attr("momentum", 0.9))
    if ctx.opset >= 14:
        training = bool(ctx.attr("training_mode", 0))
    elif ctx.opset >= 7:
        training = ctx.output_count > 1
    else:
        training = not ctx.attr("is_test", 0) and ctx.output_count > 1
    if not training:
        return _batchnorm_infer(x, scale, bias, mean, var, eps, dt, ctx).astype(x.dtype, copy=False)
    cur_mean, cur_var = _batch_stats(x, dt)
    y = _batchnorm_infer(x, scale, bias, cur_mean, cur_var, eps, dt).astype(x.dtype, copy=False)
    run_mean = (mean.astype(dt) * momentum + cur_mean * (1 - momentum)).astype(mean.dtype)
    run_var = (var.astype(dt) * momentum + cur_var * (1 - momentum)).astype(var.dtype)
    if ctx.opset >= 14:
        outs = (y, run_mean, run_var)
    else:
        outs = (y, run_mean, run_var, cur_mean.astype(x.dtype), cur_var.astype(x.dtype))
    return outs[:max(1, ctx.output_count)]


@op("InstanceNormalization", since=1)
def instancenorm(ctx, x, scale, bias):
    dt = _compute_dtype(x)
    eps = float(ctx.attr("epsilon", 1e-5))
    axes = tuple(range(2, x.ndim))
    xd = x.astype(dt, copy=False)
    mean = xd.mean(axis=axes, keepdims=True)
    var = xd.var(axis=axes, keepdims=True)
    y = (xd - mean) / np.sqrt(var + eps)
    y = y * _channel_shape(x, scale).astype(dt) + _channel_shape(x, bias).astype(dt)
    return y.astype(x.dtype, copy=False)


def layer_norm(x, scale, bias, axis, eps, stash_type=1):
    dt = _compute_dtype(x, stash_type)
    axis = axis % x.ndim
    axes = tuple(range(axis, x.ndim))
    xd = x.astype(dt, copy=False)
    mean = xd.mean(axis=axes, keepdims=True)
    centered = xd - mean
    var = np.square(centered).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + dt(eps))
    centered *= inv_std                 # in place: centered becomes the result
    centered *= scale.astype(dt, copy=False)
    if bias is not None:
        centered += bias.astype(dt, copy=False)
    return centered.astype(x.dtype, copy=False), mean, inv_std


@op("LayerNormalization", since=17)
def layernorm(ctx, x, scale, bias=None):
    y, mean, inv_std = layer_norm(x, scale, bias, int(ctx.attr("axis", -1)),
                                  float(ctx.attr("epsilon", 1e-5)), int(ctx.attr("stash_type", 1)))
    stat_dtype = np.float64 if int(ctx.attr("stash_type", 1)) == 11 else np.float32
    outs = (y, mean.astype(stat_dtype), inv_std.astype(stat_dtype))
    return outs[:max(1, ctx.output_count)]


@op("GroupNormalization", since=18)
def groupnorm(ctx, x, scale, bias):
    groups = int(ctx.attr("num_groups"))
    eps = float(ctx.attr("epsilon", 1e-5))
    dt = _compute_dtype(x, int(ctx.attr("stash_type", 1)))
    n, c = x.shape[:2]
    # explicit group size, not -1: numpy cannot infer -1 for an empty batch
    xg = x.astype(dt, copy=False).reshape(n, groups, int(np.prod(x.shape[1:], dtype=np.int64)) // groups)
    mean = xg.mean(axis=2, keepdims=True)
    var = xg.var(axis=2, keepdims=True)
    y = ((xg - mean) / np.sqrt(var + eps)).reshape(x.shape)
    # Opset 18 takes scale/bias per group, opset 21 per channel; the size tells which.
    if scale.size == c:
        s, b = scale, bias
    else:
        s, b = np.repeat(scale, c // groups), np.repeat(bias, c // groups)
    y = y * _channel_shape(x, s).astype(dt) + _channel_shape(x, b).astype(dt)
    return y.astype(x.dtype, copy=False)


@op("LRN", since=1)
def lrn(ctx, x):
    alpha = float(ctx.attr("alpha", 1e-4))
    beta = float(ctx.attr("beta", 0.75))
    bias = float(ctx.attr("bias", 1.0))
    size = int(ctx.attr("size"))
    dt = _compute_dtype(x)
    sq = x.astype(dt) ** 2
    lo = (size - 1) // 2
    hi = size - 1 - lo
    # Window sum over channels by a cumulative sum along the channel axis.
    c = x.shape[1]
    padded = np.concatenate([np.zeros_like(sq[:, :1]), np.cumsum(sq, axis=1)], axis=1)
    top = np.minimum(np.arange(c) + hi + 1, c)
    bottom = np.maximum(np.arange(c) - lo, 0)
    square_sum = np.take(padded, top, axis=1) - np.take(padded, bottom, axis=1)
    y = x.astype(dt) / (bias + (alpha / size) * square_sum) ** beta
    return y.astype(x.dtype, copy=False)


@op("MeanVarianceNormalization", since=9)
def mvn(ctx, x):
    axes = tuple(int(a) for a in ctx.attr("axes", [0, 2, 3]))
    dt = _compute_dtype(x)
    xd = x.astype(dt, copy=False)
    mean = xd.mean(axis=axes, keepdims=True)
    var = np.mean(xd * xd, axis=axes, keepdims=True) - mean * mean
    y = (xd - mean) / (np.sqrt(np.maximum(var, 0)) + 1e-9)
    return y.astype(x.dtype, copy=False)


@op("LpNormalization", since=1)
def lpnorm(ctx, x):
    axis = int(ctx.attr("axis", -1))
    p = int(ctx.attr("p", 2))
    if p == 1:
        norm = np.sum(np.abs(x), axis=axis, keepdims=True)
    else:
        norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):  # a zero norm gives zeros, not NaN
        return np.where(norm == 0, 0, x / norm).astype(x.dtype, copy=False)
