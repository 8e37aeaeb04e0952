"""The reference-executor ceiling printed by compare.py: which nodes count as compute kernels."""
from __future__ import annotations

import numpy as np
from onnx import helper

from converters.optimizer.compare import _interleaved_times, kernel_ceiling, kernel_nodes, reference_node_times

from .helpers import feeds_for, make_model


def _model():
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),      # kernel
        helper.make_node("Mul", ["c", "scale"], ["m"]),                       # affine on a constant
        helper.make_node("Relu", ["m"], ["r"]),                               # kernel
        helper.make_node("Add", ["r", "c"], ["res"]),                         # residual: kernel
        helper.make_node("Shape", ["res"], ["shape"]),                        # shape arithmetic
        helper.make_node("Reshape", ["res", "shape"], ["y"]),                 # layout, removable
    ]
    scale = np.full((1, 4, 1, 1), 2.0, np.float32)
    return make_model(nodes, [("x", [1, 3, 8, 8])], [("y", [1, 4, 8, 8])], {"w": w, "scale": scale})


def test_kernel_nodes_counts_compute_and_residuals_not_constants_or_shapes():
    assert kernel_nodes(_model()) == [True, False, True, True, False, False]


def test_node_times_cover_every_node_and_the_ceiling_is_at_least_one():
    model = _model()
    times, total = reference_node_times(model, feeds_for(model), runs=3)
    assert len(times) == len(model.graph.node) and all(t > 0 for t in times)
    assert total >= sum(times)
    result = kernel_ceiling(model, feeds_for(model), runs=3)
    assert result["kernel_s"] < result["run_s"]
    assert result["ceiling"] > 1.0


def test_interleaved_times_report_the_spread_of_the_slower_callable_as_noise():
    calls = {"n": 0}

    def jittery():   # CPU work doubled two runs in three: the median run is ~2x the best
        calls["n"] += 1
        sum(range(20000 * (1 if calls["n"] % 3 == 0 else 2)))

    def steady():
        sum(range(20000))

    best_a, best_b, noise = _interleaved_times(jittery, steady, repeat=9, budget_s=10.0)
    assert best_a > 0 and best_b > 0
    assert noise > 0.3      # the jittery callable's median run is ~2x its best
