"""Layers with parameters and image layouts: the table's ``custom`` builders (conv, pools,
norms, resize, pixel shuffles, recurrent layers, linear, layer_norm). Registered after ``ops``:
the generator orders ops simple to complex.

Images are channels-first (NCHW) for torch and Paddle and channels-last (NHWC) for TensorFlow,
whose Keras layers and CPU kernels want that layout (``Layout``). A free axis may be the batch
(axis 0) of an image, never a side a window slides over (its output side would be a function
of B)."""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from .abstract import CORNERS_FLOAT_MODERATE, Drawn, TensorType, abstract, conv_out, divisors, first, pick, type_of, with_free
from .ops_more import with_item


@dataclass(frozen=True)
class Layout:
    """Where an image's channels and spatial sides are, for the framework drawn for."""

    channels_last: bool

    @classmethod
    def of(cls, ctx) -> "Layout":
        return cls(ctx.framework == "tensorflow")

    def channels(self, t: TensorType) -> int:
        return t.shape[-1] if self.channels_last else t.shape[1]

    def sides(self, t: TensorType) -> tuple:
        return t.shape[1:-1] if self.channels_last else t.shape[2:]

    def image(self, t: TensorType, channels: int, sides: tuple) -> TensorType:
        """An image of ``t``'s batch (and free axes) with other channels and sides."""
        shape = (t.shape[0],) + tuple(sides) + (channels,) if self.channels_last else (t.shape[0], channels) + tuple(sides)
        return TensorType(shape, t.dtype, t.free)


def _image(draw, values, ctx, min_side: int, channels_of=None, rank: int = 4, side_step: int = 1):
    """An image (a value or a fresh input) with sides of at least ``min_side`` (multiples of
    ``side_step``) and, where ``channels_of`` is given, a channel count it accepts."""
    lay = Layout.of(ctx)

    def ok(t):
        return (t.dtype == "float32" and t.rank == rank and min(lay.sides(t)) >= min_side and set(t.free) <= {0}
                and all(s % side_step == 0 for s in lay.sides(t))
                and (channels_of is None or channels_of(lay.channels(t))))

    def make():
        n = draw(st.integers(1, 2))
        c = draw(st.sampled_from([c for c in range(1, 9) if channels_of is None or channels_of(c)]))
        sides = tuple(side_step * draw(st.integers(-(-min_side // side_step), 8 // side_step)) for _ in range(rank - 2))
        shape = (n,) + sides + (c,) if lay.channels_last else (n, c) + sides
        return with_free(draw, ctx, shape, "float32", free_ok=lambda a, r: a == 0, corners=("zero", "sign", "ties"))
    x = pick(draw, values, ok, make)
    return x, type_of(values, x), lay


def _window(draw, sides: tuple, pad_ok: bool = True):
    kernel = draw(st.integers(1, min(3, *sides)))
    stride = draw(st.integers(1, 2))
    pad = draw(st.integers(0, kernel // 2)) if pad_ok else 0
    out = tuple(conv_out(s, kernel, stride, pad) for s in sides)
    return kernel, stride, pad, out


@abstract("conv2d")
def conv2d(draw, values, ctx):
    x, t, lay = _image(draw, values, ctx, 1)
    kernel, stride, pad, out = _window(draw, lay.sides(t))
    channels = draw(st.integers(1, 6))
    attrs = {"nd": 2, "in": lay.channels(t), "out": channels, "kernel": kernel, "stride": stride, "pad": pad}
    return Drawn((x,), attrs, lay.image(t, channels, out))


@abstract("conv1d")
def conv1d(draw, values, ctx):
    x, t, lay = _image(draw, values, ctx, 1, rank=3)
    kernel, stride, pad, out = _window(draw, lay.sides(t))
    channels = draw(st.integers(1, 6))
    attrs = {"nd": 1, "in": lay.channels(t), "out": channels, "kernel": kernel, "stride": stride, "pad": pad}
    return Drawn((x,), attrs, lay.image(t, channels, out))


@abstract("conv_transpose2d")
def conv_transpose2d(draw, values, ctx):
    x, t, lay = _image(draw, values, ctx, 1)
    # keras' "valid" transposed conv gives s * stride sides when kernel < stride, torch (s - 1) * stride + kernel
    kernel = draw(st.integers(1, 3))
    stride = draw(st.integers(1, min(2, kernel)))
    pad = draw(st.integers(0, (kernel - 1) // 2))
    out = tuple((s - 1) * stride + kernel - 2 * pad for s in lay.sides(t))
    channels = draw(st.integers(1, 5))
    attrs = {"nd": 2, "in": lay.channels(t), "out": channels, "kernel": kernel, "stride": stride, "pad": pad}
    return Drawn((x,), attrs, lay.image(t, channels, out))


def _pool(name, kind):
    @abstract(name)
    def rule(draw, values, ctx):
        x, t, lay = _image(draw, values, ctx, 1)
        # keras pooling pads "valid" or "same" only: no explicit pads for TensorFlow
        kernel, stride, pad, out = _window(draw, lay.sides(t), pad_ok=not lay.channels_last)
        attrs = {"type": kind, "nd": 2, "kernel": kernel, "stride": stride, "pad": pad}
        return Drawn((x,), attrs, lay.image(t, lay.channels(t), out))
    return rule


_pool("max_pool2d", "max")
_pool("avg_pool2d", "avg")


def _global_pool(name, kind):
    @abstract(name)
    def rule(draw, values, ctx):
        x, t, lay = _image(draw, values, ctx, 1)
        return Drawn((x,), {"type": kind, "nd": 2}, lay.image(t, lay.channels(t), (1, 1)))
    return rule


_global_pool("global_avg_pool2d", "global_avg")
_global_pool("global_max_pool2d", "global_max")


@abstract("batch_norm2d")
def batch_norm2d(draw, values, ctx):
    x, t, lay = _image(draw, values, ctx, 1)
    return Drawn((x,), {"nd": 2, "channels": lay.channels(t), "eps": draw(st.sampled_from([1e-5, 1e-3]))}, t)


@abstract("instance_norm2d")
def instance_norm2d(draw, values, ctx):
    x, t, lay = _image(draw, values, ctx, 2)       # one pixel per channel has no spread to normalize
    return Drawn((x,), {"nd": 2, "channels": lay.channels(t), "eps": 1e-5}, t)


@abstract("group_norm")
def group_norm(draw, values, ctx):
    x, t, lay = _image(draw, values, ctx, 2)
    groups = draw(st.sampled_from(divisors(lay.channels(t))))
    return Drawn((x,), {"groups": groups, "channels": lay.channels(t), "eps": 1e-5}, t)


def _pixel(name, up: bool):
    @abstract(name)
    def rule(draw, values, ctx):
        factor = 2                  # tf.nn.depth_to_space wants a block of at least 2
        if up:
            x, t, lay = _image(draw, values, ctx, 1, channels_of=lambda c: c % (factor * factor) == 0)
            out = lay.image(t, lay.channels(t) // factor ** 2, tuple(s * factor for s in lay.sides(t)))
        else:
            x, t, lay = _image(draw, values, ctx, factor, side_step=factor)
            out = lay.image(t, lay.channels(t) * factor ** 2, tuple(s // factor for s in lay.sides(t)))
        return Drawn((x,), {"factor": factor}, out)
    return rule


_pixel("pixel_shuffle", True)
_pixel("pixel_unshuffle", False)


def _resize(name, mode):
    @abstract(name)
    def rule(draw, values, ctx):
        x, t, lay = _image(draw, values, ctx, 1)
        size = [draw(st.integers(1, 9)), draw(st.integers(1, 9))]
        attrs = {"mode": mode, "size": size}
        if mode == "linear":
            attrs["align_corners"] = False
        return Drawn((x,), attrs, lay.image(t, lay.channels(t), tuple(size)))
    return rule


_resize("interpolate_nearest", "nearest")
_resize("interpolate_bilinear", "linear")


def _recurrent(name, cell):
    @abstract(name)
    def rule(draw, values, ctx):
        """(batch, steps, features) batch-first; torch and Paddle give (output, state): item 0."""
        # the gates are contractions: see matmul (a GRU fed 3.4e38 and -inf: NaN in paddle, 0 from
        # the reference executor's one matmul over all steps)
        x = first(draw, values, ctx, ("float32",), min_rank=3, max_rank=3, free_ok=lambda a, r: a == 0,
                  corners=CORNERS_FLOAT_MODERATE)
        t = type_of(values, x)
        hidden, both = draw(st.integers(1, 5)), draw(st.booleans())
        attrs = {"cell": cell, "input": t.shape[-1], "hidden": hidden, "layers": draw(st.integers(1, 2)),
                 "bidirectional": both}
        out = TensorType(t.shape[:2] + (hidden * (2 if both else 1),), "float32", t.free)
        return with_item(Drawn((x,), attrs, out), 0)
    return rule


_recurrent("rnn", "rnn")
_recurrent("lstm", "lstm")
_recurrent("gru", "gru")


@abstract("linear")
def linear(draw, values, ctx):
    low = 2 if ctx.framework == "tensorflow" else 1          # keras Dense wants rank >= 2
    x = first(draw, values, ctx, ("float32",), min_rank=low, max_rank=3, free_ok=lambda a, r: a != r - 1,
              corners=CORNERS_FLOAT_MODERATE)     # a contraction: see matmul
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
