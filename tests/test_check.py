"""``conformance check``: verdicts per target and output, exit codes, divergent node, repro."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conformance.check import check_model
from conformance.inputs import InvalidInputs
from conformance.cli import main
from conformance.errors import InvalidModel, UnsupportedOperator

from .test_localize import perturbed, sample_inputs, small_model  # noqa: F401  (fixture)

TARGETS = ["--target", "onnxruntime", "--target", "onnxruntime-basic"]


@pytest.fixture
def files(tmp_path):
    """The unchanged model with its inputs and the outputs it computes (onnxruntime)."""
    import onnxruntime as ort
    model = small_model()
    onnx.save(model, str(tmp_path / "model.onnx"))
    feeds = sample_inputs()
    np.savez(tmp_path / "inputs.npz", **feeds)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.savez(tmp_path / "expected.npz", y=sess.run(None, feeds)[0])
    return tmp_path


def check(files, model_path, *extra):
    """Default targets (reference, onnxruntime) against the unchanged model's outputs."""
    return main(["check", str(model_path), "--inputs", str(files / "inputs.npz"),
                 "--expected", str(files / "expected.npz"), *extra])


def save(model, path):
    onnx.save(model, str(path))
    return path


def test_unchanged_model_passes(files, capsys):
    assert check(files, files / "model.onnx") == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 3 and "FAIL" not in out     # two target rows + result line
    assert [line.split()[0] for line in out.splitlines() if line.endswith("PASS")] == ["reference", "onnxruntime"]


def test_conv_with_changed_pads_fails(files, capsys):
    # same output shape, window shifted: the SAME_UPPER/SAME_LOWER kind of converter bug
    path = save(small_model(pads=(0, 0, 2, 2)), files / "pads.onnx")
    assert check(files, path) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out.splitlines()[-1]
    assert "onnxruntime: every node agrees with the reference executor in float64: the model itself computes" in out
    assert "reference: every node agrees with the reference executor in float64" in out


def test_add_turned_into_sub_fails(files, capsys):
    path = save(small_model(second="Sub"), files / "sub.onnx")
    assert check(files, path) == 1
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.endswith(("PASS", "FAIL"))]
    assert [(r[0], r[-1]) for r in rows] == [("reference", "FAIL"), ("onnxruntime", "FAIL")]


def test_default_targets_and_reference_oracle(files, capsys):
    assert main(["check", str(files / "model.onnx")]) == 0
    out = capsys.readouterr().out
    assert "oracle: reference executor (float64)" in out and "random, seed 0" in out
    assert [line.split()[0] for line in out.splitlines() if line.endswith("PASS")] == ["reference", "onnxruntime"]
    assert main(["check", str(files / "model.onnx"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # the float32 reference target is held to the float64 oracle, not to a copy of itself
    assert data["oracle"] == "reference executor (float64)"
    assert [t["target"] for t in data["targets"]] == ["reference", "onnxruntime"]
    assert 0 < data["targets"][0]["outputs"][0]["max_abs"] < 1e-5


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_or_truncated_model_exits_2_with_one_line(files, capsys, damage):
    data = (files / "model.onnx").read_bytes()
    bad = {"garbage": b"\x00\xffnot an onnx model" * 5, "truncated": data[: len(data) // 3], "empty": b""}[damage]
    (files / "bad.onnx").write_bytes(bad)
    assert check(files, files / "bad.onnx") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("conformance: error:") and "Traceback" not in captured.err


def test_missing_model_exits_2(files, capsys):
    assert check(files, files / "nope.onnx") == 2
    assert "does not exist" in capsys.readouterr().err


def _one_op_model(op_type, domain=""):
    node = helper.make_node(op_type, ["x"], ["y"], domain=domain)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets)


def test_op_no_target_knows_exits_2(tmp_path, capsys):
    save(_one_op_model("NoSuchOp"), tmp_path / "std.onnx")      # default domain: invalid ONNX
    assert main(["check", str(tmp_path / "std.onnx"), *TARGETS]) == 2
    save(_one_op_model("Frobnicate", "com.example"), tmp_path / "custom.onnx")
    assert main(["check", str(tmp_path / "custom.onnx"), *TARGETS, "--expected", str(_npz(tmp_path, y=np.zeros(2, np.float32)))]) == 2
    assert main(["check", str(tmp_path / "custom.onnx"), *TARGETS]) == 2   # the oracle does not know it either
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "NoSuchOp" in err[0] and "Frobnicate" in err[1] and "Frobnicate" in err[2]


def _npz(tmp_path, name="arrays.npz", **arrays):
    np.savez(tmp_path / name, **arrays)
    return tmp_path / name


@pytest.mark.parametrize("arrays,words", [
    ({"x": np.zeros((1, 3, 8, 8), np.float64)}, "float64"),
    ({"x": np.zeros((1, 3, 8, 7), np.float32)}, "shape"),
    ({"input": np.zeros((1, 3, 8, 8), np.float32)}, "missing ['x']"),
    ({"x": np.zeros((1, 3, 8, 8), np.float32), "z": np.zeros(1)}, "unexpected ['z']"),
])
def test_inputs_that_do_not_match_exit_2(files, capsys, arrays, words):
    path = _npz(files, "bad_inputs.npz", **arrays)
    assert main(["check", str(files / "model.onnx"), "--inputs", str(path), *TARGETS]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_expected_that_does_not_match_exits_2(files, capsys):
    path = _npz(files, "bad_expected.npz", out=np.zeros(3, np.float32))
    assert main(["check", str(files / "model.onnx"), "--expected", str(path), *TARGETS]) == 2
    (files / "junk.npz").write_bytes(b"PK\x03\x04 not a zip")
    assert main(["check", str(files / "model.onnx"), "--inputs", str(files / "junk.npz"), *TARGETS]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_dynamic_dims_need_shape(tmp_path, capsys):
    save(small_model(dynamic=True), tmp_path / "dyn.onnx")
    assert main(["check", str(tmp_path / "dyn.onnx"), *TARGETS]) == 2
    assert "--shape x=1x3x8x8" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "dyn.onnx"), *TARGETS, "--shape", "x=2x3x8x8"]) == 0
    assert "(2, 3, 8, 8)" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "dyn.onnx"), *TARGETS, "--shape", "x=2x3x9x8"]) == 2
    assert main(["check", str(tmp_path / "dyn.onnx"), *TARGETS, "--shape", "x=2by3"]) == 2


def test_perturbed_target_names_the_first_divergent_node(files, perturbed, capsys):  # noqa: F811
    target = perturbed("Add")
    out_dir = files / "out"
    rc = main(["check", str(files / "model.onnx"), "--target", "onnxruntime", "--target", target,
               "--inputs", str(files / "inputs.npz"), "--out", str(out_dir)])
    assert rc == 1
    out = capsys.readouterr().out
    assert "perturbed: first divergent node #1 Add 'add0' (output 'a')" in out
    assert "reproduces alone" in out
    repro = onnx.load(str(out_dir / "perturbed" / "model.onnx"))
    assert [n.op_type for n in repro.graph.node] == ["Add"]
    assert (out_dir / "perturbed" / "test_data_set_0" / "input_0.pb").exists()
    assert (out_dir / "perturbed" / "test_data_set_0" / "output_0.pb").exists()
    assert not (out_dir / "onnxruntime").exists()              # the passing target leaves no repro
    assert set(np.load(out_dir / "inputs.npz").files) == {"x"}


def test_check_model_api_and_json(files, perturbed, capsys):  # noqa: F811
    target = perturbed("Relu")
    report = check_model(str(files / "model.onnx"), ["onnxruntime", target], inputs=sample_inputs())
    assert report.exit_code == 1 and not report.passed
    ok, bad = report.targets
    assert ok.status == "passed" and bad.status == "failed"
    assert (bad.divergence.node_index, bad.divergence.op_type) == (2, "Relu")
    assert bad.outputs[0].max_rel == pytest.approx(0.01, rel=1e-3)
    # --json is machine-readable and carries the same verdict
    assert main(["check", str(files / "model.onnx"), "--target", target, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 1 and data["targets"][0]["divergence"]["node_name"] == "relu0"


def test_check_model_rejects_bad_inputs_and_models():
    with pytest.raises(InvalidInputs):
        check_model(small_model(), ["onnxruntime"], inputs={"x": np.zeros((1, 3, 8, 8), np.int64)})
    with pytest.raises(InvalidModel):
        check_model(b"\x08\x07garbage", ["onnxruntime"])
    with pytest.raises(UnsupportedOperator):
        check_model(_one_op_model("Frobnicate", "com.example"), ["onnxruntime"], expected={"y": np.zeros(2, np.float32)})


def test_tolerance_flags(files, perturbed, capsys):  # noqa: F811
    target = perturbed("Relu")   # 1% off
    args = ["check", str(files / "model.onnx"), "--target", target, "--no-localize"]
    assert main(args) == 1
    assert main(args + ["--rtol", "0.02"]) == 0
    assert "rtol=0.02" in capsys.readouterr().out


def test_check_library_imports_no_command_line():
    # conformance.check is the library; its command line (check_cli) and the framework-file front
    # end (source_check) sit on top of it, never the other way round
    import subprocess
    import sys
    code = ("import sys, conformance.check; "
            "assert not {'conformance.check_cli', 'conformance.source_check', 'conformance.cli'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_json_rendering_has_no_nan_and_no_numpy_scalars():
    from conformance.check_report import jsonable
    data = {"a": [np.float32("nan"), np.float64(np.inf), -np.inf, np.int64(3), (1.5, None)]}
    assert jsonable(data) == {"a": ["nan", "inf", "-inf", 3, [1.5, None]]}
    json.dumps(jsonable(data), allow_nan=False)
