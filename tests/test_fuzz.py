"""The graph generator (suites.fuzz), the campaign loop and triage signatures."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, seed, settings

from conformance import triage
from conformance.fuzz_cli import parse_budget
from suites.fuzz.abstract import REGISTRY
from suites.fuzz.campaign import Budget, Campaign, write_outputs
from suites.fuzz.evaluate import Evaluation, Failure
from suites.fuzz.graphs import graphs, graphs_with_types, without_node
from suites.fuzz.torch_program import build
from suites.operators.specs import spec_by_name


def _run_nodes(graph: dict) -> list[torch.Tensor]:
    built = build({"graph": graph}, 7)
    values = [torch.from_numpy(np.asarray(x)) for x in built.inputs]
    for node, op in zip(graph["nodes"], built.model.ops):
        values.append(op(*(values[a] for a in node["args"])))
    return values[len(built.inputs):]


def test_every_abstract_op_is_a_table_entry():
    table = spec_by_name()
    assert len(REGISTRY) >= 30
    assert [n for n in REGISTRY if n not in table] == []


@seed(1234)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(graphs_with_types("torch", max_nodes=8))
def test_declared_types_match_torch(pair):
    graph, declared = pair
    for node, want, got in zip(graph["nodes"], declared, _run_nodes(graph)):
        assert (tuple(got.shape), str(got.dtype).removeprefix("torch.")) == (want.shape, want.dtype), node


NN = ["conv2d", "max_pool2d", "avg_pool2d", "linear", "layer_norm", "relu", "add", "reshape", "transpose"]


@seed(4321)
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(graphs_with_types("torch", max_nodes=6, only=NN))
def test_declared_types_of_layers_match_torch(pair):
    graph, declared = pair
    for node, want, got in zip(graph["nodes"], declared, _run_nodes(graph)):
        assert (tuple(got.shape), str(got.dtype).removeprefix("torch.")) == (want.shape, want.dtype), node


@seed(99)
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(graphs("torch", max_nodes=6))
def test_graphs_are_json_and_outputs_are_sinks(graph):
    assert json.loads(json.dumps(graph)) == graph
    n_in = len(graph["inputs"])
    read = {a for n in graph["nodes"] for a in n["args"]}
    assert graph["outputs"] == [n_in + j for j in range(len(graph["nodes"])) if n_in + j not in read]
    assert all(i in read for i in range(n_in))              # every input is read by some node
    outs = build({"graph": graph}, 3).model(*[torch.from_numpy(np.asarray(x)) for x in build({"graph": graph}, 3).inputs])
    assert len(outs) == len(graph["outputs"])


def test_without_node_renumbers_and_keeps_the_rest_valid():
    graph = {"inputs": [{"shape": [2, 3], "dtype": "float32"}, {"shape": [3], "dtype": "float32"}],
             "nodes": [{"op": "neg", "args": [1], "attrs": {}}, {"op": "tanh", "args": [0], "attrs": {}},
                       {"op": "add", "args": [3, 2], "attrs": {}}],
             "outputs": [4]}
    assert without_node(graph, 0) is None                   # node 2 reads it
    smaller = without_node(graph, 2)
    assert smaller["nodes"] == [{"op": "neg", "args": [1], "attrs": {}}, {"op": "tanh", "args": [0], "attrs": {}}]
    assert smaller["outputs"] == [2, 3]
    only_tanh = without_node(smaller, 0)
    assert only_tanh == {"inputs": [{"shape": [2, 3], "dtype": "float32"}],
                         "nodes": [{"op": "tanh", "args": [0], "attrs": {}}], "outputs": [1]}
    assert _run_nodes(only_tanh)[0].shape == (2, 3)


def _planted(graph: dict) -> Evaluation:
    """A bug planted in cumsum: any graph that uses it fails (the graph itself runs in torch)."""
    outs = _run_nodes(graph)
    valid = all(torch.isfinite(o).all() for o in outs if o.is_floating_point())
    bad = [Failure("planted-cumsum", "c", "t", "converter:c 1", "wrong values", "max abs 0.5", ["CumSum"])]
    return Evaluation(valid=bool(valid), failures=bad if any(n["op"] == "cumsum" for n in graph["nodes"]) else [])


def test_planted_bug_is_found_once_and_shrunk_to_one_node(tmp_path):
    campaign = Campaign(_planted, budget=Budget(models=150), max_nodes=6)
    findings = campaign.run(seed=5)
    assert len(findings) == 1
    assert [n["op"] for n in findings[0].graph["nodes"]] == ["cumsum"]
    assert len(findings[0].graph["inputs"]) == 1
    assert campaign.stats.models >= 150 and campaign.stats.valid == campaign.stats.models
    write_outputs(campaign, tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "findings.jsonl").read_text().splitlines()]
    assert [(r["signature"], r["nodes"], r["symptom"]) for r in rows] == [("planted-cumsum", 1, "wrong values")]
    assert json.loads((tmp_path / "repro" / "planted-" / "graph.json").read_text()) == findings[0].graph
    assert json.loads((tmp_path / "summary.json").read_text())["models"] == campaign.stats.models


def _record(message: str, **kw) -> dict:
    return {"status": "failed", "converter": "torch-script", "target": "onnxruntime", "onnx_ops": ["CumSum"],
            "versions": {"converter": "2.13.0", "target": "1.32.0"}, "message": message,
            "diagnosis": {"attribution": "target", "divergent_node": {"op_type": "CumSum"}}, **kw}


def test_signature_ignores_numbers_paths_and_names():
    a = _record("max abs 0.53 at index 17 of 'output_0' (/tmp/x/model.onnx)")
    b = _record("max abs 1.2e-03 at index 4 of 'sum_3' (/home/y/m.onnx)")
    assert triage.normalise(a["message"]) == triage.normalise(b["message"])
    assert triage.normalise("source (2,) mean=0.8") == triage.normalise("source (1, 2) mean=-0.3")
    assert triage.normalise("shape 2x3x4") == triage.normalise("shape 5")
    assert triage.signature(a, ["CumSum"]) == triage.signature(b, ["CumSum"])
    assert triage.signature(a, ["CumSum"]) != triage.signature(a, ["Add"])
    assert triage.component(a) == "target:onnxruntime 1.32.0"
    assert triage.symptom(a) == "wrong values"


def test_symptoms_of_errors():
    crash = {"status": "error", "converter": "torch-script", "onnx_ops": [], "message": "RuntimeError: boom",
             "versions": {"converter": "2.13.0"}, "diagnosis": {"attribution": "converter"}}
    assert triage.symptom(crash) == "converter crash"
    assert triage.component(crash) == "converter:torch-script 2.13.0"
    assert triage.symptom({**crash, "message": "conversion timed out after 300 s"}) == "converter hang"
    refused = {**crash, "onnx_ops": ["Add"], "target": "onnxruntime", "message": "target failed: NOT_IMPLEMENTED"}
    assert triage.symptom(refused) == "target refuses model"
    assert triage.symptom({**refused, "message": "[ONNXRuntimeError] INVALID_GRAPH"}) == "invalid model"


def test_budget_parsing():
    assert parse_budget("5m") == (300.0, None)
    assert parse_budget("40") == (None, 40)
    with pytest.raises(ValueError):
        parse_budget("5 minutes")


def test_cli_unknown_op_is_a_one_line_error(capsys, tmp_path):
    from conformance.cli import main
    assert main(["fuzz", "--ops", "add,frobnicate", "--budget", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "frobnicate" in err and len(err.splitlines()) == 1


def test_real_campaign_on_torch_script(tmp_path):
    from conformance.cli import main
    assert main(["fuzz", "--budget", "4", "--seed", "2", "--max-nodes", "4", "--target", "reference",
                 "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["models"] >= 4 and summary["valid"] >= 1 and summary["onnx_ops"]


def test_converter_faults_are_told_apart_by_the_divergent_source_op():
    from conformance.results import CaseResult, Diagnosis
    from suites.fuzz.evaluate import source_ops
    graph = {"inputs": [{"shape": [2], "dtype": "float32"}],
             "nodes": [{"op": "neg", "args": [0], "attrs": {}}, {"op": "roll", "args": [1], "attrs": {"shift": 3, "axis": 0}}],
             "outputs": [2]}
    record = CaseResult(case_id="fuzz/x", kind="fuzz", framework="torch", converter="torch-script", target="reference",
                        status="failed", message="source module 'ops.1' differs",
                        diagnosis=Diagnosis(attribution="converter", divergent_source_layer={"module": "ops.1"}))
    assert source_ops(record, graph) == ["source:roll"]
    assert triage.signature(record, source_ops(record, graph)) != triage.signature(record, ["source:neg"])


def test_pruning_keeps_the_bug_class_and_drops_duplicates():
    """The signature may change as a graph gets smaller (a finer diagnosis): pruning follows
    the same symptom and component, and the bug is reported once, at its smallest."""
    def check(graph):
        if not any(n["op"] == "cumsum" for n in graph["nodes"]):
            return Evaluation(valid=True)
        sig = "one-node" if len(graph["nodes"]) == 1 else "bigger"
        return Evaluation(valid=True, failures=[Failure(sig, "c", "t", "converter:c 1", "wrong values", sig, [])])
    campaign = Campaign(check, budget=Budget(models=200), max_nodes=5)
    findings = campaign.run(seed=11)
    assert [(f.failure.signature, len(f.graph["nodes"])) for f in findings] == [("one-node", 1)]
