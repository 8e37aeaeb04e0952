"""MindSpore builders for operator specs, derived from the table's torch calls. Imported only
inside the MindSpore worker.

MindSpore's ``mindspore.mint`` mirrors torch's API (``mint.abs``, ``mint.nn.functional.relu``,
``mint.nn.Conv2d``): a torch call ``torch.X`` is built as ``mindspore.mint.X``, with the torch
keywords as they are. A name that ``mint`` lacks, and a torch custom builder with no MindSpore
counterpart here, make the case ``unsupported``, naming the op; so does an op MindSpore has no
CPU kernel for (said by the kernel's name), and a mint function that refuses torch's arguments.
The custom builders (conv, pool, norms, ...) follow torch_ops' attribute handling. Each cell's
``construct`` is plain enough for MindSpore's graph compiler, which both exporters run.
"""
from __future__ import annotations

import mindspore
from mindspore import nn

from conformance.errors import UnsupportedOperator
from converters.frameworks import run_source

from . import builder as base

_DTYPES = {"float32": mindspore.float32, "float16": mindspore.float16, "float64": mindspore.float64,
           "int32": mindspore.int32, "int64": mindspore.int64, "bool": mindspore.bool_, "int8": mindspore.int8,
           "uint8": mindspore.uint8}


def mint_name(torch_name: str) -> str:
    """``torch.nn.functional.relu`` -> ``mindspore.mint.nn.functional.relu``."""
    if not torch_name.startswith("torch."):
        raise UnsupportedOperator(f"{torch_name} is not a torch API name; no mindspore.mint counterpart")
    return "mindspore.mint." + torch_name.removeprefix("torch.")


def resolve(torch_name: str):
    """The ``mindspore.mint`` object for a torch name, or ``unsupported`` naming it."""
    name = mint_name(torch_name)
    try:
        return base.resolve(name, {"mindspore": mindspore})
    except AttributeError:
        raise UnsupportedOperator(f"mindspore.mint has no {name.removeprefix('mindspore.mint.')} "
                                  f"(the table's torch call {torch_name})") from None


def _value(key: str, value):
    """A keyword's value as MindSpore takes it: dtype names as dtypes, lists (JSON's only
    sequence) as tuples, which mint's shape and permutation arguments require."""
    if key == "dtype" and isinstance(value, str):
        return _DTYPES[value]
    if isinstance(value, list):
        return tuple(_value("", v) for v in value)
    return value


def _kwargs(kwargs: dict) -> dict:
    return {k: _value(k, v) for k, v in kwargs.items()}


class CallOp(nn.Cell):
    """construct(*tensors) = fn(*pre, *tensors, **kwargs): one cell for every functional op."""

    def __init__(self, fn, kwargs: dict, pre=()):
        super().__init__()
        self.fn, self.kwargs, self.pre = fn, _kwargs(kwargs), tuple(pre)

    def construct(self, *xs):
        return self.fn(*self.pre, *xs, **self.kwargs)


class PackedOp(CallOp):
    """fn([tensors], **kwargs): concat, stack."""

    def construct(self, *xs):
        return self.fn(list(xs), **self.kwargs)


class MethodOp(CallOp):
    """tensors[0].<name>(*tensors[1:], **kwargs)."""

    def __init__(self, name: str, kwargs: dict):
        super().__init__(None, kwargs)
        self.name = name

    def construct(self, *xs):
        return getattr(xs[0], self.name)(*xs[1:], **self.kwargs)


class ItemOp(nn.Cell):
    def __init__(self, index):
        super().__init__()
        self.index = index

    def construct(self, x):
        return x[self.index]


def randomize(cell: nn.Cell, seed: int, scale: float = 0.5) -> nn.Cell:
    """Seeded, non-trivial parameters (and BatchNorm statistics: MindSpore keeps them as
    parameters, ``running_var`` positive), as torch_ops does."""
    def assign(param, values):
        param.set_data(mindspore.Tensor(values))

    base.randomize_tensors(list(cell.parameters_and_names()), seed, assign, positive="var",
                           is_float=lambda p: p.dtype in (mindspore.float32, mindspore.float16), scale=scale)
    return cell


def _module(torch_class: str, *args, **kwargs):
    return resolve(f"torch.nn.{torch_class}")(*args, **kwargs)


# ---------------------------------------------------------------- custom builders (torch_ops' names)
# Convolution and BatchNorm are built with the classic ``mindspore.nn`` cells: their ``mint.nn``
# twins have no CPU kernel in MindSpore 2.10 ("The kernel Conv2DExt unregistered", "BatchNormExt"),
# so through mint every conv and BatchNorm case would be ``unsupported`` on CPU.
def _per_dim(value, nd: int):
    """A torch-style size for a classic cell: an int for 1-d cells, a tuple of ``nd`` otherwise."""
    if nd == 1:
        return value[0] if isinstance(value, (list, tuple)) else value
    return base.per_dim(value, nd)


def conv(a, seed):
    nd, pad = a["nd"], a.get("pad", 0)
    # classic cells take explicit pads as (begin, end) per spatial axis, flattened (1-d: one int)
    padding = 0 if pad == "same" else (_per_dim(pad, 1) if nd == 1 else
                                       tuple(p for v in base.per_dim(pad, nd) for p in (v, v)))
    cell = getattr(nn, f"Conv{nd}d")(
        a["in"], a["out"], _per_dim(a["kernel"], nd), stride=_per_dim(a.get("stride", 1), nd),
        pad_mode="same" if pad == "same" else "pad", padding=padding, dilation=_per_dim(a.get("dilation", 1), nd),
        group=a.get("groups", 1), has_bias=a.get("bias", True))
    return randomize(cell, seed)


depthwise_conv = conv


def conv_transpose(a, seed):
    return randomize(_module(f"ConvTranspose{a['nd']}d", a["in"], a["out"], a["kernel"], **base.conv_kwargs(a),
                             output_padding=a.get("output_padding", 0)), seed)


def pool(a, seed):
    nd, kind = a["nd"], a["type"]
    if kind in ("global_avg", "global_max"):
        return CallOp(resolve(f"torch.nn.functional.adaptive_{kind.split('_')[1]}_pool{nd}d"), {"output_size": 1})
    if kind.startswith("adaptive"):
        return CallOp(resolve(f"torch.nn.functional.{kind}_pool{nd}d"), {"output_size": a["output_size"]})
    if kind not in ("max", "avg"):
        raise UnsupportedOperator(f"no MindSpore builder for {kind} pooling")
    pad = a.get("pad", 0)
    if pad == "same":           # symmetric "same" only (stride 1, odd kernel), as torch_ops
        pad = a["kernel"] // 2
    kwargs = dict(kernel_size=a["kernel"], stride=a.get("stride"), padding=pad, ceil_mode=a.get("ceil_mode", False))
    if kind == "max":
        kwargs["dilation"] = a.get("dilation", 1)
    else:
        kwargs["count_include_pad"] = a.get("count_include_pad", True)
    return CallOp(resolve(f"torch.nn.functional.{kind}_pool{nd}d"), kwargs)


def batch_norm(a, seed):
    return randomize(getattr(nn, f"BatchNorm{a['nd']}d")(a["channels"], eps=a["eps"]), seed)


def layer_norm(a, seed):
    return randomize(_module("LayerNorm", a["shape"], eps=a["eps"]), seed)


def group_norm(a, seed):
    return randomize(_module("GroupNorm", a["groups"], a["channels"], eps=a["eps"]), seed)


def prelu(a, seed):
    return randomize(_module("PReLU", a["channels"]), seed)


def linear(a, seed):
    return randomize(_module("Linear", a["in"], a["out"], bias=a["bias"]), seed)


def embedding(a, seed):
    return randomize(_module("Embedding", a["num"], a["dim"], padding_idx=a.get("padding_idx")), seed)


def pad(a, seed):
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}[a["mode"]]
    flat = [v for pair in reversed(a["pads"]) for v in pair]       # last dim first, as torch
    if mode != "constant":
        flat = flat[:4]
    kwargs = {"pad": tuple(flat), "mode": mode}
    if mode == "constant":
        kwargs["value"] = a.get("value", 0.0)
    return CallOp(resolve("torch.nn.functional.pad"), kwargs)


def resize(a, seed):
    """``a["spatial"]``: the input's spatial rank (``MindSporeOps.custom`` adds it)."""
    modes = {"nearest": "nearest", "nearest-exact": "nearest-exact", "cubic": "bicubic", "area": "area",
             "linear": {1: "linear", 2: "bilinear", 3: "trilinear"}[a["spatial"]]}
    kwargs = {"size": tuple(a["size"])} if "size" in a else {"scale_factor": float(a["scale"])}
    kwargs["mode"] = modes[a["mode"]]
    if a["mode"] in ("linear", "cubic"):
        kwargs["align_corners"] = a.get("align_corners", False)
    return CallOp(resolve("torch.nn.functional.interpolate"), kwargs)


# ---------------------------------------------------------------- entry point
class MindSporeOps(base.OpBuilder):
    def seed(self, seed):
        mindspore.set_seed(seed)

    def custom(self, name, attrs, inputs, seed):
        builder = globals().get(name)
        if not callable(builder) or name.startswith("_"):
            raise UnsupportedOperator(f"no MindSpore builder for the table's torch builder {name!r}")
        return builder(dict(attrs, spatial=inputs[0].ndim - 2) if inputs else attrs, seed)

    def module(self, call, inputs, seed):
        return randomize(resolve(call["target"])(**_kwargs(call["kwargs"])), seed)

    def call_op(self, call, inputs):
        if call["kind"] == "method":
            return MethodOp(call["target"], call["kwargs"])
        if call["kind"] == "getitem":
            return ItemOp(base.slices(call["kwargs"]["slices"]))
        if call.get("names"):
            raise UnsupportedOperator(f"no MindSpore builder for keyword-tensor calls ({call['target']})")
        fn = resolve(call["target"])
        if call.get("packed"):
            return PackedOp(fn, call["kwargs"])
        return CallOp(fn, call["kwargs"], call.get("pre") or ())

    def finish(self, model):
        model.set_train(False)
        return model

    def build(self, params, seed):
        """The case, tried once on its sample: a ``mint`` function that exists but refuses the
        torch call's arguments (``mint.std`` takes no ``unbiased``, ``mint.squeeze`` needs a
        ``dim``) has no torch-shaped counterpart, so the case is ``unsupported`` with its words."""
        built = super().build(params, seed)
        try:
            run_source("mindspore", built)       # an op without a CPU kernel: unsupported there, by name
        except (TypeError, ValueError) as exc:
            said = (str(exc).strip().splitlines() or [""])[0][:300]
            raise UnsupportedOperator(f"MindSpore refuses the table's torch call {params['call']['target']} "
                                      f"as mindspore.mint's: {type(exc).__name__}: {said}") from exc
        return built


build = MindSporeOps().build
