"""The diagnose stage: for a failed or errored case, whose fault it is (``conformance.blame``)
and where it starts -- the first divergent ONNX node when the target is at fault
(``conformance.divergent_node``), the first divergent source layer when the converter is
(``conformance.source_layers``). The findings go into the record's ``diagnosis``; each one also
puts a line in front of the case's message. A diagnosis never breaks a case: what goes wrong
while diagnosing is recorded as ``diagnosis.attribution_error``, with what was found so far.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import onnx

from .blame import Blame, SecondOpinion, blame_run_failure, blame_wrong_outputs, second_opinion
from .cases import CaseSpec, Conversion
from .divergent_node import FLOAT64_ORACLE, first_divergent_node
from .execution import Sessions
from .formats import FORMATS, ONNX
from .results import Diagnosis
from .source_layers import MIN_ATOL_SCALE, MIN_RTOL, first_divergent_source_layer
from .noise_floor import floor_yardstick
from .tolerance import NOISE_FLOOR_KINDS, NOISE_MULTIPLE, case_noise_multiple, case_tolerance, resolve_tolerance
from .workers import WorkerPool

INTERMEDIATES = "converters.intermediates:source_intermediates"
# a layer agreeing within the intermediate tolerance is still the divergent one when it is off by
# more than this multiple of its ONNX value's float32 noise floor (the verdicts' multiple)
LOCALISATION_NOISE_MULTIPLE = NOISE_MULTIPLE


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
            opinion = self._second_opinion(failure)
            blame: Blame = blame_for(opinion)
            found.diagnosis.attribution = blame.attribution
            if blame.note:
                found.note(blame.note)
            if failure.conv.onnx_bytes is None:
                # localisation walks ONNX nodes: a model of another format is judged whole
                found.note(f"not localised: the artifact is not ONNX (format {failure.conv.format})"
                           + ("" if opinion.available else f"; {opinion.name}, so whose fault is unknown"))
                return found
            if localize and blame.attribution in ("target", "converter"):
                self._localize(failure, blame.attribution, found)
        except Exception as exc:
            found.diagnosis.attribution_error = f"{type(exc).__name__}: {exc}"
        return found

    def _second_opinion(self, failure: Failure) -> SecondOpinion:
        """Another executor's outputs of the model; for a format no other runtime here runs,
        the reference's on the artifact translated to ONNX where the format says how."""
        opinion = second_opinion(failure.target, self.sessions, failure.key, failure.conv)
        fmt = FORMATS.get(failure.conv.format)
        if opinion.available or fmt is None or fmt.as_onnx is None:
            return opinion
        name = f"reference target (the {fmt.name} model translated to ONNX by {fmt.as_onnx.rpartition(':')[2]})"
        try:
            translated = self.pool.get(failure.spec.framework, None, failure.interpreter).request(
                "call", failure.spec.to_dict(), fmt.as_onnx, {"artifact": failure.conv.artifact}, timeout=self.timeout)
        except Exception as exc:
            return SecondOpinion(f"{opinion.name}; translating it to ONNX failed: {type(exc).__name__}: {exc}"[:300],
                                 False, None)
        conv = dataclasses.replace(failure.conv, artifact=translated["onnx"], format=ONNX,
                                   input_names=translated["inputs"], output_names=translated["outputs"])
        return SecondOpinion(name, True, self.sessions.reference(failure.key + "|as-onnx", conv))

    def _localize_by_floor(self, failure: Failure, model, feeds, found: Diagnosed) -> bool:
        """A case its verdict judged by the noise floor (a whole model, a generated graph): the
        target's intermediates against the float64 reference, each held to the verdict's
        multiple of its own float32 noise floor, as ``conformance check`` does. False where the
        verdict used no floor (then the case's own tolerance localises)."""
        spec, conv = failure.spec, failure.conv
        multiple = case_noise_multiple(spec.kind, spec.tolerance, conv.precision, conv.expected is not None)
        if multiple is None:
            return False
        widens = NOISE_FLOOR_KINDS[spec.kind] == "widens"
        oracle, tolerances = floor_yardstick(model, feeds, failure.target, lambda floor: case_tolerance(
            np.float32, spec.tolerance, floor, multiple, widens))
        node = first_divergent_node(model, feeds, self.target_for(failure.target), tolerances, oracle=oracle)
        if node is not None:
            found.diagnosis.divergent_node = node.to_dict()
            found.note(f"first divergent node: {node} [vs {FLOAT64_ORACLE}, each value within {multiple:g} x its "
                       "float32 noise floor]")
        else:
            found.note(f"not localised: every node's output on {failure.target} agrees with {FLOAT64_ORACLE} "
                       f"within {multiple:g} x its float32 noise floor on the sample")
        return True

    def _localize(self, failure: Failure, whose: str, found: Diagnosed) -> None:
        model = onnx.load_from_string(failure.conv.onnx_bytes)
        feeds = dict(zip(failure.conv.input_names, failure.conv.input_sets[0]))
        tol = resolve_tolerance(np.float32, None, failure.spec.tolerance)
        if whose == "target" and self._localize_by_floor(failure, model, feeds, found):
            return
        if whose == "target":
            # the reference under test is held to itself computing in float64, the truth; where
            # that agrees (a semantic, not a precision, difference), to onnxruntime, which agreed
            # with the source framework
            oracles = (FLOAT64_ORACLE, "onnxruntime") if failure.target == "reference" else ("reference",)
            for oracle in oracles:
                node = first_divergent_node(model, feeds, self.target_for(failure.target), tol, oracle=oracle)
                if node is not None:
                    found.diagnosis.divergent_node = node.to_dict()
                    found.note(f"first divergent node: {node}")
                    return
            found.note(f"not localised: every node's output on {failure.target} agrees with "
                       f"{' and with '.join(oracles)} on the sample")
            return
        intermediates = self.pool.get(failure.spec.framework, None, failure.interpreter).request(
            "call", failure.spec.to_dict(), INTERMEDIATES, {}, timeout=self.timeout)
        layer = first_divergent_source_layer(model, feeds, intermediates, tol, naming=failure.naming,
                                             noise_multiple=LOCALISATION_NOISE_MULTIPLE)
        if layer is not None:
            found.diagnosis.divergent_source_layer = layer.to_dict()
            found.note(f"first divergent source layer: {layer}")
        else:
            found.note("not localised: every source layer the ONNX graph maps agrees on the sample within the "
                       f"intermediate tolerance (rtol >= {MIN_RTOL:g}, atol >= {MIN_ATOL_SCALE:g} x max|value|) and "
                       f"within {LOCALISATION_NOISE_MULTIPLE:g} x its float32 noise floor: the divergence is smaller, "
                       "or in code outside those layers (the model's own forward)")
