"""The target interface's contract, which every registered target must pass: outputs come back
in the model's declared order with the declared dtypes whatever the runtime names its tensors,
dynamic dimensions take any size, a graph output may also be an intermediate, a graph input or
the same tensor twice, and a fault of our own adapter code is told apart from the runtime's.

Values are small integers held in floats, so every precision a target states (bf16 included)
computes them exactly and the expected values are plain numpy."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP, helper

from conformance.targets import TARGETS, get_target, target_status
from conformance.targets.base import (TargetAdapterError, declared_io, match_ports, raised_by_adapter)

# the contract of targets that run ONNX models (a target of another format only has its own tests)
ALL_TARGETS = sorted(n for n in TARGETS.names() if n not in TARGETS or "onnx" in get_target(n).formats)


def make_model(nodes, inputs, outputs, initializers=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "contract", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def value(name, elem=TP.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def small_ints(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).integers(-4, 5, size=shape).astype(dtype)


def run(name, model, feeds):
    ok, why = target_status(name)
    if not ok:
        pytest.skip(f"{name}: {why}")
    target = get_target(name)
    return target.run(target.prepare(model.SerializeToString()), feeds)


def assert_outputs(got, want):
    assert len(got) == len(want), f"{len(got)} outputs, {len(want)} declared"
    for i, (g, w) in enumerate(zip(got, want)):
        g = np.asarray(g)
        assert g.dtype == w.dtype, f"output #{i}: dtype {g.dtype}, declared {w.dtype}"
        assert g.shape == w.shape, f"output #{i}: shape {g.shape}, expected {w.shape}"
        np.testing.assert_array_equal(g, w, err_msg=f"output #{i}")


# ---------------------------------------------------------------- the contract, per target

@pytest.mark.parametrize("name", ALL_TARGETS)
def test_outputs_in_declared_order_not_computation_order(name):
    # "late" is computed after "early" but declared first; shapes differ so a swap cannot pass
    model = make_model([helper.make_node("ReduceSum", ["x"], ["early"], keepdims=0),
                        helper.make_node("Relu", ["x"], ["late"])],
                       [value("x", shape=[2, 3])], [value("late", shape=[2, 3]), value("early", shape=[])])
    x = small_ints((2, 3))
    assert_outputs(run(name, model, {"x": x}), [np.maximum(x, 0), np.sum(x).astype(np.float32)])


@pytest.mark.parametrize("name", ALL_TARGETS)
def test_declared_dtypes_and_an_input_cast_the_runtime_may_rename(name):
    # OpenVINO folds a Cast of an input into the input and names the port after both tensors
    # ('x' and 'auto.cast.0'): the KeyError: 'auto.cast.0' of issue 21
    model = make_model([helper.make_node("Cast", ["x"], ["auto.cast.0"], to=TP.FLOAT),
                        helper.make_node("Abs", ["auto.cast.0"], ["magnitude"]),
                        helper.make_node("Cast", ["x"], ["as_int"], to=TP.INT64),
                        helper.make_node("Greater", ["x", "zero"], ["positive"])],
                       [value("x", shape=[3, 4])],
                       [value("as_int", TP.INT64, [3, 4]), value("positive", TP.BOOL, [3, 4]),
                        value("magnitude", shape=[3, 4])],
                       [helper.make_tensor("zero", TP.FLOAT, [], [0.0])])
    x = small_ints((3, 4), seed=1)
    assert_outputs(run(name, model, {"x": x}), [x.astype(np.int64), x > 0, np.abs(x)])


@pytest.mark.parametrize("name", ALL_TARGETS)
def test_dynamic_dimensions_take_any_size_in_one_session(name):
    model = make_model([helper.make_node("Add", ["x", "bias"], ["y"])], [value("x", shape=["batch", 3])],
                       [value("y", shape=["batch", 3])],
                       [helper.make_tensor("bias", TP.FLOAT, [3], [1.0, 2.0, 3.0])])
    ok, why = target_status(name)
    if not ok:
        pytest.skip(f"{name}: {why}")
    target = get_target(name)
    session = target.prepare(model.SerializeToString())
    for batch in (1, 5, 2):
        x = small_ints((batch, 3), seed=batch)
        assert_outputs(target.run(session, {"x": x}), [x + np.array([1, 2, 3], np.float32)])


@pytest.mark.parametrize("name", ALL_TARGETS)
def test_an_output_that_is_also_an_intermediate_an_input_or_twice_the_same(name):
    model = make_model([helper.make_node("Relu", ["x"], ["hidden"]), helper.make_node("Neg", ["hidden"], ["y"])],
                       [value("x", shape=[2, 2])],
                       [value("y", shape=[2, 2]), value("hidden", shape=[2, 2]), value("x", shape=[2, 2]),
                        value("hidden", shape=[2, 2])])
    x = small_ints((2, 2), seed=2)
    hidden = np.maximum(x, 0)
    assert_outputs(run(name, model, {"x": x}), [-hidden, hidden, x, hidden])


@pytest.mark.parametrize("name", ALL_TARGETS)
def test_two_inputs_are_fed_by_name_not_position(name):
    model = make_model([helper.make_node("Sub", ["a", "b"], ["d"])],
                       [value("a", shape=[2]), value("b", shape=[2])], [value("d", shape=[2])])
    a, b = np.array([5, 1], np.float32), np.array([2, 3], np.float32)
    assert_outputs(run(name, model, {"b": b, "a": a}), [a - b])


# ---------------------------------------------------------------- whose fault a failure is

def test_ports_are_matched_by_name_at_any_position_and_by_position_when_renamed():
    assert match_ports(["x"], [{"x", "auto.cast.0"}], "input") == [0]
    assert match_ports(["a", "b"], [{"b"}, {"a"}], "output") == [1, 0]
    assert match_ports(["a", "a"], [{"a"}, {"a"}], "output") == [0, 1]
    assert match_ports(["a", "gone"], [{"a"}, {"renamed"}], "output") == [0, 1]
    with pytest.raises(TargetAdapterError, match="declares 2"):
        match_ports(["a", "b"], [{"a"}], "output")


def test_declared_io_leaves_initializers_out_of_the_inputs():
    model = make_model([helper.make_node("Add", ["x", "w"], ["y"])], [value("x", shape=[1]), value("w", shape=[1])],
                       [value("y", shape=[1])], [helper.make_tensor("w", TP.FLOAT, [1], [1.0])])
    io = declared_io(model.SerializeToString())
    assert io.inputs == ("x",) and io.outputs == ("y",)


def test_a_slip_of_our_target_code_is_the_harness_fault_a_runtime_error_is_not():
    from conformance.targets.openvino import OpenVinoTarget
    ok, why = target_status("openvino")
    if not ok:
        pytest.skip(why)
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], [value("x", shape=[2])], [value("y", shape=[2])])
    target = OpenVinoTarget()
    session = target.prepare(model)
    with pytest.raises(TargetAdapterError) as missing_feed:
        target.run(session, {"not_x": np.zeros(2, np.float32)})
    assert raised_by_adapter(missing_feed.value)
    # the runtime itself refusing a wrong-rank input is the runtime's, not ours
    with pytest.raises(Exception) as refused:
        target.run(target.prepare(model), {"x": np.zeros((3, 3, 3), np.float32)})
    assert not raised_by_adapter(refused.value), refused.value


def test_a_keyerror_raised_by_a_line_of_a_target_module_is_the_adapters():
    from conformance.targets import base
    namespace = {}
    code = compile("def lookup(d):\n    return d['missing']\n", base.__file__, "exec")
    exec(code, namespace)
    with pytest.raises(KeyError) as ours:
        namespace["lookup"]({})
    assert raised_by_adapter(ours.value)
    with pytest.raises(KeyError) as elsewhere:
        {}["missing"]
    assert not raised_by_adapter(elsewhere.value)


@pytest.mark.parametrize("name", ALL_TARGETS)
def test_an_input_the_model_never_reads_and_an_initializer_output(name):
    # tf2onnx writes ones_like(x) as an initializer output: OpenVINO keeps no port for x
    model = make_model([helper.make_node("Relu", ["y"], ["r"])], [value("x", shape=[2, 3]), value("y", shape=[2])],
                       [value("ones", shape=[2, 3]), value("r", shape=[2])],
                       [helper.make_tensor("ones", TP.FLOAT, [2, 3], [1.0] * 6)])
    y = np.array([-1, 2], np.float32)
    assert_outputs(run(name, model, {"x": small_ints((2, 3)), "y": y}), [np.ones((2, 3), np.float32),
                                                                          np.maximum(y, 0)])
    only_constant = make_model([], [value("x", shape=[2, 3])], [value("ones", shape=[2, 3])],
                               [helper.make_tensor("ones", TP.FLOAT, [2, 3], [1.0] * 6)])
    assert_outputs(run(name, only_constant, {"x": small_ints((2, 3))}), [np.ones((2, 3), np.float32)])


class _LostOutputTarget:
    """A target whose adapter loses track of an output (our bug), or whose runtime refuses the
    feeds (the runtime's verdict), for the execute stage."""

    name = "lost-output"

    def __init__(self, ours: bool):
        self.ours = ours

    def prepare(self, model):
        return get_target("onnxruntime").prepare(model)

    def run(self, session, feeds):
        if self.ours:
            raise TargetAdapterError("the runtime has 1 output ports, the model declares 2")
        return session.run(None, {name: value[None] for name, value in feeds.items()})   # wrong rank


def test_the_execute_stage_tells_the_harness_fault_from_the_runtimes():
    from conformance.cases import Conversion
    from conformance.execution import Sessions, execute
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], [value("x", shape=[2])], [value("y", shape=[2])])
    conv = Conversion("ok", artifact=model.SerializeToString(), input_names=["x"], output_names=["y"],
                      input_sets=[[np.zeros(2, np.float32)]])
    ours = execute(Sessions(), _LostOutputTarget(ours=True), "k1", conv)
    assert ours.harness and ours.status == "error" and "TargetAdapterError" in ours.failure
    theirs = execute(Sessions(), _LostOutputTarget(ours=False), "k2", conv)
    assert theirs.failure and not theirs.harness
