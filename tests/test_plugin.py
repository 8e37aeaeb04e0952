"""The pytest plugin in real pytest sessions (subprocesses): TensorFlow and Paddle cases in one
session, also under -n 2 with the workers' results merged; an unavailable target exits 0 with
every case unavailable; shards split and merge back; -p no:conformance switches it off."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE = "tests/fixtures/mini_suite.py"


def pytest_run(*args, cache=None):
    env = dict(os.environ)
    if cache:
        env["CONFORMANCE_CACHE_DIR"] = str(cache)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def records(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_tensorflow_and_paddle_in_one_session_under_xdist(tmp_path, cache):
    results = tmp_path / "r.jsonl"
    code, out = pytest_run(SUITE, "-n", "2", "-q", "--results", str(results), "--no-cache")
    assert code == 0, out
    recs = records(results)
    got = {(r["framework"], r["target"]): r["status"] for r in recs}
    assert got == {(fw, t): "passed" for fw in ("tensorflow", "paddle", "torch")
                   for t in ("reference", "onnxruntime")}, out
    assert all(r["schema"] == 2 and r["onnx_ops"] for r in recs)
    assert not (tmp_path / "r.jsonl.parts").exists()     # parts merged and removed


def test_unavailable_target_exits_zero_with_reasons(tmp_path):
    results = tmp_path / "r.jsonl"
    code, out = pytest_run(SUITE, "--target", "tensorrt", "-q", "--results", str(results))
    assert code == 0, out
    recs = records(results)
    assert recs and all(r["status"] == "unavailable" for r in recs)
    assert "3 unavailable: target tensorrt unavailable:" in out, out   # reasons shown even under -q


def test_shards_partition_the_cases_and_merge_back(tmp_path, cache):
    ids = []
    for k in (1, 2):
        results = tmp_path / f"shard{k}.jsonl"
        code, out = pytest_run(SUITE, "--shard", f"{k}/2", "--target", "tensorrt,onnxruntime-basic",
                               "--framework", "torch", "--results", str(results), cache=cache)
        assert code == 0, out
        ids.append({r["case_id"] for r in records(results)})
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert len(ids[0] | ids[1]) == 2


def test_selection_by_case_glob_and_collect_only():
    code, out = pytest_run(SUITE, "--co", "-q", "--case", "model/mlp/paddle/*", "--target", "onnxruntime")
    assert code == 0, out
    assert "model/mlp/paddle/paddle2onnx/opset17/onnxruntime/tiny" in out
    assert "tensorflow" not in out.split("collected")[0] if "collected" in out else "tensorflow" not in out


def test_plugin_can_be_switched_off():
    code, out = pytest_run(SUITE, "-p", "no:conformance", "--co", "-q")
    assert code == 0 and "mini_suite.py::test_mini\n" in out     # not parametrized: no plugin
    code, out = pytest_run(SUITE, "-p", "no:conformance", "--target", "onnxruntime", "--co", "-q")
    assert code == 4 and "--target" in out                          # its options are gone too


def test_model_option_checks_a_users_file_as_a_case(tmp_path, cache):
    model = tmp_path / "m.pt2"
    subprocess.run([sys.executable, "-m", "tests.fixtures.save_models", "torch-export", str(model)],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    results = tmp_path / "r.jsonl"
    code, out = pytest_run("--model", str(model), "--target", "onnxruntime", "--results", str(results), cache=cache)
    assert code == 0, out
    (rec,) = records(results)
    assert rec["kind"] == "model" and rec["status"] == "passed" and rec["converter"] == "torch-dynamo"
    bad = tmp_path / "weights.pth"
    subprocess.run([sys.executable, "-m", "tests.fixtures.save_models", "state-dict", str(bad)],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    code, out = pytest_run("--model", str(bad))
    assert code != 0 and "state dict" in out
