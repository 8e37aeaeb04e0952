"""``conformance bench`` and ``conformance bench-kernels`` through the real entry point."""
import argparse
import json

import onnx
import pytest

from conformance.bench.cli import parse_time
from conformance.cli import main
from conformance.results import read

from .test_scenarios import conv_model, tiny_model

pytest.importorskip("onnxruntime")

FAST = ["--min-duration", "0.2s", "--warmup", "1", "--no-accuracy"]


@pytest.fixture()
def tiny_path(tmp_path):
    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_model(), str(path))
    return str(path)


def test_parse_time_units():
    assert parse_time("10", "s") == 10.0
    assert parse_time("500ms", "s") == pytest.approx(0.5)
    assert parse_time("1us", "ms") == pytest.approx(1e-6)
    assert parse_time("15", "ms") == pytest.approx(0.015)
    assert parse_time("2m", "s") == 120.0
    with pytest.raises(argparse.ArgumentTypeError):
        parse_time("fast", "s")


def test_bench_json_valid_and_results_record(tiny_path, tmp_path, capsys):
    results = tmp_path / "r.jsonl"
    code = main(["bench", tiny_path, "--target", "onnxruntime", "--scenario", "SingleStream", "--json",
                 "--results", str(results), "--shape", "x=1,16", *FAST])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["result"] == "VALID" and out["scenario"] == "SingleStream"
    assert out["input_shapes"] == {"x": [1, 16]} and "samples" not in out
    record = read(results)[0]
    assert record.kind == "benchmark" and record.status == "passed" and len(record.extra["samples"]) >= 64


def test_bench_one_microsecond_bound_is_invalid_exit_1(tiny_path, capsys):
    code = main(["bench", tiny_path, "--latency-bound", "1us", *FAST])
    out = capsys.readouterr().out
    assert code == 1
    assert "Result is : INVALID" in out and "latency bound missed" in out


def test_bench_unreachable_min_queries_is_invalid(tiny_path, capsys):
    code = main(["bench", tiny_path, "--scenario", "Offline", "--min-queries", "100000000",
                 "--max-duration", "0.3", *FAST])
    out = capsys.readouterr().out
    assert code == 1 and "min query count NOT met" in out and "before max duration" in out


def test_bench_multistream_and_server_from_cli(tiny_path, capsys):
    assert main(["bench", tiny_path, "--scenario", "MultiStream", "--samples-per-query", "2", *FAST]) == 0
    assert "Samples per query   : 2" in capsys.readouterr().out
    code = main(["bench", tiny_path, "--scenario", "Server", "--target-qps", "300", "--latency-bound", "200ms",
                 "--min-queries", "500", "--min-duration", "0.2", "--no-accuracy", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["run"]["target_qps"] == 300 and out["queries"] >= 500
    assert out["run"]["latency_bound_ms"] == pytest.approx(200)
    assert code == (0 if out["valid"] else 1)


def test_bench_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "missing.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    path = tmp_path / "t.onnx"
    onnx.save(tiny_model(), str(path))
    assert main(["bench", str(path), "--scenario", "Batch"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_compare_two_models_and_results_files(tmp_path, capsys):
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    onnx.save(conv_model(), str(a))
    onnx.save(conv_model(), str(b))
    code = main(["bench", "--compare", str(a), str(b), "--target", "onnxruntime", "--min-queries", "40",
                 "--min-duration", "0.2", "--warmup", "1"])
    out = capsys.readouterr().out
    assert "interleaved A B A B" in out and "B vs A:" in out
    assert code == (1 if "B vs A: slower" in out else 0)
    # two stored runs: compared by their latency samples
    r1, r2 = tmp_path / "r1.jsonl", tmp_path / "r2.jsonl"
    for r in (r1, r2):
        assert main(["bench", str(a), "--results", str(r), *FAST]) == 0
    capsys.readouterr()
    code = main(["bench", "--compare", str(r1), str(r2)])
    line = capsys.readouterr().out.strip()
    assert line.startswith("benchmark/a/SingleStream/onnxruntime: ")
    assert code == (1 if ": slower:" in line else 0)


def test_bench_kernels_writes_table_json_png(tmp_path, capsys):
    code = main(["bench-kernels", "--out", str(tmp_path), "--kernel", "matmul", "--kernel", "attention", "--kernel", "lstm",
                 "--target", "onnxruntime", "--budget", "0.02"])
    assert code == 0
    table = (tmp_path / "kernels.md").read_text()
    assert "| matmul | 64x64x64 |" in table and "attention" in table
    data = json.loads((tmp_path / "kernels.json").read_text())
    assert all(c["times_ms"]["onnxruntime"] > 0 for c in data["cases"])
    assert (tmp_path / "kernels.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
