import numpy as np
from onnx import TensorProto, helper

from .helpers import check, make_model, ops


def test_identity_neutral_elements_and_noop_cast_are_removed():
    nodes = [helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Mul", ["a", "one"], ["b"]),
             helper.make_node("Add", ["zero", "b"], ["c"]), helper.make_node("Cast", ["c"], ["d"], to=TensorProto.FLOAT),
             helper.make_node("Div", ["d", "one"], ["e"]), helper.make_node("Relu", ["e"], ["y"])]
    m = make_model(nodes, [("x", [2, 3])], [("y", [2, 3])],
                   {"one": np.ones((1, 3), np.float32), "zero": np.zeros(3, np.float32)})
    out, _ = check(m, "simplify")
    assert ops(out) == {"Relu": 1}


def test_broadcasting_neutral_element_is_kept():
    # x + zeros((4, 3)) broadcasts x (3,) up to (4, 3): not a no-op
    m = make_model([helper.make_node("Add", ["x", "zero"], ["y"])], [("x", [3])], [("y", [4, 3])],
                   {"zero": np.zeros((4, 3), np.float32)})
    out, _ = check(m, "simplify")
    assert ops(out) == {"Add": 1}


def test_transpose_pair_cancels_and_identity_perm_goes():
    nodes = [helper.make_node("Transpose", ["x"], ["a"], perm=[0, 2, 3, 1]),
             helper.make_node("Transpose", ["a"], ["b"], perm=[0, 3, 1, 2]),
             helper.make_node("Transpose", ["b"], ["c"], perm=[0, 1, 2, 3]), helper.make_node("Relu", ["c"], ["y"])]
    m = make_model(nodes, [("x", [1, 2, 3, 4])], [("y", [1, 2, 3, 4])])
    out, _ = check(m, "simplify,dce")
    assert ops(out) == {"Relu": 1}


def test_transpose_pair_composes():
    nodes = [helper.make_node("Transpose", ["x"], ["a"], perm=[1, 2, 0]),
             helper.make_node("Transpose", ["a"], ["y"], perm=[1, 2, 0])]
    m = make_model(nodes, [("x", [2, 3, 4])], [("y", [4, 2, 3])])
    out, _ = check(m, "simplify,dce")
    assert ops(out) == {"Transpose": 1}


def test_reshape_chain_and_noop_reshape():
    nodes = [helper.make_node("Reshape", ["x", "s1"], ["a"]), helper.make_node("Unsqueeze", ["a", "ax"], ["b"]),
             helper.make_node("Reshape", ["b", "s2"], ["c"]), helper.make_node("Reshape", ["c", "s3"], ["y"])]
    m = make_model(nodes, [("x", [2, 3, 4])], [("y", [6, 4])],
                   {"s1": np.array([6, 4]), "ax": np.array([0]), "s2": np.array([6, 4]), "s3": np.array([-1, 4])})
    out, _ = check(m, "simplify,dce")
    assert ops(out) == {"Reshape": 1}


def test_zero_pad_and_full_slice_go_but_reversing_slice_stays():
    nodes = [helper.make_node("Pad", ["x", "pads"], ["a"]),
             helper.make_node("Slice", ["a", "st", "en", "ax"], ["b"]),
             helper.make_node("Slice", ["b", "st2", "en2", "ax", "step"], ["y"])]
    m = make_model(nodes, [("x", [4, 2])], [("y", [4, 2])],
                   {"pads": np.zeros(4, np.int64), "st": np.array([0]), "en": np.array([100]), "ax": np.array([0]),
                    "st2": np.array([-1]), "en2": np.array([-100]), "step": np.array([-1])})
    out, _ = check(m, "simplify")
    assert ops(out) == {"Slice": 1}


def test_identity_from_input_to_output_is_kept():
    m = make_model([helper.make_node("Identity", ["x"], ["y"])], [("x", [2])], [("y", [2])])
    out, _ = check(m, "simplify")
    assert ops(out) == {"Identity": 1}


def test_identity_before_output_renames_producer():
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Identity", ["a"], ["y"])]
    m = make_model(nodes, [("x", [2])], [("y", [2])])
    out, _ = check(m, "simplify")
    assert ops(out) == {"Relu": 1} and out.graph.node[0].output[0] == "y"
