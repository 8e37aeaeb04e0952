"""The check library: run an ONNX model on targets and hold it to an oracle.

``check_model(model, targets, inputs=..., expected=...)`` loads and validates the model
(``load_and_validate``), takes the given inputs or draws seeded random ones, computes the
oracle (the given expected outputs, else the reference executor in float64, outputs cast back
to the model's declared types), runs every target, compares each output
(``conformance.comparator``) and, for a target that fails, localizes the first divergent node
(``conformance.divergent_node``) and writes it as a one-node repro under ``out_dir``. It returns a
``CheckReport`` (``conformance.check_report``); the command line is ``conformance.check_cli``.

A model, inputs or oracle that cannot be checked raises ``InvalidModel`` / ``InvalidInputs`` /
``UnsupportedOperator``; a target that fails is a result, not an error.
"""
from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import onnx

from .check_report import CheckReport, OutputCheck, TargetCheck
from .comparator import compare
from .errors import ConformanceError, InvalidModel, UnsupportedOperator, classify_failure
from .inputs import DEFAULT_SEED, by_name, parse_shapes, random_inputs, validate_inputs
from .divergent_node import FLOAT64_ORACLE, first_divergent_node, float64_values, rounded_to_model_types
from .reference import ReferenceExecutor, UnsupportedOp
from .targets import DEFAULT_TARGETS, get_target, target_status
from .targets.base import raised_by_adapter
from .noise_floor import NoiseFloor, floor_yardstick, measured_noise_floors
from .tolerance import NOISE_MULTIPLE, Tolerance, noise_tolerance, resolve_tolerance

__all__ = ["CheckReport", "OutputCheck", "TargetCheck", "check_model", "load_and_validate"]


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
                oracle_precision: str = "float64", noise_multiple: float | None = NOISE_MULTIPLE) -> CheckReport:
    """Run ``model`` (path, bytes or ModelProto) on ``targets`` and compare every output with
    ``expected`` (name -> array, or a list in output order) or the reference executor.

    Unless ``rtol``/``atol`` are given (they win) or ``noise_multiple`` is None/0, each float32
    output is held to ``noise_multiple`` times its measured float32 noise floor
    (``conformance.noise_floor``, ``conformance.tolerance.noise_tolerance``): the float32 noise of a
    whole model is not 1e-5.

    Raises ``InvalidModel`` / ``InvalidInputs`` / ``UnsupportedOperator`` (exit 2 in the CLI)
    for a model or inputs that cannot be checked; a target that fails is a result, not an error.
    """
    proto, label = load_and_validate(model)
    target_names = list(dict.fromkeys(targets or DEFAULT_TARGETS))
    resolved = {name: get_target(name) for name in target_names}   # UnknownTarget early, before running
    feeds, input_info = _feeds(proto, inputs, shapes, seed)
    expected_arrays, oracle = _expected(proto, feeds, expected, oracle_precision)
    out = _write_oracle_files(out_dir, feeds, expected_arrays)
    tolerances, noise = _tolerances(proto, feeds, expected_arrays, rtol, atol, noise_multiple)

    results: list[TargetCheck] = []
    for name in target_names:
        result = _run_target(name, resolved[name], proto, feeds, expected_arrays, tolerances)
        results.append(result)
        if result.status == "failed" and localize:
            _localize(result, proto, feeds, _Yardstick(rtol, atol, noise_multiple), out,
                      reference_is_oracle=expected is None)
    _require_one_ran(results)
    opsets = {imp.domain: imp.version for imp in proto.opset_import}
    return CheckReport(model=label, oracle=oracle, inputs=input_info, targets=results,
                       nodes=len(proto.graph.node), opsets=opsets, out_dir=out,
                       tolerance=f"{noise_multiple:g} x the {noise.describe()}" if noise else "")


def _feeds(proto, inputs, shapes, seed: int) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """The inputs to run (the given ones, checked against the model, else seeded random ones)
    and how the report describes them."""
    if inputs is not None:
        feeds = validate_inputs(proto, inputs)
        source = "given"
    else:
        feeds = random_inputs(proto, parse_shapes(shapes), seed)
        source = f"random, seed {seed}"
    info = {k: {"shape": list(v.shape), "dtype": str(v.dtype), "source": source} for k, v in feeds.items()}
    return feeds, info


def _expected(proto, feeds, expected, precision: str) -> tuple[dict[str, np.ndarray], str]:
    """The oracle's outputs by output name, and the oracle in words."""
    output_names = [o.name for o in proto.graph.output]
    if expected is not None:
        return by_name(expected, output_names, "expected outputs"), "expected outputs (given)"
    return (dict(zip(output_names, _oracle_outputs(proto, feeds, precision))),
            f"reference executor ({precision})")


def _tolerances(proto, feeds, expected: dict[str, np.ndarray], rtol, atol,
                multiple: float | None) -> tuple[dict[str, Tolerance], NoiseFloor | None]:
    """Each output's tolerance: the user's rtol/atol where given, else the dtype's default
    widened to ``multiple`` times the output's float32 noise floor (None when not measured: the
    user set a tolerance, the multiple is off, or the float64 reference cannot run the model)."""
    plain = {name: _tolerance(exp.dtype, rtol, atol) for name, exp in expected.items()}
    if rtol is not None or atol is not None or not multiple:
        return plain, None
    try:
        noise = measured_noise_floors(proto.SerializeToString(), list(feeds), [list(feeds.values())])[1][0]
    except Exception:               # the given expected outputs still judge; at the dtype's defaults
        return plain, None
    return {name: noise_tolerance(exp.dtype, noise.floors.get(name), multiple)
            for name, exp in expected.items()}, noise


def _write_oracle_files(out_dir, feeds, expected: dict[str, np.ndarray]) -> Path | None:
    if out_dir is None:
        return None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "inputs.npz", **feeds)
    np.savez(out / "expected.npz", **expected)
    return out


def _run_target(name: str, target, proto, feeds, expected: dict[str, np.ndarray],
                tolerances: dict[str, Tolerance]) -> TargetCheck:
    """One target's verdict: unavailable, its failure to run, or its outputs compared."""
    result = TargetCheck(name, "passed")
    ok, why = target_status(name)
    if not ok:
        result.status, result.message = "unavailable", why
        return result
    start = time.perf_counter()
    try:
        session = target.prepare(proto)
        actual = target.run(session, dict(feeds))
    except Exception as exc:
        if raised_by_adapter(exc):          # our adapter of the runtime failed, not the runtime
            result.status, result.message = "error", f"harness error in the target's own code: {_first(exc)}"
        else:
            result.status, result.message = classify_failure(exc), _first(exc)
        result.seconds = time.perf_counter() - start
        return result
    result.seconds = time.perf_counter() - start
    _judge(result, actual, expected, tolerances)
    return result


def _judge(result: TargetCheck, actual, expected: dict[str, np.ndarray], tolerances: dict[str, Tolerance]) -> None:
    """Compare the target's outputs with the oracle's (in output order) into ``result``."""
    output_names = list(expected)
    if len(actual) != len(output_names):
        result.status = "failed"
        result.message = f"{len(actual)} outputs, the model declares {len(output_names)}"
    for out_name, value in zip(output_names, actual):
        exp = expected[out_name]
        try:
            comparison = compare(value, exp, tolerances[out_name], name=out_name)
        except Exception as exc:   # a value compare() cannot read (sequence, map): a failure, said plainly
            result.status = "error"
            result.message = f"output {out_name!r} cannot be compared: {_first(exc)}"
            continue
        result.outputs.append(OutputCheck.from_comparison(comparison))
    if result.status == "passed" and not all(o.passed for o in result.outputs):
        result.status = "failed"


def _require_one_ran(results: list[TargetCheck]) -> None:
    """UnsupportedOperator when every target that could run refused an op of the model."""
    ran = [r for r in results if r.status not in ("unsupported", "unavailable")]
    unsupported = [r for r in results if r.status == "unsupported"]
    if unsupported and not ran:
        raise UnsupportedOperator(f"no target can run the model: {unsupported[0].target}: {unsupported[0].message}",
                                  fix="use a target that implements the op, or a standard-domain op")


# ---------------------------------------------------------------- localization

@dataclasses.dataclass
class _Yardstick:
    """The tolerance settings localisation holds intermediates to (those of the verdict)."""

    rtol: float | None
    atol: float | None
    multiple: float | None

    def oracle_and_tolerances(self, proto, feeds, target: str):
        """The float64 reference (the truth, rounded to the model's types) and the tolerance of
        each value: the user's rtol/atol where given, else each value's own float32 noise floor
        times the multiple, measured by float32 engines other than the target (so that the
        reference under test is never its own yardstick)."""
        if self.rtol is not None or self.atol is not None or not self.multiple:
            truth = float64_values(proto, feeds, rounded=False)
            return ((lambda model, given: rounded_to_model_types(model, truth)),
                    lambda dtype: _tolerance(dtype, self.rtol, self.atol))
        return floor_yardstick(proto, feeds, target, lambda floor: noise_tolerance(np.float32, floor, self.multiple))


def _localize(result: TargetCheck, proto, feeds, yardstick: _Yardstick, out: Path | None,
              reference_is_oracle: bool) -> None:
    """Name the first node where ``result.target`` diverges from the float64 reference, in
    words on ``result``, and write it as a one-node repro under ``out``."""
    oracle = FLOAT64_ORACLE
    try:
        truth, tolerances = yardstick.oracle_and_tolerances(proto, feeds, result.target)
        divergence = first_divergent_node(proto, feeds, result.target, tolerances, oracle=truth)
    except ConformanceError as exc:
        result.localization = f"divergent node not localized: {exc.one_line()}"
        return
    except Exception as exc:   # localization is a diagnosis: its failure must not hide the verdict
        result.localization = f"divergent node not localized: {type(exc).__name__}: {_first(exc)}"
        return
    if divergence is None:
        result.localization = _no_divergence(oracle, reference_is_oracle)
        return
    result.divergence = divergence
    result.localization = divergence.describe() + f" [vs {oracle}]"
    if out is not None:
        result.repro_dir = divergence.write_repro(out / _safe(result.target))


def _no_divergence(oracle: str, reference_is_oracle: bool) -> str:
    label = {"reference": "the reference executor", FLOAT64_ORACLE: "the reference executor in float64"}.get(
        oracle, oracle)
    if reference_is_oracle:
        return (f"no node diverges from {label} when every intermediate is an output "
                "(the fault may live in a kernel the target fuses)")
    return (f"every node agrees with {label}: the model itself computes something "
            "other than the expected outputs (a conversion fault, not the target's)")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)
