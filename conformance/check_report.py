"""What ``conformance check`` found: per target and output, the verdict and error statistics
(``CheckReport`` / ``TargetCheck`` / ``OutputCheck``), and their renderings as the text table
and as JSON. Plain data: built by ``conformance.check``, printed by the command line."""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .comparator import Comparison
from .results import finite_json


@dataclass
class OutputCheck:
    name: str
    passed: bool
    shape: tuple | None
    dtype: str | None
    max_abs: float | None
    max_rel: float | None
    mismatch: float | None
    tolerance: str
    message: str
    noise_floor: float | None = None   # the float32 noise floor the tolerance was measured from

    @classmethod
    def from_comparison(cls, c: Comparison) -> "OutputCheck":
        return cls(c.name, bool(c.passed), c.shape, c.dtype, c.max_abs, c.max_rel, c.mismatch,
                   _tol_text(c), c.message, c.tol.noise_floor)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape) if self.shape is not None else None
        for key in ("max_abs", "max_rel", "mismatch"):
            if isinstance(d[key], float) and not math.isfinite(d[key]):
                d[key] = str(d[key])
        return d


@dataclass
class TargetCheck:
    target: str
    status: str                        # passed | failed | error | unsupported | unavailable
    outputs: list[OutputCheck] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    divergence: Any = None             # localize.Divergence
    localization: str = ""             # what localization found, in words
    repro_dir: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        return {"target": self.target, "status": self.status, "message": self.message,
                "seconds": round(self.seconds, 4), "outputs": [o.to_dict() for o in self.outputs],
                "divergence": jsonable(self.divergence.to_dict()) if self.divergence is not None else None,
                "localization": self.localization,
                "repro_dir": str(self.repro_dir) if self.repro_dir else None}


@dataclass
class CheckReport:
    model: str
    oracle: str
    inputs: dict[str, dict]            # name -> {"shape", "dtype", "source"}
    targets: list[TargetCheck]
    nodes: int = 0
    opsets: dict[str, int] = field(default_factory=dict)
    out_dir: Path | None = None
    tolerance: str = ""                # how the tolerances were set (the noise floor), "" when by dtype
    # with --float-model: per-tensor SQNR/cosine of this (quantized) model against the float one,
    # worst first (``precision_attribution.TensorError.to_dict()`` rows)
    attribution: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.targets) and all(t.passed for t in self.targets)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict:
        return {"model": self.model, "oracle": self.oracle, "passed": self.passed, "exit_code": self.exit_code,
                "nodes": self.nodes, "opsets": self.opsets, "inputs": self.inputs,
                "tolerance": self.tolerance, "targets": [t.to_dict() for t in self.targets],
                "out_dir": str(self.out_dir) if self.out_dir else None, "attribution": self.attribution}

    def text(self) -> str:
        opsets = ", ".join(f"{d or 'ai.onnx'} {v}" for d, v in self.opsets.items())
        lines = [f"model: {self.model} ({self.nodes} nodes; opset {opsets}); oracle: {self.oracle}"]
        for name, info in self.inputs.items():
            lines.append(f"input: {name} {info['dtype']} {tuple(info['shape'])} ({info['source']})")
        if self.tolerance:
            lines.append(f"tolerance: {self.tolerance}")
        lines += _table(self.targets)
        for t in self.targets:
            if not t.passed:
                lines += _failure_lines(t)
        if self.attribution:
            lines.append("quantization error per tensor against the float model, worst first:")
            lines += [f"  {r['name']}  node {r['node']} ({r['op_type']})  SQNR {r['sqnr_db']} dB  "
                      f"cosine {r['cosine']}" for r in self.attribution[:10]]
        n_ok = sum(t.passed for t in self.targets)
        lines.append(f"result: {'PASS' if self.passed else 'FAIL'} ({n_ok} of {len(self.targets)} targets pass)")
        return "\n".join(lines)


def render(report: CheckReport, as_json: bool = False) -> str:
    """The report as the command prints it: the text table, or indented JSON."""
    if as_json:
        return json.dumps(jsonable(report.to_dict()), indent=1, allow_nan=False)
    return report.text()


def _table(targets: list[TargetCheck]) -> list[str]:
    """One row per target and output, columns padded to their widest cell."""
    header = ("target", "output", "shape", "max_abs", "max_rel", "mismatch", "tolerance", "verdict")
    rows = []
    for t in targets:
        if not t.outputs:
            rows.append((t.target, "-", "-", "-", "-", "-", "-", t.status.upper()))
        for o in t.outputs:
            rows.append((t.target, o.name, str(tuple(o.shape)) if o.shape is not None else "-",
                         _e(o.max_abs), _e(o.max_rel),
                         "-" if o.mismatch is None else f"{100 * o.mismatch:.2f}%",
                         o.tolerance, "PASS" if o.passed else "FAIL"))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header, *rows]]


def _failure_lines(t: TargetCheck) -> list[str]:
    lines = []
    if t.message:
        lines.append(f"{t.target}: {t.status}: {t.message}")
    for o in t.outputs:
        if not o.passed:
            lines += [f"  {line}" for line in o.message.splitlines()]
    if t.localization:
        lines.append(f"{t.target}: {t.localization}")
    if t.repro_dir:
        lines.append(f"{t.target}: one-node repro written to {t.repro_dir}")
    return lines


def _tol_text(c: Comparison) -> str:
    tol = c.tol
    exact = tol.exact if tol.exact is not None else (c.dtype is not None and np.dtype(c.dtype).kind in "iub")
    if exact:
        return "exact"
    text = f"rtol={tol.rtol:g} atol={tol.atol:g}"
    if tol.noise_floor is not None:     # atol came from the measured float32 noise floor
        text += f" ({tol.noise_multiple:g}x floor {tol.noise_floor:.2g})"
    return text + (f" {tol.stat}<={tol.stat_atol:g}" if tol.stat else "")


def _e(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2e}" if math.isfinite(value) else str(value)


def _python_number(obj):
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def jsonable(obj):
    """``obj`` as ``json.dumps(..., allow_nan=False)`` takes it: numpy scalars as Python numbers,
    NaN and infinities as the strings "nan", "inf", "-inf" (the results files' encoding)."""
    return finite_json(json.loads(json.dumps(obj, default=_python_number)))
