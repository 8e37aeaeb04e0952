"""Operator specs: the declarative table, in the spirit of PyTorch's OpInfo.

One ``OpSpec`` per operator (see ``table``): the ONNX op(s) it should become, how each
framework calls it (referenced by dotted name, resolved inside that framework's worker, so
this module imports no framework), its sample inputs and its attribute grid. This module holds
the ops several frameworks share; ``specs_tensorflow`` and ``specs_paddle`` add the rest of
each framework's surface. ``case_specs()`` turns the whole table into ``CaseSpec``s; the
builders in ``torch_ops`` / ``tf_ops`` / ``paddle_ops`` interpret a case's params, and nothing
else about an op lives anywhere but here.
"""
from __future__ import annotations

from dataclasses import replace

from conformance.cases import CaseSpec, dynamic_twin

from . import samples
from .table import (DEFAULT_CONVERTERS, FRAMEWORK_MODULES, FRAMEWORKS, PADDLE_DIM, TABLE, TORCH_BOTH,  # noqa: F401 - re-exported
                    TORCH_DIM, TORCH_SCRIPT_ONLY, WITH_DYNAMO, Call, OpSpec, T, V, Variant, X, custom, custom_op, fn, op)


# ----------------------------------------------------------------------------------------
# Elementwise unary math
# ----------------------------------------------------------------------------------------
_UNARY = [
    # name, onnx, torch, tensorflow, paddle, input domain kwargs, extra variants
    ("abs", "Abs", "torch.abs", "tf.math.abs", "paddle.abs", {"avoid": [0.0]},
     [V("int32", inputs=(T(3, 7, dtype="int32"),)), V("scalar", inputs=(T(),))]),
    ("neg", "Neg", "torch.neg", "tf.math.negative", "paddle.neg", {},
     [V("int64", inputs=(T(2, 5, dtype="int64"),))]),
    ("exp", "Exp", "torch.exp", "tf.math.exp", "paddle.exp", {},
     [V("fp16", only=("torch", "tensorflow"), inputs=(T(2, 3, 5, dtype="float16"),)), V("empty", inputs=(T(0, 4),))]),
    ("log", "Log", "torch.log", "tf.math.log", "paddle.log", {"domain": "positive"}, []),
    ("sqrt", "Sqrt", "torch.sqrt", "tf.math.sqrt", "paddle.sqrt", {"domain": "positive"},
     [V("size1", inputs=(T(1, 5, 1, domain="positive"),))]),
    ("rsqrt", ("Sqrt", "Reciprocal"), "torch.rsqrt", "tf.math.rsqrt", "paddle.rsqrt", {"domain": "positive"}, []),
    ("reciprocal", "Reciprocal", "torch.reciprocal", "tf.math.reciprocal", "paddle.reciprocal", {"domain": "nonzero"}, []),
    ("sin", "Sin", "torch.sin", "tf.math.sin", "paddle.sin", {}, []),
    ("cos", "Cos", "torch.cos", "tf.math.cos", "paddle.cos", {}, []),
    ("tan", "Tan", "torch.tan", "tf.math.tan", "paddle.tan", {"domain": "uniform", "low": -1.2, "high": 1.2}, []),
    ("asin", "Asin", "torch.asin", "tf.math.asin", "paddle.asin", {"domain": "uniform", "low": -0.95, "high": 0.95}, []),
    ("acos", "Acos", "torch.acos", "tf.math.acos", "paddle.acos", {"domain": "uniform", "low": -0.95, "high": 0.95}, []),
    ("atan", "Atan", "torch.atan", "tf.math.atan", "paddle.atan", {}, []),
    ("sinh", "Sinh", "torch.sinh", "tf.math.sinh", "paddle.sinh", {}, []),
    ("cosh", "Cosh", "torch.cosh", "tf.math.cosh", "paddle.cosh", {}, []),
    ("tanh", "Tanh", "torch.tanh", "tf.math.tanh", "paddle.tanh", {},
     [V("fp16", only=("torch", "tensorflow"), inputs=(T(4, 6, dtype="float16"),))]),
    ("asinh", "Asinh", "torch.asinh", "tf.math.asinh", "paddle.asinh", {}, []),
    ("acosh", "Acosh", "torch.acosh", "tf.math.acosh", "paddle.acosh", {"domain": "positive", "low": 1.05, "high": 4.0}, []),
    ("atanh", "Atanh", "torch.atanh", "tf.math.atanh", "paddle.atanh", {"domain": "uniform", "low": -0.9, "high": 0.9}, []),
    ("floor", "Floor", "torch.floor", "tf.math.floor", "paddle.floor", {"domain": "frac"}, []),
    ("ceil", "Ceil", "torch.ceil", "tf.math.ceil", "paddle.ceil", {"domain": "frac"}, []),
    ("round", "Round", "torch.round", "tf.math.round", "paddle.round", {"domain": "frac"}, []),
    ("sign", "Sign", "torch.sign", "tf.math.sign", "paddle.sign", {"avoid": [0.0]},
     [V("int32", inputs=(T(4, 5, dtype="int32", low=-2, high=3),))]),
    ("erf", "Erf", "torch.erf", "tf.math.erf", "paddle.erf", {}, []),
    ("log1p", ("Log", "Add"), "torch.log1p", "tf.math.log1p", "paddle.log1p", {"domain": "positive", "low": -0.5}, []),
    ("expm1", ("Exp", "Sub"), "torch.expm1", "tf.math.expm1", "paddle.expm1", {}, []),
    ("square", "Mul", "torch.square", "tf.math.square", "paddle.square", {}, []),
    ("sigmoid", "Sigmoid", "torch.sigmoid", "tf.math.sigmoid", "paddle.nn.functional.sigmoid", {},
     [V("scalar", inputs=(T(),))]),
    ("logical_not", "Not", "torch.logical_not", "tf.math.logical_not", "paddle.logical_not", {"dtype": "bool"}, []),
    ("isnan", "IsNaN", "torch.isnan", "tf.math.is_nan", "paddle.isnan", {"domain": "special"}, []),
    ("isinf", "IsInf", "torch.isinf", "tf.math.is_inf", "paddle.isinf", {"domain": "special"}, []),
]
_UNARY_DYNAMO = ("exp", "erf", "sigmoid")
_UNARY_SHAPES = [(3, 4, 5), (2, 7), (4, 1, 6), (5,), (2, 3, 3, 3)]

for i, (name, onnx_ops, t, f, p, dom, extra) in enumerate(_UNARY):
    shape = _UNARY_SHAPES[i % len(_UNARY_SHAPES)]
    op(name, onnx_ops, [T(*shape, **dom)], [V("default", converters=WITH_DYNAMO if name in _UNARY_DYNAMO else {})] + extra,
       calls={"torch": fn(t), "tensorflow": fn(f), "paddle": fn(p)})

# ----------------------------------------------------------------------------------------
# Elementwise binary math, logic and comparisons
# ----------------------------------------------------------------------------------------
_BCAST = (T(3, 1, 5), T(4, 5))
op("add", "Add", _BCAST, [
    V("bcast", converters=WITH_DYNAMO),
    V("same-shape", inputs=(T(2, 3, 4), T(2, 3, 4))),
    V("scalar-rhs", inputs=(T(3, 4), T())),
    V("fp16", only=("torch", "tensorflow"), inputs=(T(4, 6, dtype="float16"), T(6, dtype="float16"))),
    V("int32", inputs=(T(3, 5, dtype="int32"), T(1, 5, dtype="int32"))),
    V("int64", inputs=(T(2, 5, dtype="int64"), T(2, 1, dtype="int64"))),
    V("empty", inputs=(T(0, 3), T(1, 3))),
], calls={"torch": fn("torch.add"), "tensorflow": fn("tf.math.add"), "paddle": fn("paddle.add")})
op("sub", "Sub", _BCAST, [V("bcast"), V("int32", inputs=(T(4, 3, dtype="int32"), T(3, dtype="int32")))],
   calls={"torch": fn("torch.sub"), "tensorflow": fn("tf.math.subtract"), "paddle": fn("paddle.subtract")})
op("mul", "Mul", _BCAST, [V("bcast", converters=WITH_DYNAMO), V("int64", inputs=(T(2, 3, dtype="int64"), T(2, 3, dtype="int64"))),
                          V("size1", inputs=(T(1, 1, 4, free=[]), T(3, 1, 1)))],
   calls={"torch": fn("torch.mul"), "tensorflow": fn("tf.math.multiply"), "paddle": fn("paddle.multiply")})
op("div", "Div", (T(3, 1, 5), T(4, 5, domain="nonzero")), [V("bcast"), V("fp16", only=("torch", "tensorflow"), inputs=(T(4, 5, dtype="float16"), T(5, dtype="float16", domain="nonzero")))],
   calls={"torch": fn("torch.div"), "tensorflow": fn("tf.math.truediv"), "paddle": fn("paddle.divide")})
op("pow", "Pow", (T(3, 4, domain="positive"), T(3, 4, domain="uniform", low=-2.0, high=2.0)),
   [V("tensor-exp"), V("bcast", inputs=(T(2, 3, 4, domain="positive"), T(4, domain="uniform", low=0.5, high=2.5)))],
   calls={"torch": fn("torch.pow"), "tensorflow": fn("tf.math.pow"), "paddle": fn("paddle.pow")})
op("maximum", "Max", _BCAST, [V("bcast"), V("int64", inputs=(T(3, 4, dtype="int64"), T(3, 4, dtype="int64")))],
   calls={"torch": fn("torch.maximum"), "tensorflow": fn("tf.math.maximum"), "paddle": fn("paddle.maximum")})
op("minimum", "Min", _BCAST, [V("bcast")], calls={"torch": fn("torch.minimum"), "tensorflow": fn("tf.math.minimum"), "paddle": fn("paddle.minimum")})
# integer inputs: float floor-mod is discontinuous at multiples of the divisor
op("remainder", "Mod", (T(4, 5, dtype="int32", low=-20, high=20), T(5, dtype="int32", domain="nonzero", low=-4, high=5)),
   calls={"torch": fn("torch.remainder"), "tensorflow": fn("tf.math.floormod"), "paddle": fn("paddle.remainder")})
op("fmod", "Mod", (T(3, 6, domain="uniform", low=-7.0, high=7.0), T(3, 6, domain="positive", low=1.1, high=2.9)),
   calls={"torch": fn("torch.fmod"), "tensorflow": fn("tf.truncatemod")})
# negative integers: floor division must floor, ONNX integer Div truncates
op("floor_divide", ("Div", "Floor"), (T(4, 5, dtype="int32", low=-20, high=20), T(4, 5, dtype="int32", domain="nonzero", low=-4, high=5)),
   calls={"torch": fn("torch.floor_divide"), "tensorflow": fn("tf.math.floordiv"), "paddle": fn("paddle.floor_divide")})
op("atan2", ("Atan", "Div", "Where"), (T(3, 5, domain="nonzero"), T(3, 5, domain="nonzero")),
   calls={"torch": fn("torch.atan2"), "tensorflow": fn("tf.math.atan2"), "paddle": fn("paddle.atan2")})
for _name, _onnx, _t, _f, _p in [
    ("logical_and", "And", "torch.logical_and", "tf.math.logical_and", "paddle.logical_and"),
    ("logical_or", "Or", "torch.logical_or", "tf.math.logical_or", "paddle.logical_or"),
    ("logical_xor", "Xor", "torch.logical_xor", "tf.math.logical_xor", "paddle.logical_xor"),
]:
    op(_name, _onnx, (T(3, 4, dtype="bool"), T(4, dtype="bool")), calls={"torch": fn(_t), "tensorflow": fn(_f), "paddle": fn(_p)})
for _name, _onnx, _t, _f, _p in [
    ("equal", "Equal", "torch.eq", "tf.math.equal", "paddle.equal"),
    ("not_equal", ("Equal", "Not"), "torch.ne", "tf.math.not_equal", "paddle.not_equal"),
    ("greater", "Greater", "torch.gt", "tf.math.greater", "paddle.greater_than"),
    ("greater_equal", "GreaterOrEqual", "torch.ge", "tf.math.greater_equal", "paddle.greater_equal"),
    ("less", "Less", "torch.lt", "tf.math.less", "paddle.less_than"),
    ("less_equal", "LessOrEqual", "torch.le", "tf.math.less_equal", "paddle.less_equal"),
]:
    # "grid" values are multiples of 0.5: ties are exact, so the comparison has no rounding kink
    op(_name, _onnx, (T(3, 4, domain="grid"), T(4, domain="grid")),
       [V("bcast"), V("int32", inputs=(T(2, 5, dtype="int32", low=-2, high=3), T(2, 5, dtype="int32", low=-2, high=3)))],
       calls={"torch": fn(_t), "tensorflow": fn(_f), "paddle": fn(_p)})
op("where", "Where", (T(3, 1, dtype="bool"), T(3, 4), T(1, 4)),
   [V("bcast", converters=WITH_DYNAMO), V("int64", inputs=(T(2, 5, dtype="bool"), T(2, 5, dtype="int64"), T(2, 5, dtype="int64")))],
   calls={"torch": fn("torch.where"), "tensorflow": fn("tf.where"), "paddle": fn("paddle.where")})
op("clip", "Clip", [T(3, 4, 5, avoid=[-0.5, 0.8])],
   [V("min-max", {"min": -0.5, "max": 0.8}), V("min-only", {"min": -0.5}, only=("torch", "paddle"))],
   calls={"torch": fn("torch.clamp"), "tensorflow": fn("tf.clip_by_value", rename={"min": "clip_value_min", "max": "clip_value_max"}),
          "paddle": fn("paddle.clip")})
op("lerp", ("Sub", "Mul", "Add"), (T(3, 4), T(3, 4), T(3, 4, domain="uniform", low=0.0, high=1.0)),
   calls={"torch": fn("torch.lerp"), "paddle": fn("paddle.lerp")})

# ----------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------
_ACT = [X(2, 3, 4, 5, avoid=[0.0])]
F_ = "torch.nn.functional."
PF = "paddle.nn.functional."
op("relu", "Relu", _ACT, [V("default", converters=WITH_DYNAMO), V("fp16", only=("torch", "tensorflow"), inputs=(T(3, 8, dtype="float16", avoid=[0.0]),))],
   calls={"torch": fn(F_ + "relu"), "tensorflow": fn("tf.nn.relu"), "paddle": fn(PF + "relu")})
op("relu6", "Clip", [T(3, 7, scale=4.0, avoid=[0.0, 6.0])], calls={"torch": fn(F_ + "relu6"), "tensorflow": fn("tf.nn.relu6"), "paddle": fn(PF + "relu6")})
op("leaky_relu", "LeakyRelu", _ACT, [V("slope0.1", {"slope": 0.1})],
   calls={"torch": fn(F_ + "leaky_relu", rename={"slope": "negative_slope"}), "tensorflow": fn("tf.nn.leaky_relu", rename={"slope": "alpha"}),
          "paddle": fn(PF + "leaky_relu", rename={"slope": "negative_slope"})})
op("elu", "Elu", _ACT, [V("alpha1"), V("alpha0.5", {"alpha": 0.5}, only=("torch", "paddle"))],
   calls={"torch": fn(F_ + "elu"), "tensorflow": fn("tf.nn.elu"), "paddle": fn(PF + "elu")})
op("selu", "Selu", _ACT, calls={"torch": fn(F_ + "selu"), "tensorflow": fn("tf.nn.selu"), "paddle": fn(PF + "selu")})
op("celu", "Celu", _ACT, [V("alpha1.5", {"alpha": 1.5})], calls={"torch": fn(F_ + "celu"), "tensorflow": fn("keras.activations.celu"), "paddle": fn(PF + "celu")})
op("gelu", ("Gelu", "Erf", "Tanh"), [T(3, 11, scale=2.0)],
   [V("exact", converters=WITH_DYNAMO, kw={"torch": {"approximate": "none"}, "tensorflow": {"approximate": False}, "paddle": {"approximate": False}}),
    V("tanh", converters=WITH_DYNAMO, kw={"torch": {"approximate": "tanh"}, "tensorflow": {"approximate": True}, "paddle": {"approximate": True}})],
   calls={"torch": fn(F_ + "gelu"), "tensorflow": fn("tf.nn.gelu"), "paddle": fn(PF + "gelu")})
op("hardswish", "HardSwish", [T(3, 9, scale=4.0, avoid=[-3.0, 3.0])],
   calls={"torch": fn(F_ + "hardswish"), "tensorflow": fn("keras.activations.hard_swish"), "paddle": fn(PF + "hardswish")})
op("hardsigmoid", "HardSigmoid", [T(3, 9, scale=4.0, avoid=[-3.0, 3.0])],
   calls={"torch": fn(F_ + "hardsigmoid"), "tensorflow": fn("keras.activations.hard_sigmoid"), "paddle": fn(PF + "hardsigmoid")},
   notes="paddle's hardsigmoid defaults (slope 1/6, offset 0.5) match torch's")
op("mish", ("Mish", "Softplus", "Tanh"), [T(4, 6, scale=3.0)],
   calls={"torch": fn(F_ + "mish"), "tensorflow": fn("keras.activations.mish"), "paddle": fn(PF + "mish")})
op("silu", ("Sigmoid", "Mul"), [T(2, 3, 7)], [V("default", converters=WITH_DYNAMO)],
   calls={"torch": fn(F_ + "silu"), "tensorflow": fn("tf.nn.silu"), "paddle": fn(PF + "silu")})
op("prelu", "PRelu", _ACT, [V("per-channel", {"channels": 3}), V("shared", {"channels": 1}, only=("torch", "paddle"))],
   calls={"torch": custom("prelu", "torch.nn.PReLU"), "tensorflow": custom("prelu", "keras.layers.PReLU"), "paddle": custom("prelu", "paddle.nn.PReLU")})
op("softplus", "Softplus", [T(3, 8, scale=3.0)],
   [V("default"), V("beta2", {"beta": 2.0}, only=("torch", "paddle"))],
   calls={"torch": fn(F_ + "softplus"), "tensorflow": fn("tf.math.softplus"), "paddle": fn(PF + "softplus")})
op("softsign", "Softsign", [T(3, 8)], calls={"torch": fn(F_ + "softsign"), "tensorflow": fn("tf.nn.softsign"), "paddle": fn(PF + "softsign")})
op("hardtanh", "Clip", [T(3, 8, scale=2.0, avoid=[-1.0, 1.0])], calls={"torch": fn(F_ + "hardtanh"), "tensorflow": fn("keras.activations.hard_tanh"), "paddle": fn(PF + "hardtanh")})
op("logsigmoid", ("Sigmoid", "Log", "Softplus"), [T(3, 8, scale=3.0)],
   calls={"torch": fn(F_ + "logsigmoid"), "tensorflow": fn("tf.math.log_sigmoid"), "paddle": fn(PF + "log_sigmoid")})
op("tanhshrink", ("Tanh", "Sub"), [T(3, 8)], calls={"torch": fn(F_ + "tanhshrink"), "tensorflow": fn("keras.activations.tanh_shrink"), "paddle": fn(PF + "tanhshrink")})
op("softshrink", "Shrink", [T(3, 8, avoid=[-0.5, 0.5])], [V("lambd0.5", {"lambd": 0.5})],
   calls={"torch": fn(F_ + "softshrink"), "tensorflow": fn("keras.activations.soft_shrink", rename={"lambd": "threshold"}),
          "paddle": fn(PF + "softshrink", rename={"lambd": "threshold"})})
op("hardshrink", "Shrink", [T(3, 8, avoid=[-0.5, 0.5])], [V("lambd0.5", {"lambd": 0.5})],
   calls={"torch": fn(F_ + "hardshrink"), "tensorflow": fn("keras.activations.hard_shrink", rename={"lambd": "threshold"}),
          "paddle": fn(PF + "hardshrink", rename={"lambd": "threshold"})})
op("threshold", ("Greater", "Where"), [T(3, 8, avoid=[0.2])], [V("th0.2-v-1", {"threshold": 0.2, "value": -1.0})],
   calls={"torch": fn(F_ + "threshold"), "tensorflow": fn("keras.activations.threshold", rename={"value": "default_value"})})
op("glu", ("Split", "Sigmoid", "Mul"), [T(3, 8)], [V("axis-1", {"axis": -1})],
   calls={"torch": fn(F_ + "glu", rename={"axis": "dim"}), "tensorflow": fn("keras.activations.glu"), "paddle": fn(PF + "glu")})
op("softmax", "Softmax", [T(3, 7)], [V("axis-1", {"axis": -1}, converters=WITH_DYNAMO), V("axis1-3d", {"axis": 1}, inputs=(T(2, 5, 4),))],
   calls={"torch": fn(F_ + "softmax", rename={"axis": "dim"}), "tensorflow": fn("tf.nn.softmax"), "paddle": fn(PF + "softmax")})
op("log_softmax", "LogSoftmax", [T(3, 7)], [V("axis-1", {"axis": -1}), V("axis0", {"axis": 0}, inputs=(T(4, 5),))],
   calls={"torch": fn(F_ + "log_softmax", rename={"axis": "dim"}), "tensorflow": fn("tf.nn.log_softmax"), "paddle": fn(PF + "log_softmax")})
op("softmin", ("Neg", "Softmax"), [T(3, 7)], [V("axis-1", {"axis": -1})], calls={"torch": fn(F_ + "softmin", rename={"axis": "dim"})})

# ----------------------------------------------------------------------------------------
# Reductions, scans, top-k, sorting
# ----------------------------------------------------------------------------------------
_R = [T(3, 4, 5)]
_RED_VARIANTS = [
    V("axis-1", {"axis": -1}),
    V("axes0-2-keep", {"axis": [0, 2], "keepdims": True}),
    V("all"),
]
op("reduce_sum", "ReduceSum", _R, _RED_VARIANTS[:1] + [replace(_RED_VARIANTS[1], converters=WITH_DYNAMO), _RED_VARIANTS[2],
                                                       V("int32-axis1", {"axis": 1}, inputs=(T(3, 4, 5, dtype="int32"),))],
   calls={"torch": fn("torch.sum", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_sum"), "paddle": fn("paddle.sum", rename=PADDLE_DIM)})
op("reduce_mean", "ReduceMean", _R, _RED_VARIANTS,
   calls={"torch": fn("torch.mean", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_mean"), "paddle": fn("paddle.mean", rename=PADDLE_DIM)})
op("reduce_max", "ReduceMax", _R, _RED_VARIANTS[:2] + [V("int64-axis0", {"axis": 0}, inputs=(T(4, 3, dtype="int64"),))],
   calls={"torch": fn("torch.amax", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_max"), "paddle": fn("paddle.max", rename=PADDLE_DIM)})
op("reduce_min", "ReduceMin", _R, _RED_VARIANTS[:2],
   calls={"torch": fn("torch.amin", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_min"), "paddle": fn("paddle.min", rename=PADDLE_DIM)})
op("reduce_prod", "ReduceProd", [T(3, 4, 5, domain="uniform", low=0.5, high=1.5)],
   [V("axis1", {"axis": 1}), V("axis-1-keep", {"axis": -1, "keepdims": True})],
   calls={"torch": fn("torch.prod", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_prod"), "paddle": fn("paddle.prod", rename=PADDLE_DIM)})
op("logsumexp", "ReduceLogSumExp", _R, [V("axis-1", {"axis": -1}), V("axis1-keep", {"axis": 1, "keepdims": True})],
   calls={"torch": fn("torch.logsumexp", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_logsumexp"), "paddle": fn("paddle.logsumexp", rename=PADDLE_DIM)})
op("reduce_l2", "ReduceL2", _R, [V("axis-1", {"axis": -1}), V("axes1-2-keep", {"axis": [1, 2], "keepdims": True})],
   calls={"torch": fn("torch.linalg.vector_norm", rename=TORCH_DIM, fixed={"ord": 2}),
          "tensorflow": fn("tf.math.reduce_euclidean_norm"),
          "paddle": fn("paddle.linalg.vector_norm", rename=PADDLE_DIM, fixed={"p": 2.0})})
op("reduce_l1", "ReduceL1", _R, [V("axis1", {"axis": 1})],
   calls={"torch": fn("torch.linalg.vector_norm", rename=TORCH_DIM, fixed={"ord": 1}),
          "tensorflow": fn("tf.norm", fixed={"ord": 1}),
          "paddle": fn("paddle.linalg.vector_norm", rename=PADDLE_DIM, fixed={"p": 1.0})})
op("var", ("ReduceMean", "Sub", "Mul"), _R,
   [V("axis1-population", {"axis": 1, "unbiased": False}),
    V("axis-1-unbiased-keep", {"axis": -1, "unbiased": True, "keepdims": True}, only=("torch", "paddle"))],
   calls={"torch": fn("torch.var", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_variance", drop=("unbiased",)),
          "paddle": fn("paddle.var", rename=PADDLE_DIM)})
op("std", ("ReduceMean", "Sqrt"), _R,
   [V("axis1-population", {"axis": 1, "unbiased": False}),
    V("axis-1-unbiased", {"axis": -1, "unbiased": True}, only=("torch", "paddle"))],
   calls={"torch": fn("torch.std", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_std", drop=("unbiased",)),
          "paddle": fn("paddle.std", rename=PADDLE_DIM)})
op("reduce_all", ("ReduceMin", "Cast"), [T(3, 4, dtype="bool", p=0.8)], [V("axis1", {"axis": 1})],
   calls={"torch": fn("torch.all", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_all"), "paddle": fn("paddle.all", rename=PADDLE_DIM)})
op("reduce_any", ("ReduceMax", "Cast"), [T(3, 4, dtype="bool", p=0.2)], [V("axis1", {"axis": 1})],
   calls={"torch": fn("torch.any", rename=TORCH_DIM), "tensorflow": fn("tf.math.reduce_any"), "paddle": fn("paddle.any", rename=PADDLE_DIM)})
op("argmax", "ArgMax", _R, [V("axis1", {"axis": 1}), V("axis-1-keep", {"axis": -1, "keepdims": True}, only=("torch", "paddle"))],
   calls={"torch": fn("torch.argmax", rename=TORCH_DIM), "tensorflow": fn("tf.math.argmax"), "paddle": fn("paddle.argmax", rename=PADDLE_DIM)})
op("argmin", "ArgMin", _R, [V("axis0", {"axis": 0}), V("axis-1-keep", {"axis": -1, "keepdims": True}, only=("torch", "paddle"))],
   calls={"torch": fn("torch.argmin", rename=TORCH_DIM), "tensorflow": fn("tf.math.argmin"), "paddle": fn("paddle.argmin", rename=PADDLE_DIM)})
op("cumsum", "CumSum", _R, [V("axis1", {"axis": 1}, converters=WITH_DYNAMO), V("axis-1", {"axis": -1}),
                           V("reverse-exclusive", {"axis": 1, "reverse": True, "exclusive": True}, only=("tensorflow",)),
                           V("int64-axis0", {"axis": 0}, inputs=(T(4, 3, dtype="int64"),))],
   calls={"torch": fn("torch.cumsum", rename={"axis": "dim"}), "tensorflow": fn("tf.math.cumsum"), "paddle": fn("paddle.cumsum")})
op("topk", "TopK", [T(3, 8)], [V("k3", {"k": 3}, converters=WITH_DYNAMO),
                               V("k2-axis0-smallest", {"k": 2, "axis": 0, "largest": False}, only=("torch", "paddle"))],
   calls={"torch": fn("torch.topk", rename={"axis": "dim"}), "tensorflow": fn("tf.math.top_k"), "paddle": fn("paddle.topk")})
op("sort", "TopK", [T(3, 7)], [V("axis-1", {"axis": -1}),
                               V("axis0-descending", {"axis": 0}, kw={"torch": {"descending": True}, "tensorflow": {"direction": "DESCENDING"},
                                     "paddle": {"descending": True}})],
   calls={"torch": fn("torch.sort", rename={"axis": "dim"}), "tensorflow": fn("tf.sort"), "paddle": fn("paddle.sort")})
op("argsort", "TopK", [T(3, 7)], [V("axis-1", {"axis": -1}),
                                  V("axis0-descending", {"axis": 0}, kw={"torch": {"descending": True}, "tensorflow": {"direction": "DESCENDING"},
                                        "paddle": {"descending": True}})],
   calls={"torch": fn("torch.argsort", rename={"axis": "dim"}), "tensorflow": fn("tf.argsort"), "paddle": fn("paddle.argsort")})

# ----------------------------------------------------------------------------------------
# Matrix products
# ----------------------------------------------------------------------------------------
op("matmul", "MatMul", (T(3, 4), T(4, 5)), [
    V("2d", converters=WITH_DYNAMO),
    V("batch-bcast", inputs=(T(2, 1, 3, 4), T(5, 4, 6))),
    V("vec-mat", inputs=(T(4, free=[]), T(4, 5)), only=("torch", "paddle")),
    V("fp16", only=("torch", "tensorflow"), inputs=(T(3, 8, dtype="float16"), T(8, 5, dtype="float16"))),
], calls={"torch": fn("torch.matmul"), "tensorflow": fn("tf.linalg.matmul"), "paddle": fn("paddle.matmul")})
op("matmul_transpose_b", ("Transpose", "MatMul"), (T(2, 3, 4), T(2, 5, 4)), [V("transpose-b", {"transpose_b": True})],
   calls={"tensorflow": fn("tf.linalg.matmul"), "paddle": fn("paddle.matmul", rename={"transpose_b": "transpose_y"})})
op("bmm", "MatMul", (T(2, 3, 4), T(2, 4, 5)), calls={"torch": fn("torch.bmm"), "paddle": fn("paddle.bmm")})
op("mm", "MatMul", (T(3, 4), T(4, 6)), calls={"torch": fn("torch.mm"), "paddle": fn("paddle.mm")})
op("addmm", "Gemm", (T(3, 5), T(3, 4), T(4, 5)), [V("beta0.5-alpha2", {"beta": 0.5, "alpha": 2.0})],
   calls={"torch": fn("torch.addmm"), "paddle": fn("paddle.addmm")})
op("linear", "Gemm", [T(3, 6)], [
    V("bias", {"in": 6, "out": 4, "bias": True}, converters=WITH_DYNAMO),
    V("nobias-3d", {"in": 5, "out": 7, "bias": False}, inputs=(T(2, 3, 5),)),
], calls={"torch": custom("linear", "torch.nn.Linear"), "tensorflow": custom("linear", "keras.layers.Dense"), "paddle": custom("linear", "paddle.nn.Linear")})
op("einsum", "Einsum", (T(2, 3, 4), T(2, 4, 5)), [
    V("bij-bjk", {"equation": "bij,bjk->bik"}, converters=WITH_DYNAMO),
    V("attention-scores", {"equation": "bhqd,bhkd->bhqk"}, inputs=(T(2, 2, 3, 4), T(2, 2, 5, 4))),
    V("outer", {"equation": "i,j->ij"}, inputs=(T(3), T(4))),
], calls={"torch": fn("torch.einsum", pre=("equation",)), "tensorflow": fn("tf.einsum", pre=("equation",)),
          "paddle": fn("paddle.einsum", pre=("equation",))})
op("tensordot", ("Reshape", "MatMul"), (T(2, 3, 4), T(3, 4, 5)), [V("axes-2", {"axes": [[1, 2], [0, 1]]})],
   calls={"torch": fn("torch.tensordot", rename={"axes": "dims"}), "tensorflow": fn("tf.tensordot"), "paddle": fn("paddle.tensordot")})
op("outer", ("Unsqueeze", "Mul"), (T(4), T(5)), calls={"torch": fn("torch.outer"), "tensorflow": fn("keras.ops.outer"), "paddle": fn("paddle.outer")})

# ----------------------------------------------------------------------------------------
# Convolutions (weights randomized from the case seed in every framework)
# ----------------------------------------------------------------------------------------
_CONV = {"torch": "torch.nn.ConvNd", "tensorflow": "keras.layers.ConvND", "paddle": "paddle.nn.ConvND"}


def conv_op(name, onnx_ops, inputs, variants, frameworks=FRAMEWORKS, builder="conv", **kw):
    custom_op(name, onnx_ops, inputs, variants, builder, _CONV, frameworks, **kw)


conv_op("conv1d", "Conv", [X(2, 3, 17)], [
    V("k3-stride2-pad1", {"nd": 1, "in": 3, "out": 4, "kernel": 3, "stride": 2, "pad": 1}),
    V("dilation2-groups3", {"nd": 1, "in": 6, "out": 6, "kernel": 3, "dilation": 2, "groups": 3}, inputs=(X(1, 6, 12),)),
])
conv_op("conv2d", "Conv", [X(2, 3, 9, 9)], [
    V("k3", {"nd": 2, "in": 3, "out": 8, "kernel": 3}, converters=WITH_DYNAMO),
    V("stride2-pad1", {"nd": 2, "in": 4, "out": 6, "kernel": 3, "stride": 2, "pad": 1}, inputs=(X(1, 4, 11, 11),)),
    V("dilation2-pad2", {"nd": 2, "in": 3, "out": 4, "kernel": 3, "dilation": 2, "pad": 2}, inputs=(X(1, 3, 10, 10),)),
    V("stride2-pad1-groups2", {"nd": 2, "in": 4, "out": 6, "kernel": 3, "stride": 2, "pad": 1, "groups": 2}, inputs=(X(2, 4, 8, 8),)),
    V("same-k5", {"nd": 2, "in": 3, "out": 5, "kernel": 5, "pad": "same"}, inputs=(X(1, 3, 7, 9),)),
    V("k1-nobias", {"nd": 2, "in": 8, "out": 4, "kernel": 1, "bias": False}, inputs=(X(1, 8, 5, 5),)),
    V("rect-k3x1-stride2x1", {"nd": 2, "in": 3, "out": 4, "kernel": [3, 1], "stride": [2, 1], "pad": [1, 0]}, inputs=(X(1, 3, 9, 6),)),
])
conv_op("conv3d", "Conv", [X(1, 2, 5, 6, 7)], [
    V("k3-pad1", {"nd": 3, "in": 2, "out": 4, "kernel": 3, "pad": 1}),
    V("stride2", {"nd": 3, "in": 2, "out": 3, "kernel": 3, "stride": 2}, inputs=(X(1, 2, 7, 7, 7),)),
])
conv_op("depthwise_conv2d", "Conv", [X(1, 4, 9, 9)], [
    V("mult2-pad1", {"nd": 2, "in": 4, "out": 8, "kernel": 3, "pad": 1, "groups": 4}),
    V("mult1-stride2-pad1", {"nd": 2, "in": 6, "out": 6, "kernel": 3, "stride": 2, "pad": 1, "groups": 6}, inputs=(X(2, 6, 10, 10),)),
], builder="depthwise_conv")
conv_op("conv_transpose1d", "ConvTranspose", [X(1, 4, 7)], [
    V("k3-stride2", {"nd": 1, "in": 4, "out": 3, "kernel": 3, "stride": 2}),
], builder="conv_transpose")
conv_op("conv_transpose2d", "ConvTranspose", [X(1, 4, 5, 6)], [
    V("k3-stride2", {"nd": 2, "in": 4, "out": 3, "kernel": 3, "stride": 2}, converters=WITH_DYNAMO),
    V("k4-stride2-pad1", {"nd": 2, "in": 4, "out": 2, "kernel": 4, "stride": 2, "pad": 1}),
    V("k3-stride2-pad1-outpad1", {"nd": 2, "in": 4, "out": 3, "kernel": 3, "stride": 2, "pad": 1, "output_padding": 1}),
    V("groups2", {"nd": 2, "in": 4, "out": 6, "kernel": 3, "stride": 1, "groups": 2}, only=("torch", "paddle")),
], builder="conv_transpose")
conv_op("conv_transpose3d", "ConvTranspose", [X(1, 2, 3, 4, 4)], [
    V("k2-stride2", {"nd": 3, "in": 2, "out": 3, "kernel": 2, "stride": 2}),
], builder="conv_transpose")

# ----------------------------------------------------------------------------------------
# Pooling. TensorFlow has only "valid"/"same" padding: explicit pads and ceil_mode are
# torch/paddle variants; "same" variants are tf/paddle (and torch where it is symmetric).
# ----------------------------------------------------------------------------------------
_POOL = {"torch": "torch.nn.functional.*pool*", "tensorflow": "keras.layers.*Pooling*", "paddle": "paddle.nn.functional.*pool*"}
TP = ("torch", "paddle")


def pool_op(name, onnx_ops, inputs, variants, frameworks=FRAMEWORKS):
    custom_op(name, onnx_ops, inputs, variants, "pool", _POOL, frameworks)


def _p(kind, nd, **a):
    return {"type": kind, "nd": nd, **a}


pool_op("max_pool1d", "MaxPool", [X(2, 3, 11)], [V("k3-s2", _p("max", 1, kernel=3, stride=2))])
pool_op("max_pool2d", "MaxPool", [X(1, 3, 8, 8)], [
    V("k2-s2", _p("max", 2, kernel=2, stride=2), converters=WITH_DYNAMO),
    V("k3-s2-pad1", _p("max", 2, kernel=3, stride=2, pad=1), inputs=(X(2, 2, 9, 9),), only=TP),
    V("k3-s2-ceil", _p("max", 2, kernel=3, stride=2, ceil_mode=True), inputs=(X(1, 2, 10, 10),), only=TP),
    V("k3-s2-same", _p("max", 2, kernel=3, stride=2, pad="same"), inputs=(X(1, 2, 10, 11),), only=("tensorflow", "paddle")),
    V("k3-s1-same", _p("max", 2, kernel=3, stride=1, pad="same"), inputs=(X(1, 2, 7, 7),)),
    V("k2-s1-dilation2", _p("max", 2, kernel=2, stride=1, dilation=2), only=("torch",)),
])
pool_op("max_pool3d", "MaxPool", [X(1, 2, 6, 6, 6)], [
    V("k2-s2", _p("max", 3, kernel=2, stride=2)),
    V("k3-s2-pad1", _p("max", 3, kernel=3, stride=2, pad=1), only=TP),
])
pool_op("avg_pool1d", "AveragePool", [X(2, 3, 11)], [V("k3-s2", _p("avg", 1, kernel=3, stride=2))])
pool_op("avg_pool2d", "AveragePool", [X(1, 3, 8, 8)], [
    V("k2-s2", _p("avg", 2, kernel=2, stride=2), converters=WITH_DYNAMO),
    V("k3-s2-pad1-include-pad", _p("avg", 2, kernel=3, stride=2, pad=1, count_include_pad=True), inputs=(X(1, 2, 9, 9),), only=TP),
    V("k3-s2-pad1-exclude-pad", _p("avg", 2, kernel=3, stride=2, pad=1, count_include_pad=False), inputs=(X(1, 2, 9, 9),), only=TP),
    V("k3-s2-ceil", _p("avg", 2, kernel=3, stride=2, ceil_mode=True), inputs=(X(1, 2, 10, 10),), only=TP),
    V("k3-s2-same", _p("avg", 2, kernel=3, stride=2, pad="same"), inputs=(X(1, 2, 10, 11),), only=("tensorflow", "paddle")),
])
pool_op("avg_pool3d", "AveragePool", [X(1, 2, 6, 6, 6)], [V("k2-s2", _p("avg", 3, kernel=2, stride=2))])
pool_op("lp_pool2d", "LpPool", [X(1, 3, 8, 8)], [V("p2-k2-s2", _p("lp", 2, kernel=2, stride=2, p=2))], frameworks=("torch",))
pool_op("adaptive_avg_pool1d", ("AveragePool", "GlobalAveragePool"), [X(2, 3, 12)],
        [V("out4", _p("adaptive_avg", 1, output_size=4))], frameworks=TP)
pool_op("adaptive_avg_pool2d", ("AveragePool", "GlobalAveragePool"), [X(1, 2, 9, 9)], [
    V("out3x3", _p("adaptive_avg", 2, output_size=[3, 3])),
    V("out1", _p("adaptive_avg", 2, output_size=1), converters=WITH_DYNAMO),
    V("out3x5-from-8x11", _p("adaptive_avg", 2, output_size=[3, 5]), inputs=(X(1, 2, 8, 11),)),
], frameworks=TP)
pool_op("adaptive_avg_pool3d", ("AveragePool", "GlobalAveragePool"), [X(1, 2, 4, 6, 6)],
        [V("out2x3x3", _p("adaptive_avg", 3, output_size=[2, 3, 3]))], frameworks=TP)
pool_op("adaptive_max_pool2d", ("MaxPool", "GlobalMaxPool"), [X(1, 2, 8, 8)], [
    V("out4x4", _p("adaptive_max", 2, output_size=[4, 4])),
    V("out1", _p("adaptive_max", 2, output_size=1)),
], frameworks=TP)
pool_op("global_avg_pool2d", "GlobalAveragePool", [X(2, 3, 5, 7)], [V("keepdims", _p("global_avg", 2))])
pool_op("global_max_pool2d", "GlobalMaxPool", [X(2, 3, 5, 7)], [V("keepdims", _p("global_max", 2))])

# ----------------------------------------------------------------------------------------
# Normalization (affine parameters and running statistics randomized from the case seed)
# ----------------------------------------------------------------------------------------
_NORM = {"torch": "torch.nn.*Norm*", "tensorflow": "keras.layers.*Normalization", "paddle": "paddle.nn.*Norm*"}


def norm_op(name, onnx_ops, inputs, variants, builder, frameworks=FRAMEWORKS):
    custom_op(name, onnx_ops, inputs, variants, builder, _NORM, frameworks)


norm_op("batch_norm1d", "BatchNormalization", [X(2, 5, 7)], [V("ncl", {"nd": 1, "channels": 5, "eps": 1e-5})], "batch_norm")
norm_op("batch_norm2d", "BatchNormalization", [X(2, 3, 5, 5)], [
    V("eps1e-5", {"nd": 2, "channels": 3, "eps": 1e-5}, converters=WITH_DYNAMO),
    V("eps1e-3-batch1", {"nd": 2, "channels": 4, "eps": 1e-3}, inputs=(X(1, 4, 3, 6),)),
], "batch_norm")
norm_op("batch_norm3d", "BatchNormalization", [X(1, 2, 3, 4, 5)], [V("ncdhw", {"nd": 3, "channels": 2, "eps": 1e-5})], "batch_norm")
norm_op("layer_norm", ("LayerNormalization", "ReduceMean"), [T(2, 5, 8)], [
    V("last-dim", {"shape": [8], "eps": 1e-5}, converters=WITH_DYNAMO),
    V("last-2-dims", {"shape": [4, 6], "eps": 1e-5}, inputs=(T(2, 3, 4, 6),)),
], "layer_norm")
norm_op("instance_norm1d", ("InstanceNormalization",), [X(2, 4, 9)], [V("affine", {"nd": 1, "channels": 4, "eps": 1e-5})], "instance_norm")
norm_op("instance_norm2d", ("InstanceNormalization",), [X(2, 3, 5, 6)], [V("affine", {"nd": 2, "channels": 3, "eps": 1e-5})], "instance_norm")
norm_op("group_norm", ("GroupNormalization", "InstanceNormalization", "Reshape"), [X(2, 6, 5, 5)], [
    V("g3-c6", {"groups": 3, "channels": 6, "eps": 1e-5}, converters=WITH_DYNAMO),
    V("g2-c8-ncl", {"groups": 2, "channels": 8, "eps": 1e-5}, inputs=(X(1, 8, 7),)),
], "group_norm")
# TensorFlow's alpha is not divided by the window size: alpha_tf = alpha / size
op("local_response_norm", "LRN", [X(1, 6, 4, 5)],
   [V("size5", {"size": 5, "alpha": 1e-2, "beta": 0.75, "k": 1.0},
      kw={"tensorflow": {"depth_radius": 2, "bias": 1.0, "alpha": 1e-2 / 5, "beta": 0.75}})],
   calls={"torch": fn(F_ + "local_response_norm"), "tensorflow": fn("tf.nn.local_response_normalization", drop=("size", "alpha", "beta", "k")),
          "paddle": fn(PF + "local_response_norm")})
op("normalize", ("ReduceL2", "Div", "LpNormalization"), [T(3, 6)], [V("p2-axis1", {"axis": 1})],
   calls={"torch": fn(F_ + "normalize", rename={"axis": "dim"}, fixed={"p": 2.0}), "tensorflow": fn("tf.math.l2_normalize"),
          "paddle": fn(PF + "normalize", fixed={"p": 2})})
op("rms_norm", ("ReduceMean", "Sqrt", "Mul"), [T(2, 5, 8)], [V("last-dim", {"shape": [8], "eps": 1e-6})],
   calls={"torch": custom("rms_norm", "torch.nn.RMSNorm"), "tensorflow": custom("rms_norm", "keras.layers.RMSNormalization")})

# ----------------------------------------------------------------------------------------
# Shape and data movement
# ----------------------------------------------------------------------------------------
op("reshape", "Reshape", [T(2, 3, 4)], [
    # free=[]: a fixed target shape pins every input axis (no dynamic twin)
    V("to-4x6", {"shape": [4, 6]}, inputs=(T(2, 3, 4, free=[]),), converters=WITH_DYNAMO),
    V("infer-minus1", {"shape": [2, -1, 2]}),
    V("to-scalar", {"shape": []}, inputs=(T(1, 1, free=[]),)),
], calls={"torch": fn("torch.reshape"), "tensorflow": fn("tf.reshape"), "paddle": fn("paddle.reshape")})
op("transpose", "Transpose", [T(2, 3, 4)], [
    V("perm021", {"perm": [0, 2, 1]}, converters=WITH_DYNAMO),
    V("perm3120", {"perm": [3, 1, 2, 0]}, inputs=(T(2, 3, 4, 5),)),
], calls={"torch": fn("torch.permute", rename={"perm": "dims"}), "tensorflow": fn("tf.transpose"), "paddle": fn("paddle.transpose")})
op("concat", "Concat", (T(2, 3, 4), T(2, 1, 4), T(2, 5, 4)), [
    V("axis1-3-inputs", {"axis": 1}, converters=WITH_DYNAMO),
    V("axis-1", {"axis": -1}, inputs=(T(3, 2), T(3, 5))),
    V("int64-axis0", {"axis": 0}, inputs=(T(2, 3, dtype="int64"), T(1, 3, dtype="int64"))),
    V("empty-part", {"axis": 0}, inputs=(T(0, 3), T(2, 3))),
    # only the later input's axis is dynamic: dynamic_axes keyed by the second input's name
    V("axis0-later-part-free", {"axis": 0}, inputs=(T(4, 3, free=[]), T(2, 3, free=[0])), converters=WITH_DYNAMO),
], calls={"torch": fn("torch.cat", packed=True, rename={"axis": "dim"}), "tensorflow": fn("tf.concat", packed=True),
          "paddle": fn("paddle.concat", packed=True)})
op("stack", ("Unsqueeze", "Concat"), (T(2, 3), T(2, 3), T(2, 3)), [
    V("axis0", {"axis": 0}), V("axis-1", {"axis": -1}, inputs=(T(4, 5), T(4, 5))),
], calls={"torch": fn("torch.stack", packed=True, rename={"axis": "dim"}), "tensorflow": fn("tf.stack", packed=True),
          "paddle": fn("paddle.stack", packed=True)})
op("split", "Split", [T(3, 6, 4)], [
    V("sizes-2-3-1-axis1", {"sections": [2, 3, 1], "axis": 1}),
    # torch takes the chunk size, tensorflow and paddle the number of parts
    V("equal3-axis-2", {"axis": -2}, kw={"torch": {"split_size_or_sections": 2}, "tensorflow": {"num_or_size_splits": 3},
          "paddle": {"num_or_sections": 3}}),
], calls={"torch": fn("torch.split", rename={"axis": "dim", "sections": "split_size_or_sections"}),
          "tensorflow": fn("tf.split", rename={"sections": "num_or_size_splits"}), "paddle": fn("paddle.split", rename={"sections": "num_or_sections"})})
op("chunk", "Split", [T(6, 4)], [V("3-axis0", {"chunks": 3, "axis": 0})],
   calls={"torch": fn("torch.chunk", rename={"axis": "dim"}), "paddle": fn("paddle.chunk")})
op("unbind", ("Split", "Squeeze"), [T(3, 4, 2)], [V("axis1", {"axis": 1})],
   calls={"torch": fn("torch.unbind", rename={"axis": "dim"}), "tensorflow": fn("tf.unstack"), "paddle": fn("paddle.unbind")})
op("slice", "Slice", [T(4, 6, 5)], [
    V("start-stop", {"slices": [[1, 3, None], None, [0, -1, None]]}, converters=WITH_DYNAMO),
    V("step2", {"slices": [None, [1, None, 2]]}),
    V("negative-start", {"slices": [[-2, None, None], None, [-3, -1, None]]}),
    V("int-index", {"slices": [1, None, 2]}),
    # torch indexing has no negative steps (torch.flip is the torch spelling, see "flip")
    V("negative-step", {"slices": [[None, None, -1], [4, 0, -2]]}, only=("tensorflow", "paddle")),
], calls={"torch": Call("__getitem__", kind="getitem"), "tensorflow": Call("__getitem__", kind="getitem"), "paddle": Call("__getitem__", kind="getitem")})
op("flip", ("Slice",), [T(3, 4, 5)], [V("axes0-2", {"axis": [0, 2]}), V("axis-1", {"axis": [-1]})],
   calls={"torch": fn("torch.flip", rename={"axis": "dims"}), "tensorflow": fn("tf.reverse"), "paddle": fn("paddle.flip")})
op("gather", "Gather", (T(5, 4), T(3, dtype="int64", domain="index", high=5)), [
    V("axis0", {"axis": 0}, converters=WITH_DYNAMO),
    V("axis-1", {"axis": -1}, inputs=(T(2, 3, 6), T(4, dtype="int64", domain="index", high=6))),
], calls={"torch": fn("torch.index_select", names=("input", "index"), rename={"axis": "dim"}),
          "tensorflow": fn("tf.gather", names=("params", "indices")), "paddle": fn("paddle.gather", names=("x", "index"))})
op("gather_elements", "GatherElements", (T(3, 5), T(3, 4, dtype="int64", domain="index", high=5)), [V("axis1", {"axis": 1})],
   calls={"torch": fn("torch.gather", names=("input", "index"), rename={"axis": "dim"}),
          "tensorflow": fn("keras.ops.take_along_axis", names=("x", "indices")),
          "paddle": fn("paddle.take_along_axis", names=("arr", "indices"))})
op("gather_nd", "GatherND", (T(3, 3, 5), T(4, 2, dtype="int64", domain="index", high=3)),
   calls={"tensorflow": fn("tf.gather_nd", names=("params", "indices")), "paddle": fn("paddle.gather_nd", names=("x", "index"))})
op("scatter_elements", "ScatterElements",
   (T(4, 5), T(2, 5, dtype="int64", domain="unique_index", axis=0, high=4), T(2, 5)), [V("axis0", {"axis": 0})],
   calls={"torch": fn("torch.scatter", names=("input", "index", "src"), rename={"axis": "dim"}),
          "paddle": fn("paddle.put_along_axis", names=("arr", "indices", "values"))})
op("scatter_add", "ScatterElements",
   (T(4, 5), T(3, 5, dtype="int64", domain="index", high=4), T(3, 5)), [V("axis0", {"axis": 0})],
   calls={"torch": fn("torch.scatter_add", names=("input", "index", "src"), rename={"axis": "dim"}),
          "paddle": fn("paddle.put_along_axis", names=("arr", "indices", "values"), fixed={"reduce": "add"})},
   min_opset=16, notes="ScatterElements reduction='add' needs opset 16")
op("scatter_nd", "ScatterND",
   (T(5, 3), T(2, 1, dtype="int64", domain="unique_index", axis=0, high=5), T(2, 3)),
   calls={"torch": custom("index_put", "torch.Tensor.index_put"),
          "tensorflow": fn("tf.tensor_scatter_nd_update", names=("tensor", "indices", "updates")),
          "paddle": fn("paddle.scatter_nd_add", names=("x", "index", "updates"))})
op("pad", "Pad", [T(3, 5)], [
    V("constant-2d", {"pads": [[1, 2], [0, 3]], "mode": "constant", "value": 0.5}, converters=WITH_DYNAMO),
    V("reflect-nchw", {"pads": [[0, 0], [0, 0], [1, 2], [2, 1]], "mode": "reflect"}, inputs=(T(1, 2, 5, 6),)),
    V("edge-nchw", {"pads": [[0, 0], [0, 0], [2, 1], [1, 1]], "mode": "edge"}, inputs=(T(1, 2, 4, 5),), only=TP),
], calls={"torch": custom("pad", "torch.nn.functional.pad"), "tensorflow": custom("pad", "tf.pad"), "paddle": custom("pad", "paddle.nn.functional.pad")})
op("tile", "Tile", [T(2, 3)], [V("reps2-3", {"reps": [2, 3]}), V("reps-3d", {"reps": [2, 1, 2]}, inputs=(T(1, 3, 2),))],
   calls={"torch": fn("torch.tile", rename={"reps": "dims"}), "tensorflow": fn("tf.tile", rename={"reps": "multiples"}),
          "paddle": fn("paddle.tile", rename={"reps": "repeat_times"})})
op("expand", "Expand", [T(3, 1, 5, free=[])], [V("to-2x3x4x5", {"shape": [2, 3, 4, 5]})],
   calls={"torch": fn("torch.broadcast_to", rename={"shape": "size"}), "tensorflow": fn("tf.broadcast_to"), "paddle": fn("paddle.broadcast_to")})
op("squeeze", "Squeeze", [T(3, 1, 4, 1)], [
    V("axis1", {"axis": 1}), V("all"), V("axes1-neg1", {"axis": [1, -1]}),
], calls={"torch": fn("torch.squeeze", rename={"axis": "dim"}), "tensorflow": fn("tf.squeeze"), "paddle": fn("paddle.squeeze")})
op("unsqueeze", "Unsqueeze", [T(3, 4)], [V("axis0", {"axis": 0}), V("axis-1", {"axis": -1})],
   calls={"torch": fn("torch.unsqueeze", rename={"axis": "dim"}), "tensorflow": fn("tf.expand_dims"), "paddle": fn("paddle.unsqueeze")})
op("flatten", ("Flatten", "Reshape"), [T(2, 3, 4, 5)], [
    V("from1", {"start": 1}, converters=WITH_DYNAMO), V("dims1-2", {"start": 1, "end": 2}, only=TP),
], calls={"torch": fn("torch.flatten", rename={"start": "start_dim", "end": "end_dim"}),
          "tensorflow": Call("keras.layers.Flatten", kind="module", drop=("start",)),
          "paddle": fn("paddle.flatten", rename={"start": "start_axis", "end": "stop_axis"})})
op("roll", ("Slice", "Concat"), [T(3, 4, 5)], [
    V("shift2-axis1", {"shift": 2, "axis": 1}), V("multi-axes", {"shift": [1, -2], "axis": [0, 2]}),
    # corner: shifts beyond the axis length wrap (modulo the length) in all three frameworks
    V("shift-beyond-size", {"shift": 6, "axis": 1}, converters=WITH_DYNAMO),
    V("negative-shift-beyond-size", {"shift": [-7, 11], "axis": [0, 2]}),
], calls={"torch": fn("torch.roll", rename={"shift": "shifts", "axis": "dims"}), "tensorflow": fn("tf.roll"),
          "paddle": fn("paddle.roll", rename={"shift": "shifts"})})
op("pixel_shuffle", "DepthToSpace", [X(1, 8, 3, 4)], [V("factor2", {"factor": 2})],
   calls={"torch": fn(F_ + "pixel_shuffle", rename={"factor": "upscale_factor"}),
          "tensorflow": fn("tf.nn.depth_to_space", rename={"factor": "block_size"}),
          "paddle": fn(PF + "pixel_shuffle", rename={"factor": "upscale_factor"})})
op("pixel_unshuffle", "SpaceToDepth", [X(1, 2, 4, 6)], [V("factor2", {"factor": 2})],
   calls={"torch": fn(F_ + "pixel_unshuffle", rename={"factor": "downscale_factor"}),
          "tensorflow": fn("tf.nn.space_to_depth", rename={"factor": "block_size"}),
          "paddle": fn(PF + "pixel_unshuffle", rename={"factor": "downscale_factor"})})
op("tril", "Trilu", [T(4, 5)], [
    V("diag0", {"diagonal": 0}, kw={"tensorflow": {"num_lower": -1, "num_upper": 0}}),
    V("diag-1", {"diagonal": -1}, only=TP),
], calls={"torch": fn("torch.tril"), "tensorflow": fn("tf.linalg.band_part", drop=("diagonal",)), "paddle": fn("paddle.tril")}, min_opset=14)
op("triu", "Trilu", [T(2, 4, 5)], [
    V("diag0", {"diagonal": 0}, kw={"tensorflow": {"num_lower": 0, "num_upper": -1}}),
    V("diag1", {"diagonal": 1}, only=TP),
], calls={"torch": fn("torch.triu"), "tensorflow": fn("tf.linalg.band_part", drop=("diagonal",)), "paddle": fn("paddle.triu")}, min_opset=14)
op("one_hot", "OneHot", [T(2, 5, dtype="int64", domain="index", high=4)], [V("classes4", {"classes": 4})],
   calls={"torch": fn(F_ + "one_hot", rename={"classes": "num_classes"}), "tensorflow": fn("tf.one_hot", rename={"classes": "depth"}),
          "paddle": fn(PF + "one_hot", rename={"classes": "num_classes"})})
op("masked_fill", "Where", (T(3, 4), T(1, 4, dtype="bool")), [V("value-1.5", {"value": -1.5})],
   calls={"torch": fn("torch.masked_fill"), "paddle": fn("paddle.masked_fill")})
op("nonzero", "NonZero", [T(3, 4, dtype="int32", low=-1, high=2)],
   calls={"torch": fn("torch.nonzero"), "tensorflow": fn("tf.where"), "paddle": fn("paddle.nonzero")})
op("ones_like", ("Shape", "ConstantOfShape"), [T(3, 4)], calls={"torch": fn("torch.ones_like"), "tensorflow": fn("tf.ones_like"),
          "paddle": fn("paddle.ones_like")})
op("full_like", ("Shape", "ConstantOfShape"), [T(2, 5)], [V("value2.5", {"value": 2.5})],
   calls={"torch": fn("torch.full_like", rename={"value": "fill_value"}), "tensorflow": fn("keras.ops.full_like", rename={"value": "fill_value"}),
          "paddle": fn("paddle.full_like", rename={"value": "fill_value"})})
op("cast", "Cast", [T(3, 4, domain="frac")], [
    V("f32-to-i32", {"dtype": "int32"}, converters=WITH_DYNAMO),
    V("f32-to-f16", {"dtype": "float16"}, inputs=(T(3, 4),)),
    V("i64-to-f32", {"dtype": "float32"}, inputs=(T(3, 4, dtype="int64"),)),
    V("f32-to-bool", {"dtype": "bool"}, inputs=(T(3, 4, domain="grid"),)),
    V("bool-to-f32", {"dtype": "float32"}, inputs=(T(3, 4, dtype="bool"),)),
    V("i32-to-i64", {"dtype": "int64"}, inputs=(T(3, 4, dtype="int32"),)),
], calls={"torch": Call("to", kind="method"), "tensorflow": fn("tf.cast"), "paddle": fn("paddle.cast")})

# ----------------------------------------------------------------------------------------
# Resize / interpolate. align_corners=False means half-pixel centres everywhere.
# ----------------------------------------------------------------------------------------
_RESIZE = {"torch": "torch.nn.functional.interpolate", "tensorflow": "tf.raw_ops.Resize*",
           "paddle": "paddle.nn.functional.interpolate"}


def resize_op(name, inputs, variants, frameworks=FRAMEWORKS):
    custom_op(name, "Resize", inputs, variants, "resize", _RESIZE, frameworks, min_opset=11)


resize_op("interpolate_nearest", [X(1, 2, 4, 5)], [
    V("scale2", {"mode": "nearest", "scale": 2}, converters=WITH_DYNAMO),
    V("size7x11", {"mode": "nearest", "size": [7, 11]}),
    V("down-size3x2", {"mode": "nearest", "size": [3, 2]}, inputs=(X(1, 2, 6, 5),)),
    V("size7x11-align-corners", {"mode": "nearest", "size": [7, 11], "align_corners": True}, only=("tensorflow",)),
    # torch's half-pixel nearest (round, not floor, of the source coordinate)
    V("exact-size7x11", {"mode": "nearest-exact", "size": [7, 11]}, only=("torch",), converters=WITH_DYNAMO),
])
resize_op("interpolate_bilinear", [X(1, 2, 4, 5)], [
    V("scale2-half-pixel", {"mode": "linear", "scale": 2, "align_corners": False}, converters=WITH_DYNAMO),
    V("size7x9-align-corners", {"mode": "linear", "size": [7, 9], "align_corners": True}),
    V("down-size3x4", {"mode": "linear", "size": [3, 4], "align_corners": False}, inputs=(X(1, 2, 6, 7),)),
])
resize_op("interpolate_bicubic", [X(1, 2, 5, 6)], [
    # TensorFlow's CPU bicubic kernel reads its weights from a 1024-entry table
    # (resize_bicubic_op.cc, kTableSize), so the source itself is off by ~1e-3 from exact
    # Keys interpolation; measured max_abs 2.2e-3 against onnxruntime
    V("size9x10-half-pixel", {"mode": "cubic", "size": [9, 10], "align_corners": False},
      tolerance={"tensorflow": {"atol": 5e-3, "rtol": 1e-3}}),
    V("scale2-align-corners", {"mode": "cubic", "scale": 2, "align_corners": True}),
])
resize_op("interpolate_linear1d", [X(1, 3, 6)], [
    V("size11-half-pixel", {"mode": "linear", "size": [11], "align_corners": False}),
    V("size11-align-corners", {"mode": "linear", "size": [11], "align_corners": True}),
], frameworks=TP)
resize_op("interpolate_trilinear", [X(1, 2, 3, 4, 4)], [
    V("scale2-half-pixel", {"mode": "linear", "scale": 2, "align_corners": False}),
    V("size5x6x7-align-corners", {"mode": "linear", "size": [5, 6, 7], "align_corners": True}),
], frameworks=TP)
resize_op("interpolate_area", [X(1, 2, 8, 12)], [V("size4x4", {"mode": "area", "size": [4, 4]})])
resize_op("upsample_nearest3d", [X(1, 2, 2, 3, 3)], [V("scale2", {"mode": "nearest", "scale": 2})], frameworks=TP)

# ----------------------------------------------------------------------------------------
# Embedding, recurrent layers and cells, attention
# ----------------------------------------------------------------------------------------
op("embedding", "Gather", [T(2, 5, dtype="int64", domain="index", high=10)], [
    V("num10-dim4", {"num": 10, "dim": 4}, converters=WITH_DYNAMO),
    V("padding-idx0", {"num": 10, "dim": 3, "padding_idx": 0}, only=TP),
], calls={"torch": custom("embedding", "torch.nn.Embedding"), "tensorflow": custom("embedding", "keras.layers.Embedding"),
          "paddle": custom("embedding", "paddle.nn.Embedding")})
_RNN = {"torch": "torch.nn.{RNN,LSTM,GRU}", "tensorflow": "keras.layers.{SimpleRNN,LSTM,GRU}", "paddle": "paddle.nn.{SimpleRNN,LSTM,GRU}"}


def rnn_op(name, onnx_ops, inputs, variants, frameworks=FRAMEWORKS, builder="rnn", **kw):
    custom_op(name, onnx_ops, inputs, variants, builder, _RNN, frameworks, **kw)


_SEQ = [T(2, 5, 4)]      # batch-first: batch 2, 5 steps, 4 features
rnn_op("rnn", "RNN", _SEQ, [
    V("tanh-h6", {"cell": "rnn", "input": 4, "hidden": 6}),
    V("bidirectional-2layers", {"cell": "rnn", "input": 4, "hidden": 3, "layers": 2, "bidirectional": True}),
])
rnn_op("lstm", "LSTM", _SEQ, [
    V("h6", {"cell": "lstm", "input": 4, "hidden": 6}, converters=WITH_DYNAMO),
    V("bidirectional", {"cell": "lstm", "input": 4, "hidden": 5, "bidirectional": True}),
    V("2layers", {"cell": "lstm", "input": 4, "hidden": 3, "layers": 2}),
])
rnn_op("gru", "GRU", _SEQ, [
    V("h6", {"cell": "gru", "input": 4, "hidden": 6}),
    V("bidirectional", {"cell": "gru", "input": 4, "hidden": 5, "bidirectional": True}),
])
rnn_op("rnn_cell", ("Gemm", "Tanh"), (T(3, 4), T(3, 6)), [V("h6", {"cell": "rnn", "input": 4, "hidden": 6})],
       frameworks=TP, builder="rnn_cell")
rnn_op("lstm_cell", ("Gemm", "Sigmoid", "Tanh"), (T(3, 4), T(3, 6), T(3, 6)), [V("h6", {"cell": "lstm", "input": 4, "hidden": 6})],
       frameworks=TP, builder="rnn_cell")
rnn_op("gru_cell", ("Gemm", "Sigmoid", "Tanh"), (T(3, 4), T(3, 6)), [V("h6", {"cell": "gru", "input": 4, "hidden": 6})],
       frameworks=TP, builder="rnn_cell")
op("scaled_dot_product_attention", ("MatMul", "Softmax"), (T(2, 3, 5, 8), T(2, 3, 6, 8), T(2, 3, 6, 8)), [
    V("plain", converters=WITH_DYNAMO),
    V("causal", {"is_causal": True}, inputs=(T(2, 2, 5, 4), T(2, 2, 5, 4), T(2, 2, 5, 4))),
    V("float-mask", inputs=(T(1, 2, 4, 8), T(1, 2, 6, 8), T(1, 2, 6, 8), T(4, 6))),
], calls={"torch": fn(F_ + "scaled_dot_product_attention")})
op("multihead_attention", ("MatMul", "Softmax", "Gemm"), [T(2, 5, 8)], [
    V("self-e8-h2", {"embed": 8, "heads": 2, "self": True}, converters=WITH_DYNAMO),
    V("cross-e8-h4", {"embed": 8, "heads": 4, "self": False}, inputs=(T(2, 3, 8), T(2, 6, 8))),
], calls={"torch": custom("multihead_attention", "torch.nn.MultiheadAttention"),
          "tensorflow": custom("multihead_attention", "keras.layers.MultiHeadAttention"),
          "paddle": custom("multihead_attention", "paddle.nn.MultiHeadAttention")})


# the frameworks' own surfaces: importing them appends their entries to TABLE
from . import specs_keras, specs_paddle, specs_tensorflow  # noqa: E402,F401


# ----------------------------------------------------------------------------------------
# Expansion into CaseSpecs
# ----------------------------------------------------------------------------------------
def spec_by_name() -> dict[str, OpSpec]:
    return {s.name: s for s in TABLE}


def variant_params(spec: OpSpec, variant: Variant, framework: str) -> dict:
    call = spec.call(framework)
    inputs = list(variant.inputs if variant.inputs is not None else spec.inputs)
    literal = variant.literal(framework)
    return {"op": spec.name, "call": call.resolve(variant.attrs, literal),
            "attrs": dict(variant.attrs, **literal), "inputs": inputs}


def _tolerance_for(framework: str, *layers: dict) -> dict:
    """Merge tolerance overrides; a key named after a framework holds overrides for it alone."""
    out: dict = {}
    for layer in layers:
        out.update({k: v for k, v in layer.items() if k not in FRAMEWORKS})
        out.update(layer.get(framework, {}))
    return out


def case_specs(frameworks=None) -> list[CaseSpec]:
    """One CaseSpec per op spec x framework x applicable variant."""
    out = []
    for spec in TABLE:
        for fw in spec.frameworks():
            if frameworks and fw not in frameworks:
                continue
            for variant in spec.variants:
                if variant.only is not None and fw not in variant.only:
                    continue
                out.append(CaseSpec(
                    kind="op", name=spec.name, framework=fw, builder=FRAMEWORK_MODULES[fw],
                    params=variant_params(spec, variant, fw), variant=variant.id, op=spec.name,
                    converters=variant.converters_for(fw), min_opset=spec.min_opset,
                    tolerance=_tolerance_for(fw, spec.tolerance, variant.tolerance)))
    return out


MINDSPORE_BUILDER = "suites.operators.mindspore_ops:build"


def mindspore_cases(specs: list[CaseSpec]) -> list[CaseSpec]:
    """A MindSpore case for every torch case of the table, with no case code of its own: the
    same params (the torch call), built by ``mindspore_ops`` as the ``mindspore.mint`` call of
    the same name, on every MindSpore converter (to ONNX, to MINDIR)."""
    return [replace(s, framework="mindspore", builder=MINDSPORE_BUILDER, converters=None)
            for s in specs if s.framework == "torch" and s.kind == "op"]


def dynamic_twins(specs: list[CaseSpec]) -> list[CaseSpec]:
    """The dynamic-shape twin (marker ``dynamic``, variant ``<variant>+dyn``) of every case
    whose inputs have a free axis (``samples.free_axes``): exported at the sample's shape, that
    axis at least 2, declared dynamic, and run there and at a shape not seen at export."""
    twins = []
    for spec in specs:
        shapes = samples.twin_inputs(spec.params["inputs"])
        if shapes is not None:
            twins.append(dynamic_twin(spec, dict(spec.params, inputs=shapes[0], unseen=shapes[1])))
    return twins


def operators_per_framework() -> dict[str, int]:
    return {fw: sum(1 for s in TABLE if s.call(fw) is not None) for fw in FRAMEWORKS}
