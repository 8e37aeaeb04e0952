"""The result record: one JSON object per case x target, in JSON Lines.

Schema version 2 (version 1 files, which kept the stage fields in ``extra``, are read too). Keys (all present in every record; ``None`` where not applicable):

======================  ==================================================================
key                     meaning
======================  ==================================================================
schema                  record schema version (int, currently 2)
case_id                 full id, e.g. ``op/conv2d/torch/torch-script/opset17/onnxruntime/stride2``
kind                    op | padding | semantics | arch | model | benchmark | node | accuracy
                        | fuzz | generation
op                      operator spec name (``conv2d``, ``gelu_tanh``) for op/padding/semantics cases
onnx_ops                sorted ONNX op types in the converted model (list of str)
arch                    architecture name for arch cases (``resnet50``)
framework               torch | tensorflow | paddle | onnx
converter               converter name (``torch-script``, ``tf2onnx+optimize``)
opset                   ONNX opset the converter was asked for (int)
format                  the converted artifact's format (``onnx``, ``tflite``, ``openvino``, ...;
                        conformance.formats); ``None`` where nothing was converted
precision               the arithmetic the converter stored the model in (``fp32``, or
                        ``fp16-weights`` / ``int8`` for a quantized conversion, judged at metric
                        level: ``extra`` then holds the metrics); ``None`` where not converted
target                  target name (``onnxruntime``)
status                  one of STATUSES
max_abs                 worst absolute error against the source framework's output
max_rel                 worst relative error
mismatch                fraction of elements outside tolerance
rtol, atol              tolerance applied
seconds                 {"build": s, "convert": s, "run": s}
message                 one-line-or-more human explanation (failures carry statistics)
versions                {"framework": ..., "converter": ..., "onnx": ..., "target": ..., "cpu": ...}
cached                  convert stage: the conversion came from the conversion cache (bool)
traceback               convert stage (a converter that raised) or the harness (an unexpected
                        error): the Python traceback, last 4000 characters
target_precision        execute stage: the precision the target computes in (``fp32``, ``fp16``)
diagnosis               diagnose stage, on a failed or errored case (see ``Diagnosis``):
                        {"attribution", "attribution_error", "divergent_node",
                        "divergent_source_layer"}
known_failure           record stage: the known-failures entry that matched,
                        {"status": "xfail"|"unsupported"|"flaky", "pattern": glob}
repro                   record stage: the repro bundle's folder (failed/error cases with a model)
repro_error             record stage: why the repro bundle could not be written
extra                   free-form details of other producers: a benchmark record's statistics
                        (``samples`` in ms, ``percentiles_ms``, ``environment``, ...; written
                        by ``conformance.bench``); an accuracy record's ``accuracy``,
                        ``source_accuracy``, ``agreement``, ``samples``, ``lossy``, ``rule``
                        (``conformance.accuracy``); a generation record's ``tokens_total``,
                        ``tokens_agree``, ``first_divergent_step``,
                        ``first_divergent_position`` ({row, position, source_token,
                        target_token}), ``source_margin``, ``min_source_margin``,
                        ``logits_max_abs`` (``conformance.generation``)
======================  ==================================================================

Older files kept the stage fields inside ``extra`` (``extra["attribution"]``,
``extra["known_failure"]``, ...). Reading a record (``CaseResult.from_dict``, and the
constructor) moves those keys to their named fields, so the committed baseline and any older
results file read the same as a new one.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import ResultsFileError

SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)      # 1: the stage fields lived in ``extra``; read into their fields
STATUSES = (
    "passed", "failed", "error", "skipped", "unavailable", "unsupported", "xfailed", "xpassed",
)
KINDS = ("op", "padding", "semantics", "arch", "model", "benchmark", "node", "accuracy", "fuzz", "generation")


@dataclass
class Diagnosis:
    """The diagnose stage's findings on a failed or errored case (all optional)."""

    #: whose fault (``conformance.blame``): "target", "converter", or
    #: "unknown (no second opinion available)"
    attribution: str | None = None
    #: why the diagnosis stopped short (``"TypeError: ..."``); a diagnosis never breaks a case
    attribution_error: str | None = None
    #: the first divergent ONNX node on the target (``conformance.divergent_node``,
    #: ``Divergence.to_dict()``), when the target is at fault
    divergent_node: dict | None = None
    #: the first divergent source layer (``conformance.source_layers``,
    #: ``SourceDivergence.to_dict()``), when the converter is at fault
    divergent_source_layer: dict | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> "Diagnosis | None":
        if data is None:
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# where the keys older files kept in ``extra`` live now: top-level fields and Diagnosis fields
_LEGACY_FIELDS = ("cached", "traceback", "target_precision", "known_failure", "repro", "repro_error")
_LEGACY_DIAGNOSIS = tuple(f.name for f in dataclasses.fields(Diagnosis))


@dataclass
class CaseResult:
    case_id: str
    kind: str
    framework: str
    converter: str
    target: str
    status: str
    opset: int | None = None
    converter_env: str | None = None       # the named environment the converter ran in (None: main)
    target_env: str | None = None          # the named environment the target ran in (None: main)
    op: str | None = None
    onnx_ops: list[str] = field(default_factory=list)
    format: str | None = None
    precision: str | None = None
    arch: str | None = None
    max_abs: float | None = None
    max_rel: float | None = None
    mismatch: float | None = None
    rtol: float | None = None
    atol: float | None = None
    seconds: dict[str, float] = field(default_factory=lambda: {"build": 0.0, "convert": 0.0, "run": 0.0})
    message: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    cached: bool | None = None
    traceback: str | None = None
    target_precision: str | None = None
    diagnosis: Diagnosis | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    known_failure: dict | None = None
    repro: str | None = None
    repro_error: str | None = None
    schema: int = SCHEMA_VERSION

    def __post_init__(self):
        if isinstance(self.diagnosis, dict):
            self.diagnosis = Diagnosis.from_dict(self.diagnosis)
        self._adopt_legacy_extra()
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {STATUSES}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; expected one of {KINDS}")

    def _adopt_legacy_extra(self) -> None:
        """Move stage keys an older record kept in ``extra`` to their named fields."""
        if not self.extra or not any(k in self.extra for k in _LEGACY_FIELDS + _LEGACY_DIAGNOSIS):
            return
        self.extra = dict(self.extra)
        for key in _LEGACY_FIELDS:
            if key in self.extra and getattr(self, key) is None:
                setattr(self, key, self.extra.pop(key))
        if self.diagnosis is None:
            found = {k: self.extra.pop(k) for k in _LEGACY_DIAGNOSIS if k in self.extra}
            self.diagnosis = Diagnosis(**found) if found else None

    @property
    def attribution(self) -> str | None:
        """Whose fault a failure is (``diagnosis.attribution``), or None."""
        return self.diagnosis.attribution if self.diagnosis else None

    def to_json(self) -> str:
        return json.dumps(finite_json(dataclasses.asdict(self)), sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict) -> "CaseResult":
        """A record of any readable schema, in this version's layout (and schema number)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"schema"}
        return cls(**{k: v for k, v in data.items() if k in names})


def as_float(value) -> float | None:
    """Record errors may be None, a float, or (for NaN/Inf, which JSON lacks) a string."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def finite_json(obj):
    """JSON has no NaN/Inf: encode them as strings so the file stays valid JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


def append(path: str | os.PathLike, records: Iterable[CaseResult]) -> None:
    """Append records; each line is written with one ``write`` on an O_APPEND file so that
    concurrent writers never interleave inside a line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for record in records:
            os.write(fd, (record.to_json() + "\n").encode())
    finally:
        os.close(fd)


def write(path: str | os.PathLike, records: Iterable[CaseResult]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as fh:
        for record in records:
            fh.write(record.to_json() + "\n")
    os.replace(tmp, path)


def iter_records(path: str | os.PathLike) -> Iterator[CaseResult]:
    path = Path(path)
    if not path.exists():
        raise ResultsFileError(f"results file {path} does not exist", fix="pass the file written by --results")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"results file {path} cannot be read ({type(exc).__name__}: {exc})") from None
    if not text.strip():
        raise ResultsFileError(f"results file {path} is empty", fix="rerun the suite with --results")
    if not text.endswith("\n"):
        raise ResultsFileError(f"results file {path} is truncated (last line has no newline)",
                               fix="rerun the suite; the writer was interrupted")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ResultsFileError(f"{path}:{lineno}: not valid JSON ({exc.msg})",
                                   fix="the file is truncated or corrupt; rerun the suite") from None
        if not isinstance(data, dict) or data.get("schema") not in READABLE_SCHEMAS:
            raise ResultsFileError(
                f"{path}:{lineno}: schema {data.get('schema') if isinstance(data, dict) else None!r}, "
                f"this tool reads schemas {', '.join(map(str, READABLE_SCHEMAS))}",
                fix="regenerate the file with this version")
        try:
            yield CaseResult.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ResultsFileError(f"{path}:{lineno}: invalid record ({exc})") from None


def read(path: str | os.PathLike) -> list[CaseResult]:
    return list(iter_records(path))


def merge(record_lists: Iterable[Iterable[CaseResult]], conflicts: list | None = None) -> list[CaseResult]:
    """Merge the records of several files (shards, xdist workers).

    Identical duplicates collapse. Two records for the same case id with different statuses
    are a conflict: they raise ``ResultsFileError``, unless a ``conflicts`` list is given, which
    then collects them (the later record is kept) so a session can still write its results.
    """
    merged: dict[str, CaseResult] = {}
    for records in record_lists:
        for record in records:
            seen = merged.get(record.case_id)
            if seen is not None and seen.status != record.status:
                text = f"duplicate case {record.case_id} disagrees: {seen.status} vs {record.status}"
                if conflicts is None:
                    raise ResultsFileError(text, fix="merge the shards of one run only")
                conflicts.append(text)
                merged[record.case_id] = record
            merged.setdefault(record.case_id, record)
    return sorted(merged.values(), key=lambda r: r.case_id)
