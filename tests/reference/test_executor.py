"""The reference executor's core: planning, errors, subgraphs, functions, precision, values."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conformance.reference import ReferenceExecutor, UnsupportedOp, registry


def _vi(name, elem=TensorProto.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def _model(nodes, inputs, outputs, initializers=(), opset=17, functions=(), extra_opsets=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    return helper.make_model(graph, opset_imports=imports, functions=list(functions))


def test_run_matches_numpy_and_lists_names():
    model = _model(
        [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Mul", ["s", "w"], ["y"]),
         helper.make_node("Relu", ["s"], ["r"])],
        [_vi("a", shape=[2, 3]), _vi("b", shape=[3])], [_vi("y"), _vi("r")],
        initializers=[onnx.numpy_helper.from_array(np.full((3,), -2.0, np.float32), "w")])
    ex = ReferenceExecutor(model)
    assert ex.input_names == ["a", "b"] and ex.output_names == ["y", "r"]
    a = np.arange(6, dtype=np.float32).reshape(2, 3) - 3
    b = np.array([1, 0, -1], np.float32)
    y, r = ex.run(None, {"a": a, "b": b})
    np.testing.assert_array_equal(y, (a + b) * -2)
    np.testing.assert_array_equal(r, np.maximum(a + b, 0))
    assert y.dtype == np.float32
    # only the asked outputs, in the asked order; an intermediate can be asked for too
    r2, s = ex.run(["r", "s"], {"a": a, "b": b})
    np.testing.assert_array_equal(s, a + b)
    np.testing.assert_array_equal(r2, r)


def test_unknown_ops_raise_one_error_at_construction_naming_each():
    then_graph = helper.make_graph([helper.make_node("NoSuchInner", [], ["t"])], "then", [], [_vi("t")])
    else_graph = helper.make_graph([helper.make_node("Constant", [], ["e"], value_float=1.0)], "else", [], [_vi("e")])
    model = _model(
        [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Frobnicate", ["a"], ["b"], domain="com.example"),
         helper.make_node("If", ["c"], ["y"], then_branch=then_graph, else_branch=else_graph)],
        [_vi("x", shape=[2]), _vi("c", TensorProto.BOOL, [])], [_vi("y"), _vi("b")],
        opset=13, extra_opsets=[("com.example", 3)])
    with pytest.raises(UnsupportedOp) as info:
        ReferenceExecutor(model)
    message = str(info.value)
    assert "Frobnicate" in message and "com.example" in message and "opset 3" in message
    assert "NoSuchInner" in message and "opset 13" in message
    assert "Relu" not in message


def test_symbolic_dims_run_at_several_shapes():
    model = _model([helper.make_node("ReduceSum", ["x"], ["y"], keepdims=0, axes=[1])],
                   [_vi("x", shape=["batch", "n"])], [_vi("y", shape=["batch"])], opset=11)
    ex = ReferenceExecutor(model)
    for shape in [(1, 5), (4, 2), (3, 0)]:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        (y,) = ex.run(None, {"x": x})
        assert y.shape == (shape[0],)
        np.testing.assert_allclose(y, x.sum(axis=1), rtol=1e-6)


def test_float64_precision_computes_wide_and_casts_back():
    # 2^24 + 1 is not a float32: float32 arithmetic loses the 1, float64 keeps it
    big = onnx.numpy_helper.from_array(np.array([16777216.0], np.float32), "big")
    model = _model([helper.make_node("Add", ["x", "big"], ["s"]), helper.make_node("Sub", ["s", "big"], ["y"])],
                   [_vi("x", shape=[1])], [_vi("y", shape=[1])], initializers=[big])
    x = np.array([1.0], np.float32)
    (y32,) = ReferenceExecutor(model).run(None, {"x": x})
    (y64,) = ReferenceExecutor(model, precision="float64").run(None, {"x": x})
    assert y32[0] == 0.0
    assert y64[0] == 1.0 and y64.dtype == np.float32


def test_run_all_keeps_every_intermediate_and_run_frees_them():
    model = _model([helper.make_node("Neg", ["x"], ["a"]), helper.make_node("Exp", ["a"], ["b"]),
                    helper.make_node("Log", ["b"], ["y"])], [_vi("x", shape=[3])], [_vi("y")])
    ex = ReferenceExecutor(model)
    x = np.array([0.5, 1.0, 2.0], np.float32)
    values = ex.run_all({"x": x})
    assert set(values) >= {"x", "a", "b", "y"}
    np.testing.assert_allclose(values["b"], np.exp(-x), rtol=1e-6)
    # in run, "a" dies after Exp and "b" after Log
    freed = [name for step in ex._plan.steps for name in step.frees]
    assert sorted(freed) == ["a", "b"]


def test_model_loads_from_bytes_and_path(tmp_path):
    model = _model([helper.make_node("Abs", ["x"], ["y"])], [_vi("x", shape=[2])], [_vi("y")])
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    x = np.array([-1.5, 2.0], np.float32)
    for source in (model.SerializeToString(), str(path), path):
        np.testing.assert_array_equal(ReferenceExecutor(source).run(None, {"x": x})[0], np.abs(x))


def test_if_reads_outer_scope_values():
    then_graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["t"])], "then", [], [_vi("t")])
    else_graph = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [], [_vi("e")])
    model = _model([helper.make_node("Sqrt", ["raw"], ["x"]),
                    helper.make_node("If", ["c"], ["y"], then_branch=then_graph, else_branch=else_graph)],
                   [_vi("raw", shape=[2]), _vi("c", TensorProto.BOOL, [])], [_vi("y")])
    ex = ReferenceExecutor(model)
    raw = np.array([4.0, 9.0], np.float32)
    np.testing.assert_array_equal(ex.run(None, {"raw": raw, "c": np.array(True)})[0], [4.0, 6.0])
    np.testing.assert_array_equal(ex.run(None, {"raw": raw, "c": np.array(False)})[0], [-2.0, -3.0])
    # "x" is read by a subgraph: it must not be freed before the If runs
    assert "x" in [n for step in ex._plan.steps for n in step.frees if step.ctx.node.op_type == "If"]


def test_loop_carries_state_collects_scan_outputs_and_reads_outer_scope():
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "step"], ["acc_out"]),
         helper.make_node("Cast", ["i"], ["i_f"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["i_f", "acc_out"], ["scan"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [_vi("i", TensorProto.INT64, []), _vi("cond_in", TensorProto.BOOL, []), _vi("acc_in", shape=[1])],
        [_vi("cond_out", TensorProto.BOOL, []), _vi("acc_out", shape=[1]), _vi("scan", shape=[1])])
    model = _model([helper.make_node("Loop", ["n", "", "acc0"], ["acc", "scans"], body=body)],
                   [_vi("n", TensorProto.INT64, []), _vi("acc0", shape=[1]), _vi("step", shape=[1])],
                   [_vi("acc"), _vi("scans")])
    ex = ReferenceExecutor(model)
    acc, scans = ex.run(None, {"n": np.array(4, np.int64), "acc0": np.array([1.0], np.float32),
                               "step": np.array([0.5], np.float32)})
    expected_acc, expected_scans = 1.0, []
    for i in range(4):
        expected_acc += 0.5
        expected_scans.append([i * expected_acc])
    np.testing.assert_allclose(acc, [expected_acc])
    np.testing.assert_allclose(scans, expected_scans)


def test_scan_cumulative_sum_both_directions():
    body = helper.make_graph([helper.make_node("Add", ["s_in", "x_t"], ["s_out"]),
                              helper.make_node("Identity", ["s_out"], ["y_t"])],
                             "body", [_vi("s_in", shape=[2]), _vi("x_t", shape=[2])],
                             [_vi("s_out", shape=[2]), _vi("y_t", shape=[2])])
    model = _model([helper.make_node("Scan", ["s0", "x"], ["s", "y"], body=body, num_scan_inputs=1,
                                     scan_input_directions=[1])],
                   [_vi("s0", shape=[2]), _vi("x", shape=[3, 2])], [_vi("s"), _vi("y")])
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    s, y = ReferenceExecutor(model).run(None, {"s0": np.zeros(2, np.float32), "x": x})
    np.testing.assert_array_equal(y, np.cumsum(x[::-1], axis=0))
    np.testing.assert_array_equal(s, x.sum(axis=0))


def test_model_local_function_with_attribute_reference():
    scale_attr = helper.make_attribute_ref("alpha", onnx.AttributeProto.FLOAT)
    scale_attr.ref_attr_name = "slope"  # the inner "alpha" is the caller's "slope"
    inner = helper.make_node("LeakyRelu", ["a"], ["b"])
    inner.attribute.append(scale_attr)
    function = helper.make_function("custom.ns", "MyLeaky", ["a"], ["b"], [inner],
                                    [helper.make_opsetid("", 17)], attributes=["slope"])
    model = _model([helper.make_node("MyLeaky", ["x"], ["y"], domain="custom.ns", slope=0.25)],
                   [_vi("x", shape=[3])], [_vi("y")], functions=[function], extra_opsets=[("custom.ns", 1)])
    x = np.array([-4.0, 0.0, 2.0], np.float32)
    np.testing.assert_array_equal(ReferenceExecutor(model).run(None, {"x": x})[0], [-1.0, 0.0, 2.0])


def test_function_op_without_kernel_runs_through_onnx_function_body(monkeypatch):
    # hide our Celu kernel: the executor must expand ONNX's own function body for Celu
    monkeypatch.setitem(registry.OPS, ("", "Celu"), [])
    model = _model([helper.make_node("Celu", ["x"], ["y"], alpha=2.0)], [_vi("x", shape=[3])], [_vi("y")], opset=13)
    x = np.array([-1.0, 0.0, 3.0], np.float32)
    (y,) = ReferenceExecutor(model).run(None, {"x": x})
    np.testing.assert_allclose(y, np.maximum(x, 0) + np.minimum(0, 2.0 * (np.exp(x / 2.0) - 1)), rtol=1e-6)


def test_context_dependent_function_op_runs_through_its_body(monkeypatch):
    # hide our kernel: ONNX's context-dependent body is then built per input type and run
    monkeypatch.setitem(registry.OPS, ("", "SoftmaxCrossEntropyLoss"), [])
    model = _model([helper.make_node("SoftmaxCrossEntropyLoss", ["s", "l"], ["loss"], reduction="none")],
                   [_vi("s", shape=[2, 3]), _vi("l", TensorProto.INT64, [2])], [_vi("loss")], opset=13)
    scores = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]], np.float32)
    labels = np.array([2, 0], np.int64)
    (loss,) = ReferenceExecutor(model).run(None, {"s": scores, "l": labels})
    log_softmax = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(loss, -log_softmax[[0, 1], labels], rtol=1e-6)


def test_sequences_and_optionals_flow_through_the_graph():
    model = _model(
        [helper.make_node("SequenceConstruct", ["a", "b"], ["seq"]),
         helper.make_node("SequenceInsert", ["seq", "a"], ["seq2"]),
         helper.make_node("SequenceLength", ["seq2"], ["n"]),
         helper.make_node("ConcatFromSequence", ["seq2"], ["cat"], axis=0),
         helper.make_node("Optional", ["a"], ["opt"]),
         helper.make_node("OptionalHasElement", ["opt"], ["has"])],
        [_vi("a", shape=[2]), _vi("b", shape=[2])],
        [_vi("n", TensorProto.INT64), _vi("cat"), _vi("has", TensorProto.BOOL)], opset=18)
    a, b = np.array([1, 2], np.float32), np.array([3, 4], np.float32)
    n, cat, has = ReferenceExecutor(model).run(None, {"a": a, "b": b})
    assert int(n) == 3 and bool(has)
    np.testing.assert_array_equal(cat, [1, 2, 3, 4, 1, 2])


def test_error_while_running_names_the_node():
    model = _model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="bad_reshape")],
                   [_vi("x", shape=[6]), _vi("shape", TensorProto.INT64, [1])], [_vi("y")])
    with pytest.raises(Exception) as info:
        ReferenceExecutor(model).run(None, {"x": np.zeros(6, np.float32), "shape": np.array([4], np.int64)})
    assert "bad_reshape" in str(info.value)


def test_missing_feed_is_reported():
    model = _model([helper.make_node("Abs", ["x"], ["y"])], [_vi("x", shape=[2])], [_vi("y")])
    with pytest.raises(ValueError, match="x"):
        ReferenceExecutor(model).run(None, {})


def test_bfloat16_input_fed_as_raw_bits_is_understood():
    model = _model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)],
                   [_vi("x", TensorProto.BFLOAT16, [2])], [_vi("y")])
    bits = np.array([0x3F80, 0xC040], np.uint16)  # 1.0, -3.0
    np.testing.assert_array_equal(ReferenceExecutor(model).run(None, {"x": bits})[0], [1.0, -3.0])
