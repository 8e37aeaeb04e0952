import numpy as np
from onnx import helper

from .helpers import check, make_model, ops

NHWC, NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def test_transposes_cancel_across_elementwise_ops():
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=NHWC), helper.make_node("Relu", ["t"], ["r"]),
             helper.make_node("Add", ["r", "bias"], ["a"]), helper.make_node("Transpose", ["a"], ["y"], perm=NCHW)]
    m = make_model(nodes, [("x", [1, 3, 4, 5])], [("y", [1, 3, 4, 5])],
                   {"bias": np.arange(3, dtype=np.float32)})
    out, _ = check(m, "transpose,dce")
    assert ops(out) == {"Relu": 1, "Add": 1}


def test_both_operands_transposed_alike():
    nodes = [helper.make_node("Transpose", ["x"], ["a"], perm=NHWC), helper.make_node("Transpose", ["z"], ["b"], perm=NHWC),
             helper.make_node("Mul", ["a", "b"], ["m"]), helper.make_node("Transpose", ["m"], ["y"], perm=NCHW)]
    m = make_model(nodes, [("x", [1, 3, 4, 5]), ("z", [1, 3, 4, 5])], [("y", [1, 3, 4, 5])])
    out, _ = check(m, "transpose,dce")
    assert ops(out) == {"Mul": 1}


def test_transpose_vanishes_into_reduction():
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=NHWC),
             helper.make_node("ReduceMean", ["t"], ["y"], axes=[1, 2], keepdims=0)]
    m = make_model(nodes, [("x", [2, 3, 4, 5])], [("y", [2, 3])])
    out, _ = check(m, "transpose,dce")
    assert ops(out) == {"ReduceMean": 1}


def test_transpose_vanishes_into_gather_and_softmax_moves():
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
             helper.make_node("Gather", ["t", "i"], ["y"], axis=1),
             helper.make_node("Transpose", ["x"], ["t2"], perm=[2, 0, 1]),
             helper.make_node("Softmax", ["t2"], ["z"], axis=1)]
    m = make_model(nodes, [("x", [4, 2, 3])], [("y", [2, 3]), ("z", [3, 4, 2])], {"i": np.array(-1)})
    out, _ = check(m, "transpose,dce")
    assert ops(out) == {"Gather": 1, "Softmax": 1, "Transpose": 1}


def test_attention_head_split_reshape_transpose_merge():
    # (S, B*H, D) -> Transpose(1,0,2) -> Reshape(B, H, S, D): becomes Reshape -> Transpose; the
    # Reshape before it then merges, leaving one Reshape and one Transpose
    nodes = [helper.make_node("Reshape", ["x", "s0"], ["r0"]),
             helper.make_node("Transpose", ["r0"], ["t"], perm=[1, 0, 2]),
             helper.make_node("Reshape", ["t", "s1"], ["y"])]
    m = make_model(nodes, [("x", [5, 2, 12])], [("y", [2, 4, 5, 3])],
                   {"s0": np.array([5, 8, 3]), "s1": np.array([2, 4, 5, 3])})
    out, _ = check(m, "transpose,dce")
    assert ops(out) == {"Reshape": 1, "Transpose": 1}


def test_batched_matmul_of_alike_transposes():
    nodes = [helper.make_node("Transpose", ["a"], ["ta"], perm=[1, 0, 2, 3]),
             helper.make_node("Transpose", ["b"], ["tb"], perm=[1, 0, 2, 3]),
             helper.make_node("MatMul", ["ta", "tb"], ["m"]),
             helper.make_node("Transpose", ["m"], ["y"], perm=[1, 0, 2, 3])]
    m = make_model(nodes, [("a", [2, 3, 4, 5]), ("b", [2, 3, 5, 6])], [("y", [2, 3, 4, 6])])
    out, _ = check(m, "transpose,dce")
    assert ops(out) == {"MatMul": 1}


def test_head_split_with_batch_one():
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
             helper.make_node("Reshape", ["t", "s1"], ["r"]),
             helper.make_node("Relu", ["r"], ["y"])]
    m = make_model(nodes, [("x", [5, 4, 3])], [("y", [1, 4, 5, 3])], {"s1": np.array([1, 4, 5, 3])})
    out, _ = check(m, "transpose,dce")
    assert ops(out) == {"Reshape": 1, "Transpose": 1, "Relu": 1}
    # the transpose now comes after the reshape
    assert [n.op_type for n in out.graph.node].index("Reshape") < [n.op_type for n in out.graph.node].index("Transpose")


def test_transpose_of_unit_axes_is_a_reshape_and_merges():
    nodes = [helper.make_node("Reshape", ["x", "s"], ["r"]),
             helper.make_node("Transpose", ["r"], ["y"], perm=[0, 3, 1, 2])]
    m = make_model(nodes, [("x", [2, 6])], [("y", [2, 6, 1, 1])], {"s": np.array([2, 1, 1, 6])})
    out, _ = check(m, "simplify,dce")
    assert ops(out) == {"Reshape": 1}
