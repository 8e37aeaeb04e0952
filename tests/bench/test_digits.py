"""Accuracy mode: LoadGen's AccuracyOnly over scikit-learn's digits, scored from
``mlperf_log_accuracy.json``, against the same model's top-1 computed directly."""
from __future__ import annotations

import numpy as np
import pytest

from conformance.bench import digits
from conformance.bench.loadgen import BenchSettings, run_benchmark
from conformance.errors import ConformanceError

from .test_scenarios import WrongTarget, ort, tiny_model

sklearn = pytest.importorskip("sklearn")
pytest.importorskip("mlperf_loadgen")


@pytest.fixture(scope="module")
def classifier():
    """A logistic regression fitted by scikit-learn on the training rows, written as ONNX
    (MatMul + Add, dynamic batch), and its own accuracy on the held-out rows."""
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.linear_model import LogisticRegression
    split = digits.load_digits_split()
    fitted = LogisticRegression(max_iter=1000, random_state=0).fit(split.train_x, split.train_y)
    w = numpy_helper.from_array(fitted.coef_.T.astype(np.float32), "W")
    b = numpy_helper.from_array(fitted.intercept_.astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["pixels", "W"], ["h"]), helper.make_node("Add", ["h", "B"], ["logits"])],
        "digits_logreg", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model, fitted.score(split.test_x, split.test_y)


def accuracy_settings(**kw) -> BenchSettings:
    return BenchSettings(mode="accuracy", dataset="digits", warmup_queries=1, **kw)


def test_split_is_scikit_learns_digits_fixed():
    from sklearn.datasets import load_digits
    data, labels = load_digits(return_X_y=True)
    split = digits.load_digits_split()
    assert len(split.train_y) + len(split.test_y) == len(labels) == 1797 and len(split.test_y) == 449
    rows = np.concatenate([split.train_x, split.test_x]) * 16
    assert sorted(map(tuple, rows.astype(int))) == sorted(map(tuple, data.astype(int)))
    assert np.array_equal(digits.load_digits_split().test_y, split.test_y)          # fixed split


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_top1_from_loadgen_log_equals_top1_computed_directly(classifier, scenario, tmp_path):
    model, sklearn_top1 = classifier
    s = run_benchmark(model, ort(), accuracy_settings(scenario=scenario, log_dir=str(tmp_path)))
    labels = digits.load_digits_split().test_y
    session = ort().prepare(model.SerializeToString())
    direct = np.argmax(ort().run(session, {"pixels": digits.load_digits_split().test_x})[0], axis=1)
    assert s.accuracy["logged"] == len(labels)                      # every sample answered once
    assert s.accuracy["predicted"] == direct.tolist()
    assert s.accuracy["top1"] == pytest.approx(float(np.mean(direct == labels)))
    assert s.accuracy["top1"] == pytest.approx(sklearn_top1, abs=1 / len(labels))  # float32 ties aside
    assert s.valid and s.accuracy["fp32"]["passed"] and s.accuracy["fp32_source"] == "reference executor"
    assert (tmp_path / "mlperf_log_accuracy.json").is_file()
    assert s.to_record().case_id.endswith("/accuracy") and "predicted" not in s.to_dict()["accuracy"]


def test_wrong_outputs_fail_the_99_percent_of_fp32_rule(classifier):
    model, _ = classifier
    s = run_benchmark(model, WrongTarget(), accuracy_settings())
    assert s.accuracy["status"] == "failed" and not s.valid
    assert any("< 99% of FP32" in r for r in s.invalid_reasons), s.invalid_reasons


def test_given_fp32_accuracy_is_the_rule_baseline(classifier):
    model, _ = classifier
    s = run_benchmark(model, ort(), accuracy_settings(fp32_accuracy=1.0))
    assert s.accuracy["fp32_source"] == "given" and s.accuracy["fp32"]["threshold"] == 0.99
    assert s.valid == (s.accuracy["top1"] >= 0.99)


def test_digits_need_a_model_of_64_pixels():
    with pytest.raises(ConformanceError, match="does not hold an 8x8 digit"):
        run_benchmark(tiny_model(), ort(), accuracy_settings())
