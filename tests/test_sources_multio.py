"""Users' model files with several inputs of different dtypes, several outputs (dicts), and
control flow: per framework a multi-IO model and a control-flow model saved in its own format
(tests/fixtures/save_multio.py, one framework per subprocess) convert and check from the file
alone: ``conformance check FILE`` exits 0.

Int inputs are generated in [0, 8) from the file's signature; the models' vocabularies are 16.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from conformance.sources import detect
from tests.fixtures.framework_python import run_module

CASES = {   # kind -> (file name, format, check args, xfail reason)
    "torch-multio": ("model.pt2", "torch-export", [], None),
    "torch-loops": ("loops.pt", "torchscript", ["--shape", "x=2x5x4", "--shape", "threshold=1"], None),
    "keras-multio": ("model.keras", "keras", ["--shape", "tokens=2x6", "--shape", "mask=2x6"], None),
    "tf-control": ("control", "savedmodel", ["--shape", "x=2x5x4"], None),
    "paddle-multio": ("model", "paddle", ["--shape", "tokens=2x6", "--shape", "mask=2x6"], None),
    "paddle-control": ("model", "paddle", ["--shape", "x=2x5x4"], None),
}


def save(kind, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    run_module(kind.split("-")[0], "tests.fixtures.save_multio", kind, str(path))
    return Path(str(path) + ".json") if kind.startswith("paddle") else Path(path)


@pytest.mark.parametrize("kind", [
    pytest.param(kind, marks=pytest.mark.xfail(reason=why, strict=True)) if why else kind
    for kind, (_, _, _, why) in CASES.items()])
def test_saved_multio_and_control_flow_models_check(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path / "cache"))
    name, fmt, args, _ = CASES[kind]
    source = save(kind, tmp_path / name)
    assert detect(source).name == fmt
    code = main(["check", str(source), *args])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "result: PASS" in out
