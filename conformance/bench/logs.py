"""LoadGen's log files: where they go, and what our summary reads from them.

``mlperf_log_detail.txt`` holds one ``:::MLLOG {json}`` line per event; its ``result_*``,
``early_stopping_*`` and ``effective_*`` keys are what the run measured and ran under.
``mlperf_log_summary.txt`` is LoadGen's own summary, shown as it is.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConformanceError

SUMMARY, DETAIL, ACCURACY = "mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json"
MLLOG = ":::MLLOG "


def log_dir_for(log_dir: str | None, results: str | None = None) -> Path:
    """The folder LoadGen writes into: ``log_dir``; else beside ``results`` (``NAME.loadgen``
    next to ``NAME.jsonl``); else a new temporary folder (the summary names it)."""
    if log_dir:
        path = Path(log_dir)
    elif results:
        path = Path(results).with_suffix("").with_name(Path(results).stem + ".loadgen")
    else:
        return Path(tempfile.mkdtemp(prefix="conformance-loadgen-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def parse_detail(path) -> dict:
    """key -> value of every MLLOG event (a key logged twice keeps its last value); errors and
    warnings are collected under ``"errors"`` and ``"warnings"``."""
    events: dict = {"errors": [], "warnings": []}
    for line in Path(path).read_text(errors="replace").splitlines():
        if not line.startswith(MLLOG):
            continue
        event = json.loads(line[len(MLLOG):])
        events[event["key"]] = event["value"]
        meta = event.get("metadata") or {}
        if meta.get("is_error"):
            events["errors"].append(f"{event['key']}: {event['value']}")
        elif meta.get("is_warning"):
            events["warnings"].append(f"{event['key']}: {event['value']}")
    return events


@dataclass
class LoadGenLog:
    """What one LoadGen run wrote, read back."""
    folder: Path
    events: dict
    summary_text: str
    files: dict = field(default_factory=dict)     # name -> path of each log file

    @property
    def valid(self) -> bool:
        return self.events.get("result_validity") == "VALID"

    def latency_percentiles_ms(self) -> dict:
        """``result_NN.NN_percentile_latency_ns`` -> {"pNN.NN": ms}."""
        out = {}
        for key, value in self.events.items():
            if key.startswith("result_") and key.endswith("_percentile_latency_ns"):
                pct = key[len("result_"):-len("_percentile_latency_ns")]
                out[f"p{float(pct):g}"] = value / 1e6
        return out

    def ns_to_ms(self, key: str) -> float | None:
        value = self.events.get(key)
        return None if value is None else value / 1e6


def read_logs(folder: Path) -> LoadGenLog:
    detail, summary = folder / DETAIL, folder / SUMMARY
    if not detail.is_file() or not summary.is_file():
        raise ConformanceError(f"LoadGen wrote no logs in {folder}", fix="check that the folder is writable")
    files = {name: str(folder / name) for name in (SUMMARY, DETAIL, ACCURACY) if (folder / name).is_file()}
    return LoadGenLog(folder, parse_detail(detail), summary.read_text(errors="replace"), files)
