"""TensorFlow's Keras surface: ``keras.ops`` / ``keras.activations`` functions that are not a ``tf.*``
function of the table already, and ``keras.layers`` constructed with each keyword's small domain
(weights randomized from the case seed). Entries only call ``table.op()`` through the helpers of
``specs_tensorflow``.
"""
from __future__ import annotations

from .specs_tensorflow import IMG, PROBS, TF, i32, i64, layer, tf_op
from .table import T, V, X, custom, op

# ----------------------------------------------------------------------------------------
# keras.ops and keras.activations where they are not a tf.* function of the table already
# ----------------------------------------------------------------------------------------
K = "keras.ops."
# Keras 3.15 on TensorFlow: output_size 1 builds an AvgPool larger than the input (TF refuses it) and
# adaptive_max_pool crashes the process (SIGFPE): a Keras bug in the source, not a conversion one
_ADAPTIVE_ONE = "output_size=1 is left out: Keras 3.15 fails on it in TensorFlow itself"
_K_UNARY = [
    # name, onnx, target, input, extra variants
    ("cbrt", ("Pow", "Sign"), "cbrt", T(3, 6), [V("int32", inputs=(i32(3, 4),))]),
    ("exp2", "Pow", "exp2", T(3, 6), [V("int32", inputs=(i32(2, 5, low=-3, high=8),))]),
    ("log10", ("Log", "Div"), "log10", T(3, 6, domain="positive"), [V("int32", inputs=(i32(2, 5, low=1, high=1000),))]),
    ("log2", ("Log", "Div"), "log2", T(3, 6, domain="positive"), [V("int64", inputs=(i64(2, 5, low=1, high=1000),))]),
    ("deg2rad", "Mul", "deg2rad", T(3, 6, scale=90.0), [V("int32", inputs=(i32(2, 5, low=-180, high=180),))]),
    ("rad2deg", "Mul", "rad2deg", T(3, 6), []),
    ("trunc", ("Cast", "Floor", "Ceil"), "trunc", T(3, 6, domain="frac"), [V("int32", inputs=(i32(2, 5),))]),
    ("signbit", ("Less", "Cast"), "signbit", T(3, 6, domain="grid"), [V("int32", inputs=(i32(2, 5),)),
                                                                      V("nan-inf", inputs=(T(3, 5, domain="special"),))]),
    ("sinc", ("Sin", "Div", "Where"), "sinc", T(3, 6, domain="grid"), []),
    ("isneginf", ("IsInf",), "isneginf", T(4, 5, domain="special"), []),
    ("isposinf", ("IsInf",), "isposinf", T(4, 5, domain="special"), []),
    ("ravel", "Reshape", "ravel", T(2, 3, 4), [V("int32", inputs=(i32(3, 2),))]),
    ("sparse_plus", ("Where", "Mul"), "sparse_plus", T(3, 8, scale=2.0, avoid=[-1.0, 1.0]), []),
    ("sparse_sigmoid", ("Where", "Clip"), "sparse_sigmoid", T(3, 8, scale=2.0, avoid=[-1.0, 1.0]), []),
    ("hard_silu", ("HardSigmoid", "Mul"), "hard_silu", T(3, 8, scale=4.0, avoid=[-3.0, 3.0]), []),
    ("exponential", "Exp", "exponential", T(3, 6), []),
]
for _name, _onnx, _t, _in, _extra in _K_UNARY:
    _mod = "keras.activations." if _name in ("sparse_plus", "hard_silu", "exponential") else K
    tf_op(_name, _onnx, [_in], [V("float32")] + _extra, _mod + _t)
tf_op("nan_to_num", ("IsNaN", "IsInf", "Where"), [T(4, 5, domain="special")], [
    V("defaults"), V("values", {"nan": -1.0, "posinf": 100.0, "neginf": -100.0}), V("int32-passthrough", inputs=(i32(3, 3),))],
      K + "nan_to_num", names=("x",))
tf_op("squareplus", ("Mul", "Sqrt", "Add"), [T(3, 8, scale=2.0)], [V("b4"), V("b0", {"b": 0.0}), V("b1", {"b": 1.0})],
      "keras.activations.squareplus", names=("x",))
tf_op("sparsemax", ("TopK", "CumSum", "Relu"), [T(3, 7)], [V("axis-1"), V("axis0", {"axis": 0})], "keras.activations.sparsemax",
      names=("x",))
_K_BINARY = [
    ("hypot", ("Mul", "Sqrt"), "hypot", (T(3, 5), T(5)), [V("int32", inputs=(i32(3, 4), i32(3, 4)))]),
    ("logaddexp", ("Exp", "Log"), "logaddexp", (T(3, 5, scale=3.0), T(5, scale=3.0)),
     [V("inf", inputs=(T(2, 4, domain="special"), T(2, 4)))]),
    ("logaddexp2", ("Exp", "Log"), "logaddexp2", (T(3, 5, scale=3.0), T(5, scale=3.0)), []),
    ("heaviside", ("Where", "Equal"), "heaviside", (T(3, 5, domain="grid"), T(3, 5)), [V("int32", inputs=(i32(3, 4), i32(3, 4)))]),
    ("fmax", ("Max", "IsNaN", "Where"), "fmax", (T(3, 5, domain="special"), T(3, 5, domain="special")), []),
    ("fmin", ("Min", "IsNaN", "Where"), "fmin", (T(3, 5, domain="special"), T(3, 5, domain="special")), []),
    ("ldexp", ("Pow", "Mul"), "ldexp", (T(3, 5), i32(3, 5, low=-4, high=6)), []),
    # free=[] (no dynamic twin): Keras' gcd/lcm cannot be traced with a None dimension ("Cannot
    # convert a partially known TensorShape (None, 5) to a Tensor", Keras 3.15.1, TF 2.21)
    ("gcd", ("Mod", "Loop"), "gcd", (i32(3, 5, low=-30, high=30, free=[]), i32(3, 5, low=-30, high=30)), []),
    ("lcm", ("Mod", "Loop"), "lcm", (i32(3, 5, low=-12, high=12, free=[]), i32(3, 5, low=-12, high=12)), []),
    # (3, 4) x (5, 4) is valid numpy but Keras' tf.cond traces its rank-0 branch (x1 * x2) on every call and fails
    ("inner", "MatMul", "inner", (T(3, 4), T(3, 4)), [V("1d", inputs=(T(4), T(4)))]),
    ("vdot", ("Mul", "ReduceSum"), "vdot", (T(3, 4), T(3, 4)), [V("int32", inputs=(i32(6), i32(6)))]),
]
for _name, _onnx, _t, _in, _extra in _K_BINARY:
    tf_op(_name, _onnx, _in, [V("float32")] + _extra, K + _t)
tf_op("isclose", ("Abs", "Sub", "LessOrEqual"), (T(3, 5, domain="grid"), T(3, 5, domain="grid")), [
    V("defaults"), V("atol0.5", {"atol": 0.5}), V("rtol0.6", {"rtol": 0.6, "atol": 0.0}),
    V("nan-equal", {"equal_nan": True}, inputs=(T(4, 5, domain="special"), T(4, 5, domain="special"))),
    V("nan-not-equal", inputs=(T(4, 5, domain="special"), T(4, 5, domain="special")))], K + "isclose")
tf_op("median", ("TopK", "Gather"), [T(3, 5, 4)], [
    V("all"), V("axis1", {"axis": 1}), V("axis-1-keep-even", {"axis": -1, "keepdims": True}),
    V("int32-axis0", {"axis": 0}, inputs=(i32(4, 3),))], K + "median", names=("x",))
tf_op("quantile", ("TopK", "Gather"), [T(3, 7)], [
    V("q0.3-linear", {"q": 0.3, "axis": 1}), V("q-list-all", {"q": [0.0, 0.5, 1.0]}),
    V("lower", {"q": 0.4, "axis": 1, "method": "lower"}), V("higher", {"q": 0.4, "axis": 1, "method": "higher"}),
    V("midpoint", {"q": 0.4, "axis": 0, "method": "midpoint"}), V("nearest-keep", {"q": 0.6, "axis": 1, "method": "nearest", "keepdims": True})],
      K + "quantile", names=("x",))
tf_op("percentile", ("TopK", "Gather"), [T(3, 7)], [V("p25-axis1", {"q": 25.0, "axis": 1}), V("p90-all", {"q": 90.0})],
      K + "percentile", names=("x",))
tf_op("average", ("ReduceSum", "Div"), (T(3, 5), T(5, domain="positive")), [
    V("weights-axis1", {"axis": 1}), V("weights-same-shape-axis0", {"axis": 0}, inputs=(T(3, 5), T(3, 5, domain="positive")))],
      K + "average", names=("x", "weights"))
tf_op("ptp", ("ReduceMax", "ReduceMin", "Sub"), [T(3, 5)], [V("all"), V("axis1-keep", {"axis": 1, "keepdims": True}),
                                                          V("int32", {"axis": 0}, inputs=(i32(4, 3),))], K + "ptp", names=("x",))
for _name in ("nanmax", "nanmin", "nansum", "nanmean", "nanprod"):
    tf_op(_name, ("IsNaN", "Where"), [T(4, 5, domain="special")], [
        V("all"), V("axis1", {"axis": 1}), V("axis0-keep", {"axis": 0, "keepdims": True}),
        V("int32", {"axis": 1}, inputs=(i32(3, 4),))],
          K + _name, names=("x",))
tf_op("nancumsum", ("IsNaN", "Where", "CumSum"), [T(4, 5, domain="special")], [V("axis1", {"axis": 1}), V("flat")],
      K + "nancumsum", names=("x",))
tf_op("trapezoid", ("Slice", "Add", "ReduceSum"), [T(3, 6)], [V("dx1"), V("dx0.5-axis0", {"dx": 0.5, "axis": 0})],
      K + "trapezoid", names=("y",))
tf_op("moveaxis", "Transpose", [T(2, 3, 4, 5)], [V("0-to-last", {"source": 0, "destination": -1}),
                                                V("two-axes", {"source": [0, 1], "destination": [2, 0]})], K + "moveaxis", names=("x",))
tf_op("swapaxes", "Transpose", [T(2, 3, 4)], [V("0-2", {"axis1": 0, "axis2": 2}), V("neg", {"axis1": -1, "axis2": 1})],
      K + "swapaxes", names=("x",))
for _name in ("vstack", "hstack", "dstack"):
    tf_op(_name, ("Concat", "Unsqueeze"), (T(2, 3), T(2, 3)), [V("2d"), V("1d", inputs=(T(3), T(3))),
                                                               V("int32-3d", inputs=(i32(2, 2, 2), i32(2, 2, 2)))], K + _name, packed=True)
tf_op("diff", ("Slice", "Sub"), [T(3, 6)], [V("n1"), V("n2-axis0", {"n": 2, "axis": 0}, inputs=(T(5, 3),)),
                                           V("int32", inputs=(i32(2, 5),))], K + "diff", names=("a",))
tf_op("append", "Concat", (T(2, 3), T(2, 3)), [V("flat"), V("axis0", {"axis": 0}), V("axis1", {"axis": 1}, inputs=(T(2, 3), T(2, 2)))],
      K + "append")
tf_op("diagflat", "ScatterND", [T(2, 2)], [V("k0"), V("k1", {"k": 1}), V("k-2", {"k": -2}, inputs=(T(3),))], K + "diagflat", names=("x",))
tf_op("diagonal", "GatherND", [T(3, 4, 5)], [
    V("offset0", {"axis1": 1, "axis2": 2}), V("offset1", {"offset": 1}), V("offset-2-axes0-2", {"offset": -2, "axis1": 0, "axis2": 2})],
      K + "diagonal", names=("x",))
tf_op("trace", ("GatherND", "ReduceSum"), [T(4, 5)], [
    V("offset0"), V("offset1", {"offset": 1}), V("offset-1-axes1-2", {"offset": -1, "axis1": 1, "axis2": 2}, inputs=(T(2, 3, 4),)),
    V("int32", inputs=(i32(3, 3),))], K + "trace", names=("x",))
tf_op("diag", "ScatterND", [T(4)], [V("1d-k0"), V("1d-k1", {"k": 1}), V("2d-k-1", {"k": -1}, inputs=(T(3, 4),))], K + "diag", names=("x",))
tf_op("take", "Gather", (T(3, 5), i32(4, low=-5, high=5)), [
    V("axis1-negative-indices", {"axis": 1}), V("flat", inputs=(T(3, 5), i32(2, 3, low=-15, high=15))),
    V("axis0-int64", {"axis": 0}, inputs=(T(4, 2), i64(3, low=-4, high=4)))], K + "take", names=("x", "indices"),
      notes="negative indices count from the end, as in numpy")
tf_op("isin", ("Equal", "ReduceMax"), (i32(3, 5, low=-4, high=5), i32(4, low=-4, high=5)), [V("int32"), V("float-grid", inputs=(T(6, domain="grid"), T(3, domain="grid")))],
      K + "isin", names=("x1", "x2"))
tf_op("digitize", "Less", [T(3, 6, domain="grid")], [V("bins", {"bins": [-1.0, 0.0, 0.5, 1.5]})], K + "digitize", names=("x",),
      notes="grid values fall exactly on the bin edges")
tf_op("correlate", ("Conv", "MatMul"), (T(8), T(3)), [V("valid"), V("same", {"mode": "same"}), V("full", {"mode": "full"})],
      K + "correlate", names=("x1", "x2"))
tf_op("corrcoef", ("ReduceMean", "MatMul", "Div"), [T(3, 8)], [V("rows")], K + "corrcoef", names=("x",), tol={"atol": 1e-4})
tf_op("cross", ("Mul", "Sub"), (T(4, 3), T(4, 3)), [V("axis-1"), V("bcast", inputs=(T(2, 4, 3), T(3))),
                                                  V("axis0", {"axis": 0}, inputs=(T(3, 5), T(3, 5)))], K + "cross")
tf_op("vander", ("Pow", "Unsqueeze"), [T(5, scale=0.8)], [V("N4", {"N": 4}), V("increasing", {"N": 3, "increasing": True})],
      K + "vander", names=("x",))
tf_op("saturate_cast", ("Clip", "Cast"), [T(3, 6, scale=200.0)], [V("to-uint8", {"dtype": "uint8"}), V("to-int8", {"dtype": "int8"}),
                                                                  V("int32-to-uint8", {"dtype": "uint8"}, inputs=(i32(4, low=-300, high=300),))],
      K + "saturate_cast", names=("x",))
# keras.ops.array_split traced with a None split axis returns the whole tensor as its one output
# (eager: 3 parts; Keras 3.15.1): the axis it splits is no free axis
tf_op("array_split", ("Split",), [T(7, 3)], [V("3-parts-axis0", {"indices_or_sections": 3}, inputs=(T(7, 3, free=[]),)),
                                             V("2-parts-axis1", {"indices_or_sections": 2, "axis": 1})], K + "array_split", names=("x",))
tf_op("extract_sequences", ("Slice", "Gather"), [T(2, 12)], [
    V("len4-stride2", {"sequence_length": 4, "sequence_stride": 2}), V("len5-stride5", {"sequence_length": 5, "sequence_stride": 5})],
      K + "extract_sequences", names=("x",))
# free=[]: keras.ops.unfold cannot be traced with a None batch ("Failed to convert elements of
# [None, 3, 3, 2, 2, 2] to Tensor", Keras 3.15.1)
tf_op("unfold", ("Gather", "Reshape"), [X(1, 2, 6, 6, free=[])], [
    V("k2-s2", {"kernel_size": 2, "stride": 2}), V("k3-pad1", {"kernel_size": 3, "padding": 1}),
    V("k2-dilation2", {"kernel_size": 2, "dilation": 2})], K + "unfold", names=("x",))
tf_op("dot_product_attention", ("MatMul", "Softmax"), (T(2, 5, 2, 4), T(2, 6, 2, 4), T(2, 6, 2, 4)), [
    V("plain"), V("scale0.5", {"scale": 0.5}), V("causal", {"is_causal": True}, inputs=(T(1, 4, 2, 4), T(1, 4, 2, 4), T(1, 4, 2, 4))),
    V("bias", inputs=(T(1, 3, 1, 4), T(1, 5, 1, 4), T(1, 5, 1, 4), T(1, 1, 3, 5))),
    V("mask", inputs=(T(1, 3, 1, 4), T(1, 5, 1, 4), T(1, 5, 1, 4), T(1, 1, 3, 5, dtype="bool", p=0.7)))],
      K + "dot_product_attention", names=("query", "key", "value", "bias"), tol={"atol": 1e-5})
tf_op("adaptive_average_pool", ("AveragePool", "ReduceMean"), [X(1, 2, 8, 11)], [
    V("out3x5", {"output_size": [3, 5]}), V("out4x4-even", {"output_size": 4}, inputs=(X(1, 2, 8, 8),))],
      K + "adaptive_average_pool", names=("inputs",), notes=_ADAPTIVE_ONE)
tf_op("adaptive_max_pool", ("MaxPool", "ReduceMax"), [X(1, 2, 8, 11)], [
    V("out3x5", {"output_size": [3, 5]}), V("out2", {"output_size": 2})], K + "adaptive_max_pool", names=("inputs",), notes=_ADAPTIVE_ONE)
tf_op("binary_crossentropy", ("Log", "Mul", "Sub"), (PROBS, T(4, 6, domain="uniform", low=0.05, high=0.95)), [
    V("probabilities"), V("from-logits", {"from_logits": True}, inputs=(PROBS, T(4, 6, scale=3.0)))], K + "binary_crossentropy",
      names=("target", "output"))
tf_op("categorical_crossentropy", ("Log", "ReduceSum"), (PROBS, T(4, 6, domain="uniform", low=0.05, high=0.95)), [
    V("probabilities"), V("from-logits", {"from_logits": True}, inputs=(PROBS, T(4, 6, scale=3.0))),
    V("axis0-from-logits", {"from_logits": True, "axis": 0}, inputs=(PROBS, T(4, 6, scale=3.0)))], K + "categorical_crossentropy",
      names=("target", "output"))
tf_op("sparse_categorical_crossentropy", ("Log", "GatherElements"), (i32(5, domain="index", high=6), T(5, 6, domain="uniform", low=0.05, high=0.95)), [
    V("probabilities"), V("from-logits", {"from_logits": True}, inputs=(i32(5, domain="index", high=6), T(5, 6, scale=3.0)))],
      K + "sparse_categorical_crossentropy", names=("target", "output"))
tf_op("multi_hot", ("OneHot", "ReduceMax"), [i32(3, 4, domain="index", high=6)], [
    V("classes6", {"num_classes": 6}), V("classes6-axis0", {"num_classes": 6, "axis": 0})], K + "multi_hot", names=("inputs",))
tf_op("normalize_order", ("ReduceL2", "Div"), [T(3, 5)], [V("l2-axis-1"), V("l1-axis0", {"order": 1, "axis": 0}),
                                                        V("l3", {"order": 3, "axis": 1})], K + "normalize", names=("x",))
tf_op("rms_normalization", ("ReduceMean", "Sqrt", "Mul"), [T(2, 3, 6)], [
    V("no-scale"), V("scale-eps", {"epsilon": 1e-2}, inputs=(T(2, 3, 6), T(6))), V("axis1", {"axis": 1}, inputs=(T(2, 3, 6), T(3, 1)))],
      K + "rms_normalization", names=("x", "scale"))
tf_op("layer_normalization_op", ("ReduceMean", "Sub", "Div"), (T(2, 3, 6), T(6), T(6)), [
    V("gamma-beta"), V("eps0.1", {"epsilon": 0.1}), V("no-affine", inputs=(T(4, 5),))], K + "layer_normalization",
      names=("x", "gamma", "beta"))
tf_op("image_gaussian_blur", ("Conv",), [T(1, 8, 8, 2, domain="uniform", low=0.0, high=1.0)], [
    V("k3-sigma1", {"kernel_size": [3, 3], "sigma": [1.0, 1.0]}), V("k5-sigma2", {"kernel_size": [5, 5], "sigma": [2.0, 0.5]})],
      K + "image.gaussian_blur", names=("images",), tol={"atol": 1e-5})
tf_op("image_map_coordinates", ("GatherND", "Floor"), (T(5, 6), T(2, 3, 4, domain="uniform", low=-1.0, high=6.0)), [
    V("order1-constant", {"order": 1}), V("order0-nearest", {"order": 0, "fill_mode": "nearest"}),
    V("order1-reflect", {"order": 1, "fill_mode": "reflect"}), V("order1-wrap-fill-value", {"order": 1, "fill_mode": "wrap", "fill_value": -1.0})],
      K + "image.map_coordinates", names=("inputs", "coordinates"),
      notes="fill_mode='mirror' is left out: Keras 3.15's TensorFlow implementation indexes past the edge (GatherNd error in TF itself)")
tf_op("image_crop_images", "Slice", [IMG], [V("top1-left2", {"top_cropping": 1, "left_cropping": 2, "target_height": 3, "target_width": 4})],
      K + "image.crop_images", names=("images",))
tf_op("image_pad_images", "Pad", [IMG], [V("top1-left2", {"top_padding": 1, "left_padding": 2, "target_height": 9, "target_width": 10})],
      K + "image.pad_images", names=("images",))

# ----------------------------------------------------------------------------------------
# Keras layers (constructed with the variant's keywords, weights randomized from the seed)
# ----------------------------------------------------------------------------------------
L = "keras.layers."
layer("keras_relu", ("Relu", "Clip", "Where"), [T(3, 8, scale=3.0, avoid=[0.0, 0.5, 2.0])], [
    V("default"), V("max6", {"max_value": 2.0}), V("slope0.1", {"negative_slope": 0.1}),
    V("threshold0.5", {"threshold": 0.5}), V("all", {"max_value": 2.0, "negative_slope": 0.2, "threshold": 0.5})], L + "ReLU")
layer("keras_leaky_relu", "LeakyRelu", [T(3, 8, avoid=[0.0])], [V("slope0.3"), V("slope0.05", {"negative_slope": 0.05})], L + "LeakyReLU")
layer("keras_elu", "Elu", [T(3, 8, avoid=[0.0])], [V("alpha1"), V("alpha0.4", {"alpha": 0.4})], L + "ELU")
layer("keras_softmax", "Softmax", [T(2, 3, 5)], [V("axis-1"), V("axis1", {"axis": 1})], L + "Softmax")
layer("keras_cropping1d", "Slice", [T(2, 8, 3)], [V("1-2", {"cropping": [1, 2]}), V("0-3", {"cropping": [0, 3]})], L + "Cropping1D")
layer("keras_cropping2d", "Slice", [X(2, 3, 7, 8)], [V("sym1", {"cropping": 1}), V("asym", {"cropping": [[1, 2], [0, 3]]}),
                                                    V("channels-first", {"cropping": [[1, 0], [2, 1]], "data_format": "channels_first"},
                                                      inputs=(T(2, 3, 7, 8),))], L + "Cropping2D")
layer("keras_cropping3d", "Slice", [X(1, 2, 5, 6, 6)], [V("asym", {"cropping": [[1, 0], [0, 2], [1, 1]]})], L + "Cropping3D")
layer("keras_zero_padding1d", "Pad", [T(2, 5, 3)], [V("sym2", {"padding": 2}), V("asym", {"padding": [0, 3]})], L + "ZeroPadding1D")
layer("keras_zero_padding2d", "Pad", [X(2, 3, 4, 5)], [V("sym1", {"padding": 1}), V("asym", {"padding": [[1, 2], [0, 3]]}),
                                                     V("channels-first", {"padding": [[1, 0], [2, 1]], "data_format": "channels_first"},
                                                       inputs=(T(2, 3, 4, 5),))], L + "ZeroPadding2D")
layer("keras_zero_padding3d", "Pad", [X(1, 2, 3, 4, 4)], [V("asym", {"padding": [[1, 0], [0, 2], [1, 1]]})], L + "ZeroPadding3D")
layer("keras_upsampling1d", ("Tile", "Resize"), [T(2, 4, 3)], [V("size2"), V("size3", {"size": 3})], L + "UpSampling1D")
layer("keras_upsampling2d", "Resize", [X(1, 3, 4, 5)], [
    V("nearest2"), V("nearest-2x3", {"size": [2, 3]}), V("bilinear", {"size": 2, "interpolation": "bilinear"}),
    V("bicubic", {"size": 2, "interpolation": "bicubic"}, tolerance={"atol": 5e-3}),
    V("channels-first", {"size": 2, "data_format": "channels_first"}, inputs=(T(1, 3, 4, 5),))], L + "UpSampling2D", min_opset=11)
layer("keras_upsampling3d", ("Tile", "Resize"), [X(1, 2, 2, 3, 3)], [V("size2"), V("size-1x2x2", {"size": [1, 2, 2]})], L + "UpSampling3D")
layer("keras_repeat_vector", ("Tile", "Expand"), [T(3, 5)], [V("n4", {"n": 4}), V("n1", {"n": 1})], L + "RepeatVector")
layer("keras_permute", "Transpose", [T(2, 3, 4, 5)], [V("321", {"dims": [3, 2, 1]}), V("213", {"dims": [2, 1, 3]})], L + "Permute")
layer("keras_reshape", "Reshape", [T(2, 3, 4)], [V("to-12", {"target_shape": [12]}), V("infer", {"target_shape": [2, -1]})], L + "Reshape")
layer("keras_masking", ("Equal", "Where"), [T(2, 5, 3, domain="grid")], [V("mask0"), V("mask0.5", {"mask_value": 0.5})], L + "Masking")
for _nd, _shape in [(1, (2, 3, 7)), (3, (1, 2, 3, 4, 4))]:
    layer(f"keras_global_avg_pool{_nd}d", ("GlobalAveragePool", "ReduceMean"), [X(*_shape)], [
        V("default"), V("keepdims", {"keepdims": True}), V("channels-first", {"data_format": "channels_first"}, inputs=(T(*_shape),))],
          L + f"GlobalAveragePooling{_nd}D")
    layer(f"keras_global_max_pool{_nd}d", ("GlobalMaxPool", "ReduceMax"), [X(*_shape)], [
        V("default"), V("keepdims", {"keepdims": True}), V("channels-first", {"data_format": "channels_first"}, inputs=(T(*_shape),))],
          L + f"GlobalMaxPooling{_nd}D")
for _kind, _onnx in [("Average", "AveragePool"), ("Max", "MaxPool")]:
    layer(f"keras_adaptive_{_kind.lower()}_pool2d", _onnx, [X(1, 2, 8, 11)], [
        V("out3x5", {"output_size": [3, 5]}),
        V("channels-first", {"output_size": 2, "data_format": "channels_first"}, inputs=(T(1, 2, 8, 11),))],
          L + f"Adaptive{_kind}Pooling2D")
    layer(f"keras_adaptive_{_kind.lower()}_pool1d", _onnx, [T(2, 10, 3)], [V("out4", {"output_size": 4})],
          L + f"Adaptive{_kind}Pooling1D")
layer("keras_avg_pool2d", "AveragePool", [X(1, 3, 9, 9)], [
    V("k3-s2-same", {"pool_size": 3, "strides": 2, "padding": "same"}), V("k2-no-strides", {"pool_size": 2}),
    V("channels-first", {"pool_size": 2, "data_format": "channels_first"}, inputs=(T(1, 3, 8, 8),))], L + "AveragePooling2D")
layer("keras_max_pool2d", "MaxPool", [X(1, 3, 9, 9)], [
    V("k3-s2-same", {"pool_size": 3, "strides": 2, "padding": "same"}), V("rect-k2x3", {"pool_size": [2, 3]}),
    V("channels-first", {"pool_size": 2, "data_format": "channels_first"}, inputs=(T(1, 3, 8, 8),))], L + "MaxPooling2D")
layer("keras_conv2d", "Conv", [X(1, 3, 8, 9)], [
    V("relu-same", {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"}),
    V("strides2-dilation-no-bias", {"filters": 2, "kernel_size": [3, 2], "strides": 1, "dilation_rate": [2, 1], "use_bias": False}),
    V("groups3", {"filters": 6, "kernel_size": 3, "groups": 3}),
    V("channels-first", {"filters": 4, "kernel_size": 3, "strides": 2, "data_format": "channels_first"}, inputs=(T(1, 3, 8, 9),))],
      L + "Conv2D")
layer("keras_separable_conv2d", "Conv", [X(1, 3, 8, 8)], [
    V("same", {"filters": 4, "kernel_size": 3, "padding": "same"}),
    V("mult2-strides2", {"filters": 5, "kernel_size": 3, "strides": 2, "depth_multiplier": 2}),
    V("dilation2-no-bias", {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "use_bias": False})], L + "SeparableConv2D")
layer("keras_separable_conv1d", "Conv", [X(2, 3, 10)], [
    V("same", {"filters": 4, "kernel_size": 3, "padding": "same"}), V("mult2-strides2", {"filters": 3, "kernel_size": 3, "strides": 2, "depth_multiplier": 2})],
      L + "SeparableConv1D")
layer("keras_depthwise_conv1d", "Conv", [X(2, 3, 10)], [
    V("k3", {"kernel_size": 3}), V("mult2-same", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"}),
    V("strides2-dilation", {"kernel_size": 2, "strides": 1, "dilation_rate": 2})], L + "DepthwiseConv1D")
layer("keras_conv1d_causal", "Conv", [X(2, 3, 10)], [
    V("causal", {"filters": 4, "kernel_size": 3, "padding": "causal"}),
    V("causal-dilation2", {"filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 2})], L + "Conv1D")
layer("keras_unit_normalization", ("ReduceL2", "Div"), [T(3, 6)], [V("axis-1"), V("axes", {"axis": [1, 2]}, inputs=(T(2, 3, 4),))],
      L + "UnitNormalization")
layer("keras_normalization", ("Sub", "Div"), [T(4, 3)], [
    V("mean-var", {"mean": [0.5, -1.0, 2.0], "variance": [1.0, 4.0, 0.25]}),
    V("invert", {"mean": [0.5, -1.0, 2.0], "variance": [1.0, 4.0, 0.25], "invert": True})], L + "Normalization")
layer("keras_rescaling", ("Mul", "Add"), [X(1, 3, 4, 4)], [
    V("scale", {"scale": 1.0 / 255}), V("scale-offset", {"scale": 2.0, "offset": -1.0}),
    V("uint8", {"scale": 0.5, "offset": 1.0}, inputs=(T(1, 4, 4, 3, dtype="uint8", low=0, high=256),))], L + "Rescaling")
layer("keras_center_crop", "Slice", [IMG], [V("3x4", {"height": 3, "width": 4}), V("4x7", {"height": 4, "width": 7})], L + "CenterCrop")
layer("keras_resizing", "Resize", [IMG], [
    V("bilinear", {"height": 9, "width": 5}), V("nearest", {"height": 3, "width": 4, "interpolation": "nearest"}),
    V("crop-to-aspect", {"height": 4, "width": 4, "crop_to_aspect_ratio": True}),
    V("pad-to-aspect", {"height": 4, "width": 8, "pad_to_aspect_ratio": True, "fill_value": 0.5}),
    V("area", {"height": 3, "width": 3, "interpolation": "area"})], L + "Resizing", min_opset=11)
layer("keras_category_encoding", ("OneHot", "ReduceMax"), [i32(3, 4, domain="index", high=6)], [
    V("multi-hot", {"num_tokens": 6}), V("count", {"num_tokens": 6, "output_mode": "count"}),
    V("one-hot-1d", {"num_tokens": 6, "output_mode": "one_hot"}, inputs=(i32(5, 1, domain="index", high=6),))], L + "CategoryEncoding")
layer("keras_discretization", "Less", [T(3, 5, domain="grid")], [V("bins", {"bin_boundaries": [-1.0, 0.0, 0.5, 1.5]})],
      L + "Discretization")
layer("keras_einsum_dense", ("Einsum", "MatMul"), [T(2, 3, 4)], [
    V("abc-cd", {"equation": "abc,cd->abd", "output_shape": [None, 5], "bias_axes": "d"}),
    V("abc-cde", {"equation": "abc,cde->abde", "output_shape": [None, 2, 3]}),
    V("ab-bc-2d", {"equation": "ab,bc->ac", "output_shape": 6, "activation": "tanh"}, inputs=(T(3, 4),))], L + "EinsumDense")
layer("keras_layer_normalization", ("LayerNormalization", "ReduceMean"), [T(2, 3, 6)], [
    V("no-center", {"center": False}), V("no-scale-eps0.1", {"scale": False, "epsilon": 0.1}),
    V("rms-scaling", {"rms_scaling": True}), V("axis1", {"axis": 1})], L + "LayerNormalization")
layer("keras_batch_normalization", "BatchNormalization", [X(2, 3, 4, 4)], [
    V("no-center-no-scale", {"center": False, "scale": False}), V("axis1-channels-first", {"axis": 1}, inputs=(T(2, 3, 4, 4),)),
    V("eps0.1", {"epsilon": 0.1})], L + "BatchNormalization")
layer("keras_group_normalization", ("InstanceNormalization", "ReduceMean"), [X(2, 6, 3, 3)], [
    V("g2-no-center", {"groups": 2, "center": False}), V("g-1-layer-norm-like", {"groups": -1}),
    V("g3-axis1", {"groups": 3, "axis": 1}, inputs=(T(2, 6, 3, 3),))], L + "GroupNormalization")
layer("keras_simple_rnn", "RNN", [T(2, 5, 4)], [
    V("last-state", {"units": 3}), V("relu-backwards", {"units": 3, "activation": "relu", "go_backwards": True, "return_sequences": True}),
    V("no-bias", {"units": 4, "use_bias": False, "return_sequences": True})], L + "SimpleRNN")
layer("keras_lstm", "LSTM", [T(2, 5, 4)], [
    V("last-state", {"units": 3}), V("backwards-seq", {"units": 3, "go_backwards": True, "return_sequences": True}),
    V("return-state", {"units": 3, "return_state": True}),
    V("relu-hard-sigmoid", {"units": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid", "return_sequences": True}),
    V("no-bias", {"units": 2, "use_bias": False, "unit_forget_bias": False})], L + "LSTM", tol={"atol": 1e-5})
layer("keras_gru", "GRU", [T(2, 5, 4)], [
    V("last-state", {"units": 3}), V("reset-before", {"units": 3, "reset_after": False, "return_sequences": True}),
    V("backwards", {"units": 3, "go_backwards": True}), V("return-state", {"units": 2, "return_state": True})], L + "GRU",
      tol={"atol": 1e-5})
layer("keras_mel_spectrogram", ("DFT", "MatMul"), [T(2, 400)], [
    V("fft64", {"fft_length": 64, "sequence_stride": 32, "sequence_length": 64, "num_mel_bins": 8, "sampling_rate": 8000,
                "max_freq": 4000.0}),
    V("power1-db", {"fft_length": 64, "sequence_stride": 32, "num_mel_bins": 8, "sampling_rate": 8000, "power_to_db": False,
                    "mag_exp": 1.0, "max_freq": 4000.0})], L + "MelSpectrogram", tol={"atol": 1e-3, "rtol": 1e-3})
layer("keras_auto_contrast", ("ReduceMin", "ReduceMax", "Div"), [T(2, 4, 5, 3, domain="uniform", low=0.0, high=255.0)], [
    V("range255", {"value_range": [0, 255]})], L + "AutoContrast", tol={"atol": 1e-3})
_MERGE = {TF: custom("merge", "keras.layers.{Add,Subtract,Multiply,Average,Maximum,Minimum,Concatenate,Dot,Attention}")}
for _name, _onnx in [("Add", "Add"), ("Subtract", "Sub"), ("Multiply", "Mul"), ("Average", "Mean"), ("Maximum", "Max"),
                     ("Minimum", "Min")]:
    op("keras_" + _name.lower(), _onnx, (T(2, 3, 4), T(2, 3, 4)), [V("two", {"layer": _name})] + (
        [V("three", {"layer": _name}, inputs=(T(2, 5), T(2, 5), T(2, 5)))] if _name != "Subtract" else []), calls=_MERGE)
op("keras_concatenate", "Concat", (T(2, 3, 4), T(2, 3, 2)), [V("axis-1", {"layer": "Concatenate"}),
                                                          V("axis1", {"layer": "Concatenate", "axis": 1}, inputs=(T(2, 3, 4), T(2, 1, 4)))],
   calls=_MERGE)
op("keras_dot", ("MatMul", "ReduceSum"), (T(3, 5), T(3, 5)), [
    V("axes1", {"layer": "Dot", "axes": 1}), V("normalize", {"layer": "Dot", "axes": 1, "normalize": True}),
    V("3d-axes2-1", {"layer": "Dot", "axes": [2, 1]}, inputs=(T(2, 3, 4), T(2, 4, 5)))], calls=_MERGE)
op("keras_attention", ("MatMul", "Softmax"), (T(2, 4, 6), T(2, 5, 6)), [
    V("dot", {"layer": "Attention"}), V("scaled", {"layer": "Attention", "use_scale": True}),
    V("concat-score", {"layer": "Attention", "score_mode": "concat"}),
    V("query-value-key", {"layer": "Attention"}, inputs=(T(2, 4, 6), T(2, 5, 6), T(2, 5, 6)))], calls=_MERGE)
op("keras_additive_attention", ("MatMul", "Softmax", "Tanh"), (T(2, 4, 6), T(2, 5, 6)), [
    V("scaled", {"layer": "AdditiveAttention"}), V("unscaled", {"layer": "AdditiveAttention", "use_scale": False})], calls=_MERGE)
