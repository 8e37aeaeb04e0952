"""The accuracy judge (MLPerf's rule, float32 agreement), the lossy detection from the model
itself, and ``conformance compare`` on the digits test split with real ONNX models."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conformance.accuracy import (HIGH_ACCURACY_MARK, LOSSY_METADATA_KEY, judge_accuracy, kl_divergence,
                                  lossy_reason)
from conformance.cases import CaseSpec, Conversion
from conformance.cli import main
from converters.optimizer.precision import convert_float16

rng = np.random.default_rng(7)


def _linear(w: np.ndarray) -> onnx.ModelProto:
    """image (n, 1, 8, 8) -> Flatten -> MatMul w (64, 10): a digits classifier's shape."""
    nodes = [helper.make_node("Flatten", ["image"], ["flat"]), helper.make_node("MatMul", ["flat", "w"], ["logits"])]
    graph = helper.make_graph(nodes, "linear", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 1, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 10])],
                              [numpy_helper.from_array(w.astype(np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _case(marks=()) -> CaseSpec:
    return CaseSpec(kind="accuracy", name="digits_t", framework="torch", builder="x:y", marks=marks)


def _conv(model, golden, labels) -> Conversion:
    return Conversion(status="ok", artifact=model.SerializeToString(), golden_sets=[[golden]],
                      expected=[labels])


def _logits(predictions: np.ndarray) -> np.ndarray:
    out = rng.standard_normal((len(predictions), 10)).astype(np.float32)
    out[np.arange(len(predictions)), predictions] = 10.0
    return out


def test_float32_conversion_must_agree_on_every_prediction():
    labels = np.arange(200) % 10
    golden = _logits(labels)
    conv = _conv(_linear(np.eye(64, 10)), golden, labels)
    assert judge_accuracy(_case(), conv, [[golden + 1e-6]]).status == "passed"
    one_off = labels.copy()
    one_off[3] = (one_off[3] + 1) % 10
    verdict = judge_accuracy(_case(), conv, [[_logits(one_off)]])
    assert verdict.status == "failed" and "(1 differ)" in verdict.message
    assert verdict.extra["agreement"] == pytest.approx(199 / 200) and verdict.extra["lossy"] is None


@pytest.mark.parametrize("wrong, marks, status", [(3, (), "passed"), (4, (), "failed"),
                                                   (0, (HIGH_ACCURACY_MARK,), "passed"),
                                                   (1, (HIGH_ACCURACY_MARK,), "failed")])
def test_reduced_precision_keeps_99_percent(wrong, marks, status):
    """Source accuracy 300/300; a float16 model may lose 3 of 300 (exactly 99% passes), not 4.
    High accuracy (99.9%) allows none of 300."""
    labels = np.arange(300) % 10
    predictions = labels.copy()
    predictions[:wrong] = (predictions[:wrong] + 1) % 10
    model = convert_float16(_linear(rng.standard_normal((64, 10))))
    verdict = judge_accuracy(_case(marks), _conv(model, _logits(labels), labels), [[_logits(predictions)]])
    assert verdict.status == status and verdict.extra["lossy"] == "reduced-precision weights"
    assert verdict.extra["accuracy"] == pytest.approx(1 - wrong / 300)


def test_lossy_reason_reads_the_model():
    plain = _linear(np.eye(64, 10))
    assert lossy_reason(plain.SerializeToString()) is None
    onnx.helper.set_model_props(plain, {LOSSY_METADATA_KEY: "prune:0.5"})
    assert lossy_reason(plain.SerializeToString()) == "prune:0.5"


def test_kl_divergence():
    p = rng.standard_normal((5, 10))
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(p, p + 7.0) == pytest.approx(0.0, abs=1e-12)     # softmax ignores a shift
    assert kl_divergence(p, -p) > 0.1


def test_compare_on_digits(tmp_path, capsys):
    """A least-squares linear classifier of the digits and a copy with noise on its weights:
    each one's accuracy on the test split, their agreement and KL, as the command prints them."""
    specs = pytest.importorskip("suites.accuracy.specs")
    from suites.accuracy.digits import digits_file, digits_split
    if digits_file() is None:
        pytest.skip("scikit-learn is not installed")
    split = digits_split(digits_file())
    x = split.x_train.reshape(len(split.x_train), -1)
    w = np.linalg.lstsq(x, np.eye(10)[split.y_train], rcond=None)[0]
    teacher, student = tmp_path / "teacher.onnx", tmp_path / "student.onnx"
    onnx.save(_linear(w), teacher)
    onnx.save(_linear(w + np.random.default_rng(0).standard_normal(w.shape) * 0.02), student)
    assert main(["compare", str(teacher), str(student), "--dataset", "digits", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    images, labels = specs.test_split()
    expected = np.mean(np.argmax(images.reshape(len(images), -1) @ w, 1) == labels)
    assert found["teacher_accuracy"] == pytest.approx(expected) and found["teacher_accuracy"] > 0.85
    assert found["student_accuracy"] < found["teacher_accuracy"] and 0.3 < found["agreement"] < 1.0
    assert found["kl_divergence"] > 0 and found["samples"] == len(labels)
    assert main(["compare", str(teacher), str(teacher), "--json"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert same["agreement"] == 1.0 and same["kl_divergence"] == pytest.approx(0.0, abs=1e-9)
