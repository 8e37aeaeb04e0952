"""Accuracy on a labelled data set (records of ``kind: accuracy``): top-1 accuracy of the
source model and of its conversion, and the agreement of their predictions, judged by MLPerf's
rule.

A case of this kind is a classifier trained in its framework's worker whose sample inputs are
the data set's test split and whose hand-computed ``expected`` value is the test labels; the
conversion, the cache and the targets are the ordinary ones. Only the verdict differs:

* a float32 conversion (the plain converter, ``+optimize``) must agree with the source on
  every prediction;
* a reduced-precision or lossy one (float16 or INT8 tensors in the model, or a step that says
  it is lossy in the model's metadata, ``+prune``) must keep at least 99% of the source's
  accuracy (MLPerf's closed-division rule; 99.9% in high-accuracy mode).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx

from .cases import CaseSpec, Conversion
from .judge import KIND_JUDGES, Verdict

KIND = "accuracy"
#: MLPerf's accuracy targets: the fraction of the FP32 reference accuracy a submission keeps
ACCURACY_TARGET = 0.99
HIGH_ACCURACY_TARGET = 0.999
#: metadata key a lossy chain step sets on the model it writes (value: what it did)
LOSSY_METADATA_KEY = "conformance.lossy"
#: a case carrying this mark is held to HIGH_ACCURACY_TARGET (a mark, not a parameter: the
#: trained model and its cached conversions stay the same)
HIGH_ACCURACY_MARK = "high_accuracy"
_REDUCED_TYPES = {onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.INT8,
                  onnx.TensorProto.UINT8}


def top1(logits: np.ndarray) -> np.ndarray:
    return np.argmax(np.asarray(logits).reshape(len(logits), -1), axis=1)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def kl_divergence(p_logits: np.ndarray, q_logits: np.ndarray) -> float:
    """Mean over samples of KL(softmax(p) || softmax(q)), in nats."""
    lp, lq = log_softmax(p_logits), log_softmax(q_logits)
    return float(np.mean(np.sum(np.exp(lp) * (lp - lq), axis=1)))


@dataclass
class AccuracyFigures:
    accuracy: float            # of the converted model on the target
    source_accuracy: float     # of the source framework's model
    agreement: float           # share of samples where both predict the same class
    samples: int

    @property
    def kept(self) -> float:
        """The share of the source's accuracy the conversion keeps."""
        return self.accuracy / self.source_accuracy if self.source_accuracy else math.nan


def figures(outputs: np.ndarray, golden: np.ndarray, labels: np.ndarray) -> AccuracyFigures:
    got, source = top1(outputs), top1(golden)
    labels = np.asarray(labels).reshape(-1)
    return AccuracyFigures(float(np.mean(got == labels)), float(np.mean(source == labels)),
                           float(np.mean(got == source)), int(labels.size))


def lossy_reason(onnx_bytes: bytes | None) -> str | None:
    """Why the model is not a float32 model (float16/INT8 tensors, a lossy step's stamp), or None."""
    if not onnx_bytes:
        return None
    model = onnx.load_from_string(onnx_bytes)
    stamp = {p.key: p.value for p in model.metadata_props}.get(LOSSY_METADATA_KEY)
    if stamp:
        return stamp
    if any(n.op_type in ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear") for n in model.graph.node):
        return "int8"
    if any(t.data_type in _REDUCED_TYPES for t in model.graph.initializer):
        return "reduced-precision weights"
    if any(n.op_type == "Cast" and any(a.name == "to" and a.i in _REDUCED_TYPES for a in n.attribute)
           for n in model.graph.node):
        return "reduced-precision activations"
    return None


def distillation_figures(outputs: list, golden: list) -> dict:
    """For a model returning (student logits, teacher logits): the student's top-1 agreement
    with the teacher and KL(teacher || student), on the target and in the source framework."""
    student, teacher = np.asarray(outputs[0]), np.asarray(outputs[1])
    src_student, src_teacher = np.asarray(golden[0]), np.asarray(golden[1])
    return {"teacher_agreement": float(np.mean(top1(student) == top1(teacher))),
            "source_teacher_agreement": float(np.mean(top1(src_student) == top1(src_teacher))),
            "kl_divergence": kl_divergence(teacher, student), "source_kl_divergence": kl_divergence(src_teacher, src_student)}


def _float32_verdict(found: AccuracyFigures, extra: dict) -> tuple[bool, str]:
    """Every prediction agrees with the source; a distilled student agrees with its teacher as
    often on the target as in the source framework."""
    disagree = round((1 - found.agreement) * found.samples)
    message = (f"float32: agrees with the source on {found.agreement:.2%} of {found.samples} predictions"
               + (f" ({disagree} differ)" if disagree else "")
               + f"; accuracy {found.accuracy:.4f}, source {found.source_accuracy:.4f}")
    passed = found.agreement == 1.0
    if "teacher_agreement" in extra:
        same = extra["teacher_agreement"] == extra["source_teacher_agreement"]
        passed &= same
        message += (f"; student/teacher agreement {extra['teacher_agreement']:.4f} "
                    f"(source {extra['source_teacher_agreement']:.4f}{'' if same else ': DIFFERS'})")
    return passed, message


def judge_accuracy(spec: CaseSpec, conv: Conversion, outputs, precision: str = "fp32") -> Verdict:
    """The verdict of one accuracy case (see the module docstring)."""
    if not outputs or not conv.golden_sets or conv.expected is None:
        return Verdict("failed", "nothing to judge: no outputs, source outputs or labels")
    got, golden = np.asarray(outputs[0][0]), np.asarray(conv.golden_sets[0][0])
    found = figures(got, golden, conv.expected[0])
    max_abs = float(np.max(np.abs(got.astype(np.float64) - golden))) if got.shape == golden.shape else math.inf
    lossy = lossy_reason(conv.onnx_bytes) or (None if precision == "fp32" else f"target precision {precision}")
    target = HIGH_ACCURACY_TARGET if HIGH_ACCURACY_MARK in spec.marks else ACCURACY_TARGET
    extra = {"accuracy": found.accuracy, "source_accuracy": found.source_accuracy, "agreement": found.agreement,
             "samples": found.samples, "lossy": lossy, "rule": f">= {target:.1%} of source accuracy" if lossy
             else "agrees with the source on every prediction"}
    if len(outputs[0]) > 1 and len(conv.golden_sets[0]) > 1:
        extra.update(distillation_figures(outputs[0], conv.golden_sets[0]))
    if lossy:
        passed = found.accuracy >= target * found.source_accuracy - 1e-12   # exactly 99% passes
        message = (f"{lossy}: accuracy {found.accuracy:.4f} is {found.kept:.2%} of the source's "
                   f"{found.source_accuracy:.4f} (needs >= {target:.1%}); agreement {found.agreement:.4f}")
    else:
        passed, message = _float32_verdict(found, extra)
    return Verdict("passed" if passed else "failed", message, max_abs=max_abs, extra=extra)


KIND_JUDGES[KIND] = judge_accuracy
