"""Layers with parameters and channels-first layouts: the table's ``custom`` torch builders
(conv2d, max_pool2d, avg_pool2d, linear, layer_norm). Registered after ``ops``: the generator
orders ops simple to complex. Torch only (NCHW; TensorFlow's are NHWC)."""
from __future__ import annotations

from hypothesis import strategies as st

from .abstract import Drawn, Fresh, TensorType, abstract, conv_out, first, pick

TORCH = ("torch",)


def _image(draw, values, min_side: int):
    def ok(t):
        return t.dtype == "float32" and t.rank == 4 and min(t.shape[2:]) >= min_side

    def make():
        n, c = draw(st.integers(1, 2)), draw(st.integers(1, 4))
        h, w = draw(st.integers(min_side, 8)), draw(st.integers(min_side, 8))
        return Fresh(TensorType((n, c, h, w), "float32"))
    return pick(draw, values, ok, make)


def _window(draw, t: TensorType):
    kernel = draw(st.integers(1, min(3, *t.shape[2:])))
    stride = draw(st.integers(1, 2))
    pad = draw(st.integers(0, kernel // 2))
    out = tuple(conv_out(s, kernel, stride, pad) for s in t.shape[2:])
    return kernel, stride, pad, out


@abstract("conv2d", frameworks=TORCH, layout=True)
def conv2d(draw, values):
    x = _image(draw, values, 1)
    t = values[x] if isinstance(x, int) else x.type
    kernel, stride, pad, out = _window(draw, t)
    channels = draw(st.integers(1, 6))
    attrs = {"nd": 2, "in": t.shape[1], "out": channels, "kernel": kernel, "stride": stride, "pad": pad}
    return Drawn((x,), attrs, TensorType((t.shape[0], channels) + out, "float32"))


def _pool(name, kind):
    @abstract(name, frameworks=TORCH, layout=True)
    def rule(draw, values):
        x = _image(draw, values, 1)
        t = values[x] if isinstance(x, int) else x.type
        kernel, stride, pad, out = _window(draw, t)
        attrs = {"type": kind, "nd": 2, "kernel": kernel, "stride": stride, "pad": pad}
        return Drawn((x,), attrs, TensorType(t.shape[:2] + out, "float32"))
    return rule


_pool("max_pool2d", "max")
_pool("avg_pool2d", "avg")


@abstract("linear", frameworks=TORCH)
def linear(draw, values):
    x = first(draw, values, ("float32",), min_rank=1, max_rank=3)
    t = values[x] if isinstance(x, int) else x.type
    out = draw(st.integers(1, 6))
    attrs = {"in": t.shape[-1], "out": out, "bias": draw(st.booleans())}
    return Drawn((x,), attrs, TensorType(t.shape[:-1] + (out,), "float32"))


@abstract("layer_norm", frameworks=TORCH)
def layer_norm(draw, values):
    x = first(draw, values, ("float32",), min_rank=1, max_rank=4)
    t = values[x] if isinstance(x, int) else x.type
    k = draw(st.integers(1, min(2, t.rank)))
    return Drawn((x,), {"shape": list(t.shape[-k:]), "eps": 1e-5}, t)
