"""Artifacts with a format: packages, converter x target pairing, the cache, metric-level
judging of quantized conversions, and the tflite -> litert path end to end (real TensorFlow
and LiteRT; skipped where they are not installed)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from conformance.cache import ConversionCache
from conformance.cases import CaseSpec, Conversion
from conformance.errors import UnknownConverter
from conformance.formats import Package
from conformance.judge import judge
from conformance.selection import expand
from converters import get_converter

KERAS_CNN = CaseSpec(kind="arch", name="cnn", framework="tensorflow", builder="tests.fixtures.builders:keras_cnn",
                     params={}, variant="small", arch="small_cnn")
HAVE_TFLITE = all(importlib.util.find_spec(m) for m in ("tensorflow", "ai_edge_litert"))


def test_package_round_trips_and_is_deterministic():
    package = Package("tflite", {"model.tflite": b"\x00\x01"}, ["x", "y"], ["out"], {"quantization": "int8"})
    data = package.to_bytes()
    assert data == Package("tflite", {"model.tflite": b"\x00\x01"}, ["x", "y"], ["out"],
                           {"quantization": "int8"}).to_bytes()
    back = Package.from_bytes(data)
    assert (back.format, back.files, back.inputs, back.outputs, back.details) == (
        "tflite", {"model.tflite": b"\x00\x01"}, ["x", "y"], ["out"], {"quantization": "int8"})
    assert back.only_file() == b"\x00\x01"


def test_only_compatible_converter_target_pairs_are_generated():
    runs = expand([KERAS_CNN], targets=["onnxruntime", "litert", "reference"],
                  converters=["tf2onnx", "tflite", "tflite-int8"])
    pairs = {(r.converter, r.target) for r in runs}
    assert pairs == {("tf2onnx", "onnxruntime"), ("tf2onnx", "reference"), ("tflite", "litert"),
                     ("tflite-int8", "litert")}


def test_chain_steps_refuse_a_non_onnx_converter():
    with pytest.raises(UnknownConverter, match="writes tflite"):
        get_converter("tflite+optimize")


def test_cache_keeps_format_and_precision(tmp_path):
    cache = ConversionCache(tmp_path)
    artifact = Package("tflite", {"model.tflite": b"abc"}, ["x"], ["y"]).to_bytes()
    conv = Conversion("ok", artifact=artifact, format="tflite", precision="int8", input_names=["x"],
                      output_names=["y"], input_sets=[[np.ones(2, np.float32)]], golden_sets=[[np.ones(2, np.float32)]])
    cache.put("k" * 64, conv)
    back = cache.get("k" * 64)
    assert (back.format, back.precision, back.artifact) == ("tflite", "int8", artifact)
    assert back.onnx_bytes is None          # not an ONNX model


def _classifier_conversion(got_noise: float, precision: str):
    rng = np.random.default_rng(0)
    golden = rng.normal(size=(16, 10)).astype(np.float32)
    conv = Conversion("ok", artifact=b"", format="tflite", precision=precision, input_names=["x"],
                      output_names=["logits"], input_sets=[[np.zeros((16, 3), np.float32)]], golden_sets=[[golden]])
    return conv, golden + rng.normal(scale=got_noise, size=golden.shape).astype(np.float32)


def test_int8_conversion_is_judged_at_metric_level():
    spec = CaseSpec(kind="arch", name="cnn", framework="tensorflow", builder="x:y")
    conv, got = _classifier_conversion(0.02, "int8")          # quantization-sized error: fine for int8
    verdict = judge(spec, conv, [[got]])
    assert verdict.status == "passed", verdict.message
    assert verdict.extra["cosine"] > 0.99 and verdict.extra["top1_agreement"] >= 0.8
    assert "metric level" in verdict.message
    conv32, _ = _classifier_conversion(0.02, "fp32")          # the same error fails a float32 model
    assert judge(spec, conv32, [[got]]).status == "failed"
    shuffled = got[::-1].copy()                                # rows swapped: a real bug
    assert judge(spec, conv, [[shuffled]]).status == "failed"


@pytest.mark.skipif(not HAVE_TFLITE, reason="tensorflow and ai-edge-litert are not installed")
def test_keras_cnn_through_tflite_on_litert(tmp_path):
    from conformance.runner import CaseRun, Runner, RunnerOptions

    runner = Runner(RunnerOptions(timeout=300, cache_dir=str(tmp_path / "cache")))
    try:
        fp32 = runner.run(CaseRun(KERAS_CNN, "tflite", 17, "litert"))
        int8 = runner.run(CaseRun(KERAS_CNN, "tflite-int8", 17, "litert"))
    finally:
        runner.close()
    assert fp32.status == "passed", fp32.message
    assert (fp32.format, fp32.precision, fp32.onnx_ops) == ("tflite", "fp32", [])
    assert fp32.max_abs < 1e-4
    assert int8.status == "passed", int8.message
    assert int8.precision == "int8" and int8.extra["cosine"] >= 0.97
    assert int8.max_abs > fp32.max_abs            # it was quantized: not the float32 model again


@pytest.mark.skipif(not HAVE_TFLITE or not importlib.util.find_spec("tf2onnx"),
                    reason="tensorflow, tf2onnx and ai-edge-litert are not installed")
def test_conformance_check_of_a_tflite_file(tmp_path, capsys):
    from conformance.cli import main
    from tests.fixtures.framework_python import run_module

    for kind in ("fp32", "dynrange"):
        run_module("tensorflow", "tests.fixtures.save_tflite", kind, str(tmp_path / f"{kind}.tflite"))
    assert main(["check", str(tmp_path / "fp32.tflite")]) == 0
    assert main(["check", str(tmp_path / "dynrange.tflite")]) == 0
    assert "int8-dynamic-range quantized model" in capsys.readouterr().out
    # the quantized file held to float32's tolerance fails: the relaxed one is not a blanket pass
    assert main(["check", str(tmp_path / "dynrange.tflite"), "--rtol", "1e-5", "--atol", "1e-5"]) == 1
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes((tmp_path / "fp32.tflite").read_bytes()[:200])
    assert main(["check", str(truncated)]) == 2


def test_calibration_windows_cut_further_input_sets_to_the_sample_shape():
    from conformance.cases import Built
    from converters.tflite_converter import windows_at_sample_shape

    sample = [np.zeros((2, 3), np.int64)]
    larger = [np.arange(20).reshape(4, 5)]
    smaller = [np.ones((1, 3), np.int64)]                 # cannot be cut to (2, 3): left out
    windows = windows_at_sample_shape(Built(model=None, inputs=sample, extra_inputs=[larger, smaller]))
    assert len(windows) == 2
    np.testing.assert_array_equal(windows[0][0], [[0, 1, 2], [5, 6, 7]])          # leading window
    np.testing.assert_array_equal(windows[1][0], [[12, 13, 14], [17, 18, 19]])    # trailing window


def _suite_spec(name, builder, variant, params=None):
    return CaseSpec(kind="arch", name=name, framework="tensorflow", builder=f"suites.architectures.{builder}",
                    params=params or {}, variant=variant)


@pytest.mark.skipif(not HAVE_TFLITE, reason="tensorflow and ai-edge-litert are not installed")
def test_tflite_takes_module_variables_subclassed_models_and_calibrates_further_sets(tmp_path):
    """tf.Module with variables (the .tflite had no signature: StopIteration), a subclassed
    keras.Model ('Prefill' object has no attribute 'inputs'), and an int8 model judged on a
    second input set with token ids the sample lacks (cosine 0.967 before its windows were
    calibrated)."""
    from conformance.runner import CaseRun, Runner, RunnerOptions
    from suites.architectures.specs_generation import other_spec

    cases = [(_suite_spec("control", "multio_keras:build_tf_cond", "tf-cond-2out"), "tflite"),
             (other_spec("tensorflow", "prefill"), "tflite"),
             (_suite_spec("multio", "multio_keras:build_token_mask", "token-mask-passthrough-dup-out",
                          {"outputs": "passthrough"}), "tflite-int8")]
    runner = Runner(RunnerOptions(timeout=300, cache_dir=str(tmp_path / "cache")))
    try:
        records = [runner.run(CaseRun(spec, converter, 17, "litert")) for spec, converter in cases]
    finally:
        runner.close()
    assert [r.status for r in records] == ["passed"] * 3, [r.message for r in records]
    assert records[2].extra["cosine"] > 0.99
