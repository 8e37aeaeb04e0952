"""The diagnose stage: for a failed or errored case, whose fault it is (``conformance.blame``)
and where it starts -- the first divergent ONNX node when the target is at fault
(``conformance.divergent_node``), the first divergent source layer when the converter is
(``conformance.source_layers``). The findings go into the record's ``diagnosis``; each one also
puts a line in front of the case's message. A diagnosis never breaks a case: what goes wrong
while diagnosing is recorded as ``diagnosis.attribution_error``, with what was found so far.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx

from .blame import Blame, blame_run_failure, blame_wrong_outputs, second_opinion
from .cases import CaseSpec, Conversion
from .divergent_node import FLOAT64_ORACLE, first_divergent_node
from .execution import Sessions
from .results import Diagnosis
from .source_layers import first_divergent_source_layer
from .tolerance import resolve_tolerance
from .workers import WorkerPool

INTERMEDIATES = "converters.intermediates:source_intermediates"


@dataclass
class Failure:
    """The failed case to diagnose: plain data from the earlier stages."""

    spec: CaseSpec
    target: str
    converter: str
    key: str                           # the conversion's cache key (sessions are cached by it)
    conv: Conversion
    naming: object = None              # the base Converter: its source_scopes/layer_groups hooks
    interpreter: object = None         # where the converter's framework worker runs (None: default)


@dataclass
class Diagnosed:
    diagnosis: Diagnosis = field(default_factory=Diagnosis)
    notes: list[str] = field(default_factory=list)      # lines for the message, first line first

    def note(self, line: str) -> None:
        self.notes.insert(0, line)

    def message(self, message: str) -> str:
        return "".join(line + "\n" for line in self.notes) + message


class Diagnoser:
    def __init__(self, sessions: Sessions, pool: WorkerPool, timeout: float, localize: bool = True,
                 target_for=None):
        self.sessions, self.pool, self.timeout, self.localize = sessions, pool, timeout, localize
        self.target_for = target_for or (lambda name: name)     # a name -> the Target (or the name)

    def wrong_outputs(self, failure: Failure) -> Diagnosed:
        """The target ran the model, its outputs are out of tolerance."""
        return self._diagnose(failure, lambda opinion: blame_wrong_outputs(
            failure.target, failure.converter, failure.spec, failure.conv, opinion), localize=self.localize)

    def run_failure(self, failure: Failure) -> Diagnosed:
        """The target could not run the model."""
        return self._diagnose(failure, lambda opinion: blame_run_failure(failure.spec, failure.conv, opinion),
                              localize=False)

    def _diagnose(self, failure: Failure, blame_for, localize: bool) -> Diagnosed:
        found = Diagnosed()
        try:
            blame: Blame = blame_for(second_opinion(failure.target, self.sessions, failure.key, failure.conv))
            found.diagnosis.attribution = blame.attribution
            if blame.note:
                found.note(blame.note)
            if localize and blame.attribution in ("target", "converter"):
                self._localize(failure, blame.attribution, found)
        except Exception as exc:
            found.diagnosis.attribution_error = f"{type(exc).__name__}: {exc}"
        return found

    def _localize(self, failure: Failure, whose: str, found: Diagnosed) -> None:
        model = onnx.load_from_string(failure.conv.onnx_bytes)
        feeds = dict(zip(failure.conv.input_names, failure.conv.input_sets[0]))
        tol = resolve_tolerance(np.float32, None, failure.spec.tolerance)
        if whose == "target":
            # the reference under test is held to itself computing in float64, the truth
            oracle = FLOAT64_ORACLE if failure.target == "reference" else "reference"
            node = first_divergent_node(model, feeds, self.target_for(failure.target), tol, oracle=oracle)
            if node is not None:
                found.diagnosis.divergent_node = node.to_dict()
                found.note(f"first divergent node: {node}")
            return
        intermediates = self.pool.get(failure.spec.framework, None, failure.interpreter).request(
            "call", failure.spec.to_dict(), INTERMEDIATES, {}, timeout=self.timeout)
        layer = first_divergent_source_layer(model, feeds, intermediates, tol, naming=failure.naming)
        if layer is not None:
            found.diagnosis.divergent_source_layer = layer.to_dict()
            found.note(f"first divergent source layer: {layer}")
