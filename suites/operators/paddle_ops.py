"""Paddle builders for operator specs. Imported only inside the paddle worker.

paddle.jit.save traces ``forward`` with dy2static; a forward over ``*xs`` is fine, but
closures are not always, so every model here is a ``paddle.nn.Layer`` whose forward reads its
configuration from attributes.
"""
from __future__ import annotations

import paddle
from paddle.nn import functional as F

from . import builder as base


def resolve(dotted: str):
    return base.resolve(dotted, {"paddle": paddle})


class CallOp(paddle.nn.Layer):
    def __init__(self, call: dict):
        super().__init__()
        self.call = call
        self.kind = call["kind"]
        self.f = resolve(call["target"]) if self.kind == "fn" else None
        self.kwargs = dict(call["kwargs"])
        self.sl = base.slices(self.kwargs["slices"]) if self.kind == "getitem" else None

    def apply(self, xs):
        if self.kind == "getitem":
            return xs[0][self.sl]
        return base.invoke(self.f, self.call, xs, self.kwargs)


class Apply(paddle.nn.Layer):  # noqa: D101 - instantiated through apply_layer
    """forward(*xs) = fn(layer, *xs) with ``layer`` registered as a sublayer (its parameters saved)."""

    def __init__(self, fn, layer=None):
        super().__init__()
        self.fn = fn
        self.layer = layer

    def apply(self, xs):
        return self.fn(self.layer, *xs)


# dy2static rejects ``forward(self, *xs)`` (it counts 0 arguments against the InputSpec):
# one subclass per arity gives it a fixed signature.
def _with_arity(base):
    def f1(self, x0):
        return self.apply([x0])

    def f2(self, x0, x1):
        return self.apply([x0, x1])

    def f3(self, x0, x1, x2):
        return self.apply([x0, x1, x2])

    def f4(self, x0, x1, x2, x3):
        return self.apply([x0, x1, x2, x3])
    return {n: type(f"{base.__name__}{n}", (base,), {"forward": f}) for n, f in ((1, f1), (2, f2), (3, f3), (4, f4))}


_CALL_OPS = _with_arity(CallOp)
_APPLY = _with_arity(Apply)


def apply_layer(fn, layer=None, arity=1):
    return _APPLY[arity](fn, layer)


def _is_float(t) -> bool:
    return t.dtype.name.lower().startswith("float") or "FP" in str(t.dtype)


def randomize(layer: paddle.nn.Layer, seed: int, scale: float = 0.5):
    base.randomize_tensors(list(layer.named_parameters()) + list(layer.named_buffers()), seed,
                           lambda t, values: t.set_value(values), positive="variance", is_float=_is_float, scale=scale)
    return layer


# ---------------------------------------------------------------- custom builders
def conv(a, seed):
    nd, kwargs = a["nd"], base.conv_kwargs(a)
    if kwargs["padding"] == "same":
        kwargs["padding"] = "SAME"
    cls = getattr(paddle.nn, f"Conv{nd}D")
    return randomize(cls(a["in"], a["out"], base.per_dim(a["kernel"], nd, list),
                         bias_attr=None if a.get("bias", True) else False, **kwargs), seed)


depthwise_conv = conv


def conv_transpose(a, seed):
    return randomize(base.conv_transpose(paddle.nn, "Conv{nd}DTranspose", a), seed)


def pool(a, seed):
    nd, kind = a["nd"], a["type"]
    if kind == "global_avg":
        return apply_layer(lambda _, x: F.adaptive_avg_pool2d(x, 1))
    if kind == "global_max":
        return apply_layer(lambda _, x: F.adaptive_max_pool2d(x, 1))
    if kind.startswith("adaptive"):
        f = getattr(F, f"{kind}_pool{nd}d")
        size = a["output_size"]
        return apply_layer(lambda _, x: f(x, size))
    pad = a.get("pad", 0)
    kw = dict(kernel_size=a["kernel"], stride=a.get("stride"), padding="SAME" if pad == "same" else pad,
              ceil_mode=a.get("ceil_mode", False))
    if kind == "max":
        return getattr(paddle.nn, f"MaxPool{nd}D")(**kw)
    if kind == "avg":
        # paddle's `exclusive` is torch's `not count_include_pad`
        return getattr(paddle.nn, f"AvgPool{nd}D")(exclusive=not a.get("count_include_pad", True), **kw)
    raise ValueError(kind)


def batch_norm(a, seed):
    return randomize(getattr(paddle.nn, f"BatchNorm{a['nd']}D")(a["channels"], epsilon=a["eps"]), seed)


def layer_norm(a, seed):
    return randomize(paddle.nn.LayerNorm(a["shape"], epsilon=a["eps"]), seed)


def instance_norm(a, seed):
    return randomize(getattr(paddle.nn, f"InstanceNorm{a['nd']}D")(a["channels"], epsilon=a["eps"]), seed)


def group_norm(a, seed):
    return randomize(paddle.nn.GroupNorm(a["groups"], a["channels"], epsilon=a["eps"]), seed)


def prelu(a, seed):
    return randomize(paddle.nn.PReLU(num_parameters=a["channels"]), seed)


def linear(a, seed):
    return randomize(paddle.nn.Linear(a["in"], a["out"], bias_attr=None if a["bias"] else False), seed)


def embedding(a, seed):
    return randomize(paddle.nn.Embedding(a["num"], a["dim"], padding_idx=a.get("padding_idx")), seed)


def pad(a, seed):
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}[a["mode"]]
    if mode == "constant":      # a pad list of 2 * ndim pads every dim, first dim first
        flat = [v for pair in a["pads"] for v in pair]
        value = a.get("value", 0.0)
        return apply_layer(lambda _, x: paddle.nn.functional.pad(x, flat, mode="constant", value=value))
    # reflect/replicate: [left, right, top, bottom] of an NCHW input, as in torch
    flat = [v for pair in reversed(a["pads"][2:]) for v in pair]
    return apply_layer(lambda _, x: paddle.nn.functional.pad(x, flat, mode=mode, data_format="NCHW"))


def resize(a, seed):
    mode, align = a["mode"], a.get("align_corners", False)

    def f(_, x):
        n = len(x.shape) - 2
        pmode = {"nearest": "nearest", "cubic": "bicubic", "area": "area",
                 "linear": {1: "linear", 2: "bilinear", 3: "trilinear"}[n]}[mode]
        kw = {"size": a["size"]} if "size" in a else {"scale_factor": float(a["scale"])}
        fmt = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[n]
        if mode in ("linear", "cubic"):
            kw["align_corners"] = align
        return paddle.nn.functional.interpolate(x, mode=pmode, data_format=fmt, **kw)
    return apply_layer(f)


def rnn(a, seed):
    cls = {"rnn": paddle.nn.SimpleRNN, "lstm": paddle.nn.LSTM, "gru": paddle.nn.GRU}[a["cell"]]
    return randomize(cls(a["input"], a["hidden"], num_layers=a.get("layers", 1),
                         direction="bidirect" if a.get("bidirectional") else "forward"), seed)


def rnn_cell(a, seed):
    cls = {"rnn": paddle.nn.SimpleRNNCell, "lstm": paddle.nn.LSTMCell, "gru": paddle.nn.GRUCell}[a["cell"]]
    cell = randomize(cls(a["input"], a["hidden"]), seed)
    # paddle cells return (output, new_state) where output is new h: return each tensor once,
    # as torch does (h for RNN/GRU cells, (h, c) for LSTM cells)
    if a["cell"] == "lstm":
        return apply_layer(lambda c, x, h, s: c(x, (h, s))[1], cell, 3)
    return apply_layer(lambda c, x, h: c(x, h)[1], cell, 2)


def multihead_attention(a, seed):
    mha = randomize(paddle.nn.MultiHeadAttention(a["embed"], a["heads"]), seed)
    if a["self"]:
        return apply_layer(lambda m, x: m(x, x, x), mha)
    return apply_layer(lambda m, q, kv: m(q, kv, kv), mha, 2)


def index_put(a, seed):
    # paddle.index_put takes its indices as a tuple of tensors, one per leading axis
    accumulate = a.get("accumulate", False)
    return apply_layer(lambda _, x, i, v: paddle.index_put(x, (i,), v, accumulate=accumulate), arity=3)


def plus_created(a, seed):
    # a creation op (linspace, arange, eye, full) has no input; paddle.jit.save needs a feed that
    # the output depends on, so the created tensor is added to the case's input
    create, args = resolve("paddle." + a["api"]), a["args"]
    return apply_layer(lambda _, x: x + create(**args))


def roi_align(a, seed):
    # boxes are drawn as [x1, y1, w, h] in the sample and made valid corners here (x2 >= x1);
    # every box belongs to image 0 (boxes_num is part of the model, not an input)
    kw = {k: a[k] for k in ("output_size", "spatial_scale", "sampling_ratio", "aligned") if k in a}
    if isinstance(kw["output_size"], list):      # roi_align takes an int or a tuple, not a list
        kw["output_size"] = tuple(kw["output_size"])

    def f(_, x, b):
        boxes = paddle.concat([b[:, :2], b[:, :2] + b[:, 2:] + 1.0], axis=1)
        num = paddle.full([1], b.shape[0], dtype="int32")
        return paddle.vision.ops.roi_align(x, boxes, num, **kw)
    return apply_layer(f, arity=2)


# ---------------------------------------------------------------- entry point
class PaddleOps(base.OpBuilder):
    def seed(self, seed):
        paddle.seed(seed)

    def module(self, call, inputs, seed):
        return randomize(resolve(call["target"])(**call["kwargs"]), seed)

    def call_op(self, call, inputs):
        return _CALL_OPS[len(inputs)](call)

    def finish(self, model):
        model.eval()
        return model


build = PaddleOps().build
