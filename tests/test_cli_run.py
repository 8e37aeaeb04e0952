"""`conformance run`: the suites without pytest, through the same runner, records and matrix."""
from __future__ import annotations

from conformance import results
from conformance.cli import main


def test_run_writes_records_and_matrix_without_pytest(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out" / "results.jsonl"
    code = main(["run", "--suite", "tests.fixtures.mini_suite", "--framework", "torch",
                 "--target", "reference,onnxruntime", "--results", str(out)])
    assert code == 0, capsys.readouterr().out
    records = results.read(out)
    assert {(r.case_id, r.status) for r in records} == {
        ("model/mlp/torch/torch-script/opset17/reference/tiny", "passed"),
        ("model/mlp/torch/torch-script/opset17/onnxruntime/tiny", "passed")}
    assert (out.parent / "matrix.html").exists()


def test_run_with_nothing_selected_is_an_error(tmp_path, capsys):
    assert main(["run", "--suite", "tests.fixtures.mini_suite", "--case", "nothing/*",
                 "--results", str(tmp_path / "r.jsonl")]) == 2
    assert "no cases selected" in capsys.readouterr().err


def test_run_runs_generation_cases_like_pytest(tmp_path, monkeypatch, capsys):
    """`conformance run --suite generation`: a generation case goes through its own loop (32
    greedy tokens on the converted prefill/decode models), not through the one-conversion flow
    (which has no builder to convert for it), and its record keeps the token figures."""
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "results.jsonl"
    case = "generation/decoder/torch/torch-script/opset17/onnxruntime/gpt2-greedy32"
    code = main(["run", "--suite", "generation", "--case", case, "--results", str(out)])
    assert code == 0, capsys.readouterr().out
    (record,) = results.read(out)
    assert (record.case_id, record.kind, record.status) == (case, "generation", "passed"), record.message
    assert record.extra["tokens_agree"] == record.extra["tokens_total"] == 32
    assert {"Gemm", "MatMul"} & set(record.onnx_ops)       # the converted models ran, not a stub
