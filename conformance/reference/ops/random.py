"""Random generators. With a ``seed`` attribute the stream is numpy's legacy RandomState(seed),
so a seeded model gives the same values on every run; without one, fresh entropy (ONNX leaves
the generator to the implementation, so these ops are never compared value by value)."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..registry import op


def _rng(ctx):
    seed = ctx.attr("seed")
    return np.random.RandomState(int(seed)) if seed is not None else np.random.RandomState()


def _dtype(ctx, like=None, default=np.float32):
    elem = ctx.attr("dtype")
    if elem is not None:
        return ctx.float_dtype(dtypes.to_dtype(elem))
    return like.dtype if like is not None else ctx.float_dtype(default)


@op("RandomUniform")
def random_uniform(ctx):
    shape = ctx.attr("shape")
    return _rng(ctx).uniform(ctx.attr("low", 0.0), ctx.attr("high", 1.0), shape).astype(_dtype(ctx))


@op("RandomUniformLike")
def random_uniform_like(ctx, x):
    return _rng(ctx).uniform(ctx.attr("low", 0.0), ctx.attr("high", 1.0), x.shape).astype(_dtype(ctx, x))


@op("RandomNormal")
def random_normal(ctx):
    shape = ctx.attr("shape")
    return _rng(ctx).normal(ctx.attr("mean", 0.0), ctx.attr("scale", 1.0), shape).astype(_dtype(ctx))


@op("RandomNormalLike")
def random_normal_like(ctx, x):
    return _rng(ctx).normal(ctx.attr("mean", 0.0), ctx.attr("scale", 1.0), x.shape).astype(_dtype(ctx, x))


@op("Bernoulli", since=15)
def bernoulli(ctx, x):
    return (_rng(ctx).uniform(0.0, 1.0, x.shape) < x).astype(_dtype(ctx, x))


@op("Multinomial", since=7)
def multinomial(ctx, x):
    """x: (batch, classes) unnormalized log probabilities."""
    rng = _rng(ctx)
    count = ctx.attr("sample_size", 1)
    probs = np.exp(x - x.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    cdf = np.cumsum(probs, axis=1)
    draws = rng.uniform(size=(x.shape[0], count))
    out = (draws[:, :, None] > cdf[:, None, :]).sum(axis=2)
    elem = ctx.attr("dtype", 6)
    return np.minimum(out, x.shape[1] - 1).astype(dtypes.to_dtype(elem))
