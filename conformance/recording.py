"""The record stage: a case's judged and diagnosed record, mapped through the known-failures
table (``xfailed``/``xpassed``/``unsupported``), and for a failed case with a model, its repro
bundle (``conformance.repro``)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from .cases import Conversion
from .known_failures import KnownFailures, expected_status
from .repro import write_repro
from .results import CaseResult


def apply_known_failure(record: CaseResult, names: list[tuple[str, str, str]], known: KnownFailures | None) -> CaseResult:
    """``names``: the (case id, converter, target) names the case goes by, its own first."""
    if known is None:
        return record
    entry = known.match_any(names, record.versions.get("converter", ""))
    status, message = expected_status(record.status, record.message, entry)
    return dataclasses.replace(record, status=status, message=message,
                               known_failure={"status": entry.status, "pattern": entry.pattern} if entry else None)


def attach_repro(record: CaseResult, conv: Conversion, repro_dir: str | None) -> CaseResult:
    """Write the repro bundle of a failed or errored case whose conversion produced a model."""
    if record.status not in ("failed", "error") or not repro_dir or conv.status != "ok":
        return record
    try:
        return dataclasses.replace(record, repro=str(write_repro(Path(repro_dir), record, conv)))
    except OSError as exc:
        return dataclasses.replace(record, repro_error=str(exc))


def finish(record: CaseResult, conv: Conversion, names: list[tuple[str, str]], known: KnownFailures | None,
           repro_dir: str | None) -> CaseResult:
    return attach_repro(apply_known_failure(record, names, known), conv, repro_dir)
