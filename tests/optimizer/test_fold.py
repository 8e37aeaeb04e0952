import numpy as np
from onnx import helper, numpy_helper

from .helpers import check, make_model, ops


def _shape_chain(input_shape):
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    return make_model(nodes, [("x", input_shape)], [("y", [input_shape[0], 12])],
                      {"i0": np.array(0), "ax0": np.array([0]), "minus1": np.array([-1])})


def test_shape_subgraph_with_static_input_folds():
    out, _ = check(_shape_chain([2, 3, 4]), "fold,dce,prune-init")
    assert ops(out) == {"Reshape": 1}
    shape = numpy_helper.to_array(out.graph.initializer[0])
    assert shape.tolist() == [2, -1]


def test_shape_subgraph_with_dynamic_input_stays():
    out, _ = check(_shape_chain(["N", 3, 4]), "fold,dce")
    assert ops(out)["Shape"] == 1


def test_constant_nodes_and_constant_arithmetic_fold():
    c = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.full((3,), 2.0, np.float32)))
    nodes = [c, helper.make_node("Mul", ["c", "w"], ["cw"]), helper.make_node("Sqrt", ["cw"], ["r"]),
             helper.make_node("Add", ["x", "r"], ["y"])]
    m = make_model(nodes, [("x", [2, 3])], [("y", [2, 3])], {"w": np.array([2.0, 8.0, 0.5], np.float32)})
    out, _ = check(m, "fold,dce,prune-init")
    assert ops(out) == {"Add": 1}
    np.testing.assert_allclose(numpy_helper.to_array(out.graph.initializer[0]), [2.0, 4.0, 1.0])


def test_folded_graph_output_keeps_its_name():
    nodes = [helper.make_node("Add", ["w", "w"], ["y"]), helper.make_node("Relu", ["x"], ["z"])]
    m = make_model(nodes, [("x", [3])], [("y", [3]), ("z", [3])], {"w": np.ones(3, np.float32)})
    out, _ = check(m, "fold")
    assert ops(out) == {"Constant": 1, "Relu": 1}


def test_random_ops_are_not_folded():
    nodes = [helper.make_node("RandomNormal", [], ["r"], shape=[3], seed=1.0),
             helper.make_node("Mul", ["r", "zero"], ["rz"]), helper.make_node("Add", ["x", "rz"], ["y"])]
    m = make_model(nodes, [("x", [3])], [("y", [3])], {"zero": np.zeros(3, np.float32)})
    out, _ = check(m, "fold")
    assert ops(out)["RandomNormal"] == 1
