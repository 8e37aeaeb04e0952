"""Divergent-node localization: intermediates exposed, first failing node, one-node repro."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conformance.divergent_node import expose_intermediates, first_divergent_node, one_node_model
from conformance.targets import TARGETS, register_target
from conformance.targets.base import Target, model_bytes


def small_model(pads=(1, 1, 1, 1), second="Add", dynamic=False) -> onnx.ModelProto:
    """x -> Conv(W) -> Add(B) -> Relu -> y, float32, 1x3x8x8 -> 1x4x8x8."""
    rng = np.random.default_rng(1)
    W = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "W")
    B = numpy_helper.from_array(rng.standard_normal((1, 4, 1, 1)).astype(np.float32), "B")
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], name="conv0", pads=list(pads)),
             helper.make_node(second, ["c", "B"], ["a"], name="add0"),
             helper.make_node("Relu", ["a"], ["y"], name="relu0")]
    batch = "N" if dynamic else 1
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4, 8, 8])],
                              initializer=[W, B])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def sample_inputs(seed=7) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(seed).standard_normal((1, 3, 8, 8)).astype(np.float32)}


class PerturbedTarget(Target):
    """onnxruntime, except that the output of every ``op_type`` node is scaled by 1.01."""

    op_type = "Add"
    description = "onnxruntime with one op's output perturbed (test target)"

    def prepare(self, model):
        import onnxruntime as ort
        proto = onnx.load_from_string(model_bytes(model))
        nodes = []
        for node in proto.graph.node:
            nodes.append(node)
            if node.op_type == self.op_type:
                raw = node.output[0] + "__unperturbed"
                scaled = node.output[0]
                node.output[0] = raw
                nodes.append(helper.make_node("Mul", [raw, "__perturb_scale"], [scaled]))
        del proto.graph.node[:]
        proto.graph.node.extend(nodes)
        proto.graph.initializer.append(numpy_helper.from_array(np.array(1.01, np.float32), "__perturb_scale"))
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        return ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])

    def run(self, session, feeds):
        return session.run(None, feeds)


@pytest.fixture
def perturbed():
    """Register the ``perturbed`` target for one test, through the public decorator."""
    def install(op_type="Add"):
        cls = type("Perturbed" + op_type, (PerturbedTarget,), {"op_type": op_type})
        register_target("perturbed")(cls)
        TARGETS._instances.pop("perturbed", None)
        return "perturbed"
    yield install
    TARGETS._factories.pop("perturbed", None)
    TARGETS._instances.pop("perturbed", None)


def test_expose_intermediates_adds_typed_outputs():
    exposed, added = expose_intermediates(small_model())
    assert added == ["c", "a"]
    assert [o.name for o in exposed.graph.output] == ["y", "c", "a"]
    c = exposed.graph.output[1].type.tensor_type
    assert c.elem_type == TensorProto.FLOAT and [d.dim_value for d in c.shape.dim] == [1, 4, 8, 8]
    onnx.checker.check_model(exposed)


def test_unperturbed_target_has_no_divergence():
    assert first_divergent_node(small_model(), sample_inputs(), "onnxruntime") is None


@pytest.mark.parametrize("op_type,index,name,output", [("Add", 1, "add0", "a"), ("Relu", 2, "relu0", "y")])
def test_perturbed_op_is_the_first_divergent_node(perturbed, op_type, index, name, output):
    target = perturbed(op_type)
    div = first_divergent_node(small_model(), sample_inputs(), target)
    assert div is not None
    assert (div.node_index, div.node_name, div.op_type, div.output_name) == (index, name, op_type, output)
    assert div.compared_nodes == index + 1        # every earlier node was compared and agreed
    assert div.reproduces is True
    np.testing.assert_allclose(div.actual[output], div.expected[output] * 1.01, rtol=1e-5, atol=1e-6)
    assert "first divergent node #%d %s" % (index, op_type) in div.describe()


def test_repro_is_one_node_in_backend_test_layout(perturbed, tmp_path):
    import onnxruntime as ort
    from conformance.reference import ReferenceExecutor
    model, feeds = small_model(), sample_inputs()
    div = first_divergent_node(model, feeds, perturbed("Add"))
    out = div.write_repro(tmp_path / "repro")
    repro = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(repro)
    assert [n.op_type for n in repro.graph.node] == ["Add"]
    assert [i.name for i in repro.graph.input] == ["c"]                 # computed input: captured
    assert [t.name for t in repro.graph.initializer] == ["B"]           # initializer stays one
    x0 = numpy_helper.to_array(onnx.load_tensor(str(out / "test_data_set_0" / "input_0.pb")))
    y0 = numpy_helper.to_array(onnx.load_tensor(str(out / "test_data_set_0" / "output_0.pb")))
    assert not (out / "test_data_set_0" / "input_1.pb").exists()
    # the captured input is the Conv output on the reference; the output is the reference's Add
    reference = ReferenceExecutor(model).run_all(feeds)
    np.testing.assert_array_equal(x0, reference["c"])
    np.testing.assert_array_equal(y0, reference["a"])
    # an honest backend reproduces the expected output from the repro alone
    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"c": x0})[0], y0, rtol=1e-5, atol=1e-6)


def test_one_node_model_keeps_outer_scope_values_of_subgraphs():
    then = helper.make_graph([helper.make_node("Identity", ["v"], ["t"])], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])])
    other = helper.make_graph([helper.make_node("Neg", ["v"], ["e"])], "else", [],
                              [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])])
    node = helper.make_node("If", ["cond"], ["out"], then_branch=then, else_branch=other)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
                                            helper.make_tensor_value_info("v", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    from conformance.divergent_node import node_value_names
    assert node_value_names(node) == ["cond", "v"]
    repro = one_node_model(model, node, {"cond": np.array(True), "v": np.ones(2, np.float32)},
                           {"out": np.ones(2, np.float32)})
    assert [i.name for i in repro.graph.input] == ["cond", "v"]
    onnx.checker.check_model(repro)


def test_divergence_reads_well_as_text_and_json(perturbed):
    import json
    div = first_divergent_node(small_model(), sample_inputs(), perturbed("Add"))
    assert str(div).startswith("#1 Add 'add0' (output 'a'): max_abs ")
    assert "array(" not in repr(div)
    data = json.loads(json.dumps(div.to_dict()))
    assert (data["op_type"], data["node_name"], data["inputs"]) == ("Add", "add0", {"c": [[1, 4, 8, 8], "float32"], "B": [[1, 4, 1, 1], "float32"]})
