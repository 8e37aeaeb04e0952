"""`conformance bench-reference` on a tiny model built in code: discovery of the zoo layout,
the accuracy measure, engine failures recorded as results, the table and the JSON."""
from __future__ import annotations

import argparse
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conformance.bench import reference as bench


def _tiny_cnn(tmp_path, name="tiny", expected_offset=0.0):
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder = tmp_path / name
    folder.mkdir()
    onnx.save(model, folder / "model.onnx")
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    # The "source framework" output, computed independently with a direct loop.
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    y = np.zeros((1, 4, 5, 5))
    for i in range(5):
        for j in range(5):
            y[0, :, i, j] = np.tensordot(w, xp[0, :, i:i + 3, j:j + 3], axes=([1, 2, 3], [0, 1, 2]))
    y = np.maximum(y, 0) + expected_offset
    np.savez(folder / "inputs.npz", x=x)
    np.savez(folder / "expected.npz", y=y.astype(np.float32))
    return folder


def test_find_models_reads_zoo_layout(tmp_path):
    _tiny_cnn(tmp_path)
    (cases,) = bench.find_models(str(tmp_path))
    assert cases.name == "tiny"
    assert set(cases.inputs) == {"x"} and set(cases.expected) == {"y"}


def test_relative_error_is_scaled_by_the_output_magnitude():
    want = {"y": np.array([0.0, 10.0, -20.0])}
    assert bench.relative_error({"y": np.array([0.0, 10.0, -19.0])}, want) == pytest.approx(1 / 20)
    assert bench.relative_error({"y": np.array([1.0, 2.0])}, want) == float("inf")
    assert bench.relative_error({}, want) == float("inf")


def test_bench_runs_engines_and_writes_json(tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    _tiny_cnn(models, "good")
    _tiny_cnn(models, "shifted", expected_offset=0.5)    # source outputs disagree with the model
    out = tmp_path / "bench.json"
    args = argparse.Namespace(models=str(models), runs=2, json=str(out), only=None,
                              skip_onnx_reference=False, reference_budget=5.0, pause=0.0,
                              check=False, verbose=False)
    assert bench.main(args) == 0
    table = capsys.readouterr().out
    assert "good" in table and "geomean ours/onnxruntime" in table
    data = json.loads(out.read_text())
    by_name = {r["name"]: r for r in data["results"]}
    good = by_name["good"]["engines"]
    assert good["ours"]["ok"] and good["ours"]["runs"] == 2
    assert good["ours"]["rel_error"] < 1e-5
    assert good["onnxruntime"]["rel_error"] < 1e-5
    assert by_name["shifted"]["engines"]["ours"]["rel_error"] > 1e-2
    assert data["summary"]["met"]["accuracy"] is False      # the shifted model misses 1e-4
    # onnxruntime is held to the onnx.reference yardstick too, on the models all three ran
    engines = [by_name[n]["engines"] for n in ("good", "shifted")]
    expected = bench.geomean([e["onnx.reference"]["median_ms"] / e["onnxruntime"]["median_ms"] for e in engines])
    assert data["summary"]["geomean_onnx_reference_over_onnxruntime"] == pytest.approx(expected)
    assert "for scale: onnx.reference/onnxruntime" in table
    # --check turns a missed target into exit code 1
    args.check, args.json = True, None
    assert bench.main(args) == 1


def test_an_engine_failure_is_a_result_not_a_crash(tmp_path):
    folder = _tiny_cnn(tmp_path)
    case = bench.find_models(str(tmp_path))[0]
    case.inputs = {"x": np.zeros((1, 3, 5, 5), np.float32)}     # wrong channel count: all fail
    result = bench.bench_model(case, runs=1, engines=["ours", "onnxruntime"], reference_budget_s=1.0)
    assert not result.engines["ours"].ok and result.engines["ours"].error
    assert not result.engines["onnxruntime"].ok
    assert folder.exists()


def test_profile_times_our_ops_and_restores_the_registry(tmp_path):
    from conformance.reference import registry
    _tiny_cnn(tmp_path)
    case = bench.find_models(str(tmp_path))[0]
    before = {k: [fn for _, fn in v] for k, v in registry.OPS.items()}
    result = bench.bench_model(case, runs=3, engines=["ours"], reference_budget_s=1.0, profile=True)
    assert result.engines["ours"].ok
    assert set(result.op_profile) == {"Conv", "Relu"}
    assert result.op_profile["Conv"][1] == 1           # calls per run
    after = {k: [fn for _, fn in v] for k, v in registry.OPS.items()}
    assert after == before
