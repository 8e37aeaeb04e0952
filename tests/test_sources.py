"""Users' own model files (issue: convert and check .pt/.pt2/.keras/.h5/SavedModel/Paddle):
each format saved by its framework converts and checks from the file alone (exit 0); the
same model with a weight changed after conversion exits 1; refusals exit 2 with one line."""
from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from conformance.sources import SourceRefused, detect
from tests.fixtures.framework_python import run_module


FORMATS = {   # format -> (file name, extra check args)
    "torchscript": ("model.pt", ["--shape", "input=1x3x8x8"]),
    "torch-export": ("model.pt2", []),
    "keras": ("model.keras", []),
    "keras-h5": ("model.h5", []),
    "savedmodel": ("saved", []),
    "paddle": ("model", []),
}


def save(fmt, path, perturb=False):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    framework = "paddle" if fmt == "paddle" else "main"
    run_module(framework, "tests.fixtures.save_models", fmt, str(path), *(["--perturb"] if perturb else []))
    return Path(str(path) + ".json") if fmt == "paddle" else path


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_file_checks_and_an_out_of_step_file_fails(fmt, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path / "cache"))
    name, extra = FORMATS[fmt]
    source = save(fmt, tmp_path / "a" / name if fmt != "paddle" else tmp_path / "a" / "model")
    assert detect(source).name == fmt
    out = tmp_path / "out"
    assert main(["check", str(source), "--out", str(out), *extra]) == 0, capsys.readouterr().out
    assert "result: PASS" in capsys.readouterr().out
    changed = save(fmt, tmp_path / "b" / name if fmt != "paddle" else tmp_path / "b" / "model", perturb=True)
    assert main(["check", str(changed), "--onnx", str(out / "model.onnx"), *extra]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_convert_writes_onnx(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path / "cache"))
    source = save("torch-export", tmp_path / "m.pt2")
    assert main(["convert", str(source), "-o", str(tmp_path / "m.onnx")]) == 0
    import onnx
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"))


def _one_line_exit_2(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("conformance: error:"), err
    return err


def test_state_dict_is_refused(tmp_path, capsys):
    path = save("state-dict", tmp_path / "weights.pth")
    err = _one_line_exit_2(["check", str(path)], capsys)
    assert "state dict" in err and "torch.jit.save" in err


def test_corrupt_archive_is_refused(tmp_path, capsys):
    path = save("keras", tmp_path / "m.keras")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    err = _one_line_exit_2(["check", str(path)], capsys)
    assert "corrupt or truncated" in err


def test_empty_savedmodel_folder_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    err = _one_line_exit_2(["check", str(tmp_path / "empty")], capsys)
    assert "no saved_model.pb" in err


def test_plain_pickle_is_refused(tmp_path):
    import pickle
    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(SourceRefused, match="arbitrary code"):
        detect(path)


def test_generated_inputs_are_seeded_and_refuse_what_cannot_be_drawn():
    import numpy as np
    from converters.loaders import _sample
    ints = _sample([4, 5], np.int64, np.random.default_rng(0))
    assert ints.dtype == np.int64 and ints.min() >= 0 and ints.max() < 8     # small embedding vocabularies
    assert np.array_equal(ints, _sample([4, 5], np.int64, np.random.default_rng(0)))
    assert _sample([3], np.bool_, np.random.default_rng(0)).dtype == np.bool_
    with pytest.raises(SourceRefused, match="cannot generate inputs of dtype complex64; pass --inputs"):
        _sample([2], np.complex64, np.random.default_rng(0))
