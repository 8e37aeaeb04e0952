"""The tvm and onnxruntime-node targets beyond the common contract: one prepared model run at two
batch sizes, every dtype the node pipe carries, and a clean ``unavailable`` where absent."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP, helper

from conformance.targets import get_target, target_status


def _model(nodes, inputs, outputs, initializers=()):
    model = helper.make_model(helper.make_graph(nodes, "more", inputs, outputs, list(initializers)),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _ready(name):
    ok, why = target_status(name)
    if not ok:
        pytest.skip(f"{name}: {why}")
    return get_target(name)


@pytest.mark.parametrize("name", ["tvm", "onnxruntime-node"])
def test_a_matmul_model_at_two_batch_sizes_in_one_session(name):
    target = _ready(name)
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 8
    model = _model([helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])],
                   [helper.make_tensor_value_info("x", TP.FLOAT, ["batch", 3])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, ["batch", 4])],
                   [helper.make_tensor("w", TP.FLOAT, [3, 4], w.ravel().tolist())])
    session = target.prepare(model)
    for batch in (2, 7, 2):
        x = np.random.default_rng(batch).standard_normal((batch, 3)).astype(np.float32)
        (y,) = target.run(session, {"x": x})
        np.testing.assert_allclose(y, np.maximum(x @ w, 0), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["tvm", "onnxruntime-node"])
@pytest.mark.parametrize("dtype,elem", [(np.float32, TP.FLOAT), (np.float16, TP.FLOAT16), (np.float64, TP.DOUBLE), (np.int32, TP.INT32),
                                        (np.int64, TP.INT64), (np.bool_, TP.BOOL), (np.uint8, TP.UINT8)])
def test_each_dtype_goes_through_and_comes_back(name, dtype, elem):
    target = _ready(name)
    model = _model([helper.make_node("Identity", ["x"], ["y"]), helper.make_node("Shape", ["x"], ["s"])],
                   [helper.make_tensor_value_info("x", elem, [2, 3])],
                   [helper.make_tensor_value_info("y", elem, [2, 3]), helper.make_tensor_value_info("s", TP.INT64, [2])])
    x = np.array([[0, 1, 2], [3, 250, 7]]).astype(dtype)
    if dtype == np.int64:
        x[1, 1] = 2 ** 40 + 3                              # beyond 32 bits: BigInt64Array in node
    y, s = target.run(target.prepare(model), {"x": x})
    assert y.dtype == x.dtype and s.dtype == np.int64
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(s, [2, 3])


def test_node_target_is_unavailable_with_the_install_line_when_the_package_is_missing(monkeypatch, tmp_path):
    from conformance.targets import onnxruntime_node
    monkeypatch.setattr(onnxruntime_node, "NODE_PREFIX", str(tmp_path))
    ok, why = onnxruntime_node.OnnxRuntimeNodeTarget().available()
    assert not ok and "onnxruntime-node" in why and "ONNXRUNTIME_NODE_INSTALL=skip npm install" in why
    monkeypatch.setattr(onnxruntime_node.shutil, "which", lambda _: None)
    ok, why = onnxruntime_node.OnnxRuntimeNodeTarget().available()
    assert not ok and "node is not on PATH" in why


def test_tvm_target_is_unavailable_with_the_install_line_when_tvm_is_missing(monkeypatch):
    import importlib.util
    from conformance.targets.tvm import TvmTarget
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tvm" else real(name, *a))
    ok, why = TvmTarget().available()
    assert not ok and "'tvm' is not installed" in why and "apache-tvm" in why


def test_a_runtime_refusal_on_node_is_the_runtimes_not_the_adapters():
    from conformance.targets.base import raised_by_adapter
    target = _ready("onnxruntime-node")
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("x", TP.FLOAT, [2])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, [2])])
    with pytest.raises(Exception) as refused:
        target.run(target.prepare(model), {"x": np.zeros((3, 3), np.float32)})
    assert not raised_by_adapter(refused.value)
    # and the host keeps serving after the refusal
    (y,) = target.run(target.prepare(model), {"x": np.array([-1, 2], np.float32)})
    np.testing.assert_array_equal(y, [0, 2])


@pytest.mark.parametrize("name", ["tvm", "onnxruntime-node"])
def test_a_scalar_input_stays_a_scalar(name):
    # np.ascontiguousarray makes a 0-d array 1-d: both adapters once fed shape (1,) for ()
    target = _ready(name)
    model = _model([helper.make_node("Abs", ["x"], ["y"])], [helper.make_tensor_value_info("x", TP.FLOAT, [])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, [])])
    (y,) = target.run(target.prepare(model), {"x": np.array(-2.5, np.float32)})
    assert y.shape == () and y == 2.5


def test_an_openvino_model_missing_a_source_output_is_refused_at_conversion():
    # OpenVINO's TF frontend drops outputs that are constants of the graph (tf.shape of a static
    # input): a package of the rest would name and compare them out of place
    pytest.importorskip("openvino")
    import openvino as ov
    import openvino.opset13 as ops

    from conformance.errors import ConversionError
    from converters.openvino_frontend import require_outputs
    x = ops.parameter([2, 3], np.float32, name="x")
    model = ov.Model([ops.abs(x)], [x], "one-output")
    require_outputs(model, 1, "the frontend")
    with pytest.raises(ConversionError, match=r"the frontend made 1 outputs of the source's 2"):
        require_outputs(model, 2, "the frontend")
