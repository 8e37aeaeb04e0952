"""The regression gate: exit 0 / 1 / 2 and the table that says why."""
from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np
import pytest

from conformance.cli import main
from conformance.gate import run_gate
from conformance.results import CaseResult, write


def rec(name, status="passed", max_abs=1e-5, kind="op", **kw):
    return CaseResult(case_id=f"{kind}/{name}/torch/torch-script/opset17/onnxruntime/default", kind=kind,
                      framework="torch", converter="torch-script", target="onnxruntime", status=status,
                      opset=17, op=name, max_abs=max_abs, **kw)


def baseline():
    return [rec("conv2d"), rec("relu", max_abs=0.0), rec("gelu", status="failed", message="too far"),
            rec("softmax", max_abs=2e-6), rec("lstm", status="unsupported")]


def flip(records, name, **changes):
    return [dataclasses.replace(r, **changes) if r.op == name else r for r in records]


def gate(tmp_path, base, cur, *extra):
    write(tmp_path / "base.jsonl", base)
    write(tmp_path / "cur.jsonl", cur)
    return main(["gate", "--baseline", str(tmp_path / "base.jsonl"), "--current", str(tmp_path / "cur.jsonl"), *extra])


def test_identical_runs_pass(tmp_path, capsys):
    assert gate(tmp_path, baseline(), baseline()) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "0 regression" in out


def test_one_flipped_case_fails_naming_it(tmp_path, capsys):
    cur = flip(baseline(), "softmax", status="failed", message="max_abs 3e-2 > atol")
    assert gate(tmp_path, baseline(), cur) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    line = next(l for l in out.splitlines() if "op/softmax/" in l)
    assert line.split()[:4] == ["REGRESSED", "op/softmax/torch/torch-script/opset17/onnxruntime/default",
                                "passed", "failed"]
    assert "max_abs 3e-2" in line
    assert "op/conv2d" not in out


@pytest.mark.parametrize("status", ["error", "skipped", "unavailable", "xfailed"])
def test_passing_case_now_not_passing_is_a_regression(status):
    result = run_gate(baseline(), flip(baseline(), "conv2d", status=status))
    assert result.exit_code == 1 and [r.case_id.split("/")[1] for r in result.regressions] == ["conv2d"]


def test_disappeared_case_fails(tmp_path, capsys):
    cur = [r for r in baseline() if r.op != "relu"]
    assert gate(tmp_path, baseline(), cur) == 1
    assert "DISAPPEARED" in capsys.readouterr().out


def test_newly_passing_is_listed_as_improvement(tmp_path, capsys):
    cur = flip(baseline(), "gelu", status="passed")
    assert gate(tmp_path, baseline(), cur) == 0
    out = capsys.readouterr().out
    assert "1 improvement" in out and "IMPROVED" in out and "op/gelu/" in out


def test_error_growth_within_tolerance():
    # 1e-5 -> 3e-5: x3 > x2 fails; -> 1.9e-5 passes
    assert run_gate(baseline(), flip(baseline(), "conv2d", max_abs=3e-5)).exit_code == 1
    assert run_gate(baseline(), flip(baseline(), "conv2d", max_abs=1.9e-5)).exit_code == 0
    assert run_gate(baseline(), flip(baseline(), "conv2d", max_abs=3e-5), max_error_growth=4).exit_code == 0
    row = run_gate(baseline(), flip(baseline(), "conv2d", max_abs=3e-5)).regressions[0]
    assert row.verdict == "error-grew" and "x3" in row.detail


def test_growth_between_tiny_errors_is_ignored():
    # relu was exact (0.0); 5e-8 is below the 1e-7 floor: noise, not a regression
    assert run_gate(baseline(), flip(baseline(), "relu", max_abs=5e-8)).exit_code == 0
    # 0 -> 1e-6 is beyond the floor: x10
    assert run_gate(baseline(), flip(baseline(), "relu", max_abs=1e-6)).exit_code == 1
    # NaN error in a passing case is never ignored
    assert run_gate(baseline(), flip(baseline(), "softmax", max_abs=float("nan"))).exit_code == 1


def test_truncated_file_exits_2(tmp_path, capsys):
    write(tmp_path / "base.jsonl", baseline())
    text = (tmp_path / "base.jsonl").read_text()
    (tmp_path / "cur.jsonl").write_text(text[:-30])
    assert main(["gate", "--baseline", str(tmp_path / "base.jsonl"), "--current", str(tmp_path / "cur.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "truncated" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content", ["", "\n", json.dumps({"schema": 99, "case_id": "x"}) + "\n", "{not json\n"])
def test_empty_or_foreign_file_exits_2(tmp_path, content):
    write(tmp_path / "base.jsonl", baseline())
    (tmp_path / "cur.jsonl").write_text(content)
    assert main(["gate", "--baseline", str(tmp_path / "base.jsonl"), "--current", str(tmp_path / "cur.jsonl")]) == 2


def test_missing_file_exits_2(tmp_path):
    write(tmp_path / "base.jsonl", baseline())
    assert main(["gate", "--baseline", str(tmp_path / "base.jsonl"), "--current", str(tmp_path / "nope.jsonl")]) == 2


def test_run_gate_with_no_records_is_exit_2_never_a_pass():
    result = run_gate(baseline(), [])
    assert result.exit_code == 2 and "no records" in result.table()
    assert run_gate([], baseline()).exit_code == 2


def test_disagreeing_shards_exit_2(tmp_path):
    write(tmp_path / "a.jsonl", baseline())
    write(tmp_path / "b.jsonl", flip(baseline(), "conv2d", status="failed"))
    assert main(["gate", "--baseline", str(tmp_path / "a.jsonl"),
                 "--current", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]) == 2


def bench(name, samples):
    return rec(name, kind="benchmark", max_abs=None, extra={"samples": list(samples)})


def test_benchmark_slower_fails_and_faster_improves():
    rng = np.random.default_rng(0)
    base_samples = (10 + rng.normal(0, 0.1, 40)).tolist()
    slow = (12 + rng.normal(0, 0.1, 40)).tolist()
    fast = (8 + rng.normal(0, 0.1, 40)).tolist()
    same = (10 + rng.normal(0, 0.1, 40)).tolist()
    base = [bench("mm", base_samples), bench("conv", base_samples), bench("add", base_samples)]
    result = run_gate(base, [bench("mm", slow), bench("conv", fast), bench("add", same)])
    assert result.exit_code == 1
    assert [(r.verdict, r.case_id.split("/")[1]) for r in result.regressions] == [("slower", "mm")]
    assert [(r.verdict, r.case_id.split("/")[1]) for r in result.improvements] == [("faster", "conv")]
    # a 20% slowdown passes when 30% is allowed
    assert run_gate(base[:1], [bench("mm", slow)], max_slowdown=0.30).exit_code == 0


def test_benchmarks_not_compared_without_stats_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "conformance.bench.stats", None)   # import raises ImportError
    base = [bench("mm", [1.0] * 10)]
    result = run_gate(base, [bench("mm", [5.0] * 10)])
    assert result.exit_code == 0 and any("benchmarks not compared" in n for n in result.notes)


def test_gate_result_api_for_the_plugin():
    result = run_gate(baseline(), flip(baseline(), "conv2d", status="failed"), max_error_growth=2.0, max_slowdown=0.1)
    assert result.exit_code == 1 and "REGRESSED" in result.table()
    assert json.loads(json.dumps(result.to_dict()))["regressions"][0]["verdict"] == "regressed"


def test_benchmarks_failing_in_both_runs_still_compare_latency():
    rng = np.random.default_rng(1)
    base = [dataclasses.replace(bench("mm", 10 + rng.normal(0, 0.1, 30)), status="failed")]
    cur = [dataclasses.replace(bench("mm", 13 + rng.normal(0, 0.1, 30)), status="failed")]
    result = run_gate(base, cur)
    assert result.exit_code == 1 and result.regressions[0].verdict == "slower"


def test_a_flaky_known_failure_swinging_is_not_a_regression():
    base = baseline()
    cur = flip(base, "conv2d", status="xfailed", extra={"known_failure": {"status": "flaky", "pattern": "op/conv2d/*"}})
    result = run_gate(base, cur)
    assert result.exit_code == 0 and any("flaky" in n for n in result.notes)
    plain_xfail = flip(base, "conv2d", status="xfailed", extra={"known_failure": {"status": "xfail", "pattern": "x"}})
    assert run_gate(base, plain_xfail).exit_code == 1      # an ordinary known failure appearing is a regression


# -- one run, two converters or two targets: --between A B ---------------------------------------
def renamed(records, field_name, name):
    out = []
    for r in records:
        case_id = r.case_id.replace(f"/{getattr(r, field_name)}/", f"/{name}/", 1)
        out.append(dataclasses.replace(r, case_id=case_id, **{field_name: name}))
    return out


def one_run(tmp_path, old, new, field_name="converter"):
    """A results file where the same cases ran under ``old`` and ``new`` names of a field."""
    names = {"converter": ("tf2onnx@tf216", "tf2onnx"), "target": ("onnxruntime@ort131", "onnxruntime")}[field_name]
    write(tmp_path / "run.jsonl", renamed(old, field_name, names[0]) + renamed(new, field_name, names[1]))
    return str(tmp_path / "run.jsonl"), names


@pytest.mark.parametrize("field_name", ["converter", "target"])
def test_between_two_names_of_one_run_pairs_cases(tmp_path, capsys, field_name):
    path, (a, b) = one_run(tmp_path, baseline(), baseline(), field_name)
    assert main(["gate", path, "--between", a, b]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and f"baseline: {field_name} {a} (5 records)" in out
    path, (a, b) = one_run(tmp_path, baseline(), flip(baseline(), "conv2d", status="failed", message="max_abs 3"),
                           field_name)
    assert main(["gate", path, "--between", a, b]) == 1
    out = capsys.readouterr().out
    # the regression is named by B's case id, with B's message
    assert f"op/conv2d/torch/" in out and f"/{b}/" in out.split("Regressions:")[1] and "max_abs 3" in out
    # the other way round, the same difference is an improvement
    assert main(["gate", path, "--between", b, a]) == 0
    assert "IMPROVED" in capsys.readouterr().out


def test_between_names_not_in_the_file_or_mixed_exit_2(tmp_path, capsys):
    path, (a, b) = one_run(tmp_path, baseline(), baseline())
    for between in ([a, "nosuch"], [a, "onnxruntime"], [a, a]):
        assert main(["gate", path, "--between", *between]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
    assert main(["gate", path, "--between", a, "nosuch"]) == 2
    assert "converters: tf2onnx, tf2onnx@tf216; targets: onnxruntime" in capsys.readouterr().err
    # --between takes the run's files, not --baseline/--current
    assert main(["gate", "--between", a, b, "--baseline", path, "--current", path]) == 2
    assert main(["gate", path]) == 2
