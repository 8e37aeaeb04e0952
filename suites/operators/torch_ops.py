"""PyTorch builders for operator specs. Imported only inside the torch worker."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from . import builder as base

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "float64": torch.float64, "int32": torch.int32,
           "int64": torch.int64, "bool": torch.bool, "int8": torch.int8, "uint8": torch.uint8}


def resolve(dotted: str):
    return base.resolve(dotted, {"torch": torch})


def _kwargs(kwargs: dict) -> dict:
    return {k: (_DTYPES[v] if k == "dtype" and isinstance(v, str) else v) for k, v in kwargs.items()}


class CallOp(torch.nn.Module):
    """forward(*tensors) calls the op with the spec's keywords: one Module for every functional op."""

    def __init__(self, call: dict):
        super().__init__()
        self.call = call
        self.kind = call["kind"]
        self.target = call["target"]
        self.fn = resolve(call["target"]) if self.kind == "fn" else None
        self.kwargs = _kwargs(call["kwargs"])

    def forward(self, *xs):
        if self.kind == "method":
            return getattr(xs[0], self.target)(*xs[1:], **self.kwargs)
        if self.kind == "getitem":
            return xs[0][base.slices(self.kwargs["slices"])]
        return base.invoke(self.fn, self.call, xs, self.kwargs)


def randomize(module: torch.nn.Module, seed: int, scale: float = 0.5) -> torch.nn.Module:
    def assign(tensor, values):
        tensor.copy_(torch.from_numpy(values))

    with torch.no_grad():
        base.randomize_tensors(list(module.named_parameters()) + list(module.named_buffers()), seed, assign,
                               positive="var", is_float=lambda t: t.is_floating_point(), scale=scale)
    return module


class Fn(torch.nn.Module):
    def __init__(self, f, *children):
        super().__init__()
        self.f = f
        self.children_ = torch.nn.ModuleList(children)

    def forward(self, *xs):
        return self.f(*xs)


# ---------------------------------------------------------------- custom builders
def conv(a, seed):
    cls = getattr(torch.nn, f"Conv{a['nd']}d")
    return randomize(cls(a["in"], a["out"], base.per_dim(a["kernel"], a["nd"]), bias=a.get("bias", True),
                         **base.conv_kwargs(a)), seed)


depthwise_conv = conv


def conv_transpose(a, seed):
    return randomize(base.conv_transpose(torch.nn, "ConvTranspose{nd}d", a), seed)


def pool(a, seed):
    nd, kind = a["nd"], a["type"]
    if kind in ("global_avg", "global_max"):
        f = F.adaptive_avg_pool2d if kind == "global_avg" else F.adaptive_max_pool2d
        return Fn(lambda x: f(x, 1))
    if kind.startswith("adaptive"):
        f = getattr(F, f"{kind}_pool{nd}d")
        return Fn(lambda x: f(x, a["output_size"]))
    pad = a.get("pad", 0)
    if pad == "same":           # symmetric "same" only: stride 1, odd kernel
        assert a.get("stride", 1) == 1 and a["kernel"] % 2 == 1, "torch pools have no asymmetric 'same'"
        pad = a["kernel"] // 2
    common = dict(kernel_size=a["kernel"], stride=a.get("stride"), padding=pad, ceil_mode=a.get("ceil_mode", False))
    if kind == "max":
        m = getattr(torch.nn, f"MaxPool{nd}d")(dilation=a.get("dilation", 1), **common)
    elif kind == "avg":
        m = getattr(torch.nn, f"AvgPool{nd}d")(count_include_pad=a.get("count_include_pad", True), **common)
    elif kind == "lp":
        m = getattr(torch.nn, f"LPPool{nd}d")(a["p"], a["kernel"], stride=a.get("stride"))
    else:
        raise ValueError(kind)
    return m


def batch_norm(a, seed):
    return randomize(getattr(torch.nn, f"BatchNorm{a['nd']}d")(a["channels"], eps=a["eps"]), seed)


def layer_norm(a, seed):
    return randomize(torch.nn.LayerNorm(a["shape"], eps=a["eps"]), seed)


def instance_norm(a, seed):
    return randomize(getattr(torch.nn, f"InstanceNorm{a['nd']}d")(a["channels"], eps=a["eps"], affine=True), seed)


def group_norm(a, seed):
    return randomize(torch.nn.GroupNorm(a["groups"], a["channels"], eps=a["eps"]), seed)


def rms_norm(a, seed):
    return randomize(torch.nn.RMSNorm(a["shape"], eps=a["eps"]), seed)


def prelu(a, seed):
    return randomize(torch.nn.PReLU(a["channels"]), seed)


def linear(a, seed):
    return randomize(torch.nn.Linear(a["in"], a["out"], bias=a["bias"]), seed)


def embedding(a, seed):
    return randomize(torch.nn.Embedding(a["num"], a["dim"], padding_idx=a.get("padding_idx")), seed)


def pad(a, seed):
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}[a["mode"]]
    flat = [v for pair in reversed(a["pads"]) for v in pair]       # last dim first
    # reflect/replicate pad only the trailing dims: drop leading zero pairs
    if mode != "constant":
        flat = flat[:4]
    value = a.get("value", 0.0) if mode == "constant" else None
    return Fn(lambda x: torch.nn.functional.pad(x, flat, mode=mode, value=value))


def index_put(a, seed):
    return Fn(lambda x, idx, v: x.index_put((idx[:, 0],), v))


def resize(a, seed):
    nd = len(a["size"]) if "size" in a else None
    mode = a["mode"]

    def f(x):
        n = x.dim() - 2
        tmode = {"nearest": "nearest", "nearest-exact": "nearest-exact", "cubic": "bicubic", "area": "area",
                 "linear": {1: "linear", 2: "bilinear", 3: "trilinear"}[n]}[mode]
        kw = {"size": a["size"]} if nd else {"scale_factor": float(a["scale"])}
        if mode in ("linear", "cubic"):
            kw["align_corners"] = a.get("align_corners", False)
        return torch.nn.functional.interpolate(x, mode=tmode, **kw)
    return Fn(f)


def rnn(a, seed):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[a["cell"]]
    return randomize(cls(a["input"], a["hidden"], num_layers=a.get("layers", 1), batch_first=True,
                         bidirectional=a.get("bidirectional", False)), seed)


def rnn_cell(a, seed):
    cls = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[a["cell"]]
    cell = randomize(cls(a["input"], a["hidden"]), seed)
    if a["cell"] == "lstm":
        return Fn(lambda x, h, c: cell(x, (h, c)), cell)
    return Fn(lambda x, h: cell(x, h), cell)


def multihead_attention(a, seed):
    mha = randomize(torch.nn.MultiheadAttention(a["embed"], a["heads"], batch_first=True), seed)
    mha.eval()
    if a["self"]:
        return Fn(lambda x: mha(x, x, x)[0], mha)
    return Fn(lambda q, kv: mha(q, kv, kv)[0], mha)


class Positional(torch.nn.Module):
    """``model`` over named positional inputs: torch.onnx's dynamo exporter maps dynamic axes
    onto the forward signature, which a ``*xs`` signature breaks ("Failed to convert
    'dynamic_axes' to 'dynamic_shapes'")."""

    def __init__(self, model: torch.nn.Module, count: int):
        super().__init__()
        self.model, self.count = model, count

    def forward(self, x0, x1=None, x2=None, x3=None, x4=None, x5=None, x6=None, x7=None):
        return self.model(*[x0, x1, x2, x3, x4, x5, x6, x7][:self.count])


# ---------------------------------------------------------------- entry point
class TorchOps(base.OpBuilder):
    def seed(self, seed):
        torch.manual_seed(seed)

    def module(self, call, inputs, seed):
        return randomize(resolve(call["target"])(**_kwargs(call["kwargs"])), seed)

    def call_op(self, call, inputs):
        return CallOp(call)

    def finish(self, model):
        if any(self.dynamic):          # a dynamic twin: exported with dynamic axes by name
            model = Positional(model, len(self.dynamic))
        return model.eval()


build = TorchOps().build
