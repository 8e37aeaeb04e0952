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
    assert len({s.op for s in specs}) >= 450          # the floor for torch-script
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
