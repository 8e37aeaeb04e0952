import numpy as np
from onnx import helper

from .helpers import check, make_model, ops


def test_dce_removes_unreachable_nodes_only():
    m = make_model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Exp", ["x"], ["dead"]),
                    helper.make_node("Neg", ["dead"], ["dead2"])], [("x", [2, 3])], [("y", [2, 3])])
    out, report = check(m, "dce")
    assert ops(out) == {"Relu": 1}
    assert report.nodes_before == 3 and report.nodes_after == 1


def test_cse_merges_identical_nodes_and_keeps_output_names():
    m = make_model([helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Relu", ["x"], ["b"]),
                    helper.make_node("Add", ["a", "b"], ["y"]), helper.make_node("Sigmoid", ["x"], ["z"])],
                   [("x", [4])], [("y", [4]), ("b", [4])])
    out, _ = check(m, "cse,dce")
    assert ops(out)["Relu"] == 1


def test_cse_distinguishes_attributes():
    m = make_model([helper.make_node("LeakyRelu", ["x"], ["a"], alpha=0.1),
                    helper.make_node("LeakyRelu", ["x"], ["b"], alpha=0.2), helper.make_node("Add", ["a", "b"], ["y"])],
                   [("x", [4])], [("y", [4])])
    out, _ = check(m, "cse,dce")
    assert ops(out)["LeakyRelu"] == 2


def test_duplicate_and_unused_initializers():
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    m = make_model([helper.make_node("Add", ["x", "w1"], ["a"]), helper.make_node("Mul", ["a", "w2"], ["y"])],
                   [("x", [2, 3])], [("y", [2, 3])], {"w1": w, "w2": w.copy(), "unused": w + 1})
    out, _ = check(m, "dedupe-init,prune-init")
    assert len(out.graph.initializer) == 1


def test_subgraph_reads_are_respected():
    then_g = helper.make_graph([helper.make_node("Neg", ["r"], ["t_out"])], "then", [],
                               [helper.make_tensor_value_info("t_out", 1, [3])])
    else_g = helper.make_graph([helper.make_node("Identity", ["r"], ["e_out"])], "else", [],
                               [helper.make_tensor_value_info("e_out", 1, [3])])
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Identity", ["r"], ["r2"]),
             helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
             helper.make_node("Greater", ["s", "zero"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Add", ["y", "r2"], ["z"])]
    m = make_model(nodes, [("x", [3])], [("z", [3])], {"zero": np.array(0, np.float32)})
    out, _ = check(m)
    assert ops(out)["If"] == 1 and ops(out)["Relu"] == 1
