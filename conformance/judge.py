"""The judge stage: a target's outputs against the source framework's (and hand-computed
expected values, where a case has them) -> a ``Verdict``: passed or failed, the worst errors,
the tolerance, and a message with the statistics of every mismatch."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .cases import CaseSpec, Conversion
from .comparator import compare_outputs
from .noise_floor import input_set_floors
from .tolerance import (CONVERSION_PRECISIONS, NOISE_FLOOR_KINDS, case_noise_multiple, case_tolerance,
                        widen_for_precision)
from .precision_attribution import cosine


@dataclass
class Verdict:
    status: str                        # passed | failed
    message: str
    max_abs: float | None = None
    max_rel: float | None = None
    mismatch: float | None = None
    rtol: float | None = None
    atol: float | None = None
    extra: dict = field(default_factory=dict)     # a kind's own figures (accuracy: accuracy, agreement, ...)


#: the judge of a record kind that is not judged element-wise (``accuracy``: top-1 on a labelled
#: data set), registered by the module that defines the kind: ``KIND_JUDGES["accuracy"] = fn``
KIND_JUDGES: dict[str, Callable[..., Verdict]] = {}


@dataclass(frozen=True)
class NoiseFloors:
    """The float32 noise floor of every output (by position) of every input set of a case judged
    against it (``conformance.tolerance.case_noise_multiple``), and the multiple it allows."""

    per_set: list[list[float | None]]
    multiple: float
    widens: bool = False            # the floor only widens the case's own tolerance (NOISE_FLOOR_KINDS)

    def of_set(self, i: int) -> list[float | None]:
        return self.per_set[i] if i < len(self.per_set) else []


def noise_floors(spec: CaseSpec, conv: Conversion) -> NoiseFloors | None:
    """The case's measured noise floors (``conformance.noise_floor.input_set_floors``), or None
    where the policy does not judge it by them or the float64 reference cannot run the model
    (then the case's own tolerance judges)."""
    multiple = case_noise_multiple(spec.kind, spec.tolerance, conv.precision, conv.expected is not None)
    if multiple is None or conv.onnx_bytes is None:
        return None
    try:
        return NoiseFloors(input_set_floors(conv.onnx_bytes, conv.input_names, conv.input_sets), multiple,
                           NOISE_FLOOR_KINDS[spec.kind] == "widens")
    except Exception:
        return None


def _tolerances(arrays, spec: CaseSpec, precision: str, floors: list[float | None] = (),
                multiple: float | None = None, widens: bool = False):
    floors = list(floors) + [None] * (len(arrays) - len(floors))
    return [widen_for_precision(case_tolerance(np.asarray(a).dtype, spec.tolerance, floor, multiple, widens),
                                precision, np.asarray(a).dtype) for a, floor in zip(arrays, floors)]


def _set_tolerances(golden, spec: CaseSpec, precision: str, floors: NoiseFloors | None, i: int):
    """The tolerances of input set ``i``'s outputs: by its noise floors where measured."""
    if floors is None:
        return _tolerances(golden, spec, precision)
    return _tolerances(golden, spec, precision, floors.of_set(i), floors.multiple, floors.widens)


def agrees_with_source(outputs, conv: Conversion, spec: CaseSpec) -> bool:
    """Do these outputs (per input set) match the source framework's at the case's tolerance
    (the one its verdict uses, noise floor included)?"""
    floors = noise_floors(spec, conv)
    return all(compare_outputs(o, g, _set_tolerances(g, spec, "fp32", floors, i)).passed
               for i, (o, g) in enumerate(zip(outputs, conv.golden_sets)))


def _nothing_to_compare(conv: Conversion, outputs) -> Verdict | None:
    if not conv.golden_sets or any(len(g) == 0 for g in conv.golden_sets) or len(outputs) != len(conv.golden_sets):
        return Verdict("failed", f"nothing to compare: the source framework gave {[len(g) for g in conv.golden_sets]} "
                                 f"outputs per input set and the target ran {len(outputs)} input sets")
    return None


def _shape_problem(conv: Conversion, i: int, got, label: str) -> str | None:
    if conv.expected_shapes is None or i >= len(conv.expected_shapes):
        return None
    shapes = [tuple(np.shape(o)) for o in got]
    want = [tuple(s) for s in conv.expected_shapes[i]]
    return f"[{label}] output shapes {shapes} != expected {want}" if shapes[:len(want)] != want else None


def judge(spec: CaseSpec, conv: Conversion, outputs, precision: str = "fp32") -> Verdict:
    """Compare every input set's outputs with the golden ones (tolerances widened for the
    target's ``precision``), the shapes with the expected shapes, and the sample's outputs with
    the hand-computed expected values."""
    if spec.kind in KIND_JUDGES:
        return KIND_JUDGES[spec.kind](spec, conv, outputs, precision)
    empty = _nothing_to_compare(conv, outputs)
    if empty is not None:
        return empty
    held_to = CONVERSION_PRECISIONS.get(conv.precision)
    if isinstance(held_to, dict):
        return judge_metrics(spec, conv, outputs, held_to)
    if held_to is not None:            # a model stored in a reduced precision: that precision's tolerance
        precision = held_to
    messages, worst, tol = [], {"max_abs": 0.0, "max_rel": 0.0, "mismatch": 0.0}, None
    floors, margins = noise_floors(spec, conv), []
    for i, (got, golden) in enumerate(zip(outputs, conv.golden_sets)):
        tols = _set_tolerances(golden, spec, precision, floors, i)
        tol = tols[0] if tols else tol
        cmp = compare_outputs(got, golden, tols, names=conv.output_names[:len(golden)] or None)
        margins += _margins(cmp)
        label = conv.input_set_label(i)
        if not cmp.passed:
            messages.append(f"[{label}] vs source framework:\n{cmp.message}")
        for k in worst:
            v = getattr(cmp, k, None)
            if v is not None and not np.isnan(v):      # inf stays: it is the worst error
                worst[k] = max(worst[k], float(v))
        shape = _shape_problem(conv, i, got, label)
        messages += [shape] if shape else []
    if conv.expected is not None and outputs:
        cmp = compare_outputs(outputs[0][:len(conv.expected)], conv.expected,
                              _tolerances(conv.expected, spec, precision))
        if not cmp.passed:
            messages.append(f"[sample] vs hand-computed expected values:\n{cmp.message}")
    return Verdict("failed" if messages else "passed", "\n".join(messages), worst["max_abs"], worst["max_rel"],
                   worst["mismatch"], tol.rtol if tol is not None else None, tol.atol if tol is not None else None,
                   extra=_noise_extra(floors, margins))


def _margins(cmp) -> list[tuple[float, float]]:
    """(max_abs, floor) of every output compared against a noise floor."""
    return [(c.max_abs, c.tol.noise_floor) for c in cmp.comparisons
            if c.tol is not None and c.tol.noise_floor is not None and c.max_abs is not None]


def _noise_extra(floors: NoiseFloors | None, margins: list[tuple[float, float]]) -> dict:
    """The record's figures of a case judged against its noise floor: the multiple, the largest
    floor, and the worst error over floor among outputs with a floor above 0 (None: none)."""
    if floors is None or not margins:
        return {}
    ratios = [err / floor for err, floor in margins if floor > 0 and np.isfinite(err)]
    return {"noise_multiple": floors.multiple, "noise_floor": max(floor for _, floor in margins),
            "error_over_floor": max(ratios) if ratios else None}


def judge_metrics(spec: CaseSpec, conv: Conversion, outputs, metrics: dict) -> Verdict:
    """A quantized model (``conv.precision``) against the source at metric level: every float
    output's cosine similarity, and for classifier outputs of whole models (rank 2, several
    classes) the share of rows whose arg-max agrees. The figures go into the record's ``extra``."""
    worst_cos, agree, rows, problems, worst_abs = 1.0, 0, 0, [], 0.0
    for i, (got, golden) in enumerate(zip(outputs, conv.golden_sets)):
        for name, a, e in zip(conv.output_names, got, golden):
            a, e = np.asarray(a), np.asarray(e)
            if a.shape != e.shape:
                problems.append(f"[set {i}] {name}: shape {a.shape} != {e.shape}")
                continue
            if e.dtype.kind != "f":
                if not np.array_equal(a, e):
                    problems.append(f"[set {i}] {name}: {e.dtype} values differ")
                continue
            worst_abs = max(worst_abs, float(np.max(np.abs(a.astype(np.float64) - e))) if e.size else 0.0)
            worst_cos = min(worst_cos, cosine(a, e))
            if spec.kind in ("arch", "model") and e.ndim == 2 and e.shape[1] > 1:
                agree += int(np.sum(np.argmax(a, 1) == np.argmax(e, 1)))
                rows += e.shape[0]
    top1 = agree / rows if rows else None
    failed = problems + ([f"cosine {worst_cos:.5f} < {metrics['cosine_min']}"]
                         if not worst_cos >= metrics["cosine_min"] else [])
    if top1 is not None and top1 < metrics["top1_agreement_min"]:
        failed.append(f"top-1 agreement {top1:.3f} < {metrics['top1_agreement_min']}")
    rule = f"{conv.precision} model judged at metric level: cosine >= {metrics['cosine_min']}" + (
        f", top-1 agreement >= {metrics['top1_agreement_min']}" if top1 is not None else "")
    extra = {"rule": rule, "cosine": worst_cos, "top1_agreement": top1, "rows": rows}
    message = rule + ("; " + "; ".join(failed) if failed else f"; cosine {worst_cos:.5f}"
                      + (f", top-1 agreement {top1:.3f}" if top1 is not None else ""))
    return Verdict("failed" if failed else "passed", message, max_abs=worst_abs, extra=extra)
