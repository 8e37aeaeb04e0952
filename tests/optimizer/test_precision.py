from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, helper

from converters import get_chain_steps
from converters.optimizer.precision import FP16_TOLERANCE, INT8_TOLERANCE, convert_float16, quantize_int8, seeded_feeds

from .helpers import make_model, run_ort

rng = np.random.default_rng(3)


def _classifier():
    inits = {"w": (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32),
             "b": rng.standard_normal(8).astype(np.float32),
             "fw": rng.standard_normal((8, 10)).astype(np.float32), "fb": rng.standard_normal(10).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["y"], axis=1)]
    return make_model(nodes, [("x", [4, 3, 8, 8])], [("y", [4, 10])], inits)


def _cosines_top1(a, b):
    cos = [float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y))) for x, y in zip(a, b)]
    return min(cos), float(np.mean(np.argmax(a, 1) == np.argmax(b, 1)))


def test_fp16_keeps_float32_io_and_sensitive_ops():
    m = _classifier()
    h = convert_float16(m, keep_io_types=True)
    onnx.checker.check_model(h)
    assert [i.type.tensor_type.elem_type for i in h.graph.input] == [TensorProto.FLOAT]
    assert [o.type.tensor_type.elem_type for o in h.graph.output] == [TensorProto.FLOAT]
    assert [o.name for o in h.graph.output] == ["y"]
    assert {t.data_type for t in h.graph.initializer} == {TensorProto.FLOAT16}
    inferred = onnx.shape_inference.infer_shapes(h)
    types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    softmax = next(n for n in h.graph.node if n.op_type == "Softmax")
    assert types[softmax.input[0]] == TensorProto.FLOAT          # kept in float32 (FP32_OPS)
    conv = next(n for n in h.graph.node if n.op_type == "Conv")
    assert types[conv.output[0]] == TensorProto.FLOAT16
    feeds = {"x": rng.standard_normal((4, 3, 8, 8)).astype(np.float32)}
    cos, top1 = _cosines_top1(run_ort(m, feeds)[0], run_ort(h, feeds)[0])
    assert cos >= FP16_TOLERANCE["cosine_min"] and top1 >= FP16_TOLERANCE["top1_agreement_min"]


def test_fp16_without_keep_io_changes_io_types():
    h = convert_float16(_classifier(), keep_io_types=False)
    onnx.checker.check_model(h)
    assert h.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT16
    x = rng.standard_normal((4, 3, 8, 8)).astype(np.float16)
    assert run_ort(h, {"x": x})[0].dtype == np.float16


def test_int8_qdq_quantization_is_seeded_and_close():
    m = _classifier()
    q1 = quantize_int8(m, samples=4)
    q2 = quantize_int8(m, samples=4)
    assert q1.SerializeToString() == q2.SerializeToString()        # same seed, same model
    ops = Counter(n.op_type for n in q1.graph.node)
    assert ops["QuantizeLinear"] > 0 and ops["DequantizeLinear"] > 0
    assert all(n.domain in ("", "ai.onnx") for n in q1.graph.node)
    feeds = seeded_feeds(m, 1, seed=5)[0]
    cos, top1 = _cosines_top1(run_ort(m, feeds)[0], run_ort(q1, feeds)[0])
    assert cos >= INT8_TOLERANCE["cosine_min"] and top1 >= INT8_TOLERANCE["top1_agreement_min"]


def test_registered_precision_passes():
    fp16, int8 = get_chain_steps("torch_script+fp16+int8")
    assert fp16.apply(_classifier()).graph.initializer[0].data_type == TensorProto.FLOAT16
    assert int8.available()[0]
