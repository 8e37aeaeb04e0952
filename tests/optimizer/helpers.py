"""Build small ONNX graphs and compare them on onnxruntime (optimizations off) before/after."""
from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from converters.optimizer import optimize

F = TensorProto.FLOAT


def make_model(nodes, inputs, outputs, inits=(), opset=17):
    """inputs/outputs: [(name, shape)] float tensors (shape may hold strings or be None); inits: {name: array}."""
    g = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info(n, F, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, F, s) for n, s in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in dict(inits).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def run_ort(model, feeds):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)


def feeds_for(model, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for i in model.graph.input:
        shape = [d.dim_value if d.HasField("dim_value") else 2 for d in i.type.tensor_type.shape.dim]
        out[i.name] = rng.standard_normal(shape).astype(np.float32)
    return out


def ops(model) -> Counter:
    return Counter(n.op_type for n in model.graph.node)


def check(model, passes=None, rtol=1e-5, atol=1e-6):
    """Optimize, then assert: same outputs on onnxruntime, same IO names, opsets, and idempotence."""
    out, report = optimize(model, passes, strict=True)
    onnx.checker.check_model(out)
    feeds = feeds_for(model)
    for a, b in zip(run_ort(model, feeds), run_ort(out, feeds)):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)
    assert [i.name for i in out.graph.input] == [i.name for i in model.graph.input]
    assert [o.name for o in out.graph.output] == [o.name for o in model.graph.output]
    assert list(out.opset_import) == list(model.opset_import)
    again, _ = optimize(out, passes, strict=True)
    assert again.graph.SerializeToString(deterministic=True) == out.graph.SerializeToString(deterministic=True), \
        "optimizing twice changed the graph"
    return out, report
