"""The executor's profile hook, and the oracle's boundary: numpy and onnx, nothing else of ours."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper

from conformance.reference import ReferenceExecutor


def _relu_neg():
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Neg", ["r"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_profile_hook_reports_every_kernel_run_with_its_node():
    calls = []
    executor = ReferenceExecutor(_relu_neg(), profile=lambda node, s: calls.append((node.op_type, s)))
    x = np.array([-1.0, 0.5, 2.0], np.float32)
    for _ in range(2):
        (y,) = executor.run(None, {"x": x})
    assert np.array_equal(y, -np.maximum(x, 0))
    assert [op for op, _ in calls] == ["Relu", "Neg", "Relu", "Neg"]
    assert all(s >= 0 for _, s in calls)


def test_without_a_profile_the_kernels_run_unwrapped():
    from conformance.reference.registry import lookup
    executor = ReferenceExecutor(_relu_neg())
    assert executor._plan.steps[0].impl is lookup("", "Relu", 17)


def test_the_oracle_imports_nothing_else_of_ours_nor_onnxruntime():
    code = ("import sys, conformance.reference; "
            "ours = sorted(m for m in sys.modules if m.startswith('conformance.') "
            "and not m.startswith('conformance.reference')); "
            "assert not ours, ours; assert 'onnxruntime' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
