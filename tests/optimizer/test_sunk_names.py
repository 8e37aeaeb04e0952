"""Transposes the optimizer sinks keep unique node names (two unnamed ones once both became 't_sunk',
which onnxruntime refuses; found on onnx 1.23's attention test models)."""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

from converters.optimizer import optimize


def test_two_sunk_unnamed_transposes_get_distinct_names():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("o1", "o2")]
    nodes = [helper.make_node("Transpose", ["x"], ["tx"], perm=[0, 2, 1]),
             helper.make_node("Relu", ["tx"], ["o1"]),
             helper.make_node("Transpose", ["y"], ["ty"], perm=[0, 2, 1]),
             helper.make_node("Sigmoid", ["ty"], ["o2"])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x, y], outs),
                              opset_imports=[helper.make_opsetid("", 17)])
    optimized, _report = optimize(model)
    names = [n.name for n in optimized.graph.node if n.name]
    assert len(names) == len(set(names)), names
    session = ort.InferenceSession(optimized.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"x": np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32),
             "y": np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)}
    o1, o2 = session.run(None, feeds)
    np.testing.assert_array_equal(o1, np.maximum(feeds["x"].transpose(0, 2, 1), 0))
    assert np.allclose(o2, 1 / (1 + np.exp(-feeds["y"].transpose(0, 2, 1))))
