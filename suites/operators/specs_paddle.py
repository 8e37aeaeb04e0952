"""The rest of paddle's op surface: ``paddle``, ``paddle.nn.functional``, ``paddle.linalg``, ``paddle.vision.ops``
and layers that ``specs`` does not already declare
for several frameworks. Entries only call ``table.op()``; each gives every keyword of its call
a small domain (variants) and each dtype the op accepts.

Paddle's CPU kernels have no float16 for most math ops (``float16`` inputs raise in the source
framework), so float16 variants appear only where the CPU kernel exists (data movement, casts).
Ops whose names another framework's surface already uses carry a ``paddle_`` prefix only where
the plain name is taken by a different call.
"""
from __future__ import annotations

from .table import T, V, X, Call, custom, fn, op  # noqa: F401

P = "paddle."
PF = "paddle.nn.functional."
PL = "paddle.linalg."
PV = "paddle.vision.ops."
NN = "paddle.nn."


_OP_KEYWORDS = ("tol", "min_opset", "notes")


def _split(kw: dict) -> tuple[dict, dict]:
    """(keywords of ``op()``, keywords of the ``Call``)."""
    return {k: v for k, v in kw.items() if k in _OP_KEYWORDS}, {k: v for k, v in kw.items() if k not in _OP_KEYWORDS}


def pd(name, onnx, inputs, variants=None, target=None, **kw):
    """A paddle-only functional entry: ``target(*tensors, **kwargs)``."""
    op_kw, call_kw = _split(kw)
    op(name, onnx, inputs, variants, calls={"paddle": fn(target, **call_kw)}, **op_kw)


def layer(name, onnx, inputs, variants=None, target=None, **kw):
    """A ``paddle.nn`` layer: constructed from the variant's keywords, then called on the tensors."""
    op_kw, call_kw = _split(kw)
    op(name, onnx, inputs, variants, calls={"paddle": Call(target, kind="module", **call_kw)}, **op_kw)


# ----------------------------------------------------------------------------------------
# Elementwise math (paddle.*)
# ----------------------------------------------------------------------------------------
_SPECIAL = T(4, 6, domain="special")          # NaN and +-Inf mixed into normal values
pd("paddle_log10", ("Log", "Div"), [T(3, 4, domain="positive")],
   [V("positive"), V("nan-inf-negative", inputs=(_SPECIAL,))], P + "log10")
pd("paddle_log2", ("Log", "Div"), [T(3, 4, domain="positive")],
   [V("positive"), V("nan-inf-negative", inputs=(_SPECIAL,)), V("empty", inputs=(T(0, 3, domain="positive"),))], P + "log2")
pd("isfinite", ("IsInf", "IsNaN", "Not"), [_SPECIAL],
   [V("float32-nan-inf"), V("int32", inputs=(T(3, 4, dtype="int32"),)), V("int64", inputs=(T(3, 4, dtype="int64"),))], P + "isfinite")
pd("sgn", "Sign", [T(3, 5, domain="grid")], [V("float32-with-zeros"), V("nan-inf", inputs=(_SPECIAL,))], P + "sgn")
pd("paddle_sinc", ("Sin", "Div", "Where"), [T(3, 5, domain="grid")],
   [V("halves-and-zero"), V("normal", inputs=(T(3, 5),))], P + "sinc")
pd("paddle_deg2rad", "Mul", [T(3, 5, scale=90.0)],
   [V("float32"), V("int32", inputs=(T(3, 5, dtype="int32", low=-360, high=360),)),
    V("int64", inputs=(T(3, 5, dtype="int64", low=-360, high=360),))], P + "deg2rad")
pd("paddle_rad2deg", "Mul", [T(3, 5)],
   [V("float32"), V("int32", inputs=(T(3, 5, dtype="int32"),))], P + "rad2deg")
pd("scale", ("Mul", "Add"), [T(3, 5)], [
    V("scale2-bias0.5-after", {"scale": 2.0, "bias": 0.5, "bias_after_scale": True}),
    V("scale2-bias0.5-before", {"scale": 2.0, "bias": 0.5, "bias_after_scale": False}),
    V("scale-neg-int32", {"scale": -3.0, "bias": 1.0}, inputs=(T(3, 5, dtype="int32"),)),
    V("scale-int64", {"scale": 2.0, "bias": -1.0}, inputs=(T(3, 5, dtype="int64"),)),
    V("empty", {"scale": 2.0}, inputs=(T(0, 5),)),
], P + "scale")
pd("increment", "Add", [T(1)], [V("value1"), V("value-2.5", {"value": -2.5}),
                                V("int64-value3", {"value": 3}, inputs=(T(1, dtype="int64"),))], P + "increment")
pd("clone", "Identity", [T(3, 5)], [V("float32"), V("int64", inputs=(T(3, 5, dtype="int64"),)),
                                    V("bool", inputs=(T(3, 5, dtype="bool"),))], P + "clone")
pd("assign", "Identity", [T(3, 5)], [V("float32"), V("int32", inputs=(T(3, 5, dtype="int32"),)),
                                     V("float16", inputs=(T(3, 5, dtype="float16"),))], P + "assign")
pd("zeros_like_dtype", ("Shape", "ConstantOfShape"), [T(3, 5)], [
    V("same"), V("to-int32", {"dtype": "int32"}), V("to-bool", {"dtype": "bool"}),
    V("from-int64", inputs=(T(2, 4, dtype="int64"),)), V("empty", inputs=(T(0, 4),)),
], P + "zeros_like")
pd("numel", "Size", [T(3, 5)], [V("2d"), V("scalar", inputs=(T(),)), V("empty", inputs=(T(0, 4),))], P + "numel")
pd("paddle_shape", "Shape", [T(3, 5, 2)], [V("3d"), V("int64", inputs=(T(4, dtype="int64"),))], P + "shape")

# ----------------------------------------------------------------------------------------
# Elementwise binary
# ----------------------------------------------------------------------------------------
pd("paddle_hypot", ("Mul", "Add", "Sqrt"), (T(3, 5), T(3, 5)),
   [V("same-shape"), V("bcast", inputs=(T(3, 1), T(1, 5))), V("inf", inputs=(_SPECIAL, T(4, 6)))], P + "hypot")
pd("paddle_logaddexp", ("Exp", "Log", "Add"), (T(3, 5), T(3, 5)),
   [V("same-shape"), V("large", inputs=(T(3, 5, scale=50.0), T(3, 5, scale=50.0))),
    V("bcast", inputs=(T(3, 1), T(5)))], P + "logaddexp")
pd("paddle_gcd", ("Mod", "Loop"), (T(3, 5, dtype="int32", low=-12, high=13), T(3, 5, dtype="int32", low=-12, high=13)), [
    V("int32-signs-zeros"), V("int64", inputs=(T(4, 3, dtype="int64", low=-30, high=31), T(4, 3, dtype="int64", low=-30, high=31))),
    V("bcast", inputs=(T(3, 1, dtype="int32", low=0, high=20), T(4, dtype="int32", low=0, high=20))),
], P + "gcd")
pd("paddle_lcm", ("Mod", "Loop"), (T(3, 5, dtype="int32", low=-12, high=13), T(3, 5, dtype="int32", low=-12, high=13)), [
    V("int32-signs-zeros"), V("int64", inputs=(T(4, 3, dtype="int64", low=-30, high=31), T(4, 3, dtype="int64", low=-30, high=31))),
], P + "lcm")
pd("paddle_ldexp", ("Pow", "Mul"), (T(3, 5), T(3, 5, dtype="int32", low=-4, high=5)), [
    V("int32-exp"), V("int64-exp", inputs=(T(3, 5), T(3, 5, dtype="int64", low=-4, high=5))),
], P + "ldexp")
pd("paddle_add_n", "Sum", (T(3, 5), T(3, 5), T(3, 5)), [
    V("3-inputs"), V("1-input", inputs=(T(2, 4),)),
    V("int64", inputs=(T(3, 2, dtype="int64"), T(3, 2, dtype="int64"))),
], P + "add_n", packed=True)
pd("dot", ("Mul", "ReduceSum"), (T(5), T(5)), [
    V("1d"), V("2d-rows", inputs=(T(3, 5), T(3, 5))),
    V("int32", inputs=(T(6, dtype="int32"), T(6, dtype="int32"))),
    V("int64", inputs=(T(6, dtype="int64"), T(6, dtype="int64"))),
], P + "dot")
pd("mv", "MatMul", (T(3, 5), T(5)), [V("3x5")], P + "mv")
pd("dist", ("Sub", "ReduceL2", "Pow"), (T(3, 4), T(3, 4)), [
    V("p2", {"p": 2.0}), V("p1", {"p": 1.0}), V("p3", {"p": 3.0}), V("p0", {"p": 0.0}),
    V("p-inf", {"p": float("inf")}), V("p-neg-inf", {"p": float("-inf")}),
    V("bcast", {"p": 2.0}, inputs=(T(3, 1), T(1, 4))),
], P + "dist")
# 1d: free=[] (no dynamic twin): paddle.inner's own code cannot be saved with a None length (paddle.jit.save:
# "Only one dimension value of 'shape' in reshape can be -1", Paddle 3.3.1)
pd("paddle_inner", "MatMul", (T(3, 4), T(5, 4)), [V("2d"), V("1d", inputs=(T(4, free=[]), T(4))), V("3d-2d", inputs=(T(2, 3, 4), T(5, 4)))],
   P + "inner")
pd("cdist", ("Sub", "ReduceL2", "Pow"), (T(4, 3), T(5, 3)), [
    V("p2", {"p": 2.0}), V("p1", {"p": 1.0}), V("p0", {"p": 0.0}), V("p-inf", {"p": float("inf")}), V("p3", {"p": 3.0}),
    V("batched", {"p": 2.0}, inputs=(T(2, 4, 3), T(2, 5, 3))),
    V("mm-for-euclid", {"p": 2.0, "compute_mode": "use_mm_for_euclid_dist"}, inputs=(T(30, 3), T(27, 3))),
], P + "cdist")

# ----------------------------------------------------------------------------------------
# Reductions and norms
# ----------------------------------------------------------------------------------------
_NAN = T(3, 4, 5, domain="special")
pd("paddle_nanmean", ("IsNaN", "Where", "ReduceSum", "Div"), [_NAN], [
    V("axis1", {"axis": 1}), V("axes0-2-keep", {"axis": [0, 2], "keepdim": True}), V("all"),
    V("no-nan", {"axis": -1}, inputs=(T(3, 4),)),
], P + "nanmean")
pd("paddle_nansum", ("IsNaN", "Where", "ReduceSum"), [_NAN], [
    V("axis1", {"axis": 1}), V("axis-1-keep", {"axis": -1, "keepdim": True}), V("all"),
    V("int32", {"axis": 0}, inputs=(T(3, 4, dtype="int32"),)),
], P + "nansum")
pd("paddle_count_nonzero", ("Equal", "Not", "Cast", "ReduceSum"), [T(3, 5, dtype="int32", low=-1, high=2)], [
    V("int32-axis1", {"axis": 1}), V("all"), V("keepdim", {"axis": 0, "keepdim": True}),
    V("float32", {"axis": 1}, inputs=(T(3, 5, domain="grid"),)), V("bool", {"axis": 1}, inputs=(T(3, 5, dtype="bool"),)),
    V("int64", {"axis": -1}, inputs=(T(2, 6, dtype="int64", low=-1, high=2),)),
], P + "count_nonzero")
pd("norm", ("ReduceL2", "ReduceL1", "Pow"), [T(3, 4, 5)], [
    V("fro-all"), V("fro-axes01", {"p": "fro", "axis": [0, 1]}),
    V("p2-axis1", {"p": 2, "axis": 1}), V("p1-axis-1-keep", {"p": 1, "axis": -1, "keepdim": True}),
    V("p3-axis0", {"p": 3, "axis": 0}), V("p-inf-axis1", {"p": float("inf"), "axis": 1}),
    V("p-neg-inf-axis1", {"p": float("-inf"), "axis": 1}), V("p0-axis1", {"p": 0, "axis": 1}),
], PL + "norm")
pd("vector_norm", ("ReduceL2", "ReduceL1", "ReduceMax", "Pow"), [T(3, 4, 5)], [
    V("p2-all", {"p": 2.0}), V("p1-axis1", {"p": 1.0, "axis": 1}),
    V("p-inf-axis-1", {"p": float("inf"), "axis": -1}), V("p-neg-inf-axis-1", {"p": float("-inf"), "axis": -1}),
    V("p0-axis0", {"p": 0.0, "axis": 0}), V("p3-axes12-keep", {"p": 3.0, "axis": [1, 2], "keepdim": True}),
    V("p0.5-axis1", {"p": 0.5, "axis": 1}),
], PL + "vector_norm")

# ----------------------------------------------------------------------------------------
# Indexing, gather and scatter
# ----------------------------------------------------------------------------------------
pd("paddle_take", "Gather", (T(3, 5), T(4, dtype="int64", domain="index", high=15)), [
    V("raise"), V("negative-index-raise", inputs=(T(3, 5), T(2, 3, dtype="int64", domain="index", low=-15, high=15))),
    V("wrap-out-of-range", {"mode": "wrap"}, inputs=(T(3, 5), T(6, dtype="int64", domain="index", low=-40, high=40))),
    V("clip-out-of-range", {"mode": "clip"}, inputs=(T(3, 5), T(6, dtype="int64", domain="index", low=-40, high=40))),
    V("int32-index", inputs=(T(3, 5), T(4, dtype="int32", domain="index", high=15))),
], P + "take")
pd("index_fill", ("Where", "ScatterND"), (T(4, 5), T(2, dtype="int64", domain="unique_index", high=4)), [
    V("axis0-value1.5", {"axis": 0, "value": 1.5}),
    V("axis1-value-2", {"axis": 1, "value": -2.0}, inputs=(T(4, 5), T(3, dtype="int64", domain="unique_index", high=5))),
    V("int64-x", {"axis": 0, "value": 7}, inputs=(T(4, 3, dtype="int64"), T(2, dtype="int64", domain="unique_index", high=4))),
], P + "index_fill")
op("index_put", "ScatterND", (T(5, 3), T(2, dtype="int64", domain="unique_index", high=5), T(2, 3)), [
    V("assign"), V("accumulate", {"accumulate": True}),
    V("duplicates-accumulate", {"accumulate": True}, inputs=(T(5, 3), T(4, dtype="int64", domain="index", high=5), T(4, 3))),
    V("negative-index", inputs=(T(5, 3), T(2, dtype="int64", domain="index", low=-5, high=0), T(2, 3))),
    V("bcast-value", inputs=(T(5, 3), T(2, dtype="int64", domain="unique_index", high=5), T(3))),
], calls={"paddle": custom("index_put", P + "index_put")})
pd("index_sample", "GatherElements", (T(3, 5), T(3, 4, dtype="int64", domain="index", high=5)), [
    V("int64-index"), V("int32-index", inputs=(T(3, 5), T(3, 2, dtype="int32", domain="index", high=5))),
    V("int64-x", inputs=(T(2, 6, dtype="int64"), T(2, 3, dtype="int64", domain="index", high=6))),
], P + "index_sample")
pd("index_select", "Gather", (T(3, 5), T(4, dtype="int64", domain="index", high=5)), [
    V("axis1", {"axis": 1}), V("axis0-int32-index", {"axis": 0}, inputs=(T(3, 5), T(2, dtype="int32", domain="index", high=3))),
    V("axis-1-3d", {"axis": -1}, inputs=(T(2, 3, 5), T(6, dtype="int64", domain="index", high=5))),
    V("int64-x", {"axis": 0}, inputs=(T(4, 2, dtype="int64"), T(3, dtype="int64", domain="index", high=4))),
], P + "index_select", names=("x", "index"))
pd("masked_select", ("Where", "NonZero", "GatherND"), (T(3, 5), T(3, 5, dtype="bool")), [
    V("same-shape"), V("bcast-mask", inputs=(T(3, 5), T(5, dtype="bool"))),
    V("int64", inputs=(T(3, 5, dtype="int64"), T(3, 5, dtype="bool"))),
    V("all-false", inputs=(T(3, 5), T(3, 5, dtype="bool", p=0.0))),
], P + "masked_select")
pd("masked_scatter", ("Where", "CumSum", "Gather"), (T(3, 5), T(3, 5, dtype="bool"), T(3, 5)), [
    V("same-shape"), V("bcast-mask", inputs=(T(3, 5), T(5, dtype="bool"), T(4, 5))),
    V("all-true", inputs=(T(2, 3), T(2, 3, dtype="bool", p=1.0), T(2, 3))),
], P + "masked_scatter")
pd("scatter", "ScatterND", (T(5, 3), T(2, dtype="int64", domain="unique_index", high=5), T(2, 3)), [
    V("overwrite"), V("add-unique", {"overwrite": False}),
    # duplicates with overwrite=False are summed (zeroed first); overwrite=True is last-wins per docs
    V("add-duplicates", {"overwrite": False}, inputs=(T(5, 3), T(4, dtype="int64", domain="index", high=5), T(4, 3))),
    V("int32-index", inputs=(T(5, 3), T(2, dtype="int32", domain="unique_index", high=5), T(2, 3))),
    V("int64-x", inputs=(T(5, 3, dtype="int64"), T(2, dtype="int64", domain="unique_index", high=5), T(2, 3, dtype="int64"))),
], P + "scatter")
pd("paddle_scatter_nd", ("ConstantOfShape", "ScatterND"), (T(2, 1, dtype="int64", domain="unique_index", axis=0, high=5), T(2, 3)), [
    V("rows", {"shape": [5, 3]}),
    V("duplicates-summed", {"shape": [5, 3]}, inputs=(T(4, 1, dtype="int64", domain="index", high=5), T(4, 3))),
    V("elements", {"shape": [4, 3]}, inputs=(T(3, 2, dtype="int64", domain="index", high=3), T(3))),
], P + "scatter_nd")
pd("put_along_axis_reduce", "ScatterElements",
   (T(3, 5), T(3, 2, dtype="int64", domain="unique_index", axis=1, high=5), T(3, 2)), [
    V("assign-axis1", {"axis": 1}), V("add", {"axis": 1, "reduce": "add"}), V("mul", {"axis": 1, "reduce": "mul"}),
    V("amax", {"axis": 1, "reduce": "amax"}), V("amin", {"axis": 1, "reduce": "amin"}),
    V("mean", {"axis": 1, "reduce": "mean"}),
    V("add-exclude-self", {"axis": 1, "reduce": "add", "include_self": False}),
    V("add-duplicates", {"axis": 0, "reduce": "add"}, inputs=(T(3, 5), T(4, 5, dtype="int64", domain="index", high=3), T(4, 5))),
], P + "put_along_axis", names=("arr", "indices", "values"))
pd("paddle_strided_slice", "Slice", [T(4, 6, 5)], [
    V("step2", {"axes": [0, 1], "starts": [0, 1], "ends": [4, 6], "strides": [2, 2]}),
    V("negative-stride", {"axes": [1], "starts": [-1], "ends": [-7], "strides": [-2]}),
    V("out-of-range-ends", {"axes": [0, 2], "starts": [-10, 1], "ends": [10, 100], "strides": [1, 3]}),
], P + "strided_slice")
pd("slice_axes", "Slice", [T(4, 6, 5)], [
    V("axes01", {"axes": [0, 1], "starts": [1, 1], "ends": [3, 4]}),
    V("negative", {"axes": [2], "starts": [-3], "ends": [-1]}),
    V("clamped", {"axes": [0], "starts": [-100], "ends": [100]}),
    V("empty-result", {"axes": [1], "starts": [3], "ends": [3]}),
], P + "slice")
pd("expand_as", "Expand", (T(1, 5), T(3, 5)), [
    V("rows"), V("rank-up", inputs=(T(4, 1), T(2, 4, 3))), V("int64", inputs=(T(3, 1, dtype="int64"), T(3, 4, dtype="int64"))),
    # bool inputs: paddle.jit.save refuses expand_as/expand of a bool tensor that needs no gradient
], P + "expand_as")
pd("expand_shape", "Expand", [T(3, 1)], [
    V("rank-up", {"shape": [2, 3, 5]}), V("minus1-keeps", {"shape": [-1, 4]}),
    V("int32", {"shape": [3, 6]}, inputs=(T(3, 1, dtype="int32"),)),
], P + "expand")
pd("repeat_interleave", ("Gather", "Tile", "Reshape"), [T(3, 4)], [
    V("int-axis1", {"repeats": 2, "axis": 1}), V("int-flat", {"repeats": 3}),
    V("axis0-int64", {"repeats": 2, "axis": 0}, inputs=(T(3, 4, dtype="int64"),)),
], P + "repeat_interleave")
pd("repeat_interleave_tensor", ("Gather", "CumSum"), (T(3, 4), T(3, dtype="int64", low=0, high=3)), [
    V("axis0-with-zero-repeats", {"axis": 0}),
], P + "repeat_interleave", names=("x", "repeats"))
pd("paddle_unique", ("Unique",), [T(8, dtype="int64", low=-3, high=4)], [
    V("sorted-int64"), V("int32", inputs=(T(10, dtype="int32", low=-3, high=4),)),
    V("float32-2d-flattened", inputs=(T(3, 4, domain="grid"),)),
    V("axis0-rows", {"axis": 0}, inputs=(T(5, 2, dtype="int64", low=0, high=2),)),
], P + "unique")

# ----------------------------------------------------------------------------------------
# Shape manipulation
# ----------------------------------------------------------------------------------------
pd("paddle_moveaxis", "Transpose", [T(2, 3, 4)], [
    V("0-to-2", {"source": 0, "destination": 2}), V("negative", {"source": -1, "destination": 0}),
    V("two-axes", {"source": [0, 1], "destination": [2, 0]}),
    V("int64", {"source": 1, "destination": 0}, inputs=(T(2, 3, 4, dtype="int64"),)),
], P + "moveaxis")
pd("t", "Transpose", [T(3, 5)], [V("2d"), V("1d-unchanged", inputs=(T(4),)), V("bool", inputs=(T(2, 3, dtype="bool"),))], P + "t")
pd("rot90", ("Transpose", "Slice"), [T(3, 5)], [
    V("k1", {"k": 1, "axes": [0, 1]}), V("k2", {"k": 2, "axes": [0, 1]}), V("k3", {"k": 3, "axes": [0, 1]}),
    V("k-1", {"k": -1, "axes": [0, 1]}), V("k4-identity", {"k": 4, "axes": [0, 1]}),
    V("axes-1-0-3d", {"k": 1, "axes": [2, 1]}, inputs=(T(2, 3, 4),)),
], P + "rot90")
pd("unflatten", "Reshape", [T(4, 6)], [
    V("axis1-2x3", {"axis": 1, "shape": [2, 3]}), V("axis-1-minus1", {"axis": -1, "shape": [-1, 2]}),
    V("axis0-int64", {"axis": 0, "shape": [2, 2]}, inputs=(T(4, 3, dtype="int64"),)),
], P + "unflatten")
for _n in (1, 2, 3):
    pd(f"atleast_{_n}d", ("Reshape", "Unsqueeze"), [T(4)], [
        V("scalar", inputs=(T(),)), V("1d"), V("3d", inputs=(T(2, 3, 4),)), V("int64-1d", inputs=(T(3, dtype="int64"),)),
    ], P + f"atleast_{_n}d")
pd("tensor_split", "Split", [T(4, 7)], [
    V("sections3-axis1", {"num_or_indices": 3, "axis": 1}),
    V("indices-axis1", {"num_or_indices": [2, 5], "axis": 1}),
    V("indices-out-of-range", {"num_or_indices": [1, 9], "axis": 1}),
    V("sections2-axis0", {"num_or_indices": 2, "axis": 0}),
], P + "tensor_split")
for _name in ("hsplit", "vsplit", "dsplit"):       # split along axis 1, 0 and 2
    pd(_name, "Split", [T(4, 6, 4)], [V("sections2", {"num_or_indices": 2}), V("indices", {"num_or_indices": [1, 3]})], P + _name)
for _name in ("hstack", "vstack", "dstack", "column_stack", "row_stack"):
    pd(f"paddle_{_name}" if _name in ("hstack", "vstack", "dstack") else _name, "Concat", (T(3, 4), T(3, 4)), [
        V("2d"), V("1d", inputs=(T(4), T(4))), V("int64", inputs=(T(3, 2, dtype="int64"), T(3, 2, dtype="int64"))),
    ], P + _name, packed=True)
pd("unstack", ("Split", "Squeeze"), [T(4, 3, 2)], [
    V("axis0", {"axis": 0}), V("axis-1", {"axis": -1}), V("int64", {"axis": 1}, inputs=(T(2, 3, dtype="int64"),)),
], P + "unstack")
pd("cartesian_prod", ("Expand", "Concat"), (T(3), T(2)), [
    V("2-inputs"), V("3-inputs", inputs=(T(2), T(3), T(2))), V("int64", inputs=(T(3, dtype="int64"), T(2, dtype="int64"))),
], P + "cartesian_prod", packed=True)
pd("block_diag", ("Pad", "Concat"), (T(2, 3), T(2, 2)), [
    V("2-blocks"), V("3-blocks", inputs=(T(1, 2), T(2, 2), T(3, 1))),
    V("int64", inputs=(T(2, 2, dtype="int64"), T(1, 3, dtype="int64"))),
], P + "block_diag", packed=True)
pd("paddle_meshgrid", ("Expand", "Reshape"), (T(3), T(4)), [
    V("2-inputs"), V("3-inputs", inputs=(T(2), T(3), T(2))), V("int64", inputs=(T(3, dtype="int64"), T(2, dtype="int64"))),
], P + "meshgrid")

# ----------------------------------------------------------------------------------------
# Creation ops, added to an input so the graph has one (paddle.jit.save needs a feed)
# ----------------------------------------------------------------------------------------
def created(name, onnx, variants, api, inputs=(T(3, 5),)):
    op(name, onnx, list(inputs), variants, calls={"paddle": custom("plus_created", P + api)})


created("linspace", ("Range", "Add"), [
    V("0-1-num5", {"api": "linspace", "args": {"start": 0.0, "stop": 1.0, "num": 5}}),
    V("descending", {"api": "linspace", "args": {"start": 2.0, "stop": -2.0, "num": 5}}),
    V("int32", {"api": "linspace", "args": {"start": 0, "stop": 8, "num": 5, "dtype": "int32"}}, inputs=(T(3, 5, dtype="int32"),)),
    V("num1", {"api": "linspace", "args": {"start": 3.0, "stop": 7.0, "num": 1}}, inputs=(T(3, 1),)),
], "linspace")
created("arange", ("Range", "Add"), [
    V("end5", {"api": "arange", "args": {"start": 0, "end": 5, "dtype": "float32"}}),
    V("step-0.5", {"api": "arange", "args": {"start": 1.0, "end": -1.5, "step": -0.5}}),
    V("int64", {"api": "arange", "args": {"start": -2, "end": 8, "step": 2, "dtype": "int64"}}, inputs=(T(3, 5, dtype="int64"),)),
], "arange")
created("eye", ("EyeLike", "Add"), [
    V("3x5", {"api": "eye", "args": {"num_rows": 3, "num_columns": 5}}),
    V("square-int32", {"api": "eye", "args": {"num_rows": 3, "dtype": "int32"}}, inputs=(T(3, 3, dtype="int32"),)),
], "eye")
created("full", ("ConstantOfShape", "Add"), [
    V("value2.5", {"api": "full", "args": {"shape": [3, 5], "fill_value": 2.5}}),
    V("int64-neg", {"api": "full", "args": {"shape": [3, 5], "fill_value": -7, "dtype": "int64"}}, inputs=(T(3, 5, dtype="int64"),)),
    V("inf", {"api": "full", "args": {"shape": [5], "fill_value": float("-inf")}}),
], "full")

# ----------------------------------------------------------------------------------------
# Misc tensor ops
# ----------------------------------------------------------------------------------------
pd("paddle_nan_to_num", ("IsNaN", "IsInf", "Where"), [_SPECIAL], [
    V("defaults"), V("all-given", {"nan": 1.5, "posinf": 100.0, "neginf": -100.0}), V("nan-only", {"nan": -1.0}),
    V("no-specials", inputs=(T(3, 4),)),
], P + "nan_to_num")
pd("reverse", "Slice", [T(3, 4, 5)], [
    V("axis0", {"axis": [0]}), V("axes-1-1", {"axis": [1, -1]}), V("int", {"axis": 2}),
    V("int64", {"axis": [0]}, inputs=(T(3, 2, dtype="int64"),)),
], P + "reverse")
pd("select_scatter", ("ScatterND", "Slice"), (T(3, 5), T(5)), [
    V("axis0-index1", {"axis": 0, "index": 1}), V("axis1-index-1", {"axis": 1, "index": -1}, inputs=(T(3, 5), T(3))),
    V("int64", {"axis": 0, "index": 2}, inputs=(T(3, 4, dtype="int64"), T(4, dtype="int64"))),
], P + "select_scatter")
pd("slice_scatter", ("ScatterND", "Slice"), (T(3, 6), T(3, 2)), [
    V("axis1-0-2", {"axes": [1], "starts": [0], "ends": [2], "strides": [1]}),
    V("axis1-step2", {"axes": [1], "starts": [1], "ends": [6], "strides": [2]}, inputs=(T(3, 6), T(3, 3))),
    V("two-axes", {"axes": [0, 1], "starts": [1, 0], "ends": [3, 4], "strides": [1, 2]}, inputs=(T(3, 6), T(2, 2))),
], P + "slice_scatter")
pd("paddle_isin", ("Equal", "ReduceMax"), (T(3, 5, dtype="int64", low=-3, high=4), T(4, dtype="int64", low=-3, high=4)), [
    V("int64"), V("invert", {"invert": True}), V("assume-unique", {"assume_unique": True},
                                                inputs=(T(3, 5, dtype="int64", domain="permutation"), T(4, dtype="int64", domain="permutation"))),
    V("float32", inputs=(T(3, 5, domain="grid"), T(6, domain="grid"))),
    V("int32", inputs=(T(3, 5, dtype="int32", low=-3, high=4), T(4, dtype="int32", low=-3, high=4))),
], P + "isin")
pd("isreal", ("Shape", "ConstantOfShape"), [T(3, 5)], [
    V("float32"), V("int64", inputs=(T(2, 3, dtype="int64"),)), V("bool", inputs=(T(2, 3, dtype="bool"),)),
], P + "isreal")
pd("paddle_trapezoid", ("Slice", "Add", "Mul", "ReduceSum"), [T(3, 5)], [
    V("default"), V("dx0.5", {"dx": 0.5}), V("axis0", {"axis": 0}),
], P + "trapezoid")
pd("trapezoid_x", ("Slice", "Sub", "Mul", "ReduceSum"), (T(3, 5), T(3, 5)), [V("sample-points")],
   P + "trapezoid", names=("y", "x"))
pd("cumulative_trapezoid", ("Slice", "Add", "CumSum"), [T(3, 5)], [
    V("default"), V("dx2", {"dx": 2.0}), V("axis0", {"axis": 0}),
], P + "cumulative_trapezoid")

# ----------------------------------------------------------------------------------------
# paddle.nn.functional: activations, dropout at inference, shifts and sampling
# ----------------------------------------------------------------------------------------
pd("swish", ("Sigmoid", "Mul"), [T(3, 7, scale=3.0)], [V("float32"), V("empty", inputs=(T(0, 4),))], PF + "swish")
pd("thresholded_relu", ("ThresholdedRelu", "Greater", "Where"), [T(3, 7, avoid=[1.0, 0.5, -0.5])], [
    V("default"), V("threshold0.5", {"threshold": 0.5}), V("threshold-0.5-value2", {"threshold": -0.5, "value": 2.0}),
    V("ties-at-threshold", {"threshold": 0.5}, inputs=(T(3, 7, domain="grid"),)),
], PF + "thresholded_relu")
pd("dropout", "Identity", [T(3, 6)], [
    V("p0.5-upscale", {"p": 0.5, "training": False}),
    # downscale_in_infer multiplies by (1 - p) at inference
    V("p0.3-downscale", {"p": 0.3, "training": False, "mode": "downscale_in_infer"}),
    V("axis1-downscale", {"p": 0.25, "axis": 1, "training": False, "mode": "downscale_in_infer"}),
    V("p1", {"p": 1.0, "training": False}),
], PF + "dropout")
pd("dropout2d", "Identity", [X(1, 2, 3, 5)], [V("nchw", {"p": 0.5, "training": False}),
                                              V("nhwc", {"p": 0.5, "training": False, "data_format": "NHWC"})], PF + "dropout2d")
pd("dropout3d", "Identity", [X(1, 2, 3, 3, 4)], [V("ncdhw", {"p": 0.5, "training": False}),
                                                 V("ndhwc", {"p": 0.2, "training": False, "data_format": "NDHWC"})], PF + "dropout3d")
pd("alpha_dropout", "Identity", [T(3, 6)], [V("p0.5", {"p": 0.5, "training": False})], PF + "alpha_dropout")
pd("temporal_shift", ("Slice", "Concat", "Reshape"), [X(4, 8, 3, 3)], [
    V("seg2", {"seg_num": 2}), V("seg4-ratio0.125", {"seg_num": 4, "shift_ratio": 0.125}),
    V("seg2-ratio0.375", {"seg_num": 2, "shift_ratio": 0.375}),
    V("nhwc", {"seg_num": 2, "data_format": "NHWC"}, inputs=(T(4, 3, 3, 8),)),
], PF + "temporal_shift")
_GRID = T(1, 3, 4, 2, domain="uniform", low=-1.3, high=1.3)
pd("grid_sample", "GridSample", (X(1, 2, 4, 5), _GRID), [
    V("bilinear-zeros-align", {"mode": "bilinear", "padding_mode": "zeros", "align_corners": True}),
    V("bilinear-zeros", {"mode": "bilinear", "padding_mode": "zeros", "align_corners": False}),
    V("bilinear-border", {"mode": "bilinear", "padding_mode": "border", "align_corners": False}),
    V("bilinear-reflection", {"mode": "bilinear", "padding_mode": "reflection", "align_corners": False}),
    V("bilinear-reflection-align", {"mode": "bilinear", "padding_mode": "reflection", "align_corners": True}),
    V("nearest-zeros", {"mode": "nearest", "padding_mode": "zeros", "align_corners": False}),
    V("nearest-border-align", {"mode": "nearest", "padding_mode": "border", "align_corners": True}),
], PF + "grid_sample", min_opset=16)
pd("paddle_unfold", ("Pad", "Gather", "Reshape"), [X(1, 2, 5, 6)], [
    V("k2", {"kernel_sizes": 2}), V("k3-s2-p1", {"kernel_sizes": 3, "strides": 2, "paddings": 1}),
    V("k2x3-d2", {"kernel_sizes": [2, 3], "dilations": 2}),
    V("k2-p4sides", {"kernel_sizes": 2, "paddings": [1, 0, 0, 1]}),
], PF + "unfold")
pd("zeropad2d", "Pad", [X(1, 2, 4, 5)], [
    # an int padding (documented) raises inside paddle's own zeropad2d ('int' object is not iterable)
    V("nchw", {"padding": [1, 2, 0, 1]}),
    V("nhwc", {"padding": [2, 1, 1, 0], "data_format": "NHWC"}, inputs=(T(1, 4, 5, 2),)),
], PF + "zeropad2d")
pd("pad_functional", "Pad", [X(1, 2, 4, 5)], [
    V("constant-nchw", {"pad": [1, 2, 0, 1], "mode": "constant", "value": 1.5}),
    V("reflect-nchw", {"pad": [1, 2, 2, 1], "mode": "reflect"}),
    V("replicate-nchw", {"pad": [1, 2, 2, 1], "mode": "replicate"}),
    V("circular-nchw", {"pad": [1, 1, 1, 1], "mode": "circular"}),
    V("reflect-nhwc", {"pad": [1, 2, 2, 1], "mode": "reflect", "data_format": "NHWC"}, inputs=(T(1, 4, 5, 2),)),
    V("replicate-ncl", {"pad": [2, 1], "mode": "replicate", "data_format": "NCL"}, inputs=(X(1, 2, 5),)),
    V("reflect-nlc", {"pad": [2, 1], "mode": "reflect", "data_format": "NLC"}, inputs=(T(1, 5, 2),)),
    V("replicate-ncdhw", {"pad": [1, 0, 0, 1, 1, 1], "mode": "replicate", "data_format": "NCDHW"}, inputs=(X(1, 2, 3, 4, 4),)),
    V("constant-full-rank-right-first", {"pad": [1, 0, 0, 2], "mode": "constant", "value": -2.0, "pad_from_left_axis": False},
      inputs=(T(3, 4),)),
], PF + "pad")
pd("upsample", "Resize", [X(1, 2, 4, 5)], [
    V("nearest-size", {"size": [8, 10], "mode": "nearest"}),
    V("bilinear-scale2", {"scale_factor": 2, "mode": "bilinear"}),
    V("bilinear-align-corners", {"size": [7, 9], "mode": "bilinear", "align_corners": True}),
    V("bilinear-align-mode1", {"size": [7, 9], "mode": "bilinear", "align_corners": False, "align_mode": 1}),
    V("nearest-nhwc", {"scale_factor": 2, "mode": "nearest", "data_format": "NHWC"}, inputs=(T(1, 4, 5, 2),)),
    V("bicubic", {"size": [6, 7], "mode": "bicubic"}),
], PF + "upsample", min_opset=11)
pd("interpolate_nhwc", "Resize", [T(1, 4, 5, 2)], [
    V("bilinear-scale2", {"scale_factor": 2, "mode": "bilinear", "data_format": "NHWC"}),
    V("nearest-size", {"size": [7, 9], "mode": "nearest", "data_format": "NHWC"}),
    V("linear-nwc", {"size": [9], "mode": "linear", "data_format": "NWC"}, inputs=(T(1, 5, 3),)),
    V("trilinear-ndhwc", {"scale_factor": 2, "mode": "trilinear", "data_format": "NDHWC"}, inputs=(T(1, 2, 3, 3, 2),)),
], PF + "interpolate", min_opset=11)

# ----------------------------------------------------------------------------------------
# paddle.nn.functional: pooling with masks, functional conv / norm with weight inputs
# ----------------------------------------------------------------------------------------
pd("adaptive_max_pool1d", "MaxPool", [X(1, 2, 9)], [
    V("out3", {"output_size": 3}), V("out4-uneven", {"output_size": 4}), V("out1", {"output_size": 1}),
    V("mask", {"output_size": 3, "return_mask": True}),
], PF + "adaptive_max_pool1d")
pd("adaptive_max_pool3d", "MaxPool", [X(1, 2, 4, 4, 6)], [
    V("out2", {"output_size": 2}), V("out2x2x3", {"output_size": [2, 2, 3]}), V("out1", {"output_size": 1}),
], PF + "adaptive_max_pool3d")
pd("max_pool2d_with_index", "MaxPool", [X(1, 2, 6, 6)], [
    V("k2-mask", {"kernel_size": 2, "return_mask": True}),
    V("k3-s2-p1-mask", {"kernel_size": 3, "stride": 2, "padding": 1, "return_mask": True}),
    V("k2-nhwc", {"kernel_size": 2, "data_format": "NHWC"}, inputs=(T(1, 6, 6, 2),)),
], PF + "max_pool2d")
pd("max_pool1d_with_index", "MaxPool", [X(1, 2, 8)], [
    V("k2-mask", {"kernel_size": 2, "return_mask": True}),
    V("k3-s2-p1-ceil", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
], PF + "max_pool1d")
pd("avg_pool2d_functional", "AveragePool", [X(1, 2, 6, 6)], [
    V("k2-divisor1", {"kernel_size": 2, "divisor_override": 1}),
    V("k3-p1-inclusive", {"kernel_size": 3, "padding": 1, "exclusive": False}),
    V("k3-p1-exclusive", {"kernel_size": 3, "padding": 1, "exclusive": True}),
    V("k2-nhwc", {"kernel_size": 2, "data_format": "NHWC"}, inputs=(T(1, 6, 6, 2),)),
], PF + "avg_pool2d")
pd("conv1d_transpose", "ConvTranspose", (X(1, 4, 5), T(4, 3, 3)), [
    V("s2", {"stride": 2}), V("s2-p1-outpad1", {"stride": 2, "padding": 1, "output_padding": 1}),
    V("dilation2", {"dilation": 2}), V("groups2", {"groups": 2}, inputs=(X(1, 4, 5), T(4, 2, 3))),
    V("output-size12", {"stride": 2, "output_size": 12}),
    V("nlc", {"stride": 2, "data_format": "NLC"}, inputs=(T(1, 5, 4), T(4, 3, 3))),
], PF + "conv1d_transpose")
pd("conv2d_functional", "Conv", (X(1, 2, 6, 6), T(3, 2, 3, 3)), [
    V("p1", {"padding": 1}), V("s2-same", {"stride": 2, "padding": "SAME"}), V("valid", {"padding": "VALID"}),
    V("p4sides", {"padding": [1, 0, 2, 1]}), V("nhwc", {"padding": 1, "data_format": "NHWC"}, inputs=(T(1, 6, 6, 2), T(3, 2, 3, 3))),
], PF + "conv2d")
pd("linear_functional", ("MatMul", "Add"), (T(3, 4), T(4, 5), T(5)), [
    V("bias"), V("no-bias", inputs=(T(2, 3, 4), T(4, 5))),
], PF + "linear")
# running mean, running variance and the scale as inputs (the builders take up to four tensors)
pd("batch_norm_functional", "BatchNormalization", (X(2, 3, 4, 4), T(3), T(3, domain="positive"), T(3)), [
    V("nchw-scale", {"epsilon": 1e-5}), V("eps1e-2-scale", {"epsilon": 1e-2}),
    V("nhwc-scale", {"data_format": "NHWC"}, inputs=(T(2, 4, 4, 3), T(3), T(3, domain="positive"), T(3))),
    V("ncl-no-affine", inputs=(X(2, 3, 5), T(3), T(3, domain="positive"))),
], PF + "batch_norm", names=("x", "running_mean", "running_var", "weight"))
pd("instance_norm_functional", "InstanceNormalization", [X(2, 3, 4, 5)], [
    V("nchw", {"eps": 1e-5}), V("eps1e-2-ncl", {"eps": 1e-2}, inputs=(X(2, 3, 6),)),
], PF + "instance_norm")
pd("layer_norm_functional", "LayerNormalization", (T(2, 3, 4), T(4), T(4)), [
    V("affine", {"normalized_shape": 4}), V("no-affine-2dims", {"normalized_shape": [3, 4], "epsilon": 1e-3}, inputs=(T(2, 3, 4),)),
], PF + "layer_norm", names=("x", "weight", "bias"))
pd("embedding_functional", "Gather", (T(2, 5, dtype="int64", domain="index", high=6), T(6, 3)), [
    V("plain"), V("padding-idx2", {"padding_idx": 2}), V("padding-idx-1", {"padding_idx": -1}),
    V("int32-ids", inputs=(T(4, dtype="int32", domain="index", high=6), T(6, 3))),
], PF + "embedding")
pd("cosine_similarity", ("ReduceSum", "Div", "Sqrt"), (T(3, 4), T(3, 4)), [
    V("axis1"), V("axis0-eps", {"axis": 0, "eps": 1e-3}), V("bcast", {"axis": -1}, inputs=(T(2, 3, 4), T(3, 4))),
    V("zero-vector", {"axis": 1}, inputs=(T(3, 4, dtype="float32", domain="uniform", low=0.0, high=0.0), T(3, 4))),
], PF + "cosine_similarity")
pd("pairwise_distance", ("Sub", "ReduceL2", "Pow"), (T(3, 4), T(3, 4)), [
    V("p2"), V("p1-keepdim", {"p": 1.0, "keepdim": True}), V("p-inf", {"p": float("inf")}), V("p0", {"p": 0.0}),
    V("p3-eps1e-2", {"p": 3.0, "epsilon": 1e-2}), V("bcast", inputs=(T(3, 4), T(1, 4))),
], PF + "pairwise_distance")
pd("softmax_with_cross_entropy", ("LogSoftmax", "GatherElements"), (T(3, 5), T(3, 1, dtype="int64", domain="index", high=5)), [
    V("hard-label"), V("ignore-index2", {"ignore_index": 2}),
    V("return-softmax", {"return_softmax": True}),
    V("soft-label", {"soft_label": True}, inputs=(T(3, 5), T(3, 5, domain="uniform", low=0.0, high=0.4))),
    V("axis0", {"axis": 0}, inputs=(T(4, 3), T(1, 3, dtype="int64", domain="index", high=4))),
], PF + "softmax_with_cross_entropy")
pd("square_error_cost", ("Sub", "Mul"), (T(3, 5), T(3, 5)), [V("same-shape"), V("int64", inputs=(T(3, 2, dtype="int64"), T(3, 2, dtype="int64")))],
   PF + "square_error_cost")

# ----------------------------------------------------------------------------------------
# Losses (paddle.nn.functional). paddle2onnx cannot take the mean of a whole tensor
# (reduce over all axes: 'Can not get input axis(dim) value', SIGABRT), so 'none' and 'sum' come first.
# ----------------------------------------------------------------------------------------
_REDUCTIONS = [V("none", {"reduction": "none"}), V("sum", {"reduction": "sum"}), V("mean", {"reduction": "mean"})]
_PROB = dict(domain="uniform", low=0.05, high=0.95)
pd("mse_loss", ("Sub", "Mul", "ReduceSum"), (T(3, 4), T(3, 4)), _REDUCTIONS, PF + "mse_loss")
pd("l1_loss", ("Sub", "Abs", "ReduceSum"), (T(3, 4), T(3, 4)), _REDUCTIONS, PF + "l1_loss")
pd("cross_entropy", ("LogSoftmax", "GatherElements"), (T(4, 5), T(4, dtype="int64", domain="index", high=5)), [
    V("none", {"reduction": "none"}), V("sum", {"reduction": "sum"}), V("mean", {"reduction": "mean"}),
    V("ignore-index1-none", {"reduction": "none", "ignore_index": 1}),
    V("soft-label-none", {"reduction": "none", "soft_label": True}, inputs=(T(4, 5), T(4, 5, **_PROB))),
    V("no-softmax-none", {"reduction": "none", "use_softmax": False}, inputs=(T(4, 5, **_PROB), T(4, dtype="int64", domain="index", high=5))),
    V("label-smoothing-none", {"reduction": "none", "label_smoothing": 0.1}),
    V("axis1-none", {"reduction": "none", "axis": 1}, inputs=(T(2, 5, 3), T(2, 1, 3, dtype="int64", domain="index", high=5))),
], PF + "cross_entropy")
pd("margin_ranking_loss", ("Sub", "Mul", "Relu"), (T(3, 4), T(3, 4), T(3, 4, domain="grid")), [
    V("none", {"reduction": "none"}), V("margin0.5-sum", {"margin": 0.5, "reduction": "sum"}), V("mean", {"reduction": "mean"}),
], PF + "margin_ranking_loss")
pd("hinge_embedding_loss", ("Where", "Relu"), (T(3, 4), T(3, 4, dtype="float32", domain="grid")), [
    V("none", {"reduction": "none"}), V("margin2-sum", {"margin": 2.0, "reduction": "sum"}),
], PF + "hinge_embedding_loss")
pd("soft_margin_loss", ("Mul", "Exp", "Log"), (T(3, 4), T(3, 4, domain="grid")), [
    V("none", {"reduction": "none"}), V("sum", {"reduction": "sum"}),
], PF + "soft_margin_loss")
pd("triplet_margin_loss", ("Sub", "ReduceL2", "Relu"), (T(3, 4), T(3, 4), T(3, 4)), [
    V("none", {"reduction": "none"}), V("p1-margin0.5-sum", {"p": 1.0, "margin": 0.5, "reduction": "sum"}),
    V("swap-none", {"swap": True, "reduction": "none"}),
], PF + "triplet_margin_loss")
pd("cosine_embedding_loss", ("ReduceSum", "Div", "Where"), (T(3, 4), T(3, 4), T(3, dtype="int64", low=0, high=2)), [
    V("none", {"reduction": "none"}), V("margin0.2-sum", {"margin": 0.2, "reduction": "sum"}),
], PF + "cosine_embedding_loss")
pd("poisson_nll_loss", ("Exp", "Sub", "Mul"), (T(3, 4), T(3, 4, domain="positive")), [
    V("log-input-none", {"reduction": "none"}), V("probs-none", {"log_input": False, "reduction": "none"},
                                                 inputs=(T(3, 4, domain="positive"), T(3, 4, domain="positive"))),
    V("full-sum", {"full": True, "reduction": "sum"}),
], PF + "poisson_nll_loss")
pd("gaussian_nll_loss", ("Log", "Div", "Mul"), (T(3, 4), T(3, 4), T(3, 4, domain="positive")), [
    V("none", {"reduction": "none"}), V("full-eps-sum", {"full": True, "epsilon": 1e-3, "reduction": "sum"}),
], PF + "gaussian_nll_loss")
pd("multi_label_soft_margin_loss", ("Sigmoid", "Log", "ReduceMean"), (T(3, 4), T(3, 4, domain="uniform", low=0.0, high=1.0)), [
    V("none", {"reduction": "none"}), V("sum", {"reduction": "sum"}),
], PF + "multi_label_soft_margin_loss")
pd("multi_margin_loss", ("GatherElements", "Relu", "ReduceMean"), (T(3, 5), T(3, dtype="int64", domain="index", high=5)), [
    V("p1-none", {"reduction": "none"}), V("p2-margin0.5-none", {"p": 2, "margin": 0.5, "reduction": "none"}),
    V("sum", {"reduction": "sum"}),
], PF + "multi_margin_loss")

# ----------------------------------------------------------------------------------------
# paddle.vision.ops
# ----------------------------------------------------------------------------------------
op("roi_align", "RoiAlign", (X(1, 2, 8, 8), T(2, 4, domain="uniform", low=0.0, high=3.0)), [
    V("out2-aligned", {"output_size": 2, "aligned": True}),
    V("out2x3-not-aligned", {"output_size": [2, 3], "aligned": False}),
    V("scale0.5-ratio2", {"output_size": 2, "spatial_scale": 0.5, "sampling_ratio": 2}),
], calls={"paddle": custom("roi_align", PV + "roi_align")}, min_opset=16)
op("yolo_box", ("Sigmoid", "Exp", "Mul"), (X(1, 14, 4, 4), T(1, 2, dtype="int32", low=32, high=64)), [
    V("clip", {"anchors": [10, 13, 16, 30], "class_num": 2, "conf_thresh": 0.01, "downsample_ratio": 8}),
    V("no-clip-scale1.2", {"anchors": [10, 13, 16, 30], "class_num": 2, "conf_thresh": 0.01, "downsample_ratio": 8,
                           "clip_bbox": False, "scale_x_y": 1.2}),
    V("conf0.5", {"anchors": [10, 13, 16, 30], "class_num": 2, "conf_thresh": 0.5, "downsample_ratio": 8}),
], calls={"paddle": fn(PV + "yolo_box")})

# ----------------------------------------------------------------------------------------
# paddle.nn layers: each constructor keyword given a small domain
# ----------------------------------------------------------------------------------------
_A = [T(3, 7, scale=2.0, avoid=[0.0])]
_ACT_LAYERS = [
    # layer, onnx, variants (constructor keywords), input override
    ("ReLU", "Relu", [V("default")]),
    ("ReLU6", "Clip", [V("default", inputs=(T(3, 7, scale=4.0, avoid=[0.0, 6.0]),))]),
    ("ELU", "Elu", [V("alpha1"), V("alpha0.5", {"alpha": 0.5})]),
    ("SELU", "Selu", [V("default"), V("scale1.2-alpha1.5", {"scale": 1.2, "alpha": 1.5})]),
    ("GELU", ("Gelu", "Erf"), [V("exact"), V("tanh", {"approximate": True})]),
    ("Sigmoid", "Sigmoid", [V("default")]),
    ("Tanh", "Tanh", [V("default")]),
    ("Softsign", "Softsign", [V("default")]),
    ("Tanhshrink", ("Tanh", "Sub"), [V("default")]),
    ("LogSigmoid", ("Sigmoid", "Log"), [V("default")]),
    ("Mish", ("Softplus", "Tanh", "Mul"), [V("default")]),
    ("Silu", ("Sigmoid", "Mul"), [V("default")]),
    ("Swish", ("Sigmoid", "Mul"), [V("default")]),
    ("Hardswish", "HardSwish", [V("default", inputs=(T(3, 7, scale=4.0, avoid=[-3.0, 3.0]),))]),
    ("Hardsigmoid", "HardSigmoid", [V("default", inputs=(T(3, 7, scale=4.0, avoid=[-3.0, 3.0]),))]),
    ("Hardtanh", "Clip", [V("default", inputs=(T(3, 7, scale=2.0, avoid=[-1.0, 1.0]),)),
                          V("min-0.5-max0.7", {"min": -0.5, "max": 0.7}, inputs=(T(3, 7, avoid=[-0.5, 0.7]),))]),
    ("Hardshrink", "Shrink", [V("threshold0.5", inputs=(T(3, 7, avoid=[-0.5, 0.5]),)),
                              V("threshold0.3", {"threshold": 0.3}, inputs=(T(3, 7, avoid=[-0.3, 0.3]),))]),
    ("Softshrink", "Shrink", [V("threshold0.5", inputs=(T(3, 7, avoid=[-0.5, 0.5]),)),
                              V("threshold0.3", {"threshold": 0.3}, inputs=(T(3, 7, avoid=[-0.3, 0.3]),))]),
    ("ThresholdedReLU", ("ThresholdedRelu", "Where"), [V("threshold1", inputs=(T(3, 7, scale=2.0, avoid=[1.0]),)),
                                                        V("threshold0.3-value-1", {"threshold": 0.3, "value": -1.0},
                                                          inputs=(T(3, 7, avoid=[0.3]),))]),
    ("LeakyReLU", "LeakyRelu", [V("slope0.01"), V("slope0.2", {"negative_slope": 0.2}), V("slope0", {"negative_slope": 0.0})]),
    ("Softmax", "Softmax", [V("axis-1"), V("axis0", {"axis": 0})]),
    ("LogSoftmax", "LogSoftmax", [V("axis-1"), V("axis0", {"axis": 0})]),
    ("Softmax2D", "Softmax", [V("nchw", inputs=(X(1, 3, 4, 4),)), V("chw", inputs=(T(3, 4, 4),))]),
    ("GLU", ("Split", "Sigmoid", "Mul"), [V("axis-1", inputs=(T(3, 8),)), V("axis0", {"axis": 0}, inputs=(T(4, 3),))]),
    ("Identity", "Identity", [V("float32"), V("int64", inputs=(T(3, 4, dtype="int64"),))]),
]
for _layer, _onnx, _variants in _ACT_LAYERS:
    layer("nn." + _layer, _onnx, _A, _variants, NN + _layer)

layer("nn.PReLU", "PRelu", [X(2, 3, 4, 5, avoid=[0.0])], [
    V("shared"), V("per-channel-init0.1", {"num_parameters": 3, "init": 0.1}),
    V("per-channel-nhwc", {"num_parameters": 3, "data_format": "NHWC"}, inputs=(T(2, 4, 5, 3, avoid=[0.0]),)),
], NN + "PReLU")
layer("nn.Flatten", ("Flatten", "Reshape"), [T(2, 3, 4, 5)], [
    V("default"), V("0-to-1", {"start_axis": 0, "stop_axis": 1}), V("neg-axes", {"start_axis": -2, "stop_axis": -1}),
], NN + "Flatten")
# axis-1-minus1: free=[] (no dynamic twin): nn.Unflatten's own reshape to [N, 3, -1] cannot be saved with a None
# batch (paddle.jit.save: "Only one dimension value of 'shape' in reshape can be -1", Paddle 3.3.1)
layer("nn.Unflatten", "Reshape", [T(3, 6)], [V("axis1-2x3", {"axis": 1, "shape": [2, 3]}),
                                             V("axis-1-minus1", {"axis": -1, "shape": [3, -1]}, inputs=(T(3, 6, free=[]),))],
      NN + "Unflatten")
layer("nn.Unfold", ("Pad", "Gather", "Reshape"), [X(1, 2, 5, 6)], [
    V("k2", {"kernel_sizes": 2}), V("k3-s2-p1-d1", {"kernel_sizes": 3, "strides": 2, "paddings": 1}),
    V("k2-d2", {"kernel_sizes": 2, "dilations": 2}),
], NN + "Unfold")
layer("nn.Upsample", "Resize", [X(1, 2, 4, 5)], [
    V("nearest-size", {"size": [8, 9]}), V("bilinear-size-align", {"size": [7, 9], "mode": "bilinear", "align_corners": True}),
    V("bicubic-size", {"size": [6, 8], "mode": "bicubic"}),
    V("linear-ncw", {"size": [9], "mode": "linear", "data_format": "NCW"}, inputs=(X(1, 2, 5),)),
], NN + "Upsample", min_opset=11)
layer("nn.UpsamplingNearest2D", "Resize", [X(1, 2, 4, 5)], [V("size8x10", {"size": [8, 10]})], NN + "UpsamplingNearest2D", min_opset=11)
layer("nn.UpsamplingBilinear2D", "Resize", [X(1, 2, 4, 5)], [V("size7x9", {"size": [7, 9]})], NN + "UpsamplingBilinear2D", min_opset=11)
for _nd, _shape, _fmt in ((1, (1, 2, 6), "NLC"), (2, (1, 2, 4, 5), "NHWC"), (3, (1, 2, 3, 4, 4), "NDHWC")):
    layer(f"nn.Pad{_nd}D", "Pad", [X(*_shape)], [
        V("constant1.5", {"padding": 1, "mode": "constant", "value": 1.5}),
        V("reflect", {"padding": [1, 2] * _nd, "mode": "reflect"}),
        V("replicate", {"padding": [2, 1] * _nd, "mode": "replicate"}),
        V("circular", {"padding": 1, "mode": "circular"}),
        V("channels-last-replicate", {"padding": [1, 0] * _nd, "mode": "replicate", "data_format": _fmt},
          inputs=(T(_shape[0], *_shape[2:], _shape[1]),)),
    ], NN + f"Pad{_nd}D")
layer("nn.ZeroPad2D", "Pad", [X(1, 2, 4, 5)], [V("int1", {"padding": 1}), V("list", {"padding": [1, 2, 0, 1]})], NN + "ZeroPad2D")
layer("nn.CosineSimilarity", ("ReduceSum", "Div"), (T(3, 4), T(3, 4)), [V("axis1"), V("axis0-eps", {"axis": 0, "eps": 1e-2})],
      NN + "CosineSimilarity")
layer("nn.PairwiseDistance", ("Sub", "ReduceL2"), (T(3, 4), T(3, 4)), [
    V("p2"), V("p1-keepdim", {"p": 1.0, "keepdim": True}), V("p-inf", {"p": float("inf")}),
], NN + "PairwiseDistance")
layer("nn.PixelShuffle", "DepthToSpace", [X(1, 8, 2, 3)], [
    V("factor2", {"upscale_factor": 2}), V("factor2-nhwc", {"upscale_factor": 2, "data_format": "NHWC"}, inputs=(T(1, 2, 3, 8),)),
], NN + "PixelShuffle")
layer("nn.Dropout", "Identity", [T(3, 6)], [
    V("p0.5"), V("p0.3-downscale", {"p": 0.3, "mode": "downscale_in_infer"}), V("axis1", {"p": 0.5, "axis": 1}),
], NN + "Dropout")
layer("nn.Dropout2D", "Identity", [X(1, 2, 3, 4)], [V("nchw"), V("nhwc", {"data_format": "NHWC"}, inputs=(T(1, 3, 4, 2),))], NN + "Dropout2D")
layer("nn.Dropout3D", "Identity", [X(1, 2, 3, 3, 4)], [V("ncdhw")], NN + "Dropout3D")
layer("nn.AlphaDropout", "Identity", [T(3, 6)], [V("p0.5", {"p": 0.5})], NN + "AlphaDropout")
layer("nn.MaxPool1D", "MaxPool", [X(1, 2, 9)], [
    V("k2", {"kernel_size": 2}), V("k3-s2-p1", {"kernel_size": 3, "stride": 2, "padding": 1}),
    V("k3-s2-ceil", {"kernel_size": 3, "stride": 2, "ceil_mode": True}), V("k2-mask", {"kernel_size": 2, "return_mask": True}),
], NN + "MaxPool1D")
layer("nn.AvgPool1D", "AveragePool", [X(1, 2, 9)], [
    V("k2", {"kernel_size": 2}), V("k3-s2-p1-inclusive", {"kernel_size": 3, "stride": 2, "padding": 1, "exclusive": False}),
    V("k3-s2-p1-exclusive", {"kernel_size": 3, "stride": 2, "padding": 1}),
    V("k3-s2-ceil", {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
], NN + "AvgPool1D")
layer("nn.AdaptiveMaxPool2D", "MaxPool", [X(1, 2, 6, 6)], [
    V("out3", {"output_size": 3}), V("out2x3", {"output_size": [2, 3]}), V("out1", {"output_size": 1}),
    V("mask", {"output_size": 3, "return_mask": True}),
], NN + "AdaptiveMaxPool2D")
layer("nn.AdaptiveAvgPool1D", "AveragePool", [X(1, 2, 9)], [V("out3", {"output_size": 3}), V("out1", {"output_size": 1})],
      NN + "AdaptiveAvgPool1D")
layer("nn.Conv1DTranspose", "ConvTranspose", [X(1, 4, 5)], [
    V("k3-s2", {"in_channels": 4, "out_channels": 3, "kernel_size": 3, "stride": 2}),
    V("k3-s2-p1-outpad1", {"in_channels": 4, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}),
    V("groups2-dilation2", {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "groups": 2, "dilation": 2}),
], NN + "Conv1DTranspose")
layer("nn.Conv2D", "Conv", [X(1, 2, 5, 6)], [
    V("padding-mode-reflect", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1, "padding_mode": "reflect"}),
    V("padding-mode-replicate", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1, "padding_mode": "replicate"}),
    V("padding-mode-circular", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1, "padding_mode": "circular"}),
    V("padding-valid", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": "VALID"}),
    V("no-bias", {"in_channels": 2, "out_channels": 4, "kernel_size": [1, 3], "bias_attr": False}),
], NN + "Conv2D")
layer("nn.Conv1D", "Conv", [X(1, 2, 8)], [
    V("k3-reflect", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1, "padding_mode": "reflect"}),
    V("k3-same-s1", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": "SAME"}),
], NN + "Conv1D")
layer("nn.LocalResponseNorm", "LRN", [X(1, 6, 4, 5)], [
    V("size3", {"size": 3}), V("size5-alpha-beta-k", {"size": 5, "alpha": 1e-2, "beta": 0.5, "k": 2.0}),
], NN + "LocalResponseNorm")
# nn.SyncBatchNorm is left out: paddle's CPU build has no sync_batch_norm kernel, even in eval mode
layer("nn.BatchNorm", "BatchNormalization", [X(2, 3, 4, 4)], [
    V("num-channels3", {"num_channels": 3}), V("act-relu", {"num_channels": 3, "act": "relu"}),
    V("nhwc", {"num_channels": 3, "data_layout": "NHWC"}, inputs=(T(2, 4, 4, 3),)),
], NN + "BatchNorm")
layer("nn.InstanceNorm3D", "InstanceNormalization", [X(2, 3, 3, 4, 4)], [V("c3", {"num_features": 3})], NN + "InstanceNorm3D")
layer("nn.GroupNorm", ("InstanceNormalization", "Reshape"), [X(2, 4, 3, 3)], [
    V("g2-nchw", {"num_groups": 2, "num_channels": 4}), V("g4-eps1e-2", {"num_groups": 4, "num_channels": 4, "epsilon": 1e-2}),
    V("g2-ncl", {"num_groups": 2, "num_channels": 4}, inputs=(X(2, 4, 5),)),
    V("g2-nhwc", {"num_groups": 2, "num_channels": 4, "data_format": "NHWC"}, inputs=(T(2, 3, 3, 4),)),
], NN + "GroupNorm")
layer("nn.LayerNorm", "LayerNormalization", [T(2, 3, 4)], [
    V("no-affine", {"normalized_shape": 4, "weight_attr": False, "bias_attr": False}),
    V("eps1e-3", {"normalized_shape": 4, "epsilon": 1e-3}),     # paddle refuses epsilon > 1e-3
], NN + "LayerNorm")
_TF = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0}
layer("nn.TransformerEncoderLayer", ("MatMul", "Softmax", "LayerNormalization"), [T(2, 5, 8)], [
    V("post-norm-relu", _TF), V("pre-norm-gelu", {**_TF, "activation": "gelu", "normalize_before": True}),
], NN + "TransformerEncoderLayer", tol={"atol": 1e-4, "rtol": 1e-4})
layer("nn.TransformerDecoderLayer", ("MatMul", "Softmax", "LayerNormalization"), (T(2, 4, 8), T(2, 5, 8)), [
    V("post-norm", _TF), V("pre-norm", {**_TF, "normalize_before": True}),
], NN + "TransformerDecoderLayer", tol={"atol": 1e-4, "rtol": 1e-4})
layer("nn.Transformer", ("MatMul", "Softmax", "LayerNormalization"), (T(2, 5, 8), T(2, 4, 8)), [
    V("1enc-1dec", {**_TF, "num_encoder_layers": 1, "num_decoder_layers": 1}),
], NN + "Transformer", tol={"atol": 1e-4, "rtol": 1e-4})
for _loss, _onnx, _inputs in (("MSELoss", ("Sub", "Mul"), (T(3, 4), T(3, 4))), ("L1Loss", ("Sub", "Abs"), (T(3, 4), T(3, 4))),
                              ("CrossEntropyLoss", ("LogSoftmax",), (T(4, 5), T(4, dtype="int64", domain="index", high=5))),
                              ("SoftMarginLoss", ("Exp", "Log"), (T(3, 4), T(3, 4, domain="grid"))),
                              ("HingeEmbeddingLoss", ("Where", "Relu"), (T(3, 4), T(3, 4, domain="grid")))):
    layer("nn." + _loss, _onnx, _inputs, [V("none", {"reduction": "none"}), V("sum", {"reduction": "sum"})], NN + _loss)

# ----------------------------------------------------------------------------------------
# Bitwise ops (ONNX BitwiseAnd/Or/Not/Xor need opset 18; bool inputs become And/Or/Xor/Not),
# sorting with ties, nonzero as a tuple, differences
# ----------------------------------------------------------------------------------------
_BITS = (T(3, 5, dtype="int32", low=-8, high=8), T(3, 5, dtype="int32", low=-8, high=8))
for _name in ("and", "or", "xor"):
    pd(f"paddle_bitwise_{_name}", (f"Bitwise{_name.capitalize()}", _name.capitalize()), (T(3, 4, dtype="bool"), T(3, 4, dtype="bool")), [
        V("bool"), V("int32-negative", inputs=_BITS),
        V("int64-bcast", inputs=(T(3, 5, dtype="int64", low=-8, high=8), T(5, dtype="int64", low=-8, high=8))),
        V("uint8", inputs=(T(3, 5, dtype="uint8", low=0, high=255), T(3, 5, dtype="uint8", low=0, high=255))),
    ], P + f"bitwise_{_name}")
pd("paddle_bitwise_not", ("BitwiseNot", "Not"), [T(3, 4, dtype="bool")], [
    V("bool"), V("int32-negative", inputs=_BITS[:1]), V("uint8-wrap", inputs=(T(3, 5, dtype="uint8", low=0, high=255),)),
], P + "bitwise_not")
pd("argsort_stable", "TopK", [T(3, 8, domain="grid")], [
    # grid values repeat: a stable sort keeps equal keys in input order, so the indices are defined
    V("ascending-ties", {"stable": True}), V("descending-ties", {"stable": True, "descending": True}),
    V("axis0-ties", {"stable": True, "axis": 0}, inputs=(T(6, 3, domain="grid"),)),
    V("int64-ties", {"stable": True}, inputs=(T(3, 8, dtype="int64", low=-2, high=3),)),
], P + "argsort")
pd("nonzero_as_tuple", "NonZero", [T(3, 4, dtype="int32", low=-1, high=2)], [
    V("int32-2d", {"as_tuple": True}), V("bool-1d", {"as_tuple": True}, inputs=(T(7, dtype="bool"),)),
    V("float32-3d", {"as_tuple": True}, inputs=(T(2, 3, 2, domain="grid"),)),
], P + "nonzero")
pd("paddle_diff", ("Slice", "Sub"), [T(3, 6)], [
    V("axis-1"), V("axis0", {"axis": 0}), V("n2", {"n": 2}),
    V("int64", inputs=(T(3, 6, dtype="int64"),)), V("bool-xor", inputs=(T(3, 6, dtype="bool"),)),
], P + "diff")
pd("diff_prepend_append", ("Concat", "Slice", "Sub"), (T(3, 6), T(3, 2), T(3, 1)), [
    V("prepend-append-axis1", {"axis": 1}),
], P + "diff", names=("x", "prepend", "append"))

# ----------------------------------------------------------------------------------------
# More layers: attention with its keywords, embedding
# ----------------------------------------------------------------------------------------
layer("nn.MultiHeadAttention", ("MatMul", "Softmax"), (T(2, 4, 8), T(2, 5, 6), T(2, 5, 10)), [
    V("kdim6-vdim10", {"embed_dim": 8, "num_heads": 2, "kdim": 6, "vdim": 10}),
    V("need-weights", {"embed_dim": 8, "num_heads": 2, "kdim": 6, "vdim": 10, "need_weights": True}),
    V("self-4heads", {"embed_dim": 8, "num_heads": 4}, inputs=(T(2, 4, 8),)),
], NN + "MultiHeadAttention", tol={"atol": 1e-4, "rtol": 1e-4})
layer("nn.Embedding", "Gather", [T(2, 5, dtype="int64", domain="index", high=6)], [
    V("num6-dim3", {"num_embeddings": 6, "embedding_dim": 3}),
    V("padding-idx-negative", {"num_embeddings": 6, "embedding_dim": 3, "padding_idx": -1}),
    V("sparse", {"num_embeddings": 6, "embedding_dim": 4, "sparse": True}),
    V("int32-ids", {"num_embeddings": 6, "embedding_dim": 3}, inputs=(T(4, dtype="int32", domain="index", high=6),)),
], NN + "Embedding")
