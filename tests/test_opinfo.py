"""torch cases from PyTorch's OpInfo database: the committed manifest, and cases run end to end
through the real torch worker (torch-script, the reference executor)."""
from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from conformance.runner import CaseRun, Runner, RunnerOptions
from suites.operators.opinfo import manifest, opinfo_specs

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")


def test_the_manifest_names_readable_unique_cases_over_hundreds_of_ops():
    specs = opinfo_specs()
    ids = [s.case_id("torch-script", 17, "reference") for s in specs]
    assert len(ids) == len(set(ids))
    assert len({s.op for s in specs}) >= 450    # OpInfo names, variants apart: what a converter ran, one
    # function once, is counted from results by scripts/count_ops.py
    assert all(s.marks[0] == "opinfo" and s.converters == ("torch-script", "torch-dynamo") for s in specs)
    default = [s for s in specs if "opinfo_extended" not in s.marks]     # one float32 sample per op
    assert len(default) == len({s.op for s in specs if s.params["dtype"] == "float32"})
    assert {s.params["dtype"] for s in specs} >= {"float32", "float16", "int64", "int32", "bool"}
    data = manifest()
    assert data["torch"].startswith("2.13") and data["excluded"]       # why an OpInfo yields no case


def _spec(op: str, dtype: str = "float32"):
    return next(s for s in opinfo_specs() if s.op == op and s.params["dtype"] == dtype)


@needs_torch
def test_opinfo_cases_run_in_the_torch_worker_and_a_drifted_sample_is_an_error(tmp_path):
    runner = Runner(RunnerOptions(timeout=120, cache_dir=str(tmp_path)))
    try:
        for op in ("add", "nn.functional.relu"):
            record = runner.run(CaseRun(_spec(op), "torch-script", 17, "reference"))
            assert record.status == "passed", (op, record.message)
            assert record.case_id.startswith(f"op/{op}/torch/torch-script/opset17/reference/float32-s")
        spec = _spec("mul")
        drifted = dataclasses.replace(spec, params={**spec.params, "signature": [[[99], "float32"]]})
        record = runner.run(CaseRun(drifted, "torch-script", 17, "reference"))
        assert record.status == "error"
        assert "python -m suites.operators.opinfo_manifest" in record.message
    finally:
        runner.close()


@needs_torch
def test_sort_and_topk_cases_check_the_values_their_indices_select(tmp_path):
    """torch leaves the order of equal elements' indices open; ONNX TopK puts the lower index first.
    topk of int64 (5, 10, 5) with ties gave other indices than torch for the same values."""
    from suites.operators import opinfo_torch as ot
    spec = _spec("topk", "int64")
    op = ot.op_table()[("topk", "")]
    sample = ot.samples(op, "int64", spec.params["sample_seed"])[spec.params["sample"]]
    values, selected = ot.OpInfoCall(ot.comparable(op, sample), sample)(sample.input)
    assert ot.comparable(op, sample) is not op.op and selected.equal(values)
    sort = ot.op_table()[("sort", "")]
    stable = next(s for s in ot.samples(sort, "float32", 1) if s.kwargs.get("stable"))
    assert ot.comparable(sort, stable) is sort.op          # a stable sort's indices are defined
    runner = Runner(RunnerOptions(timeout=120, cache_dir=str(tmp_path)))
    try:
        record = runner.run(CaseRun(spec, "torch-script", 17, "reference"))
        assert record.status == "passed", record.message
    finally:
        runner.close()


@needs_torch
def test_a_positional_dropout_p_makes_a_sample_random_by_definition():
    from suites.operators.opinfo_manifest import random_by_definition
    mha = "nn.functional.multi_head_attention_forward"
    args = (None,) * 9 + (0.5,)
    assert random_by_definition(mha, {}, args) and random_by_definition(mha, {"training": True}, args)
    assert not random_by_definition(mha, {"training": False}, args)
    assert not random_by_definition(mha, {}, (None,) * 9 + (0.0,))
    chosen = [s for s in opinfo_specs() if s.op == mha]
    assert {s.params["sample"] for s in chosen} == {186, 160, 24}     # 141 and 13 had dropout_p 0.5


def _op_record(op, variant, status, converter="torch-script", framework="torch"):
    from conformance.results import CaseResult
    return CaseResult(case_id=f"op/{op}/{framework}/{converter}/opset17/onnxruntime/{variant}", kind="op",
                      framework=framework, converter=converter, target="onnxruntime", status=status, op=op)


def test_count_ops_counts_each_torch_function_once_over_tables_variants_and_samples(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    from conformance.results import write
    records = [
        _op_record("max.binary", "float32-s29", "passed"), _op_record("max.reduction_with_dim", "int64-s3", "error"),
        _op_record("nn.functional.conv2d", "float32-s1", "failed"), _op_record("conv2d", "stride2", "passed"),
        _op_record("__radd__", "bool-s65", "xfailed"), _op_record("add", "bcast", "passed"),
        _op_record("polygamma.polygamma_n_0", "float32-s1", "unsupported"),
        _op_record("abs", "default", "passed", "tf2onnx", "tensorflow"),
    ]
    path = tmp_path / "r.jsonl"
    write(path, records)
    script = Path(__file__).resolve().parents[1] / "scripts" / "count_ops.py"
    out = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in out.stdout.splitlines()[1:]}
    # max, conv2d (hand table conv2d = nn.functional.conv2d), add (__radd__ reflects it): each passed somewhere;
    # polygamma never ran
    assert rows[("torch", "torch-script")] == ["3", "=", "2", "+", "3", "-", "2", "3"]
    assert rows[("tensorflow", "tf2onnx")] == ["1", "=", "1", "+", "0", "-", "0", "1"]
    missing = subprocess.run([sys.executable, str(script), str(tmp_path / "none.jsonl")], capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode == 2 and "no results file" in missing.stderr
