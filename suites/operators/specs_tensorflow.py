"""The rest of tensorflow's op surface: ``tf.math``, ``tf.nn``, ``tf.image``, ``tf.linalg``, ``tf.signal``, array ops,
segment/scatter/gather families that ``specs`` does not already declare for several frameworks
(``specs_keras`` holds ``keras.ops`` and the Keras layers, with the helpers defined here). Entries only call ``table.op()``; each gives every keyword of its call
a small domain (variants) and each dtype the op accepts.

Corner values are declared in the inputs and named in the variant ids: ``grid`` values hold
zeros and exact .5 ties, ``special`` values hold NaN and +-Inf, segment ids leave segments
empty, indices go negative where TensorFlow defines what that means.
"""
from __future__ import annotations

from .table import Call, T, V, X, custom, fn, op

TF = "tensorflow"


def tf_op(name, onnx, inputs, variants, target, *, tol=None, min_opset=None, notes="", **call):
    """A TensorFlow-only entry called as ``target`` (see ``table.fn``)."""
    op(name, onnx, inputs, variants, calls={TF: fn(target, **call)}, tol=tol, min_opset=min_opset, notes=notes)


def tf_custom(name, onnx, inputs, variants, builder, api, **kw):
    """A TensorFlow-only entry built by ``tf_ops.<builder>`` (``api``: what it calls)."""
    op(name, onnx, inputs, variants, calls={TF: custom(builder, api)}, **kw)


def layer(name, onnx, inputs, variants, target, **kw):
    """A Keras layer ``target(**attrs)`` called on the inputs inside a functional model."""
    op(name, onnx, inputs, variants, calls={TF: Call(target, kind="module")}, **kw)


FP16 = {"atol": 2e-3, "rtol": 2e-3}


def fp16(*shape, **kw):
    return T(*shape, dtype="float16", **kw)


def i32(*shape, **kw):
    return T(*shape, dtype="int32", **kw)


def i64(*shape, **kw):
    return T(*shape, dtype="int64", **kw)


# ----------------------------------------------------------------------------------------
# tf.math: elementwise
# ----------------------------------------------------------------------------------------
tf_op("rint", "Round", [T(3, 8, domain="grid")], [V("ties-half-even"), V("float64", inputs=(T(4, 5, dtype="float64", domain="grid"),))],
      "tf.math.rint", notes="grid values hold exact .5 ties: rint rounds them to even")
tf_op("is_finite", "IsInf", [T(4, 6, domain="special")], [V("nan-inf"), V("fp16", inputs=(fp16(3, 5, domain="special"),))],
      "tf.math.is_finite")
tf_op("reciprocal_no_nan", ("Div", "Where"), [T(3, 6, domain="grid")], [V("zeros"), V("fp16", inputs=(fp16(2, 6, domain="grid"),))],
      "tf.math.reciprocal_no_nan", notes="grid values hold zeros: 1/0 is 0 there")
tf_op("divide_no_nan", ("Div", "Where"), (T(3, 5), T(3, 5, domain="grid")), [
    V("zero-divisors"), V("bcast", inputs=(T(2, 3, 4), T(4, domain="grid"))),
    V("fp16", inputs=(fp16(3, 4), fp16(3, 4, domain="grid")), tolerance=FP16)], "tf.math.divide_no_nan")
tf_op("squared_difference", ("Sub", "Mul"), (T(3, 1, 5), T(4, 5)), [
    V("bcast"), V("int32", inputs=(i32(3, 4), i32(3, 4))), V("int64", inputs=(i64(2, 5), i64(5,)))],
      "tf.math.squared_difference")
tf_op("truncatediv", "Div", (i32(4, 5, low=-20, high=20), i32(4, 5, domain="nonzero", low=-4, high=5)), [
    V("int32-negative"), V("int64-negative", inputs=(i64(3, 6, low=-30, high=30), i64(6, domain="nonzero", low=-7, high=7)))],
      "tf.truncatediv", notes="C truncation: -7 / 2 == -3")
tf_op("truncatemod_int", "Mod", (i32(4, 5, low=-20, high=20), i32(4, 5, domain="nonzero", low=-4, high=5)), [
    V("int32-negative"), V("int64-negative", inputs=(i64(3, 6, low=-30, high=30), i64(6, domain="nonzero", low=-7, high=7)))],
      "tf.truncatemod", notes="the remainder takes the dividend's sign (C fmod)")
tf_op("floordiv_float", ("Div", "Floor"), (T(3, 6, domain="uniform", low=-7.0, high=7.0), T(3, 6, domain="frac")), [
    V("negative-operands"), V("fp16", inputs=(fp16(3, 4, domain="uniform", low=-7.0, high=7.0), fp16(3, 4, domain="frac")),
                               tolerance=FP16)], "tf.math.floordiv")
tf_op("floormod_float", ("Mod",), (T(3, 6, domain="uniform", low=-7.0, high=7.0), T(3, 6, domain="frac")), [
    V("negative-operands")], "tf.math.floormod", notes="the result takes the divisor's sign")
tf_op("add_n", "Sum", (T(3, 4), T(3, 4), T(3, 4)), [
    V("three"), V("int32", inputs=(i32(2, 5), i32(2, 5))), V("one", inputs=(T(4, 2),))], "tf.math.add_n", packed=True)
tf_op("scalar_mul", "Mul", [T(3, 5)], [V("by2.5", {"scalar": 2.5}), V("by-1", {"scalar": -1.0})],
      "tf.math.scalar_mul", pre=("scalar",))
tf_op("polyval", ("Mul", "Add"), [T(3, 5)], [
    V("quadratic", {"coeffs": [1.0, -2.0, 0.5]}), V("constant", {"coeffs": [3.0]}), V("cubic", {"coeffs": [0.5, 0.0, -1.0, 2.0]})],
      "tf.math.polyval", names=("x",))
tf_op("cumprod", "CumProd", [T(3, 4, 5, domain="uniform", low=0.5, high=1.5)], [
    V("axis1", {"axis": 1}), V("axis-1-exclusive", {"axis": -1, "exclusive": True}),
    V("axis0-reverse", {"axis": 0, "reverse": True}),
    V("axis1-exclusive-reverse", {"axis": 1, "exclusive": True, "reverse": True}),
    V("int32-axis0", {"axis": 0}, inputs=(i32(4, 3, low=-3, high=4),))], "tf.math.cumprod")
tf_op("count_nonzero", ("Cast", "ReduceSum"), [T(3, 4, 5, domain="grid")], [
    V("all"), V("axis1", {"axis": 1}), V("axes0-2-keep", {"axis": [0, 2], "keepdims": True}),
    V("dtype-int32", {"axis": -1, "dtype": "int32"}), V("bool", {"axis": 0}, inputs=(T(4, 6, dtype="bool"),)),
    V("int32", {"axis": 1}, inputs=(i32(3, 5, low=-1, high=2),))], "tf.math.count_nonzero", names=("input",))
tf_op("bincount", ("ReduceSum", "Equal"), [i32(12, domain="index", high=5)], [
    V("default"), V("minlength8", {"minlength": 8}), V("maxlength3", {"maxlength": 3}),
    V("binary-output", {"binary_output": True, "minlength": 5}),
    V("axis-1-2d", {"axis": -1, "minlength": 5}, inputs=(i32(3, 6, domain="index", high=5),))], "tf.math.bincount")
tf_op("invert_permutation", "ScatterElements", [i32(7, domain="permutation")], [
    V("int32"), V("int64", inputs=(i64(9, domain="permutation"),))], "tf.math.invert_permutation")
tf_op("is_non_decreasing", ("Sub", "ReduceMin"), [T(6, domain="grid")], [V("grid-ties"), V("int32", inputs=(i32(5, low=0, high=3),))],
      "tf.math.is_non_decreasing")
tf_op("is_strictly_increasing", ("Sub", "ReduceMin"), [T(6, domain="grid")], [V("grid-ties"), V("int32", inputs=(i32(5, low=0, high=3),))],
      "tf.math.is_strictly_increasing")
tf_op("confusion_matrix", "ScatterND", (i32(10, domain="index", high=4), i32(10, domain="index", high=4)), [
    V("classes4", {"num_classes": 4}), V("inferred"), V("weights", {"num_classes": 4, "dtype": "float32"},
                                                         inputs=(i32(8, domain="index", high=4), i32(8, domain="index", high=4), T(8)))],
      "tf.math.confusion_matrix", names=("labels", "predictions", "weights"))

# ----------------------------------------------------------------------------------------
# tf.bitwise: integer sign (two's complement) and unsigned types
# ----------------------------------------------------------------------------------------
_BIT_INPUTS = (i32(3, 5, low=-40, high=40), i32(3, 5, low=-40, high=40))
_BIT_DTYPES = [V("int32-negative"), V("int64", inputs=(i64(2, 6, low=-99, high=99), i64(6, low=-99, high=99))),
               V("uint8", inputs=(T(3, 4, dtype="uint8", low=0, high=256), T(3, 4, dtype="uint8", low=0, high=256)))]
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    tf_op(_name, "Bitwise" + _name.split("_")[1].capitalize(), _BIT_INPUTS, _BIT_DTYPES, "tf.bitwise." + _name)
tf_op("bitwise_invert", "BitwiseNot", [i32(3, 5, low=-40, high=40)], [
    V("int32-negative"), V("int64", inputs=(i64(4, low=-99, high=99),)), V("uint8", inputs=(T(3, 4, dtype="uint8", low=0, high=256),))],
      "tf.bitwise.invert")
for _name in ("left_shift", "right_shift"):
    tf_op("bitwise_" + _name, "BitShift", (i32(3, 5, low=-40, high=40), i32(3, 5, low=0, high=8)), [
        V("int32-negative"), V("int64", inputs=(i64(2, 6, low=-99, high=99), i64(2, 6, low=0, high=20))),
        V("uint8", inputs=(T(3, 4, dtype="uint8", low=0, high=256), T(3, 4, dtype="uint8", low=0, high=8)))],
          "tf.bitwise." + _name, notes="shifts stay below the bit width (wider is implementation defined in TF)")

# ----------------------------------------------------------------------------------------
# Segment families: sorted ids (constant, with empty segments), unsorted ids (inputs, with
# negative ids, which TF drops), sparse segments (index lists)
# ----------------------------------------------------------------------------------------
_SORTED_IDS = [V("dense", {"segment_ids": [0, 0, 1, 1, 2, 2]}),
               V("empty-segments", {"segment_ids": [0, 0, 2, 2, 2, 5]}),
               V("one-segment-1d", {"segment_ids": [0, 0, 0, 0, 0]}, inputs=(T(5),)),
               V("int32", {"segment_ids": [0, 1, 1, 3, 3, 3]}, inputs=(i32(6, 2),))]
for _name, _onnx in [("sum", "ReduceSum"), ("mean", "ReduceMean"), ("max", "ReduceMax"), ("min", "ReduceMin"),
                     ("prod", "ReduceProd")]:
    tf_op("segment_" + _name, ("ScatterND", _onnx), [T(6, 3, domain="uniform", low=0.5, high=1.5)], _SORTED_IDS,
          "tf.math.segment_" + _name, names=("data",),
          notes="an empty segment gives 0 (1 for prod); sorted ids are constants of the graph")
_UNSORTED = [V("in-range", {"num_segments": 4}),
             V("negative-ids-dropped", {"num_segments": 4}, inputs=(T(7, 3, domain="uniform", low=0.5, high=1.5),
                                                                    i32(7, domain="index", low=-2, high=4))),
             V("empty-segments", {"num_segments": 7}),
             V("int64-ids-1d", {"num_segments": 3}, inputs=(T(8, domain="uniform", low=0.5, high=1.5), i64(8, domain="index", high=3)))]
for _name, _onnx in [("sum", "ScatterND"), ("max", "ScatterND"), ("min", "ScatterND"), ("prod", "ScatterND"),
                     ("mean", "ScatterND"), ("sqrt_n", "ScatterND")]:
    tf_op("unsorted_segment_" + _name, _onnx, (T(6, 3, domain="uniform", low=0.5, high=1.5), i32(6, domain="index", high=4)),
          _UNSORTED + [V("int32-data", {"num_segments": 4}, inputs=(i32(6, 2), i32(6, domain="index", high=4)))]
          if _name in ("sum", "max", "min", "prod") else _UNSORTED,
          "tf.math.unsorted_segment_" + _name, names=("data", "segment_ids"),
          notes="empty segments: 0 (sum, mean, sqrt_n), 1 (prod), the dtype's lowest (max) / highest (min) value")
_SPARSE_SEG = [V("dense", {"indices": [0, 1, 3, 4], "segment_ids": [0, 0, 1, 1]}),
               V("repeated-indices", {"indices": [2, 2, 0, 4, 4], "segment_ids": [0, 1, 1, 1, 2]}),
               V("num-segments-empty", {"indices": [0, 1, 2], "segment_ids": [0, 0, 2], "num_segments": 4})]
for _name in ("sum", "mean", "sqrt_n"):
    tf_op("sparse_segment_" + _name, ("Gather", "ScatterND"), [T(5, 3)], _SPARSE_SEG, "tf.sparse.segment_" + _name, names=("data",))

# ----------------------------------------------------------------------------------------
# tf.nn: activations, losses, moments and normalization
# ----------------------------------------------------------------------------------------
tf_op("bias_add", "Add", (X(2, 3, 4, 5), T(3)), [
    V("nhwc"), V("nchw", {"data_format": "NCHW"}, inputs=(T(2, 3, 4, 5), T(3))),
    V("2d", inputs=(T(4, 6), T(6))), V("int32", inputs=(i32(2, 5), i32(5))),
    V("fp16", inputs=(fp16(2, 3, 4), fp16(4)), tolerance=FP16)], "tf.nn.bias_add")
tf_op("crelu", ("Concat", "Relu"), [T(3, 6, avoid=[0.0])], [V("axis-1"), V("axis0", {"axis": 0}),
                                                          V("axis1-4d", {"axis": 1}, inputs=(T(2, 3, 4, 2, avoid=[0.0]),))],
      "tf.nn.crelu")
PROBS = T(4, 6, domain="uniform", low=0.0, high=1.0)
tf_op("sigmoid_cross_entropy_with_logits", ("Sigmoid", "Log"), (PROBS, T(4, 6, scale=3.0)), [
    V("soft-labels"), V("hard-labels", inputs=(T(4, 6, domain="index", high=2), T(4, 6, scale=3.0)))],
      "tf.nn.sigmoid_cross_entropy_with_logits", names=("labels", "logits"))
tf_op("weighted_cross_entropy_with_logits", ("Exp", "Log"), (PROBS, T(4, 6, scale=3.0)), [
    V("pos-weight0.5", {"pos_weight": 0.5}), V("pos-weight3", {"pos_weight": 3.0})],
      "tf.nn.weighted_cross_entropy_with_logits", names=("labels", "logits"))
tf_op("softmax_cross_entropy_with_logits", ("LogSoftmax", "ReduceSum"), (PROBS, T(4, 6)), [
    V("axis-1"), V("axis0", {"axis": 0})], "tf.nn.softmax_cross_entropy_with_logits", names=("labels", "logits"))
tf_op("sparse_softmax_cross_entropy_with_logits", ("LogSoftmax", "GatherElements"), (i32(5, domain="index", high=6), T(5, 6)), [
    V("int32-labels"), V("int64-labels-3d", inputs=(i64(2, 3, domain="index", high=4), T(2, 3, 4)))],
      "tf.nn.sparse_softmax_cross_entropy_with_logits", names=("labels", "logits"))
tf_op("log_poisson_loss", ("Exp", "Sub"), (T(3, 5, domain="positive"), T(3, 5)), [
    V("plain"), V("full-loss", {"compute_full_loss": True})], "tf.nn.log_poisson_loss", names=("targets", "log_input"))
tf_op("moments", ("ReduceMean", "Sub", "Mul"), [X(2, 3, 4, 5)], [
    V("axes012", {"axes": [0, 1, 2]}), V("axis-1-keep", {"axes": [-1], "keepdims": True}),
    V("fp16-axis0", {"axes": [0]}, inputs=(fp16(4, 6),), tolerance=FP16)], "tf.nn.moments", names=("x",))
tf_op("weighted_moments", ("ReduceSum", "Div"), (T(4, 6), T(4, 6, domain="positive")), [
    V("axis0", {"axes": [0]}), V("axis1-keep", {"axes": [1], "keepdims": True}),
    V("bcast-weights", {"axes": [0, 1]}, inputs=(T(4, 6), T(1, 6, domain="positive")))],
      "tf.nn.weighted_moments", names=("x", "frequency_weights"))
tf_op("normalize_moments", ("Div", "Sub"), (T(domain="positive", low=2.0, high=9.0), T(5), T(5, domain="positive")), [
    V("no-shift", {"shift": None}), V("shift", inputs=(T(domain="positive", low=2.0, high=9.0), T(5), T(5, domain="positive"), T(5)))],
      "tf.nn.normalize_moments", names=("counts", "mean_ss", "variance_ss", "shift"))
tf_op("sufficient_statistics", ("ReduceSum", "Mul"), [T(3, 4, 5)], [
    V("axes0-1", {"axes": [0, 1], "shift": 0.0}), V("axis2-keep", {"axes": [2], "keepdims": True, "shift": -1.0}),
    V("shift", {"axes": [0], "shift": 0.5})], "tf.nn.sufficient_statistics", names=("x",))
tf_op("batch_normalization", ("Sub", "Mul", "Add"),
      (X(2, 3, 4, 4), T(3), T(3, domain="positive"), T(3), T(3)), [
    V("eps1e-3", {"variance_epsilon": 1e-3}), V("eps1e-5-2d", {"variance_epsilon": 1e-5},
                                                inputs=(T(5, 4), T(4), T(4, domain="positive"), T(4), T(4)))],
      "tf.nn.batch_normalization", names=("x", "mean", "variance", "offset", "scale"))
tf_op("fused_batch_norm", "BatchNormalization", (X(2, 3, 4, 5), T(3), T(3), T(3), T(3, domain="positive")), [
    V("nhwc", {"epsilon": 1e-3}), V("nchw", {"epsilon": 1e-3, "data_format": "NCHW"},
                                    inputs=(T(2, 3, 4, 5), T(3), T(3), T(3), T(3, domain="positive"))),
    V("eps0.1", {"epsilon": 0.1})],
      "tf.compat.v1.nn.fused_batch_norm", names=("x", "scale", "offset", "mean", "variance"), fixed={"is_training": False})
tf_op("zero_fraction", ("Equal", "ReduceMean"), [T(4, 6, domain="grid")], [V("grid-zeros"), V("int32", inputs=(i32(5, 3, low=-1, high=2),))],
      "tf.math.zero_fraction")
tf_op("embedding_lookup", "Gather", (T(10, 4), i32(2, 5, domain="index", high=10)), [
    V("ids-2d"), V("max-norm1", {"max_norm": 1.0}), V("int64-ids", inputs=(T(6, 3), i64(7, domain="index", high=6)))],
      "tf.nn.embedding_lookup", names=("params", "ids"))
tf_op("l2_normalize_axes", ("ReduceSum", "Sqrt", "Div"), [T(3, 4, 5)], [
    V("axes1-2", {"axis": [1, 2]}), V("axis0-eps1", {"axis": 0, "epsilon": 1.0}), V("zeros-row", {"axis": 1},
                                                                                 inputs=(T(3, 4, domain="grid", low=0.0),))],
      "tf.math.l2_normalize", notes="epsilon bounds the squared norm from below (zero rows stay zero)")

# ----------------------------------------------------------------------------------------
# tf.nn: convolution and pooling with the filters as inputs, NHWC and NCHW
# ----------------------------------------------------------------------------------------
tf_op("nn_conv1d", "Conv", (X(2, 3, 11), T(3, 3, 4)), [
    V("stride1-same", {"stride": 1, "padding": "SAME"}), V("stride2-valid", {"stride": 2, "padding": "VALID"}),
    V("dilation2", {"stride": 1, "padding": "VALID", "dilations": 2}),
    V("ncw", {"stride": 1, "padding": "SAME", "data_format": "NCW"}, inputs=(T(2, 3, 11), T(3, 3, 4)))],
      "tf.nn.conv1d", names=("input", "filters"))
tf_op("nn_conv2d", "Conv", (X(2, 3, 8, 9), T(3, 3, 3, 4)), [
    V("same", {"strides": 1, "padding": "SAME"}), V("valid-stride2", {"strides": 2, "padding": "VALID"}),
    V("explicit-pads", {"strides": 1, "padding": [[0, 0], [1, 2], [0, 1], [0, 0]]}),
    V("dilation2-same", {"strides": 1, "padding": "SAME", "dilations": 2}),
    V("nchw-same-stride2", {"strides": 2, "padding": "SAME", "data_format": "NCHW"}, inputs=(T(1, 3, 8, 9), T(3, 3, 3, 4))),
    V("fp16", {"strides": 1, "padding": "SAME"}, inputs=(fp16(1, 5, 5, 2), fp16(3, 3, 2, 3)), tolerance={"atol": 1e-2, "rtol": 1e-2})],
      "tf.nn.conv2d", names=("input", "filters"))
tf_op("nn_conv3d", "Conv", (X(1, 2, 5, 6, 6), T(3, 3, 3, 2, 3)), [
    V("same", {"strides": [1, 1, 1, 1, 1], "padding": "SAME"}), V("valid-stride2", {"strides": [1, 2, 2, 2, 1], "padding": "VALID"}),
    V("dilation2", {"strides": [1, 1, 1, 1, 1], "padding": "SAME", "dilations": [1, 2, 2, 2, 1]})],
      "tf.nn.conv3d", names=("input", "filters"))
tf_op("nn_convolution", "Conv", (X(2, 3, 8, 8), T(3, 3, 3, 4)), [
    V("same", {"padding": "SAME"}), V("valid-stride2", {"padding": "VALID", "strides": 2}),
    V("dilation2", {"padding": "SAME", "dilations": 2}), V("1d", {"padding": "VALID"}, inputs=(X(2, 3, 9), T(2, 3, 5)))],
      "tf.nn.convolution", names=("input", "filters"))
tf_op("nn_conv2d_transpose", "ConvTranspose", (X(1, 4, 5, 5), T(3, 3, 2, 4)), [
    V("stride2-same", {"output_shape": [1, 10, 10, 2], "strides": 2, "padding": "SAME"}),
    V("stride2-valid", {"output_shape": [1, 11, 11, 2], "strides": 2, "padding": "VALID"}),
    V("stride1-same", {"output_shape": [1, 5, 5, 2], "strides": 1, "padding": "SAME"}),
    V("stride2-valid-outpad", {"output_shape": [1, 12, 12, 2], "strides": 2, "padding": "VALID"})],
      "tf.nn.conv2d_transpose", names=("input", "filters"))
tf_op("nn_conv1d_transpose", "ConvTranspose", (X(1, 4, 6), T(3, 2, 4)), [
    V("stride2-same", {"output_shape": [1, 12, 2], "strides": 2, "padding": "SAME"}),
    V("stride1-valid", {"output_shape": [1, 8, 2], "strides": 1, "padding": "VALID"})],
      "tf.nn.conv1d_transpose", names=("input", "filters"))
tf_op("nn_conv3d_transpose", "ConvTranspose", (X(1, 3, 3, 4, 4), T(2, 2, 2, 2, 3)), [
    V("stride2-same", {"output_shape": [1, 6, 8, 8, 2], "strides": 2, "padding": "SAME"}),
    V("stride1-valid", {"output_shape": [1, 4, 5, 5, 2], "strides": 1, "padding": "VALID"})],
      "tf.nn.conv3d_transpose", names=("input", "filters"))
tf_op("nn_depthwise_conv2d", "Conv", (X(1, 3, 8, 8), T(3, 3, 3, 2)), [
    V("same", {"strides": [1, 1, 1, 1], "padding": "SAME"}), V("valid-stride2", {"strides": [1, 2, 2, 1], "padding": "VALID"}),
    V("dilation2", {"strides": [1, 1, 1, 1], "padding": "SAME", "dilations": [2, 2]}),
    V("nchw", {"strides": [1, 1, 1, 1], "padding": "SAME", "data_format": "NCHW"}, inputs=(T(1, 3, 8, 8), T(3, 3, 3, 2)))],
      "tf.nn.depthwise_conv2d", names=("input", "filter"))
tf_op("nn_separable_conv2d", "Conv", (X(1, 3, 7, 7), T(3, 3, 3, 2), T(1, 1, 6, 4)), [
    V("same", {"strides": [1, 1, 1, 1], "padding": "SAME"}), V("valid-stride2", {"strides": [1, 2, 2, 1], "padding": "VALID"}),
    V("dilation2", {"strides": [1, 1, 1, 1], "padding": "SAME", "dilations": [2, 2]})],
      "tf.nn.separable_conv2d", names=("input", "depthwise_filter", "pointwise_filter"))
tf_op("nn_atrous_conv2d", "Conv", (X(1, 3, 9, 9), T(3, 3, 3, 2)), [
    V("rate2-same", {"rate": 2, "padding": "SAME"}), V("rate3-valid", {"rate": 3, "padding": "VALID"}),
    V("rate1-same", {"rate": 1, "padding": "SAME"})], "tf.nn.atrous_conv2d", names=("value", "filters"))
_POOL_VARIANTS = [V("k2-s2-valid", {"ksize": 2, "strides": 2, "padding": "VALID"}),
                  V("k3-s2-same", {"ksize": 3, "strides": 2, "padding": "SAME"}),
                  V("k3-s1-same", {"ksize": 3, "strides": 1, "padding": "SAME"})]
for _kind, _onnx in [("max", "MaxPool"), ("avg", "AveragePool")]:
    tf_op(f"nn_{_kind}_pool1d", _onnx, [X(2, 3, 11)], _POOL_VARIANTS + [
        V("ncw", {"ksize": 2, "strides": 2, "padding": "VALID", "data_format": "NCW"}, inputs=(T(2, 3, 11),))], f"tf.nn.{_kind}_pool1d")
    tf_op(f"nn_{_kind}_pool2d", _onnx, [X(1, 3, 9, 10)], _POOL_VARIANTS + [
        V("rect-k2x3-s1x2", {"ksize": [2, 3], "strides": [1, 2], "padding": "VALID"}),
        V("nchw-k3-s2-same", {"ksize": 3, "strides": 2, "padding": "SAME", "data_format": "NCHW"}, inputs=(T(1, 3, 9, 10),)),
        V("fp16", {"ksize": 2, "strides": 2, "padding": "VALID"}, inputs=(fp16(1, 4, 4, 2),), tolerance=FP16)],
          f"tf.nn.{_kind}_pool2d")
    tf_op(f"nn_{_kind}_pool3d", _onnx, [X(1, 2, 5, 6, 6)], _POOL_VARIANTS, f"tf.nn.{_kind}_pool3d")
tf_op("nn_max_pool_int", "MaxPool", [X(1, 2, 6, 6, dtype="int32")], [V("k2-s2-int32", {"ksize": 2, "strides": 2, "padding": "VALID"})],
      "tf.nn.max_pool2d")
tf_op("nn_pool", ("MaxPool", "AveragePool"), [X(1, 3, 9, 9)], [
    V("max-k2-s2", {"window_shape": [2, 2], "pooling_type": "MAX", "strides": [2, 2], "padding": "VALID"}),
    V("avg-k3-same", {"window_shape": [3, 3], "pooling_type": "AVG", "padding": "SAME"}),
    V("max-dilation2", {"window_shape": [2, 2], "pooling_type": "MAX", "padding": "VALID", "dilations": [2, 2]}),
    V("avg-dilation2-valid", {"window_shape": [2, 2], "pooling_type": "AVG", "padding": "VALID", "dilations": [2, 2]})],
      "tf.nn.pool", names=("input",))
tf_op("max_pool_with_argmax", "MaxPool", [X(2, 3, 6, 6, avoid=[0.0])], [
    V("k2-s2-valid", {"ksize": 2, "strides": 2, "padding": "VALID"}),
    V("k3-s2-same", {"ksize": 3, "strides": 2, "padding": "SAME"}),
    V("batch-in-index", {"ksize": 2, "strides": 2, "padding": "VALID", "include_batch_in_index": True})],
      "tf.nn.max_pool_with_argmax", notes="argmax flattens (y, x, c) per image, or (b, y, x, c) with include_batch_in_index")
tf_op("space_to_batch_nd", "SpaceToDepth", [X(2, 3, 4, 6)], [
    V("block2", {"block_shape": [2, 2], "paddings": [[0, 0], [0, 0]]}),
    V("block2-padded", {"block_shape": [2, 2], "paddings": [[1, 1], [0, 2]]}),
    V("block3-1d", {"block_shape": [3], "paddings": [[0, 0]]}, inputs=(T(2, 6, 4),))], "tf.space_to_batch_nd")
tf_op("batch_to_space", "DepthToSpace", [X(8, 3, 2, 3)], [
    V("block2", {"block_shape": [2, 2], "crops": [[0, 0], [0, 0]]}),
    V("block2-cropped", {"block_shape": [2, 2], "crops": [[1, 0], [0, 2]]}),
    V("block2-1d", {"block_shape": [2], "crops": [[0, 1]]}, inputs=(T(4, 5, 3),))], "tf.batch_to_space")

# ----------------------------------------------------------------------------------------
# tf.image (NHWC images, values in [0, 1] unless the op says otherwise)
# ----------------------------------------------------------------------------------------
IMG = T(2, 6, 7, 3, domain="uniform", low=0.0, high=1.0)
IMG1 = T(6, 7, 3, domain="uniform", low=0.0, high=1.0)


def image_op(name, onnx, variants, inputs=(IMG,), target=None, **kw):
    tf_op("image_" + name, onnx, inputs, variants, target or "tf.image." + name, **kw)


image_op("adjust_brightness", "Add", [V("delta0.2", {"delta": 0.2}), V("delta-0.5", {"delta": -0.5}),
                                      V("uint8", {"delta": 0.1}, inputs=(T(1, 4, 4, 3, dtype="uint8", low=0, high=256),))])
image_op("adjust_contrast", ("ReduceMean", "Sub", "Mul"), [
    V("factor2", {"contrast_factor": 2.0}), V("factor0.5", {"contrast_factor": 0.5}), V("factor-1", {"contrast_factor": -1.0}),
    V("single-image", {"contrast_factor": 1.5}, inputs=(IMG1,))])
image_op("adjust_hue", ("Max", "Min", "Where"), [V("delta0.2", {"delta": 0.2}), V("delta-0.45", {"delta": -0.45}),
                                                 V("single-image", {"delta": 0.1}, inputs=(IMG1,))], tol={"atol": 1e-4})
image_op("adjust_saturation", ("Max", "Min", "Where"), [V("factor2", {"saturation_factor": 2.0}),
                                                        V("factor0.3", {"saturation_factor": 0.3}),
                                                        V("factor0", {"saturation_factor": 0.0})], tol={"atol": 1e-4})
image_op("adjust_gamma", ("Pow", "Mul"), [V("gamma2", {"gamma": 2.0}), V("gamma0.5-gain2", {"gamma": 0.5, "gain": 2.0})])
image_op("rgb_to_grayscale", ("MatMul", "ReduceSum"), [V("batch"), V("single-image", inputs=(IMG1,))])
image_op("grayscale_to_rgb", ("Tile", "Concat"), [V("batch")], inputs=(T(2, 5, 4, 1, domain="uniform", low=0.0, high=1.0),))
for _name in ("rgb_to_yiq", "yiq_to_rgb", "rgb_to_yuv", "yuv_to_rgb"):
    image_op(_name, "MatMul", [V("batch"), V("single-image", inputs=(IMG1,))])
for _name in ("rgb_to_hsv", "hsv_to_rgb"):
    image_op(_name, ("Max", "Min", "Where"), [V("batch")])
image_op("flip_left_right", ("Slice", "ReverseSequence"), [V("batch"), V("single-image", inputs=(IMG1,)),
                                                          V("uint8", inputs=(T(1, 3, 5, 2, dtype="uint8", low=0, high=256),))])
image_op("flip_up_down", ("Slice", "ReverseSequence"), [V("batch"), V("single-image", inputs=(IMG1,))])
image_op("rot90", ("Transpose", "Slice"), [V("k1", {"k": 1}), V("k2", {"k": 2}), V("k3", {"k": 3}), V("k-1", {"k": -1}),
                                          V("k5-single-image", {"k": 5}, inputs=(IMG1,))])
image_op("transpose", "Transpose", [V("batch"), V("single-image", inputs=(IMG1,))])
image_op("central_crop", "Slice", [V("fraction0.5", {"central_fraction": 0.5}), V("fraction0.8", {"central_fraction": 0.8}),
                                   V("fraction1", {"central_fraction": 1.0})])
image_op("crop_to_bounding_box", "Slice", [
    V("offset1-2-size3x4", {"offset_height": 1, "offset_width": 2, "target_height": 3, "target_width": 4}),
    V("whole", {"offset_height": 0, "offset_width": 0, "target_height": 6, "target_width": 7})])
image_op("pad_to_bounding_box", "Pad", [
    V("offset1-2-size9x10", {"offset_height": 1, "offset_width": 2, "target_height": 9, "target_width": 10}),
    V("no-offset", {"offset_height": 0, "offset_width": 0, "target_height": 7, "target_width": 7})])
image_op("resize_with_crop_or_pad", ("Slice", "Pad"), [
    V("crop", {"target_height": 4, "target_width": 5}), V("pad", {"target_height": 9, "target_width": 10}),
    V("crop-h-pad-w", {"target_height": 3, "target_width": 11})])
image_op("resize_with_pad", ("Resize", "Pad"), [
    V("bilinear", {"target_height": 8, "target_width": 12}),
    V("nearest", {"target_height": 12, "target_width": 8, "method": "nearest"}),
    V("bicubic", {"target_height": 9, "target_width": 9, "method": "bicubic"}, tolerance={"atol": 5e-3})], min_opset=11)
image_op("per_image_standardization", ("ReduceMean", "Sub", "Div"), [
    V("batch"), V("single-image", inputs=(IMG1,)), V("constant-image", inputs=(T(1, 3, 3, 2, domain="grid", low=0, high=1),))])
image_op("total_variation", ("Sub", "Abs", "ReduceSum"), [V("batch"), V("single-image", inputs=(IMG1,))])
image_op("image_gradients", ("Sub", "Pad"), [V("batch")], target="tf.image.image_gradients")
image_op("sobel_edges", "Conv", [V("batch")])
image_op("extract_patches", ("Conv", "SpaceToDepth"), [
    V("k2-s2", {"sizes": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "rates": [1, 1, 1, 1], "padding": "VALID"}),
    V("k3-s1-same", {"sizes": [1, 3, 3, 1], "strides": [1, 1, 1, 1], "rates": [1, 1, 1, 1], "padding": "SAME"}),
    V("k2-rate2", {"sizes": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "rates": [1, 2, 2, 1], "padding": "VALID"})], names=("images",))
_BOXES = T(3, 4, domain="uniform", low=0.0, high=1.0)
image_op("crop_and_resize", "RoiAlign", [
    V("bilinear", {"crop_size": [3, 4]}),
    V("nearest", {"crop_size": [4, 4], "method": "nearest"}),
    V("extrapolate", {"crop_size": [3, 3], "extrapolation_value": -1.0},
      inputs=(IMG, T(3, 4, domain="uniform", low=-0.5, high=1.5), i32(3, domain="index", high=2)))],
         inputs=(IMG, _BOXES, i32(3, domain="index", high=2)), names=("image", "boxes", "box_indices"), min_opset=11,
         notes="boxes are [y1, x1, y2, x2] in [0, 1]; y2 < y1 flips the crop; out-of-image samples take extrapolation_value")
_NMS = (T(8, 4, domain="uniform", low=0.0, high=1.0), T(8, domain="uniform", low=0.0, high=1.0))
image_op("non_max_suppression", "NonMaxSuppression", [
    V("iou0.5", {"max_output_size": 5, "iou_threshold": 0.5}),
    V("iou0.2-score0.3", {"max_output_size": 8, "iou_threshold": 0.2, "score_threshold": 0.3}),
    V("max2", {"max_output_size": 2})], inputs=_NMS, names=("boxes", "scores"), min_opset=11)
image_op("non_max_suppression_with_scores", "NonMaxSuppression", [
    V("iou0.5", {"max_output_size": 5, "iou_threshold": 0.5}),
    V("score0.4", {"max_output_size": 8, "iou_threshold": 0.3, "score_threshold": 0.4})],
         inputs=_NMS, names=("boxes", "scores"), min_opset=11)
image_op("non_max_suppression_padded", "NonMaxSuppression", [
    V("pad-to-6", {"max_output_size": 6, "iou_threshold": 0.5, "pad_to_max_output_size": True}),
    V("score0.5", {"max_output_size": 6, "iou_threshold": 0.4, "score_threshold": 0.5, "pad_to_max_output_size": True})],
         inputs=_NMS, names=("boxes", "scores"), min_opset=11)
image_op("combined_non_max_suppression", "NonMaxSuppression", [
    V("per-class4-total6", {"max_output_size_per_class": 4, "max_total_size": 6}),
    V("clip-pad", {"max_output_size_per_class": 3, "max_total_size": 8, "pad_per_class": True, "clip_boxes": False,
                   "iou_threshold": 0.3, "score_threshold": 0.2})],
         inputs=(T(2, 6, 1, 4, domain="uniform", low=0.0, high=1.0), T(2, 6, 3, domain="uniform", low=0.0, high=1.0)),
         names=("boxes", "scores"), min_opset=11)
image_op("convert_image_dtype", ("Cast", "Mul"), [
    V("uint8-to-float", {"dtype": "float32"}, inputs=(T(1, 3, 4, 3, dtype="uint8", low=0, high=256),)),
    V("float-to-uint8-saturate", {"dtype": "uint8", "saturate": True},
      inputs=(T(1, 3, 4, 3, domain="uniform", low=-0.2, high=1.2),)),
    V("float-to-uint8", {"dtype": "uint8"}),
    V("int32-to-float32", {"dtype": "float32"}, inputs=(i32(1, 3, 3, 1, low=0, high=2**31 - 1),)),
    V("uint8-to-float16", {"dtype": "float16"}, inputs=(T(1, 3, 3, 1, dtype="uint8", low=0, high=256),), tolerance=FP16)],
         names=("image",))
image_op("psnr", ("Sub", "ReduceMean", "Log"), [V("max1", {"max_val": 1.0}), V("max255", {"max_val": 255.0})],
         inputs=(IMG, T(2, 6, 7, 3, domain="uniform", low=0.0, high=1.0)), names=("a", "b"))
image_op("ssim", ("Conv", "Div"), [
    V("filter3", {"max_val": 1.0, "filter_size": 3}),
    V("filter5-sigma0.8", {"max_val": 1.0, "filter_size": 5, "filter_sigma": 0.8, "k1": 0.02, "k2": 0.05})],
         inputs=(T(1, 8, 8, 2, domain="uniform", low=0.0, high=1.0), T(1, 8, 8, 2, domain="uniform", low=0.0, high=1.0)),
         names=("img1", "img2"), tol={"atol": 1e-4})
image_op("resize", "Resize", [
    V("bilinear-up", {"size": [9, 11]}), V("nearest-down", {"size": [3, 4], "method": "nearest"}),
    V("bicubic-up", {"size": [8, 9], "method": "bicubic"}, tolerance={"atol": 5e-3}),
    V("area-down", {"size": [3, 3], "method": "area"}),
    V("bilinear-preserve-aspect", {"size": [12, 12], "preserve_aspect_ratio": True}),
    V("bilinear-antialias-down", {"size": [3, 4], "antialias": True}),
    V("lanczos3", {"size": [8, 9], "method": "lanczos3"}),
    V("gaussian", {"size": [8, 9], "method": "gaussian"}),
    V("mitchellcubic", {"size": [8, 9], "method": "mitchellcubic"})], names=("images",), min_opset=11)

# ----------------------------------------------------------------------------------------
# tf.linalg
# ----------------------------------------------------------------------------------------
tf_op("linalg_matvec", "MatMul", (T(2, 3, 4), T(2, 4)), [
    V("plain"), V("transpose-a", {"transpose_a": True}, inputs=(T(2, 4, 3), T(2, 4))),
    V("adjoint-a", {"adjoint_a": True}, inputs=(T(3, 5), T(3)))], "tf.linalg.matvec")
tf_op("linalg_matmul_flags", ("Transpose", "MatMul"), (T(2, 4, 3), T(2, 5, 4)), [
    V("transpose-both", {"transpose_a": True, "transpose_b": True}),
    V("adjoint-a", {"adjoint_a": True}, inputs=(T(4, 3), T(4, 5))),
    V("int32", inputs=(i32(3, 4), i32(4, 2))), V("int64-transpose-a", {"transpose_a": True}, inputs=(i64(4, 3), i64(4, 2)))],
      "tf.linalg.matmul")
tf_op("linalg_det", "Det", [T(3, 3)], [V("3x3"), V("batch-2x4x4", inputs=(T(2, 4, 4),)), V("1x1", inputs=(T(1, 1),))],
      "tf.linalg.det", tol={"atol": 1e-4, "rtol": 1e-4})
tf_op("linalg_band_part", "Trilu", [T(2, 5, 6)], [
    V("lower1-upper2", {"num_lower": 1, "num_upper": 2}), V("diagonal", {"num_lower": 0, "num_upper": 0}),
    V("lower-all-upper1", {"num_lower": -1, "num_upper": 1}), V("int32-upper-all", {"num_lower": 2, "num_upper": -1},
                                                               inputs=(i32(4, 4),))], "tf.linalg.band_part", names=("input",))
tf_op("linalg_diag", ("ScatterND", "Mul"), [T(2, 4)], [
    V("main"), V("k1", {"k": 1}), V("k-2-rows6", {"k": -2, "num_rows": 6}), V("padding-value", {"k": 1, "padding_value": 9.0}),
    V("band-k-1-1", {"k": [-1, 1], "align": "LEFT_RIGHT"}, inputs=(T(2, 3, 4),)),
    V("band-right-left", {"k": [-1, 1], "align": "RIGHT_LEFT"}, inputs=(T(2, 3, 4),)),
    V("int32", inputs=(i32(3, 3),))], "tf.linalg.diag", names=("diagonal",))
tf_op("linalg_diag_part", ("GatherND",), [T(2, 4, 5)], [
    V("main"), V("k2", {"k": 2}), V("k-1-padding", {"k": -1, "padding_value": 5.0}),
    V("band-left-right", {"k": [-1, 1], "align": "LEFT_RIGHT"}),
    V("band-right-left", {"k": [-1, 2], "align": "RIGHT_LEFT", "padding_value": -1.0})], "tf.linalg.diag_part", names=("input",))
tf_op("linalg_set_diag", "ScatterND", (T(2, 4, 5), T(2, 4)), [
    V("main"), V("k1", {"k": 1}, inputs=(T(2, 4, 5), T(2, 4))),
    V("band", {"k": [-1, 1], "align": "LEFT_RIGHT"}, inputs=(T(4, 5), T(3, 4)))], "tf.linalg.set_diag", names=("input", "diagonal"))
tf_op("linalg_trace", ("ReduceSum",), [T(4, 4)], [V("square"), V("batch-rect", inputs=(T(2, 3, 5),)),
                                                V("int32", inputs=(i32(3, 3),))], "tf.linalg.trace")
tf_op("linalg_adjoint", "Transpose", [T(2, 3, 4)], [V("batch"), V("int32", inputs=(i32(3, 5),))], "tf.linalg.adjoint")
tf_op("linalg_matrix_transpose", "Transpose", [T(2, 3, 4)], [V("batch"), V("bool", inputs=(T(3, 2, dtype="bool"),))],
      "tf.linalg.matrix_transpose")
tf_op("linalg_norm", ("ReduceL2", "ReduceL1", "ReduceMax"), [T(3, 4, 5)], [
    V("euclidean-all"), V("euclidean-axis1", {"axis": 1}), V("ord1-axis-1", {"ord": 1, "axis": -1}),
    V("ord-inf-axis0-keep", {"ord": float("inf"), "axis": 0, "keepdims": True}),
    V("fro-matrix", {"ord": "fro", "axis": [1, 2]}), V("ord1-matrix", {"ord": 1, "axis": [1, 2]}),
    V("ord-inf-matrix", {"ord": float("inf"), "axis": [-2, -1]}), V("ord3-vector", {"ord": 3, "axis": 2})],
      "tf.linalg.norm", names=("tensor",))
tf_op("linalg_normalize", ("ReduceL2", "Div"), [T(3, 5)], [
    V("euclidean"), V("ord1-axis1", {"ord": 1, "axis": 1}), V("fro-matrix", {"ord": "fro", "axis": [0, 1]})],
      "tf.linalg.normalize", names=("tensor",))
tf_op("linalg_global_norm", ("ReduceSum", "Sqrt"), (T(3, 4), T(5), T(2, 2, 2)), [V("three-tensors")],
      "tf.linalg.global_norm", packed=True)

# ----------------------------------------------------------------------------------------
# tf.signal (complex spectra are judged through their magnitude: ONNX outputs are real)
# ----------------------------------------------------------------------------------------
tf_op("signal_frame", ("Slice", "Gather", "Reshape"), [T(2, 20)], [
    V("len5-step3", {"frame_length": 5, "frame_step": 3}),
    V("pad-end", {"frame_length": 6, "frame_step": 4, "pad_end": True}),
    V("pad-end-value", {"frame_length": 6, "frame_step": 4, "pad_end": True, "pad_value": -1.0}),
    V("axis0", {"frame_length": 3, "frame_step": 2, "axis": 0}, inputs=(T(9, 3),)),
    V("int32", {"frame_length": 4, "frame_step": 4}, inputs=(i32(2, 12),))], "tf.signal.frame", names=("signal",))
tf_op("signal_overlap_and_add", ("Pad", "Reshape", "ReduceSum"), [T(2, 5, 6)], [
    V("step3", {"frame_step": 3}), V("step6", {"frame_step": 6}), V("step1", {"frame_step": 1})],
      "tf.signal.overlap_and_add", names=("signal",))
tf_op("signal_fftshift", ("Slice", "Concat"), [T(4, 5)], [V("all"), V("axes1", {"axes": 1}), V("axes0-odd", {"axes": [0]}, inputs=(T(5, 2),))],
      "tf.signal.fftshift", names=("x",))
tf_op("signal_ifftshift", ("Slice", "Concat"), [T(4, 5)], [V("all"), V("axes1", {"axes": 1}), V("axes0-odd", {"axes": [0]}, inputs=(T(5, 2),))],
      "tf.signal.ifftshift", names=("x",))
tf_custom("signal_rfft", "DFT", [T(3, 16)], [
    V("len16", {"fn": "rfft"}), V("fft-length8-cropped", {"fn": "rfft", "fft_length": [8]}),
    V("fft-length20-padded", {"fn": "rfft", "fft_length": [20]}), V("odd-length", {"fn": "rfft"}, inputs=(T(2, 9),))],
          "spectrum", "tf.signal.rfft + tf.abs", tol={"atol": 1e-4, "rtol": 1e-4})
tf_custom("signal_rfft2d", "DFT", [T(2, 6, 8)], [V("6x8", {"fn": "rfft2d"}), V("fft-length4x8", {"fn": "rfft2d", "fft_length": [4, 8]})],
          "spectrum", "tf.signal.rfft2d + tf.abs", tol={"atol": 1e-4, "rtol": 1e-4})
tf_custom("signal_stft", "DFT", [T(2, 64)], [
    V("len16-step8", {"fn": "stft", "frame_length": 16, "frame_step": 8}),
    V("fft32-pad-end", {"fn": "stft", "frame_length": 16, "frame_step": 8, "fft_length": 32, "pad_end": True})],
          "spectrum", "tf.signal.stft + tf.abs", tol={"atol": 1e-4, "rtol": 1e-4})
tf_op("signal_dct", ("DFT", "MatMul"), [T(3, 8)], [
    V("type2"), V("type2-ortho", {"norm": "ortho"}), V("type3", {"type": 3}), V("type1", {"type": 1}),
    V("type2-n6", {"n": 6}), V("type4-ortho", {"type": 4, "norm": "ortho"})], "tf.signal.dct", names=("input",),
      tol={"atol": 1e-4, "rtol": 1e-4})
tf_op("signal_idct", ("DFT", "MatMul"), [T(3, 8)], [V("type2"), V("type2-ortho", {"norm": "ortho"}), V("type3", {"type": 3})],
      "tf.signal.idct", names=("input",), tol={"atol": 1e-4, "rtol": 1e-4})
tf_op("signal_mfccs_from_log_mel_spectrograms", ("DFT", "MatMul"), [T(2, 5, 16)], [V("mel16")],
      "tf.signal.mfccs_from_log_mel_spectrograms", tol={"atol": 1e-4, "rtol": 1e-4})

# ----------------------------------------------------------------------------------------
# Array ops: gather/scatter families, slicing, reordering, creation
# ----------------------------------------------------------------------------------------
tf_op("reverse_sequence", "ReverseSequence", (T(3, 5, 2), i32(3, low=0, high=6)), [
    V("seq1-batch0", {"seq_axis": 1, "batch_axis": 0}),
    V("seq0-batch1", {"seq_axis": 0, "batch_axis": 1}, inputs=(T(5, 3, 2), i64(3, low=0, high=6))),
    V("int32-data", {"seq_axis": 1, "batch_axis": 0}, inputs=(i32(2, 4), i32(2, low=0, high=5)))],
      "tf.reverse_sequence", names=("input", "seq_lengths"), notes="length 0 and full length rows are corners")
tf_op("gather_batch_dims", "Gather", (T(2, 5, 3), i32(2, 4, domain="index", high=5)), [
    V("batch1-axis1", {"batch_dims": 1, "axis": 1}),
    V("batch1-axis2", {"batch_dims": 1, "axis": 2}, inputs=(T(2, 3, 6), i32(2, 4, domain="index", high=6))),
    V("batch0-axis-1-2d-indices", {"axis": -1}, inputs=(T(3, 6), i64(2, 2, domain="index", high=6))),
    V("negative-batch-dims", {"batch_dims": -1, "axis": 1}),
    V("int32-params-axis0", {"axis": 0}, inputs=(i32(5, 3), i32(4, domain="index", high=5))),
    V("bool-params", {"axis": 1}, inputs=(T(3, 4, dtype="bool"), i32(3, domain="index", high=4)))],
      "tf.gather", names=("params", "indices"))
tf_op("gather_nd_batch_dims", "GatherND", (T(2, 4, 3), i32(2, 3, 1, domain="index", high=4)), [
    V("batch1", {"batch_dims": 1}),
    V("batch1-full-index", {"batch_dims": 1}, inputs=(T(2, 4, 3), i32(2, 5, 2, domain="index", high=3))),
    V("batch0-slices", inputs=(T(4, 3, 2), i64(2, 1, domain="index", high=4))),
    V("int32-params", inputs=(i32(4, 3), i32(5, 2, domain="index", high=3)))], "tf.gather_nd", names=("params", "indices"))
tf_op("scatter_nd_shape", "ScatterND", (i32(6, 1, domain="index", high=5), T(6, 3)), [
    V("duplicates-summed", {"shape": [5, 3]}),
    V("unique", {"shape": [5, 3]}, inputs=(i32(3, 1, domain="unique_index", axis=0, high=5), T(3, 3))),
    V("elements-2d-index", {"shape": [3, 4]}, inputs=(i64(5, 2, domain="index", high=3), T(5))),
    V("int32-updates", {"shape": [4]}, inputs=(i32(6, 1, domain="index", high=4), i32(6)))],
      "tf.scatter_nd", names=("indices", "updates"), notes="tf.scatter_nd sums the updates of duplicate indices")
for _name in ("add", "sub", "min", "max"):
    tf_op("tensor_scatter_nd_" + _name, "ScatterND", (T(5, 3), i32(6, 1, domain="index", high=5), T(6, 3)), [
        V("duplicates"), V("unique", inputs=(T(5, 3), i32(3, 1, domain="unique_index", axis=0, high=5), T(3, 3))),
        V("elements", inputs=(T(3, 4), i64(4, 2, domain="index", high=3), T(4))),
        V("int32", inputs=(i32(4, 2), i32(5, 1, domain="index", high=4), i32(5, 2)))],
          "tf.tensor_scatter_nd_" + _name, names=("tensor", "indices", "updates"))
tf_op("tensor_scatter_nd_update_unique", "ScatterND", (i64(4, 3), i32(2, 1, domain="unique_index", axis=0, high=4), i64(2, 3)), [
    V("int64"), V("bool", inputs=(T(4, 2, dtype="bool"), i32(2, 1, domain="unique_index", axis=0, high=4), T(2, 2, dtype="bool"))),
    V("elements-2d-index", inputs=(T(3, 3), i32(2, 2, domain="unique_index", axis=0, high=3), T(2)))],
      "tf.tensor_scatter_nd_update", names=("tensor", "indices", "updates"))
tf_op("repeat", ("Tile", "Expand", "Reshape"), [T(3, 4)], [
    V("scalar-repeats-axis0", {"repeats": 2, "axis": 0}), V("per-element-axis1", {"repeats": [1, 0, 2, 3], "axis": 1}),
    V("flattened", {"repeats": 2}), V("int32-axis-1", {"repeats": 3, "axis": -1}, inputs=(i32(2, 3),))], "tf.repeat", names=("input",))
tf_op("fill", ("ConstantOfShape", "Expand"), [T()], [V("dims2x3", {"dims": [2, 3]}), V("dims-empty", {"dims": [0, 4]}),
                                                    V("int32", {"dims": [3]}, inputs=(i32(),))], "tf.fill", names=("value",))
tf_op("zeros_like", ("ConstantOfShape", "Mul"), [T(3, 4)], [
    V("float32"), V("int32", inputs=(i32(2, 5),)), V("bool", inputs=(T(3, dtype="bool"),)), V("dtype-int64", {"dtype": "int64"})],
      "tf.zeros_like", names=("input",))
tf_op("ones_like_dtype", ("ConstantOfShape",), [T(3, 4)], [V("int32-input", inputs=(i32(2, 5),)), V("dtype-float16", {"dtype": "float16"}),
                                                         V("bool", inputs=(T(3, dtype="bool"),))], "tf.ones_like", names=("input",))
tf_op("range", "Range", (i32(low=0, high=3), i32(low=5, high=12), i32(low=1, high=3)), [
    V("int32"), V("int64", inputs=(i64(low=-4, high=0), i64(low=1, high=6), i64(low=1, high=3))),
    V("float32", inputs=(T(domain="uniform", low=-1.0, high=0.0), T(domain="uniform", low=1.0, high=3.0), T(domain="positive", low=0.3, high=0.7))),
    V("negative-delta", inputs=(i32(low=5, high=9), i32(low=-3, high=0), i32(low=-3, high=-1))),
    V("empty", inputs=(i32(low=5, high=6), i32(low=5, high=6), i32(low=1, high=3)))], "tf.range")
tf_op("shape", "Shape", [T(3, 4, 5)], [V("int32"), V("out-int64", {"out_type": "int64"}), V("empty", inputs=(T(0, 2),))],
      "tf.shape", names=("input",))
tf_op("size", ("Size", "Shape"), [T(3, 4, 5)], [V("int32"), V("empty", inputs=(T(0, 3),)), V("scalar", inputs=(T(),))],
      "tf.size", names=("input",))
tf_op("rank", "Shape", [T(3, 4, 5)], [V("3d"), V("scalar", inputs=(T(),))], "tf.rank")
tf_op("identity", "Identity", [T(3, 4)], [V("float32"), V("int64", inputs=(i64(5,),)), V("bool", inputs=(T(2, 2, dtype="bool"),))],
      "tf.identity")
tf_op("stop_gradient", "Identity", [T(3, 4)], [V("float32")], "tf.stop_gradient")
tf_op("ensure_shape", "Identity", [T(3, 4)], [V("exact", {"shape": [3, 4]}), V("partial", {"shape": [None, 4]})], "tf.ensure_shape", names=("x",))
tf_op("check_numerics", "Identity", [T(3, 4)], [V("finite", {"message": "bad"})], "tf.debugging.check_numerics", names=("tensor",))
tf_op("slice_begin_size", "Slice", [T(4, 5, 6)], [
    V("begin1-size2", {"begin": [1, 0, 2], "size": [2, 5, 3]}), V("size-minus1", {"begin": [0, 2, 1], "size": [-1, -1, 4]}),
    V("empty", {"begin": [1, 1, 1], "size": [0, 2, 2]}), V("int32", {"begin": [1, 1], "size": [2, -1]}, inputs=(i32(4, 5),))],
      "tf.slice", names=("input_",))
tf_op("strided_slice", ("Slice", "Squeeze", "Unsqueeze"), [T(4, 5, 6)], [
    V("plain", {"begin": [1, 0, 1], "end": [3, 5, 6], "strides": [1, 2, 2]}),
    V("begin-end-masks", {"begin": [1, 1, 1], "end": [3, 3, 3], "strides": [1, 1, 1], "begin_mask": 0b101, "end_mask": 0b010}),
    V("shrink-axis", {"begin": [2, 0, 0], "end": [3, 5, 6], "strides": [1, 1, 1], "shrink_axis_mask": 0b001}),
    V("new-axis", {"begin": [0, 0, 1], "end": [4, 0, 3], "strides": [1, 1, 1], "new_axis_mask": 0b010}),
    V("ellipsis", {"begin": [0, 1], "end": [0, 4], "strides": [1, 1], "ellipsis_mask": 0b01}),
    V("negative-stride", {"begin": [-1, 4, 5], "end": [0, 0, 0], "strides": [-1, -2, -3], "end_mask": 0b001}),
    V("out-of-range-clamped", {"begin": [-10, 2, 0], "end": [10, 100, 6], "strides": [1, 1, 2]}),
    V("int64", {"begin": [1], "end": [4], "strides": [2]}, inputs=(i64(6, 2),))],
      "tf.strided_slice", names=("input_",))
tf_op("boolean_mask", ("Compress", "NonZero", "GatherND"), (T(4, 3), T(4, dtype="bool")), [
    V("axis0"), V("2d-mask", inputs=(T(3, 4, 2), T(3, 4, dtype="bool"))), V("axis1", {"axis": 1}, inputs=(T(2, 5), T(5, dtype="bool"))),
    V("all-false", inputs=(T(4, 3), T(4, dtype="bool", p=0.0))), V("int32", inputs=(i32(5, 2), T(5, dtype="bool")))],
      "tf.boolean_mask", names=("tensor", "mask"))
tf_op("unique", "Unique", [i32(10, low=-3, high=4)], [
    V("int32"), V("int64-out-idx", {"out_idx": "int64"}, inputs=(i64(8, low=0, high=3),)), V("float-grid", inputs=(T(9, domain="grid"),))],
      "tf.unique", names=("x",), min_opset=11)
tf_op("unique_with_counts", "Unique", [i32(10, low=-3, high=4)], [
    V("int32"), V("float-grid-int64-idx", {"out_idx": "int64"}, inputs=(T(9, domain="grid"),))], "tf.unique_with_counts", names=("x",),
      min_opset=11)
tf_op("dynamic_partition", ("Compress", "Equal"), (T(6, 2), i32(6, domain="index", high=3)), [
    V("parts3", {"num_partitions": 3}), V("parts4-some-empty", {"num_partitions": 4}),
    V("1d-int64-data", {"num_partitions": 2}, inputs=(i64(7,), i32(7, domain="index", high=2)))],
      "tf.dynamic_partition", names=("data", "partitions"))
tf_custom("dynamic_stitch", "ScatterND", (T(3, 2), T(2, 2)), [
    V("interleave", {"indices": [[0, 2, 4], [1, 3]]}), V("overlap-last-wins", {"indices": [[0, 1, 2], [1, 3]]}),
    V("int32", {"indices": [[3, 0], [2, 1]]}, inputs=(i32(2), i32(2)))], "dynamic_stitch", "tf.dynamic_stitch")
tf_op("meshgrid", ("Expand", "Reshape"), (T(3), T(4)), [
    V("xy"), V("ij", {"indexing": "ij"}), V("three-int32", {"indexing": "ij"}, inputs=(i32(2), i32(3), i32(2)))], "tf.meshgrid")
tf_op("one_hot_values", "OneHot", [i32(2, 5, low=-1, high=5)], [
    V("on-off-axis-1", {"depth": 4, "on_value": 2.5, "off_value": -1.0}),
    V("axis0", {"depth": 4, "axis": 0}), V("axis1-int32-dtype", {"depth": 3, "axis": 1, "dtype": "int32"}),
    V("int64-indices", {"depth": 5}, inputs=(i64(6, low=-2, high=7),))], "tf.one_hot", names=("indices",),
      notes="indices -1 and >= depth give an all-off row")
tf_op("pad_modes", "Pad", [T(3, 4)], [
    V("symmetric", {"paddings": [[1, 2], [2, 1]], "mode": "SYMMETRIC"}),
    V("reflect", {"paddings": [[2, 0], [1, 3]], "mode": "REFLECT"}),
    V("constant-value", {"paddings": [[1, 1], [0, 2]], "mode": "CONSTANT", "constant_values": -3.0}),
    V("int32-symmetric", {"paddings": [[1, 1], [1, 1]], "mode": "SYMMETRIC"}, inputs=(i32(2, 3),)),
    V("bool-constant", {"paddings": [[1, 0]]}, inputs=(T(3, dtype="bool"),))], "tf.pad", names=("tensor",))
tf_op("clip_by_norm", ("ReduceL2", "Div", "Mul"), [T(3, 5)], [
    V("norm1-all", {"clip_norm": 1.0}), V("norm0.5-axis1", {"clip_norm": 0.5, "axes": [1]}),
    V("no-clip", {"clip_norm": 100.0})], "tf.clip_by_norm", names=("t",))
tf_op("clip_by_global_norm", ("ReduceSum", "Sqrt", "Mul"), (T(3, 4), T(5)), [V("norm1", {"clip_norm": 1.0}),
                                                                         V("no-clip", {"clip_norm": 100.0})],
      "tf.clip_by_global_norm", packed=True)
tf_op("clip_by_value_int", "Clip", [i32(3, 6, low=-10, high=10)], [
    V("int32", {"clip_value_min": -3, "clip_value_max": 4}), V("int64", {"clip_value_min": 0, "clip_value_max": 2},
                                                               inputs=(i64(5, low=-5, high=5),)),
    V("nan-inf", {"clip_value_min": -1.0, "clip_value_max": 1.0}, inputs=(T(4, 5, domain="special"),))],
      "tf.clip_by_value", names=("t",))
tf_op("sequence_mask", ("Range", "Less"), [i32(4, low=0, high=6)], [
    V("inferred-maxlen"), V("maxlen6", {"maxlen": 6}), V("maxlen3-truncates", {"maxlen": 3}),
    V("float-dtype-2d", {"maxlen": 5, "dtype": "float32"}, inputs=(i64(2, 3, low=0, high=6),))], "tf.sequence_mask", names=("lengths",))
tf_op("fake_quant_with_min_max_args", ("QuantizeLinear", "DequantizeLinear"), [T(3, 8, scale=2.0)], [
    V("default"), V("min-1-max1-bits4", {"min": -1.0, "max": 1.0, "num_bits": 4}),
    V("narrow-range", {"min": -2.0, "max": 2.0, "narrow_range": True})], "tf.quantization.fake_quant_with_min_max_args",
      names=("inputs",), min_opset=13)
tf_op("fake_quant_with_min_max_vars", ("QuantizeLinear", "DequantizeLinear"),
      (T(3, 8, scale=2.0), T(domain="uniform", low=-3.0, high=-1.0), T(domain="uniform", low=1.0, high=3.0)), [
    V("bits8"), V("bits6-narrow", {"num_bits": 6, "narrow_range": True})],
      "tf.quantization.fake_quant_with_min_max_vars", names=("inputs", "min", "max"), min_opset=13)
tf_op("reverse_axes", ("Slice", "ReverseSequence"), [T(3, 4, 5)], [
    V("int32-axis1", {"axis": [1]}, inputs=(i32(3, 4),)), V("bool-axis0", {"axis": [0]}, inputs=(T(4, 2, dtype="bool"),)),
    V("all-negative", {"axis": [-1, -2, -3]})], "tf.reverse", names=("tensor",))
tf_op("where_select_int", "Where", (T(3, 4, dtype="bool"), i32(3, 4), i32(3, 4)), [
    V("int32"), V("bool-values", inputs=(T(5, dtype="bool"), T(5, dtype="bool"), T(5, dtype="bool"))),
    V("nan-inf-values", inputs=(T(2, 4, dtype="bool"), T(2, 4, domain="special"), T(4)))], "tf.where")
tf_op("broadcast_to_dtypes", "Expand", [i32(3, 1)], [
    V("int32", {"shape": [2, 3, 4]}), V("bool", {"shape": [3, 3]}, inputs=(T(1, 3, dtype="bool"),)),
    V("to-empty", {"shape": [0, 3]}, inputs=(T(1, 3),))], "tf.broadcast_to", names=("input",))
tf_op("tile_dtypes", "Tile", [i32(2, 3)], [V("int32", {"multiples": [2, 1]}), V("bool", {"multiples": [1, 3]}, inputs=(T(2, 2, dtype="bool"),)),
                                          V("zero-multiple", {"multiples": [0, 2]}, inputs=(T(2, 3),))], "tf.tile", names=("input",))
tf_op("concat_dtypes", "Concat", (T(2, 3, dtype="bool"), T(1, 3, dtype="bool")), [
    V("bool-axis0", {"axis": 0}), V("uint8-axis-1", {"axis": -1}, inputs=(T(2, 2, dtype="uint8", low=0, high=256), T(2, 1, dtype="uint8", low=0, high=256)))],
      "tf.concat", packed=True)
tf_op("expand_dims_dtypes", "Unsqueeze", [T(3, 4, dtype="bool")], [V("bool-axis1", {"axis": 1}), V("int32-axis-1", {"axis": -1}, inputs=(i32(2, 2),)),
                                                                    V("scalar", {"axis": 0}, inputs=(T(),))], "tf.expand_dims")
tf_custom("ctc_greedy_decoder", ("ArgMax", "NonZero"), [T(6, 2, 5, scale=2.0)], [
    V("merge-repeated", {"sequence_length": [6, 4]}),
    V("keep-repeated", {"sequence_length": [6, 6], "kw": {"merge_repeated": False}}),
    V("blank-index0", {"sequence_length": [5, 3], "kw": {"blank_index": 0}})], "ctc_greedy_decoder",
          "tf.nn.ctc_greedy_decoder + tf.sparse.to_dense", notes="time-major logits [max_time, batch, classes]")
tf_op("nn_lrn", "LRN", [X(1, 8, 4, 5, domain="positive")], [
    V("radius2", {"depth_radius": 2, "bias": 1.0, "alpha": 1e-3, "beta": 0.75}),
    V("radius1-bias2", {"depth_radius": 1, "bias": 2.0, "alpha": 0.1, "beta": 0.5}),
    V("radius3-beta1", {"depth_radius": 3, "bias": 0.5, "alpha": 0.05, "beta": 1.0})],
      "tf.nn.local_response_normalization", names=("input",), tol={"atol": 1e-5, "rtol": 1e-4})
