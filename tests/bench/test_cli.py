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


def test_bench_json_valid_record_and_loadgen_logs_beside_results(tiny_path, tmp_path, capsys):
    results = tmp_path / "r.jsonl"
    code = main(["bench", tiny_path, "--target", "onnxruntime", "--scenario", "SingleStream", "--json",
                 "--results", str(results), "--shape", "x=1,16", *FAST])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["result"] == "VALID" and out["loadgen_result"] == "VALID"
    assert out["input_shapes"] == {"x": [1, 16]} and "samples" not in out
    logs = tmp_path / "r.loadgen" / "tiny-SingleStream-onnxruntime-performance"
    assert out["loadgen_logs"]["mlperf_log_summary.txt"] == str(logs / "mlperf_log_summary.txt")
    assert "Result is : VALID" in (logs / "mlperf_log_summary.txt").read_text()
    record = read(results)[0]
    assert record.kind == "benchmark" and record.status == "passed" and len(record.extra["samples"]) >= 64


def test_bench_one_microsecond_bound_is_invalid_exit_1(tiny_path, capsys):
    code = main(["bench", tiny_path, "--latency-bound", "1us", *FAST])
    out = capsys.readouterr().out
    assert code == 1
    assert "Result is : INVALID" in out and "latency bound missed" in out


def test_user_conf_reaches_loadgen(tiny_path, tmp_path, capsys):
    conf = tmp_path / "user.conf"
    conf.write_text("tiny.MultiStream.samples_per_query = 2\n*.MultiStream.min_query_count = 700\n")
    code = main(["bench", tiny_path, "--scenario", "MultiStream", "--user-conf", str(conf), "--json", *FAST])
    out = json.loads(capsys.readouterr().out)
    assert out["loadgen_settings"]["samples_per_query"] == 2 and out["loadgen_settings"]["min_query_count"] == 700
    assert out["queries"] >= 700 and code == (0 if out["valid"] else 1)


def test_bench_server_from_cli(tiny_path, capsys):
    code = main(["bench", tiny_path, "--scenario", "Server", "--target-qps", "300", "--latency-bound", "200ms",
                 "--min-queries", "500", "--min-duration", "0.2", "--no-accuracy", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["loadgen_settings"]["target_qps"] == 300 and out["queries"] >= 500
    assert out["loadgen_settings"]["target_latency_ns"] == 200_000_000
    assert code == (0 if out["valid"] else 1)


def _one_line_error(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err


def test_bench_bad_input_is_one_line_exit_2(tmp_path, tiny_path, capsys):
    _one_line_error(capsys, ["bench", str(tmp_path / "missing.onnx")], "does not exist")
    _one_line_error(capsys, ["bench", tiny_path, "--scenario", "Batch"], "unknown scenario 'Batch'")
    _one_line_error(capsys, ["bench", tiny_path, "--mode", "accuracy"], "accuracy mode needs a labelled data set")
    _one_line_error(capsys, ["bench", tiny_path, "--user-conf", str(tmp_path / "none.conf")], "cannot be read")
    bad = tmp_path / "bad.conf"
    bad.write_text("*.SingleStream.min_duration = soon\n")
    _one_line_error(capsys, ["bench", tiny_path, "--user-conf", str(bad)], "not in LoadGen's format")
    # a model onnxruntime cannot run: an operator of a domain it does not know
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Frobnicate", ["x"], ["y"], domain="example.unknown")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("example.unknown", 1)])
    path = tmp_path / "unknown_op.onnx"
    onnx.save(model, str(path))
    _one_line_error(capsys, ["bench", str(path)], "cannot prepare the model")


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
