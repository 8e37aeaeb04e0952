"""Whose fault: target-vs-converter attribution of a failed case, from a second opinion.

One of three diagnoses of a failed case (this module: whose fault; ``conformance.divergent_node``:
the first divergent ONNX node; ``conformance.source_layers``: the first divergent source layer).

The second opinion is another executor of the same ONNX model: the reference executor, or
onnxruntime when the case's target is the reference (for another format: another installed
runtime of it, where there is one; else the attribution is unknown and the record says why). If it agrees with the source framework,
the converted model is right and the target is wrong; if it disagrees too (or cannot run the
model either), the converter is.
"""
from __future__ import annotations

from dataclasses import dataclass

from .cases import Conversion, CaseSpec
from .execution import Sessions
from .judge import agrees_with_source
from .placement import split_env
from .targets import TARGETS, get_target, target_status

UNKNOWN = "unknown (no second opinion available)"


@dataclass
class SecondOpinion:
    name: str                          # the other executor's target name
    available: bool                    # installed here
    outputs: list | None               # its outputs per input set; None if it cannot run the model


@dataclass
class Blame:
    attribution: str                   # "target" | "converter" | UNKNOWN
    note: str = ""                     # the line the case's message starts with ("" for UNKNOWN)


def second_opinion(target: str, sessions: Sessions, key: str, conv: Conversion) -> SecondOpinion:
    """The other oracle's view of the model: the reference, or onnxruntime for the reference;
    for an artifact of another format, another runtime of that format where one is installed."""
    if conv.format != "onnx":
        return _other_runtime(target, sessions, key, conv)
    if target != "reference":
        return SecondOpinion("reference", True, sessions.reference(key, conv))
    if not target_status("onnxruntime")[0]:
        return SecondOpinion("onnxruntime", False, None)
    try:
        return SecondOpinion("onnxruntime", True, sessions.run(get_target("onnxruntime"), key, conv))
    except Exception:
        return SecondOpinion("onnxruntime", True, None)


def _other_runtime(target: str, sessions: Sessions, key: str, conv: Conversion) -> SecondOpinion:
    """Another installed runtime of the format: not the case's runtime at another setting (its
    distribution), and not one that can crash its process (``isolated``: this one must not)."""
    own = get_target(split_env(target)[0]).distribution if split_env(target)[0] in TARGETS else None
    others = [name for name in TARGETS.names() if name in TARGETS and conv.format in get_target(name).formats
              and get_target(name).distribution != own and not get_target(name).isolated and target_status(name)[0]]
    if not others:
        return SecondOpinion(f"no other runtime of {conv.format} models here", False, None)
    try:
        return SecondOpinion(others[0], True, sessions.run(get_target(others[0]), key, conv))
    except Exception:
        return SecondOpinion(others[0], True, None)


def blame_wrong_outputs(target: str, converter: str, spec: CaseSpec, conv: Conversion,
                        opinion: SecondOpinion) -> Blame:
    """The target ran the model and its outputs are out of tolerance: whose fault is it?"""
    if opinion.outputs is None:
        return Blame(UNKNOWN)
    if agrees_with_source(opinion.outputs, conv, spec):
        return Blame("target", f"attributed to the TARGET {target}: the {opinion.name} target agrees with the "
                               f"source framework, {target} does not.")
    return Blame("converter", f"attributed to the CONVERTER {converter}: the {opinion.name} target disagrees "
                              f"with the source framework too.")


def blame_run_failure(spec: CaseSpec, conv: Conversion, opinion: SecondOpinion) -> Blame:
    """The target could not run the model: its own failure if the second opinion runs it and
    agrees with the source; the converter's if the model runs nowhere, or is not a valid ONNX
    model at all (a lenient second opinion that runs it anyway does not clear the converter)."""
    invalid = onnx_checker_error(conv)
    if invalid:
        return Blame("converter", f"attributed to the CONVERTER: the model is not valid ONNX (onnx.checker: {invalid}).")
    if not opinion.available:
        return Blame(UNKNOWN)
    if opinion.outputs is None:
        whose, why = "converter", f"the {opinion.name} target cannot run the model either"
    elif agrees_with_source(opinion.outputs, conv, spec):
        whose, why = "target", f"the {opinion.name} target runs it and agrees with the source framework"
    else:
        whose, why = "converter", f"the {opinion.name} target runs it but disagrees with the source framework"
    return Blame(whose, f"attributed to the {whose.upper()}: {why}.")


def onnx_checker_error(conv: Conversion) -> str:
    """onnx.checker's first line on an ONNX artifact ("" when valid, or not ONNX)."""
    if conv.onnx_bytes is None:
        return ""
    import onnx
    try:
        onnx.checker.check_model(onnx.load_from_string(conv.onnx_bytes))
    except Exception as exc:       # checker errors, and models over 2 GB it cannot check in memory
        if isinstance(exc, ValueError) and "2GB" in str(exc):
            return ""
        return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return ""
