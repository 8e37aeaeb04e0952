"""``conformance check MODEL.onnx``: run an ONNX file on targets and hold it to an oracle.

    conformance check model.onnx [--target T ...] [--inputs INPUTS.npz] [--shape x=1x3x224x224]
                     [--expected EXPECTED.npz] [--rtol R] [--atol A] [--json] [--out DIR]

The oracle is EXPECTED.npz when given, else the reference executor computing in float64
(outputs cast back to the model's declared types): every target, the float32 ``reference``
target included, is then held to the same higher-precision answer rather than to a copy of
itself; ``--oracle-precision float32`` gives the executor's float32 arithmetic instead.
Per target and output it prints the error statistics and PASS/FAIL; on a failure it names the first divergent node (``conformance.localize``: every
intermediate compared between the reference executor and the target) and, with ``--out``,
writes that node as a one-node model with its captured inputs (ONNX backend-test layout).

Exit 0 when every target passes, 1 when one fails (or cannot run the model), 2 when the
model is not valid ONNX, no target knows one of its ops, or the inputs do not match it.
``check_model`` is the library entry point (other front ends reuse it).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import onnx

from .errors import ConformanceError, InvalidModel, UnsupportedOperator, classify_failure
from .inputs import (DEFAULT_SEED, InvalidInputs, by_name, load_npz, parse_shapes, random_inputs,
                     validate_inputs)
from .comparator import Comparison, compare
from .tolerance import Tolerance, resolve_tolerance

# how onnxruntime (and targets built like it) say "I do not know this op"
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

    @classmethod
    def from_comparison(cls, c: Comparison) -> "OutputCheck":
        return cls(c.name, bool(c.passed), c.shape, c.dtype, c.max_abs, c.max_rel, c.mismatch,
                   _tol_text(c), c.message)

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
                "divergence": _jsonable(self.divergence.to_dict()) if self.divergence is not None else None,
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

    @property
    def passed(self) -> bool:
        return bool(self.targets) and all(t.passed for t in self.targets)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict:
        return {"model": self.model, "oracle": self.oracle, "passed": self.passed, "exit_code": self.exit_code,
                "nodes": self.nodes, "opsets": self.opsets, "inputs": self.inputs,
                "targets": [t.to_dict() for t in self.targets],
                "out_dir": str(self.out_dir) if self.out_dir else None}

    def text(self) -> str:
        opsets = ", ".join(f"{d or 'ai.onnx'} {v}" for d, v in self.opsets.items())
        lines = [f"model: {self.model} ({self.nodes} nodes; opset {opsets}); oracle: {self.oracle}"]
        for name, info in self.inputs.items():
            lines.append(f"input: {name} {info['dtype']} {tuple(info['shape'])} ({info['source']})")
        header = ("target", "output", "shape", "max_abs", "max_rel", "mismatch", "tolerance", "verdict")
        rows = []
        for t in self.targets:
            if not t.outputs:
                rows.append((t.target, "-", "-", "-", "-", "-", "-", t.status.upper()))
            for o in t.outputs:
                rows.append((t.target, o.name, str(tuple(o.shape)) if o.shape is not None else "-",
                             _e(o.max_abs), _e(o.max_rel),
                             "-" if o.mismatch is None else f"{100 * o.mismatch:.2f}%",
                             o.tolerance, "PASS" if o.passed else "FAIL"))
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        for t in self.targets:
            if t.passed:
                continue
            if t.message:
                lines.append(f"{t.target}: {t.status}: {t.message}")
            for o in t.outputs:
                if not o.passed:
                    lines += [f"  {line}" for line in o.message.splitlines()]
            if t.localization:
                lines.append(f"{t.target}: {t.localization}")
            if t.repro_dir:
                lines.append(f"{t.target}: one-node repro written to {t.repro_dir}")
        n_ok = sum(t.passed for t in self.targets)
        lines.append(f"result: {'PASS' if self.passed else 'FAIL'} ({n_ok} of {len(self.targets)} targets pass)")
        return "\n".join(lines)


def _tol_text(c: Comparison) -> str:
    tol = c.tol
    exact = tol.exact if tol.exact is not None else (c.dtype is not None and np.dtype(c.dtype).kind in "iub")
    if exact:
        return "exact"
    text = f"rtol={tol.rtol:g} atol={tol.atol:g}"
    return text + (f" {tol.stat}<={tol.stat_atol:g}" if tol.stat else "")


def _e(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2e}" if math.isfinite(value) else str(value)


def _jsonable(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return _jsonable(obj.item())
    return obj


# ---------------------------------------------------------------- model and inputs

def load_and_validate(model) -> tuple[onnx.ModelProto, str]:
    """(ModelProto, label). Anything onnx cannot read or its checker rejects: InvalidModel."""
    label = "<ModelProto>"
    if isinstance(model, onnx.ModelProto):
        proto = model
    else:
        try:
            if isinstance(model, (bytes, bytearray)):
                label = "<bytes>"
                proto = onnx.load_from_string(bytes(model))
            else:
                label = str(model)
                path = Path(model)
                if not path.is_file():
                    raise InvalidModel(f"{path} does not exist or is not a file")
                if path.stat().st_size == 0:
                    raise InvalidModel(f"{path} is empty")
                proto = onnx.load(str(path))
        except ConformanceError:
            raise
        except Exception as exc:
            raise InvalidModel(f"{label} is not a readable ONNX model ({_first(exc)})",
                               fix="the file is corrupt or truncated, or not ONNX") from None
    if not proto.graph.node and not proto.graph.output:
        raise InvalidModel(f"{label} has an empty graph (not an ONNX model, or truncated)")
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:
        raise InvalidModel(f"{label} is not valid ONNX: {_first(exc)}") from None
    return proto, label


def _first(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


# ---------------------------------------------------------------- running

def _tolerance(dtype, rtol: float | None, atol: float | None) -> Tolerance:
    tol = resolve_tolerance(dtype)
    given = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    return dataclasses.replace(tol, **given) if given else tol


def _oracle_outputs(model, feeds, precision: str) -> list[np.ndarray]:
    from .reference import ReferenceExecutor, UnsupportedOp
    try:
        return [np.asarray(v) for v in ReferenceExecutor(model, precision).run(None, feeds)]
    except UnsupportedOp as exc:
        raise UnsupportedOperator(f"{exc}; it is the oracle when no expected outputs are given",
                                  fix="pass --expected EXPECTED.npz computed elsewhere") from None
    except Exception as exc:
        raise InvalidModel(f"the reference executor (oracle) cannot run the model: {_first(exc)}",
                           fix="check the inputs, or pass --expected") from None


def check_model(model, targets: Sequence[str] | None = None, inputs=None, expected=None,
                rtol: float | None = None, atol: float | None = None,
                shapes: Mapping[str, Sequence[int]] | Iterable[str] | None = None, *,
                seed: int = DEFAULT_SEED, out_dir=None, localize: bool = True,
                oracle_precision: str = "float64") -> CheckReport:
    """Run ``model`` (path, bytes or ModelProto) on ``targets`` and compare every output with
    ``expected`` (name -> array, or a list in output order) or the reference executor.

    Raises ``InvalidModel`` / ``InvalidInputs`` / ``UnsupportedOperator`` (exit 2 in the CLI)
    for a model or inputs that cannot be checked; a target that fails is a result, not an error.
    """
    from .targets import DEFAULT_TARGETS, get_target, target_status

    proto, label = load_and_validate(model)
    target_names = list(dict.fromkeys(targets or DEFAULT_TARGETS))
    resolved = {name: get_target(name) for name in target_names}   # UnknownTarget early, before running
    output_names = [o.name for o in proto.graph.output]

    if inputs is not None:
        feeds = validate_inputs(proto, inputs)
        source = "given"
    else:
        feeds = random_inputs(proto, parse_shapes(shapes), seed)
        source = f"random, seed {seed}"
    input_info = {k: {"shape": list(v.shape), "dtype": str(v.dtype), "source": source} for k, v in feeds.items()}

    if expected is not None:
        expected_arrays = by_name(expected, output_names, "expected outputs")
        oracle = "expected outputs (given)"
    else:
        expected_arrays = dict(zip(output_names, _oracle_outputs(proto, feeds, oracle_precision)))
        oracle = f"reference executor ({oracle_precision})"

    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        np.savez(out / "inputs.npz", **feeds)
        np.savez(out / "expected.npz", **expected_arrays)

    results: list[TargetCheck] = []
    for name in target_names:
        result = TargetCheck(name, "passed")
        results.append(result)
        ok, why = target_status(name)
        if not ok:
            result.status, result.message = "unavailable", why
            continue
        target = resolved[name]
        start = time.perf_counter()
        try:
            session = target.prepare(proto)
            actual = target.run(session, dict(feeds))
        except Exception as exc:
            result.status, result.message = classify_failure(exc), _first(exc)
            result.seconds = time.perf_counter() - start
            continue
        result.seconds = time.perf_counter() - start
        if len(actual) != len(output_names):
            result.status = "failed"
            result.message = f"{len(actual)} outputs, the model declares {len(output_names)}"
        for out_name, value in zip(output_names, actual):
            exp = expected_arrays[out_name]
            try:
                comparison = compare(value, exp, _tolerance(exp.dtype, rtol, atol), name=out_name)
            except Exception as exc:   # a value compare() cannot read (sequence, map): a failure, said plainly
                result.status = "error"
                result.message = f"output {out_name!r} cannot be compared: {_first(exc)}"
                continue
            result.outputs.append(OutputCheck.from_comparison(comparison))
        if result.status == "passed" and not all(o.passed for o in result.outputs):
            result.status = "failed"
        if result.status == "failed" and localize:
            _localize(result, proto, feeds, rtol, atol, out, reference_is_oracle=expected is None)

    ran = [r for r in results if r.status not in ("unsupported", "unavailable")]
    unsupported = [r for r in results if r.status == "unsupported"]
    if unsupported and not ran:
        raise UnsupportedOperator(f"no target can run the model: {unsupported[0].target}: {unsupported[0].message}",
                                  fix="use a target that implements the op, or a standard-domain op")
    opsets = {imp.domain: imp.version for imp in proto.opset_import}
    return CheckReport(model=label, oracle=oracle, inputs=input_info, targets=results,
                       nodes=len(proto.graph.node), opsets=opsets, out_dir=out)


def _localize(result: TargetCheck, proto, feeds, rtol, atol, out: Path | None, reference_is_oracle: bool) -> None:
    from .localize import LocalizationError, first_divergent_node

    oracle = "onnxruntime" if result.target == "reference" else "reference"
    given = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}

    def tol(dtype):
        return _tolerance(dtype, given.get("rtol"), given.get("atol"))

    try:
        divergence = first_divergent_node(proto, feeds, result.target, tol, oracle=oracle)
    except ConformanceError as exc:
        result.localization = f"divergent node not localized: {exc.one_line()}"
        return
    except Exception as exc:   # localization is a diagnosis: its failure must not hide the verdict
        result.localization = f"divergent node not localized: {type(exc).__name__}: {_first(exc)}"
        return
    if divergence is None:
        label = "the reference executor" if oracle == "reference" else oracle
        if reference_is_oracle:
            result.localization = (f"no node diverges from {label} when every intermediate is an output "
                                   "(the fault may live in a kernel the target fuses)")
        else:
            result.localization = (f"every node agrees with {label}: the model itself computes something "
                                   "other than the expected outputs (a conversion fault, not the target's)")
        return
    result.divergence = divergence
    result.localization = divergence.describe() + f" [vs {oracle}]"
    if out is not None:
        result.repro_dir = divergence.write_repro(out / _safe(result.target))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


# ---------------------------------------------------------------- CLI

def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="run an ONNX file on targets, compare, and localize the first divergent node",
        description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("--target", action="append", default=None, metavar="NAME[,NAME]",
                   help="target(s); repeatable, comma-separated (default: reference,onnxruntime)")
    p.add_argument("--inputs", metavar="INPUTS.npz", help="input arrays by input name (default: seeded random)")
    p.add_argument("--shape", action="append", default=None, metavar="NAME=1x3x224x224",
                   help="shape of a random input with dynamic dimensions; repeatable")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the random inputs (default 0)")
    p.add_argument("--expected", metavar="EXPECTED.npz",
                   help="expected outputs by output name (default: the reference executor is the oracle)")
    p.add_argument("--rtol", type=float, default=None, help="relative tolerance (default: per dtype)")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance (default: per dtype)")
    p.add_argument("--oracle-precision", choices=("float32", "float64"), default="float64",
                   help="arithmetic of the reference executor when it is the oracle (default float64)")
    p.add_argument("--no-localize", action="store_true", help="skip the divergent-node search")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--out", metavar="DIR", help="write inputs, expected outputs and one-node repros here")
    framework = p.add_argument_group(
        "framework model files (.pt, .pt2, .keras, .h5, SavedModel folder, Paddle .json/.pdmodel)",
        "MODEL may be a framework's own file: it is run in that framework for the expected outputs, "
        "converted, and the conversion checked")
    framework.add_argument("--converter", help="override the converter chosen for the format")
    framework.add_argument("--opset", type=int, default=17)
    framework.add_argument("--onnx", metavar="OUT.onnx", help="check this existing conversion instead of converting")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:   # framework model files (.pt, .keras, ...) are another module's business
        from .source_check import cmd_check_source, is_framework_source
    except ModuleNotFoundError as exc:
        if exc.name != "conformance.source_check":
            raise
    else:
        if is_framework_source(args.model):
            return cmd_check_source(args)
    targets = [t.strip() for spec in (args.target or []) for t in spec.split(",") if t.strip()] or None
    inputs = load_npz(args.inputs, "inputs") if args.inputs else None
    expected = load_npz(args.expected, "expected") if args.expected else None
    for key in ("rtol", "atol"):
        value = getattr(args, key)
        if value is not None and not value >= 0:
            raise InvalidInputs(f"--{key} must be >= 0, got {value}")
    report = check_model(args.model, targets, inputs=inputs, expected=expected, rtol=args.rtol, atol=args.atol,
                         shapes=args.shape, seed=args.seed, out_dir=args.out, localize=not args.no_localize,
                         oracle_precision=args.oracle_precision)
    if args.json:
        print(json.dumps(_jsonable(report.to_dict()), indent=1, allow_nan=False))
    else:
        print(report.text())
    return report.exit_code
