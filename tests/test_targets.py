"""Built-in targets: each runs a real model and states the precision it computes in; TensorRT
reports why it is unavailable on a machine without it."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from conformance.targets import get_target, target_status


def conv_model():
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("name", ["reference", "onnxruntime", "onnxruntime-basic", "openvino"])
def test_target_runs_a_conv_model_like_the_reference(name):
    ok, why = target_status(name)
    if not ok:
        pytest.skip(why)
    model = conv_model()
    x = np.random.default_rng(1).standard_normal((1, 3, 8, 8)).astype(np.float32)
    ref_t = get_target("reference")
    (want,) = ref_t.run(ref_t.prepare(model), {"x": x})
    target = get_target(name)
    (got,) = target.run(target.prepare(model.SerializeToString()), {"x": x})
    assert got.shape == (1, 4, 8, 8)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert target.precision == "fp32"


def test_onnxruntime_basic_really_disables_graph_optimizations():
    import onnxruntime as ort
    assert get_target("onnxruntime-basic").session_options().graph_optimization_level == \
        ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    assert get_target("onnxruntime").session_options().graph_optimization_level == \
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL


def test_openvino_states_bf16_when_left_at_the_plugin_default():
    assert "bf16" in get_target("openvino-bf16").precision
    assert get_target("openvino").hint == "f32"


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="TensorRT installed here")
def test_tensorrt_unavailable_with_the_reason():
    ok, why = target_status("tensorrt")
    assert not ok and "tensorrt" in why and ("not installed" in why or "CUDA" in why)


def test_target_options_reach_onnxruntime_session_options():
    from conformance.targets.base import TargetOptions, prepare_target
    pytest.importorskip("onnxruntime")
    target = get_target("onnxruntime")
    options = TargetOptions(intra_op_threads=1, inter_op_threads=2, allow_spinning=False)
    session, applied = prepare_target(target, conv_model(), options)
    opts = session.get_session_options()
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (1, 2)
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert applied["applied"] == "onnxruntime SessionOptions" and applied["providers"]
    # without options the target keeps its own defaults (the runner's call)
    assert target.prepare(conv_model()).get_session_options().intra_op_num_threads == 0


def test_a_target_without_an_options_argument_is_prepared_as_it_is():
    from conformance.targets.base import Target, TargetOptions, prepare_target

    class Legacy(Target):
        name = "legacy"

        def prepare(self, model):
            return ("session", model)

    session, applied = prepare_target(Legacy(), b"model", TargetOptions(intra_op_threads=1))
    assert session == ("session", b"model") and applied == {"applied": "not applicable to target 'legacy'"}


def test_precision_option_is_applied_or_refused():
    from conformance.errors import ConformanceError
    from conformance.targets.base import TargetOptions
    reference = get_target("reference")
    assert reference.prepare(conv_model(), TargetOptions(precision="fp64")).precision == "float64"
    assert reference.prepare(conv_model()).precision == "float32"
    with pytest.raises(ConformanceError, match="cannot compute in 'fp16'"):
        reference.prepare(conv_model(), TargetOptions(precision="fp16"))
    openvino = get_target("openvino")
    assert openvino.compile_config(TargetOptions(intra_op_threads=3, precision="bf16")) == \
        {"INFERENCE_PRECISION_HINT": "bf16", "INFERENCE_NUM_THREADS": 3}
    assert openvino.compile_config() == {"INFERENCE_PRECISION_HINT": "f32"}


def test_the_reference_refuses_a_model_the_spec_forbids_and_runs_one_it_allows():
    """An int64 Conv is outside Conv's type constraint: numpy could compute it, but then the
    oracle would pass a model every conforming runtime must refuse, and blame them."""
    import onnx

    from conformance.errors import InvalidModel, classify_failure

    def conv(elem):
        graph = helper.make_graph(
            [helper.make_node("Conv", ["x", "w"], ["y"])], "g",
            [helper.make_tensor_value_info("x", elem, [1, 1, 4, 4]), helper.make_tensor_value_info("w", elem, [1, 1, 2, 2])],
            [helper.make_tensor_value_info("y", elem, None)])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    reference = get_target("reference")
    with pytest.raises(InvalidModel, match=r"not valid ONNX: .*Conv.*tensor\(int64\)") as caught:
        reference.prepare(conv(TensorProto.INT64).SerializeToString())
    assert classify_failure(caught.value) == "error"        # not "unsupported", whatever onnx's words
    mixed = helper.make_graph(                                # one type parameter, two types: Div(float, int64)
        [helper.make_node("Div", ["a", "b"], ["y"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2]), helper.make_tensor_value_info("b", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    with pytest.raises(InvalidModel, match="inconsistent type"):
        reference.prepare(helper.make_model(mixed, opset_imports=[helper.make_opsetid("", 18)]))
    session = reference.prepare(onnx.ModelProto.FromString(conv(TensorProto.FLOAT).SerializeToString()))
    out = reference.run(session, {"x": np.ones((1, 1, 4, 4), np.float32), "w": np.ones((1, 1, 2, 2), np.float32)})
    assert float(out[0][0, 0, 0, 0]) == 4.0
