"""The result record: schema round trip, non-finite numbers, and files that must never pass."""
from __future__ import annotations

import json

import pytest

from conformance import results
from conformance.errors import ResultsFileError
from conformance.results import CaseResult


def rec(case_id="op/add/torch/torch-script/opset17/onnxruntime/default", status="passed", **kw):
    return CaseResult(case_id=case_id, kind="op", framework="torch", converter="torch-script",
                      target="onnxruntime", status=status, opset=17, op="add", **kw)


def test_round_trip_keeps_every_documented_key(tmp_path):
    path = tmp_path / "r.jsonl"
    results.write(path, [rec(max_abs=float("inf"), onnx_ops=["Add"])])
    line = json.loads(path.read_text())
    for key in ("schema", "case_id", "kind", "op", "onnx_ops", "arch", "framework", "converter", "opset", "target",
                "status", "max_abs", "max_rel", "mismatch", "rtol", "atol", "seconds", "message", "versions"):
        assert key in line
    assert line["schema"] == 1 and line["max_abs"] == "inf"       # valid JSON, no bare Infinity
    (back,) = results.read(path)
    assert back.case_id == rec().case_id and back.onnx_ops == ["Add"]


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError):
        rec(status="okay")


@pytest.mark.parametrize("content, words", [
    ("", "empty"),
    ('{"schema": 1, "case_id": "x"', "truncated"),
    ('{"schema": 99}\n', "schema 99"),
    ("not json\n", "not valid JSON"),
])
def test_bad_files_are_errors(tmp_path, content, words):
    path = tmp_path / "r.jsonl"
    path.write_text(content)
    with pytest.raises(ResultsFileError, match=words):
        results.read(path)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ResultsFileError, match="does not exist"):
        results.read(tmp_path / "nope.jsonl")


def test_merge_collapses_identical_and_refuses_disagreeing_duplicates():
    a, b = rec(), rec(case_id="op/add/torch/torch-script/opset17/reference/default")
    assert [r.case_id for r in results.merge([[a], [a, b]])] == sorted([a.case_id, b.case_id])
    with pytest.raises(ResultsFileError, match="disagrees"):
        results.merge([[a], [rec(status="failed")]])


def test_appends_accumulate_whole_records(tmp_path):
    path = tmp_path / "r.jsonl"
    for i in range(50):
        results.append(path, [rec(case_id=f"op/add/torch/torch-script/opset17/onnxruntime/v{i}")])
    assert len(results.read(path)) == 50
