"""Every abstract op of the fuzz generator, the control-flow structures included, against the
real frameworks: random draws built in the framework give the declared output shape and
dtype of every node, at the export batch and at the second one (issue 17).

torch: every op, 4 draws each, one test per op. TensorFlow: every op, 3 draws each, in one
test (in process). Paddle: every op, 3 draws each, checked in Paddle's own environment (as its
worker runs). The loop and the conditional also convert to ONNX ``Loop`` / ``If`` (torch-script
and tf2onnx) and compute what the framework computes."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, seed, settings

from suites.fuzz.check_types import mismatches, run_in_environment
from suites.fuzz.graphs import available, graphs

QUIET = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


def draws(framework: str, ops: list[str], count: int, seed_: int = 17, max_nodes: int = 2) -> list[dict]:
    """``count`` graphs per op, each of up to ``max_nodes`` nodes of that op only."""
    drawn = []
    for op in ops:
        @seed(seed_)
        @settings(QUIET, max_examples=count)
        @given(graphs(framework, max_nodes=max_nodes, only=[op]))
        def collect(graph):
            drawn.append(graph)
        collect()
    return drawn


@pytest.mark.parametrize("op", available("torch"))
def test_declared_types_match_torch_for_every_op(op):
    for graph in draws("torch", [op], 4):
        assert mismatches("torch", graph) == [], graph


def test_declared_types_match_tensorflow_for_every_op():
    pytest.importorskip("tensorflow")
    problems = [p for g in draws("tensorflow", available("tensorflow"), 3) for p in mismatches("tensorflow", g)]
    assert problems == []


def test_declared_types_match_paddle_for_every_op(tmp_path):
    try:
        out = run_in_environment("paddle", draws("paddle", available("paddle"), 3), tmp_path / "graphs.json")
    except Exception as exc:                  # no paddle environment on this machine
        pytest.skip(f"paddle environment unavailable: {exc}")
    assert out.strip().splitlines()[-1:] == ["0 bad"], out[-3000:]


def test_ops_whose_corner_results_no_spec_fixes_draw_no_such_corners():
    # a variance or a contraction of values near FLT_MAX overflows or not by the accumulation order,
    # paddle's hardswish by its formula (sort: tests/test_fuzz.py)
    for op in ("std", "var", "matmul", "einsum", "linear", "gru", "lstm", "rnn", "hardswish"):
        for graph in draws("torch", [op], 10):
            assert all("extreme" not in i["corners"] for i in graph["inputs"]), (op, graph)


def test_a_captured_value_is_read_by_every_body():
    """paddle.jit.save refuses an input no output depends on (fuzz finding 8ee8d3b3: a loop
    capturing y around a body of sin only)."""
    bodies = []
    for graph in draws("paddle", ["loop", "cond"], 30, max_nodes=1):
        for node in graph["nodes"]:
            attrs = node["attrs"]
            captures = len(node["args"]) == (3 if node["op"] == "cond" else 2 + (attrs["trips"] is None))
            bodies += [attrs[k] for k in ("body", "then", "else") if k in attrs and captures]
    assert bodies and all(any(1 in n["args"] for n in b) for b in bodies)


def test_every_framework_draws_the_control_flow_structures():
    for framework in ("torch", "tensorflow", "paddle"):
        assert {"loop", "cond"} <= set(available(framework))
    assert len(available("tensorflow")) >= 100


def test_a_loop_shrinks_to_one_body_node_and_no_trips():
    """Shrinking keeps a control node valid: the smallest loop graph is one loop with a
    one-node body (the first body op), a fixed count of 0, nothing captured."""
    graph = find(graphs("torch", max_nodes=3, only=["loop"]), lambda g: True, settings=settings(QUIET, max_examples=50))
    (node,) = graph["nodes"]
    assert (node["op"], node["attrs"]["trips"], node["attrs"]["body"], len(node["args"])) == \
        ("loop", 0, [{"op": "tanh", "args": [0], "attrs": {}}], 1)
    assert mismatches("torch", graph) == []


def _control_graph(dynamic: bool) -> dict:
    """x -> loop(x, n or 2 trips, y: add then tanh) -> cond(pred, then sin, else mul by y)."""
    loop_attrs = {"trips": None if dynamic else 2,
                  "body": [{"op": "add", "args": [0, 1], "attrs": {}}, {"op": "tanh", "args": [2], "attrs": {}}]}
    cond_attrs = {"then": [{"op": "sin", "args": [0], "attrs": {}}], "else": [{"op": "mul", "args": [0, 1], "attrs": {}}]}
    x = {"shape": [2, 3], "dtype": "float32", "domain": "normal", "free": [0], "corner": False}
    inputs = [x, {"shape": [3], "dtype": "float32", "domain": "normal", "free": [], "corner": False},
              {"shape": [], "dtype": "bool", "domain": "bool", "free": [], "corner": False}]
    loop_args = [0, 1]
    if dynamic:
        inputs.append({"shape": [], "dtype": "int64", "domain": "index", "high": 4, "free": [], "corner": False})
        loop_args = [0, 3, 1]
    out = {"shape": [2, 3], "dtype": "float32", "free": [0]}
    n = len(inputs)
    return {"inputs": inputs, "batch": [2, 5], "outputs": [n + 1],
            "nodes": [{"op": "loop", "args": loop_args, "attrs": loop_attrs, "out": out},
                      {"op": "cond", "args": [2, n, 1], "attrs": cond_attrs, "out": out}]}


def _convert_and_run(framework: str, converter: str, graph: dict, seed_: int, tmp_path):
    """(ONNX op types, onnxruntime's outputs, the framework's outputs) for each input set."""
    import importlib

    import onnxruntime as ort

    from converters import get_converter
    from suites.fuzz.evaluate import BUILDERS
    module, _, fn = BUILDERS[framework].partition(":")
    built = getattr(importlib.import_module(module), fn)({"graph": graph}, seed_)
    proto = get_converter(converter).convert(built, 17, tmp_path)
    session = ort.InferenceSession(proto.SerializeToString())
    names = [i.name for i in session.get_inputs()]
    runs = []
    for inputs in [built.inputs] + list(built.extra_inputs):
        got = session.run(None, dict(zip(names, inputs)))
        want = [np.asarray(v) for v in _source_outputs(framework, built.model, inputs)]
        runs.append((got, want))
    return {n.op_type for n in proto.graph.node}, runs


def _source_outputs(framework: str, model, inputs) -> list:
    if framework == "torch":
        import torch
        with torch.no_grad():
            return [v.numpy() for v in model(*[torch.from_numpy(np.asarray(x)) for x in inputs])]
    import tensorflow as tf
    return [v.numpy() for v in model(*[tf.convert_to_tensor(x) for x in inputs])]


@pytest.mark.parametrize("framework,converter", [("torch", "torch-script"), ("tensorflow", "tf2onnx")])
@pytest.mark.parametrize("dynamic", [False, True])
def test_loop_and_cond_convert_to_onnx_loop_and_if(framework, converter, dynamic, tmp_path):
    pytest.importorskip(framework)
    for seed_ in (3, 4):            # both branches: the bool input differs between the seeds
        ops, runs = _convert_and_run(framework, converter, _control_graph(dynamic), seed_, tmp_path)
        assert {"Loop", "If"} <= ops
        for got, want in runs:      # the export batch and the second batch
            np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
