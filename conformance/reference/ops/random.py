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


# (numpy method, its two attributes with their ONNX defaults)
UNIFORM = ("uniform", ("low", 0.0), ("high", 1.0))
NORMAL = ("normal", ("mean", 0.0), ("scale", 1.0))


def _draw(ctx, law, shape, like=None) -> np.ndarray:
    method, (first, first_default), (second, second_default) = law
    draw = getattr(_rng(ctx), method)
    return draw(ctx.attr(first, first_default), ctx.attr(second, second_default), shape).astype(_dtype(ctx, like))


def _generators(law):
    """The op and its ``...Like`` twin: the shape from the attribute, or from the input."""
    def generate(ctx):
        return _draw(ctx, law, ctx.attr("shape"))

    def generate_like(ctx, x):
        return _draw(ctx, law, x.shape, x)
    return generate, generate_like


for _name, _law in (("RandomUniform", UNIFORM), ("RandomNormal", NORMAL)):
    _generate, _generate_like = _generators(_law)
    op(_name)(_generate)
    op(_name + "Like")(_generate_like)
