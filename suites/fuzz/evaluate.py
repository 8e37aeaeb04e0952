"""Running one generated graph through every converter x target: the campaign's default check.

``RunnerCheck(runner, ...)(graph) -> Evaluation``: whether the graph is valid (the source
built it and its outputs are finite), the ONNX op types of its conversions, the result records
(kind ``fuzz``) and one ``Failure`` per failed or errored converter x target, with its triage
signature. The oracles: the source framework's outputs (the golden of every target), the
reference executor (which the diagnosis uses to attribute a failure), and the two metamorphic
checks of ``oracles`` (onnxruntime optimized vs not; a batch run vs row runs).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field

import numpy as np

from conformance import triage
from conformance.cases import CaseSpec
from conformance.results import Diagnosis
from conformance.runner import CaseRun

from . import oracles

# The campaign's tolerance of a graph; for a graph of plain values the runner also measures its
# float32 noise floor and widens atol to 16 x it where larger (conformance.tolerance,
# NOISE_FLOOR_KINDS["fuzz"]): a chain of ops on large values lands a correct float32 engine past
# 1e-5. Not for corner inputs (huge, inf, nan): one huge element sets an output's floor and would
# blind the comparison of its small ones.
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
    blamed: list = field(default_factory=list)    # the ops of the signature (diagnosed ONNX op, source:<op>)


@dataclass
class Evaluation:
    valid: bool
    onnx_ops: set = field(default_factory=set)
    failures: list = field(default_factory=list)
    records: list = field(default_factory=list)   # the CaseResult of every converter x target (and oracle)
    oracle_errors: list = field(default_factory=list)   # metamorphic checks that could not run, and why


def graph_id(graph: dict) -> str:
    return hashlib.sha1(json.dumps(graph, sort_keys=True).encode()).hexdigest()[:8]


def graph_spec(graph: dict, framework: str) -> CaseSpec:
    corners = any(s.get("corner") for s in graph["inputs"])
    return CaseSpec(kind="fuzz", name=f"graph-{graph_id(graph)}", framework=framework, builder=BUILDERS[framework],
                    params={"graph": graph}, tolerance={**TOLERANCE, **({"noise_multiple": 0} if corners else {})})


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


def failing_set(record, conv) -> int:
    """The input set the judge found wrong first (``[input set N ...]`` in its message; 0: the sample)."""
    m = re.search(r"\[input set (\d+)", record.message or "")
    k = int(m.group(1)) if m and "[sample]" not in record.message[:m.start()] else 0
    return k if k < len(conv.input_sets) and k < len(conv.golden_sets) else 0


def failure_of(record, conv, graph: dict, ops: list | None = None, inputs: dict | None = None) -> Failure:
    ops = ops if ops is not None else triage.implicated_ops(record) + source_ops(record, graph)
    k = failing_set(record, conv)
    if inputs is None:
        inputs = dict(zip(conv.input_names, conv.input_sets[k])) if conv.input_sets else {}
    expected = dict(zip(conv.output_names, conv.golden_sets[k])) if conv.golden_sets else {}
    return Failure(triage.signature(record, ops), record.converter, record.target, triage.component(record),
                   triage.symptom(record), record.message.split("\n")[0][:500], sorted(record.onnx_ops),
                   record.case_id, record.versions.get("converter", ""), conv.onnx_bytes, inputs, expected, ops)


def oracle_record(record, oracle: str, message: str):
    """The record of a metamorphic oracle's failure on a case that ran: failed, the target's fault."""
    return dataclasses.replace(record, case_id=record.case_id.rsplit("/", 1)[0] + f"/{oracle}", status="failed",
                               message=message, diagnosis=Diagnosis(attribution="target"),
                               extra={**record.extra, "oracle": oracle}, known_failure=None)


ORACLES = ("ort-optimization", "batch-split")


class RunnerCheck:
    def __init__(self, runner, framework: str, converters: list[str], targets: list[str], opset: int = 17,
                 metamorphic: tuple = ORACLES):
        self.runner, self.framework = runner, framework
        self.converters, self.targets, self.opset = converters, targets, opset
        self.metamorphic = metamorphic

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
                result.records.append(record)
                if record.status in ("failed", "error", "xfailed"):
                    result.failures.append(failure_of(record, conv, graph))
                elif record.status == "passed":
                    try:
                        self.metamorphic_checks(result, record, conversion, graph, spec.seed)
                    except Exception as exc:      # an oracle that cannot run says nothing of the case
                        result.oracle_errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        return result

    def focused(self, failure: Failure) -> "RunnerCheck":
        """The check on the failure's converter and target only: what reducing it needs."""
        return RunnerCheck(self.runner, self.framework, [failure.converter], [failure.target], self.opset,
                           self.metamorphic)

    def _runner_of(self, target: str, key: str, conv):
        """run(input_sets) -> outputs per set, on the target's session of this conversion."""
        def run(sets):
            return self.runner.sessions.run(self.runner.target(target), key, dataclasses.replace(conv, input_sets=sets))
        return run

    def metamorphic_checks(self, result: Evaluation, record, conversion, graph: dict, seed: int) -> None:
        """The oracles on a case that passed; a difference is a failure of the target's."""
        conv, key = conversion
        found = []
        if "ort-optimization" in self.metamorphic and record.target == "onnxruntime":
            diff = oracles.optimization_difference(self._runner_of("onnxruntime", key, conv),
                                                   self._runner_of("onnxruntime-basic", key, conv),
                                                   conv.input_sets, TOLERANCE)
            found += [("ort-optimization", diff, None)] if diff else []
        # on the reference itself the relation is not checked: it is the judge of who breaks it
        if "batch-split" in self.metamorphic and record.target != "reference" and oracles.batch_independent(graph):
            diff = oracles.split_difference(self._runner_of(record.target, key, conv), graph, seed, TOLERANCE)
            if diff and not oracles.split_difference(self._runner_of("reference", key, conv), graph, seed, TOLERANCE):
                inputs = dict(zip(conv.input_names, oracles.split_inputs(graph, seed)[0]))
                found.append(("batch-split", diff, inputs))
        for oracle, (output, message), inputs in found:
            bad = oracle_record(record, oracle, message)
            result.records.append(bad)
            ops = [oracles.producer(conv.onnx_bytes, output)] if conv.onnx_bytes else []
            result.failures.append(failure_of(bad, conv, graph, ops, inputs))
