"""Triage of failed case records: what went wrong (the symptom), whose fault (the component),
and a signature that is the same for two failures of the same bug, so that a fuzzing campaign
reports each bug once however many graphs hit it.

Works on result records as dicts (``CaseResult.to_dict()`` or a JSON Lines row) or on
``CaseResult`` objects; imports nothing of the suites.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re

SYMPTOMS = ("converter crash", "converter hang", "invalid model", "target refuses model", "wrong values",
            "nan-inf pattern", "shape mismatch", "harness error", "batch-dependent values",
            "optimization-dependent values")
# a failure found by a metamorphic oracle (suites.fuzz.oracles) names it in the record's extra
ORACLE_SYMPTOMS = {"batch-split": "batch-dependent values", "ort-optimization": "optimization-dependent values"}

_HANG = re.compile(r"timed? ?out|timeout|hang", re.I)
_INVALID = re.compile(r"invalid (onnx|model|graph)|ValidationError|check_model|InvalidGraph|INVALID_GRAPH", re.I)
_SHAPE = re.compile(r"shape", re.I)
_OUTPUT_SHAPES = re.compile(r"output shapes .* != expected")      # the judge's shape check, on any line
_NAN = re.compile(r"\bnan\b|\binf\b|non-?finite", re.I)


def _as_dict(record) -> dict:
    if isinstance(record, dict):
        return record
    return dataclasses.asdict(record)


def _attribution(r: dict) -> str:
    d = r.get("diagnosis") or {}
    return (d.get("attribution") or "") if isinstance(d, dict) else ""


def symptom(record) -> str:
    """One of ``SYMPTOMS`` for a record whose status is failed or error."""
    r = _as_dict(record)
    message, attribution = r.get("message") or "", _attribution(r)
    oracle = (r.get("extra") or {}).get("oracle")
    if oracle in ORACLE_SYMPTOMS:
        return ORACLE_SYMPTOMS[oracle]
    if attribution == "harness":
        return "harness error"
    if r.get("status") == "failed":
        if _SHAPE.search(message.split("\n")[0]) or _OUTPUT_SHAPES.search(message):
            return "shape mismatch"
        return "nan-inf pattern" if _NAN.search(message) else "wrong values"
    if not r.get("onnx_ops"):                   # no model came out of the conversion
        return "converter hang" if _HANG.search(message) else "converter crash"
    return "invalid model" if _INVALID.search(message) else "target refuses model"


def slug(symptom_name: str) -> str:
    """``"nan-inf pattern"`` -> ``"nan-inf-pattern"``: a symptom as a case-id word."""
    return re.sub(r"[^a-z0-9]+", "-", symptom_name.lower()).strip("-")


def component(record) -> str:
    """``"converter:<name> <version>"`` or ``"target:<name> <version>"``: who to report it to."""
    r = _as_dict(record)
    versions = r.get("versions") or {}
    blamed = "target" if _attribution(r) == "target" else "converter"
    if symptom(r) == "target refuses model":
        blamed = "target"
    name = r.get(blamed) or ""
    return f"{blamed}:{name} {versions.get(blamed, '')}".strip()


_PATTERNS = (
    # a converter's fault reads "the <other> target disagrees ... too": one bug, whichever target ran
    (re.compile(r"\bthe [\w.@+-]+ target\b"), "the <target> target"),
    (re.compile(r"(/[\w.@+-]+)+/?"), "<path>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<hex>"),
    (re.compile(r"['\"`][^'\"`\n]*['\"`]"), "<name>"),
    (re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"), "<n>"),
    (re.compile(r"<n>(\s*[,x]\s*<n>)*,?"), "<n>"),     # shapes and lists of any length
    (re.compile(r"\s+"), " "),
)


def normalise(message: str) -> str:
    """The first line of a message with paths, hex, quoted names and numbers blanked out."""
    line = (message or "").strip().split("\n")[0]
    for pattern, repl in _PATTERNS:
        line = pattern.sub(repl, line)
    return line.strip()


def signature(record, ops) -> str:
    """sha1 of symptom, component, normalised message and the sorted op types involved."""
    r = _as_dict(record)
    payload = "\x1f".join([symptom(r), component(r), normalise(r.get("message") or ""), ",".join(sorted(set(ops)))])
    return hashlib.sha1(payload.encode()).hexdigest()


def implicated_ops(record) -> list[str]:
    """The op types a record itself blames: its first divergent ONNX node's, when diagnosed
    (the whole model's ops would make every graph its own bug)."""
    d = _as_dict(record).get("diagnosis") or {}
    node = (d.get("divergent_node") or {}) if isinstance(d, dict) else {}
    return [node["op_type"]] if node.get("op_type") else []
