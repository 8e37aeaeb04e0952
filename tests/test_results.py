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
    assert line["schema"] == 2 and line["max_abs"] == "inf"       # valid JSON, no bare Infinity
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


# one record of the committed reports/baseline.jsonl, in the layout of older files: the stage
# fields (cache flag, attribution, known failure) inside ``extra``
BASELINE_LINE = (
    '{"arch": null, "atol": 1e-05, "case_id": "op/conv_transpose2d/tensorflow/tf2onnx/opset17/onnxruntime/'
    'k3-stride2-pad1-outpad1", "converter": "tf2onnx", "extra": {"attribution": "converter", "attribution_error": '
    '"TypeError: boom", "cached": false, "known_failure": {"pattern": "op/conv_transpose2d/tensorflow/*", '
    '"status": "xfail"}, "traceback": "Traceback ..."}, "framework": "tensorflow", "kind": "op", "max_abs": 0.5, '
    '"max_rel": 1.0, "message": "attributed to the CONVERTER tf2onnx", "mismatch": 0.25, "onnx_ops": ["ConvTranspose"], '
    '"op": "conv_transpose2d", "opset": 17, "rtol": 1e-05, "schema": 1, "seconds": {"build": 0.1, "convert": 0.2, '
    '"run": 0.01}, "status": "xfailed", "target": "onnxruntime", "versions": {"converter": "1.17.0"}}\n')


def test_old_layout_stage_keys_in_extra_are_read_into_the_named_fields(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text(BASELINE_LINE)
    (record,) = results.read(path)
    assert record.cached is False and record.traceback == "Traceback ..."
    assert record.known_failure == {"pattern": "op/conv_transpose2d/tensorflow/*", "status": "xfail"}
    assert record.diagnosis.attribution == "converter" and record.attribution == "converter"
    assert record.diagnosis.attribution_error == "TypeError: boom"
    assert record.extra == {}
    # written back in the new layout, it reads the same
    results.write(tmp_path / "new.jsonl", [record])
    line = json.loads((tmp_path / "new.jsonl").read_text())
    assert line["diagnosis"]["attribution"] == "converter" and line["known_failure"]["status"] == "xfail"
    assert results.read(tmp_path / "new.jsonl") == [record]


def test_the_committed_baseline_reads_in_the_new_layout():
    from pathlib import Path
    baseline = Path(__file__).resolve().parents[1] / "reports" / "baseline.jsonl"
    if not baseline.exists():
        pytest.skip("no committed baseline")
    records = results.read(baseline)
    # every line is one record, read (none dropped), one per case id; the count itself changes
    # whenever the baseline is re-recorded
    assert len(records) == sum(1 for line in baseline.read_text().splitlines() if line.strip())
    assert len({r.case_id for r in records}) == len(records)
    assert all(r.cached is not None and "cached" not in r.extra for r in records)
    assert any(r.known_failure for r in records) and any(r.attribution == "converter" for r in records)


def test_a_flaky_known_failure_in_the_old_layout_still_gates(tmp_path):
    from conformance.gate import run_gate
    base = rec()
    cur = rec(status="xfailed", extra={"known_failure": {"status": "flaky", "pattern": "op/*"}})
    assert cur.known_failure == {"status": "flaky", "pattern": "op/*"}
    assert run_gate([base], [cur]).exit_code == 0



def test_a_schema_1_record_is_read_into_this_version(tmp_path):
    old = {"schema": 1, "case_id": "op/relu/torch/torch-script/opset17/reference/default", "kind": "op",
           "framework": "torch", "converter": "torch-script", "target": "reference", "status": "xfailed",
           "extra": {"known_failure": {"status": "xfail", "pattern": "op/relu/*"}, "cached": True}}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n")
    (record,) = results.read(path)
    assert record.schema == results.SCHEMA_VERSION == 2
    assert record.known_failure == {"status": "xfail", "pattern": "op/relu/*"} and record.cached is True
    assert json.loads(record.to_json())["schema"] == 2
    path.write_text(json.dumps(dict(old, schema=3)) + "\n")
    with pytest.raises(ResultsFileError, match="reads schemas 1, 2"):
        results.read(path)
