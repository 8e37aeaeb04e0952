"""A fuzzing campaign with Hypothesis as the engine.

Each round is one ``@given(graphs(...))`` run seeded ``seed + round``. The property checks a
graph (by default on every converter x target, ``evaluate.RunnerCheck``); a failure whose
signature is already a finding passes, a new one raises an exception whose class is made for
that signature, so Hypothesis shrinks it without slipping to another bug. Hypothesis replays
the minimal example last, so the last failing call of that signature is the finding. The next
round starts until the budget (seconds or graphs) is spent.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from .evaluate import Evaluation, Failure, graph_id
from .graphs import CORNER_SHARE, graphs, without_node


class NewFailure(Exception):
    """Base of the per-signature failure classes the property raises."""


class BudgetSpent(BaseException):
    """Ends a round early: a BaseException, so Hypothesis does not take it for a failure."""


_CLASSES: dict[str, type] = {}


def failure_class(signature: str) -> type:
    if signature not in _CLASSES:
        _CLASSES[signature] = type(f"Failure_{signature[:8]}", (NewFailure,), {})
    return _CLASSES[signature]


@dataclass
class Budget:
    seconds: float | None = None
    models: int | None = None
    grace: float = 1.5              # a shrink in progress may run to grace x the time budget


@dataclass
class Finding:
    graph: dict
    failure: Failure
    framework: str
    known: str | None = None       # the matching known-failures entry (its first pattern)


@dataclass
class Stats:
    models: int = 0
    valid: int = 0
    onnx_ops: set = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)

    def summary(self) -> dict:
        seconds = time.monotonic() - self.started
        return {"models": self.models, "valid": self.valid,
                "valid_rate": round(self.valid / self.models, 4) if self.models else 0.0,
                "onnx_ops": sorted(self.onnx_ops), "models_per_minute": round(60 * self.models / max(seconds, 1e-9), 2),
                "seconds": round(seconds, 1)}


class Campaign:
    def __init__(self, check: Callable[[dict], Evaluation], framework: str = "torch", max_nodes: int = 8,
                 only: list[str] | None = None, budget: Budget | None = None, known: Callable | None = None,
                 progress: Callable[[str], None] | None = None, round_examples: int = 200,
                 corner_share=CORNER_SHARE, exclude: list[str] | None = None):
        self.check, self.framework, self.max_nodes, self.only = check, framework, max_nodes, only
        self.corner_share, self.exclude = corner_share, exclude
        self.budget = budget or Budget(models=100)
        self.known = known or (lambda failure, graph: None)       # known(failure, reduced graph) -> entry or None
        self.progress = progress or (lambda line: None)
        self.round_examples = round_examples
        self.stats = Stats()
        self.findings: list[Finding] = []
        self.seen: set[str] = set()

    def spent(self, shrinking: bool) -> bool:
        elapsed = time.monotonic() - self.stats.started
        b = self.budget
        if b.models is not None and self.stats.models >= b.models and not shrinking:
            return True
        if b.seconds is not None:
            return elapsed >= b.seconds * (b.grace if shrinking else 1.0)
        return False

    def run(self, seed: int) -> list[Finding]:
        n = 0
        while not self.spent(False):
            before = self.stats.models
            self.round(seed + n)
            n += 1
            if self.stats.models == before:       # the strategy had nothing left to draw
                break
        return self.findings

    def round(self, seed: int) -> None:
        last: dict[str, tuple[dict, Failure]] = {}

        @hypothesis_seed(seed)
        @settings(max_examples=self.round_examples, deadline=None, database=None, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
        @given(graphs(self.framework, self.max_nodes, self.only, self.corner_share, self.exclude))
        def prop(graph):
            if self.spent(bool(last)):
                raise BudgetSpent()
            self.observe(graph, last)

        try:
            prop()
        except NewFailure as e:
            self.record(*last[e.signature])
        except BudgetSpent:
            pass
        except Exception as e:            # Hypothesis' Flaky: the failure did not replay
            self.progress(f"round {seed}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")

    def observe(self, graph: dict, last: dict) -> None:
        result = self.check(graph)
        self.stats.models += 1
        self.stats.valid += bool(result.valid)
        self.stats.onnx_ops.update(result.onnx_ops)
        new = [f for f in result.failures if f.signature not in self.seen]
        if self.stats.models % 10 == 0:
            self.progress(self.progress_line())
        if new:
            last[new[0].signature] = (graph, new[0])
            error = failure_class(new[0].signature)(f"{new[0].symptom}: {new[0].message}")
            error.signature = new[0].signature
            raise error

    def prune(self, graph: dict, failure: Failure) -> tuple[dict, Failure]:
        """Drop unread nodes while a failure of the same symptom in the same component stays
        (Hypothesis does not always delete a node drawn before the failing one; a smaller
        graph may be diagnosed more precisely, hence a signature of its own)."""
        j = len(graph["nodes"]) - 1
        while j >= 0 and len(graph["nodes"]) > 1:
            smaller = without_node(graph, j)
            same = [f for f in self.check(smaller).failures
                    if (f.symptom, f.component) == (failure.symptom, failure.component)] if smaller else []
            if same:
                graph, failure = smaller, next((f for f in same if f.signature == failure.signature), same[0])
            j -= 1
        return graph, failure

    def record(self, graph: dict, failure: Failure) -> None:
        self.seen.add(failure.signature)
        graph, failure = self.prune(graph, failure)
        if failure.signature in self.seen and any(f.failure.signature == failure.signature for f in self.findings):
            self.progress(f"{failure.signature[:8]} again (pruned to {len(graph['nodes'])} nodes): not a new finding")
            return
        self.seen.add(failure.signature)
        self.findings.append(Finding(graph, failure, self.framework, self._known(failure, graph)))
        self.progress(f"finding {failure.signature[:8]}: {failure.symptom} in {failure.component} "
                      f"({len(graph['nodes'])} nodes)")

    def _known(self, failure: Failure, graph: dict):
        """The known-failures entry (a pattern) the finding matches, or None."""
        return self.known(failure, graph) or None

    def progress_line(self) -> str:
        s = self.stats.summary()
        return (f"{s['models']} models, {s['valid_rate']:.0%} valid, {len(s['onnx_ops'])} ONNX ops, "
                f"{s['models_per_minute']}/min, {len(self.findings)} findings")


def write_outputs(campaign: Campaign, out: str | Path, check_targets: list[str] | None = None) -> Path:
    """``summary.json``, ``findings.jsonl`` and ``repro/<sig8>/`` per finding under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({**campaign.stats.summary(), "findings": len(campaign.findings)},
                                                 indent=2) + "\n")
    with open(out / "findings.jsonl", "w") as f:
        for finding in campaign.findings:
            f.write(json.dumps(finding_row(finding, write_repro(finding, out / "repro"))) + "\n")
    return out


def finding_row(finding: Finding, repro: Path) -> dict:
    fl = finding.failure
    return {"signature": fl.signature, "framework": finding.framework, "converter": fl.converter,
            "target": fl.target, "component": fl.component, "symptom": fl.symptom, "ops": fl.ops,
            "nodes": len(finding.graph["nodes"]), "known": finding.known, "repro": str(repro),
            "message": fl.message, "graph": graph_id(finding.graph)}


def write_repro(finding: Finding, root: Path) -> Path:
    fl = finding.failure
    folder = root / fl.signature[:8]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "graph.json").write_text(json.dumps(finding.graph, indent=1) + "\n")
    command = f"# {fl.symptom} in {fl.component}: {fl.message}\n"
    if fl.onnx:
        import numpy as np
        (folder / "model.onnx").write_bytes(fl.onnx)
        np.savez(folder / "inputs.npz", **fl.inputs)
        np.savez(folder / "expected.npz", **fl.expected)      # the source framework's outputs: the oracle
        command += (f"conformance check {folder / 'model.onnx'} --inputs {folder / 'inputs.npz'} "
                    f"--expected {folder / 'expected.npz'} --target {fl.target}\n")
    else:
        command += f"(no ONNX model: the converter {fl.converter} failed on graph.json)\n"
    (folder / "README.txt").write_text(command)
    return folder
