"""Running one generated graph through every converter x target: the campaign's default check.

``RunnerCheck(runner, ...)(graph) -> Evaluation``: whether the graph is valid (the source
built it and its outputs are finite), the ONNX op types of its conversions, and one
``Failure`` per failed or errored converter x target, with its triage signature.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from conformance import triage
from conformance.cases import CaseSpec
from conformance.runner import CaseRun

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}
BUILDERS = {"torch": "suites.fuzz.torch_program:build", "tensorflow": "suites.fuzz.tf_program:build",
            "paddle": "suites.fuzz.paddle_program:build"}
CONVERTERS = {"torch": "torch-script", "tensorflow": "tf2onnx", "paddle": "paddle2onnx"}   # the default per framework


@dataclass
class Failure:
    signature: str
    converter: str
    target: str
    component: str
    symptom: str
    message: str
    ops: list                       # ONNX op types of the failing model
    case_id: str = ""
    version: str = ""               # the converter's version, for the known-failures table
    onnx: bytes | None = None
    inputs: dict = field(default_factory=dict)   # input name -> array
    expected: dict = field(default_factory=dict)  # output name -> the source framework's array


@dataclass
class Evaluation:
    valid: bool
    onnx_ops: set = field(default_factory=set)
    failures: list = field(default_factory=list)


def graph_id(graph: dict) -> str:
    return hashlib.sha1(json.dumps(graph, sort_keys=True).encode()).hexdigest()[:8]


def graph_spec(graph: dict, framework: str) -> CaseSpec:
    return CaseSpec(kind="fuzz", name=f"graph-{graph_id(graph)}", framework=framework, builder=BUILDERS[framework],
                    params={"graph": graph}, tolerance=dict(TOLERANCE))


def _finite(conv) -> bool:
    outs = [np.asarray(a) for s in conv.golden_sets for a in s]
    return bool(outs) and all(not np.issubdtype(a.dtype, np.floating) or np.isfinite(a).all() for a in outs)


def _valid(conv, graph: dict) -> bool:
    """The source built the model and, unless corner values (inf, nan, extremes) were fed on
    purpose, its outputs are finite (an overflow of plain values is the generator's doing)."""
    if conv.status != "ok":       # the converter's failure is a finding; the builder's is not
        return conv.status == "unsupported" or conv.error_type in ("", "ConversionError", "UnsupportedOperator")
    return _finite(conv) or any(s.get("corner") for s in graph["inputs"])


def source_ops(record, graph: dict) -> list[str]:
    """The graph op of the first divergent source module (``ops.K`` is node K of ``Program``):
    without it every wrong-values bug of a converter would share one normalised message."""
    layer = (record.diagnosis.divergent_source_layer or {}) if record.diagnosis else {}
    parts = str(layer.get("module", "")).split(".")
    if len(parts) >= 2 and parts[0] == "ops" and parts[1].isdigit() and int(parts[1]) < len(graph["nodes"]):
        return [f"source:{graph['nodes'][int(parts[1])]['op']}"]
    return []


def failure_of(record, conv, graph: dict) -> Failure:
    ops = triage.implicated_ops(record) + source_ops(record, graph)
    inputs = dict(zip(conv.input_names, conv.input_sets[0])) if conv.input_sets else {}
    expected = dict(zip(conv.output_names, conv.golden_sets[0])) if conv.golden_sets else {}
    return Failure(triage.signature(record, ops), record.converter, record.target, triage.component(record),
                   triage.symptom(record), record.message.split("\n")[0][:500], sorted(record.onnx_ops),
                   record.case_id, record.versions.get("converter", ""), conv.onnx_bytes, inputs, expected)


class RunnerCheck:
    def __init__(self, runner, framework: str, converters: list[str], targets: list[str], opset: int = 17):
        self.runner, self.framework = runner, framework
        self.converters, self.targets, self.opset = converters, targets, opset

    def __call__(self, graph: dict) -> Evaluation:
        spec = graph_spec(graph, self.framework)
        result = Evaluation(valid=True)
        for converter in self.converters:
            conversion = self.runner.conversion(spec, converter, self.opset)
            conv = conversion[0]
            if not _valid(conv, graph):    # the source could not build it or overflowed: not a finding
                result.valid = False
                continue
            for target in self.targets:
                record = self.runner.run(CaseRun(spec, converter, self.opset, target), conversion)
                result.onnx_ops.update(record.onnx_ops)
                if record.status in ("failed", "error", "xfailed"):
                    result.failures.append(failure_of(record, conv, graph))
        return result
