"""Layers with parameters and channels-first layouts: the table's ``custom`` builders
(conv2d, max_pool2d, avg_pool2d, linear, layer_norm). Registered after ``ops``: the generator
orders ops simple to complex. conv and pools are NCHW (``layout``): not drawn for TensorFlow,
whose layers are NHWC. A free axis may be the batch (axis 0) of an image, never a side a
window slides over (its output side would be a function of B)."""
from __future__ import annotations

from hypothesis import strategies as st

from .abstract import Drawn, TensorType, abstract, conv_out, first, pick, type_of, with_free


def _image(draw, values, ctx, min_side: int):
    def ok(t):
        return t.dtype == "float32" and t.rank == 4 and min(t.shape[2:]) >= min_side and set(t.free) <= {0}

    def make():
        n, c = draw(st.integers(1, 2)), draw(st.integers(1, 4))
        h, w = draw(st.integers(min_side, 8)), draw(st.integers(min_side, 8))
        return with_free(draw, ctx, (n, c, h, w), "float32", free_ok=lambda a, r: a == 0,
                         corners=("zero", "sign", "ties"))
    return pick(draw, values, ok, make)


def _window(draw, t: TensorType):
    kernel = draw(st.integers(1, min(3, *t.shape[2:])))
    stride = draw(st.integers(1, 2))
    pad = draw(st.integers(0, kernel // 2))
    out = tuple(conv_out(s, kernel, stride, pad) for s in t.shape[2:])
    return kernel, stride, pad, out


@abstract("conv2d", layout=True)
def conv2d(draw, values, ctx):
    x = _image(draw, values, ctx, 1)
    t = type_of(values, x)
    kernel, stride, pad, out = _window(draw, t)
    channels = draw(st.integers(1, 6))
    attrs = {"nd": 2, "in": t.shape[1], "out": channels, "kernel": kernel, "stride": stride, "pad": pad}
    return Drawn((x,), attrs, TensorType((t.shape[0], channels) + out, "float32", t.free))


def _pool(name, kind):
    @abstract(name, layout=True)
    def rule(draw, values, ctx):
        x = _image(draw, values, ctx, 1)
        t = type_of(values, x)
        kernel, stride, pad, out = _window(draw, t)
        attrs = {"type": kind, "nd": 2, "kernel": kernel, "stride": stride, "pad": pad}
        return Drawn((x,), attrs, TensorType(t.shape[:2] + out, "float32", t.free))
    return rule


_pool("max_pool2d", "max")
_pool("avg_pool2d", "avg")


@abstract("linear")
def linear(draw, values, ctx):
    low = 2 if ctx.framework == "tensorflow" else 1          # keras Dense wants rank >= 2
    x = first(draw, values, ctx, ("float32",), min_rank=low, max_rank=3, free_ok=lambda a, r: a != r - 1)
    t = type_of(values, x)
    out = draw(st.integers(1, 6))
    attrs = {"in": t.shape[-1], "out": out, "bias": draw(st.booleans())}
    return Drawn((x,), attrs, TensorType(t.shape[:-1] + (out,), "float32", t.free))


@abstract("layer_norm")
def layer_norm(draw, values, ctx):
    # paddle's LayerNorm wants begin_norm_axis > 0: at least one axis left unnormalised
    low = 2 if ctx.framework == "paddle" else 1
    x = first(draw, values, ctx, ("float32",), min_rank=low, max_rank=4, free_ok=lambda a, r: a != r - 1)
    t = type_of(values, x)
    static_tail = next((k for k in range(1, t.rank + 1) if (t.rank - k) in t.free), t.rank + 1) - 1
    k = draw(st.integers(1, min(2, static_tail, t.rank - low + 1)))
    return Drawn((x,), {"shape": list(t.shape[-k:]), "eps": 1e-5}, t)
