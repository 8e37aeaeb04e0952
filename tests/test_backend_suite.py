"""The backend corner suite's own tests: it covers every op the reference executor implements
with at least three data sets, its case ids are unique and deterministic, a few cases run end
to end on reference and onnxruntime through the runner, and a wrong target output is caught."""
from __future__ import annotations

import collections
import dataclasses

import numpy as np
import pytest

from conformance.cases import Conversion
from conformance.judge import judge
from conformance.runner import CaseRun, Runner, RunnerOptions
from conformance.selection import expand
from suites.backend import corners
from suites.backend.builder import build_node
from suites.backend.datasets import data_sets
from suites.backend.specs import all_cases, reference_ops


@pytest.fixture(scope="module")
def specs():
    return all_cases()


def test_every_reference_op_has_three_data_sets(specs):
    per_op = collections.Counter(s.op for s in specs)
    ops = {op for _, op in reference_ops()}
    assert ops, "the reference executor registers no op"
    assert ops - set(per_op) == set()
    thin = {op: n for op, n in per_op.items() if n < 3}
    assert thin == {}


def test_case_ids_are_unique_and_readable(specs):
    runs = expand(specs, targets=["reference", "onnxruntime"])
    ids = [r.case_id for r in runs]
    assert len(ids) == len(set(ids))
    gather = [i for i in ids if i.startswith("node/Gather/onnx/onnx/opset11/onnxruntime/")]
    assert "node/Gather/onnx/onnx/opset11/onnxruntime/neg_index-float32" in gather


def test_specs_are_deterministic(specs):
    again = all_cases()
    assert [s.to_dict() for s in again] == [s.to_dict() for s in specs]


def test_a_data_set_draws_the_same_arrays_twice():
    spec = next(s for s in all_cases() if s.op == "Add" and s.variant == "nan_inf-float32")
    first, second = (build_node(_params(spec), spec.seed) for _ in range(2))
    for a, b in zip(first.inputs, second.inputs):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(first.inputs[0]).any() and np.isinf(first.inputs[0]).any()


def test_opset_selects_among_written_opsets(specs):
    gather = [s for s in specs if s.op == "Gather"]
    runs = expand(gather, targets=["reference"], opsets=[11])
    assert runs and {r.opset for r in runs} == {11}
    assert expand(gather, targets=["reference"], opsets=[12]) == []


def test_undefined_corners_are_marked_not_judged(specs):
    oob = [s for s in specs if s.op == "Gather" and s.params["family"] == "oob_index"]
    assert oob and all("out of bounds" in s.params["undefined"] for s in oob)


def test_families_fit_their_dtypes():
    rng = np.random.default_rng(0)
    for fam in corners.FAMILIES.values():
        for dtype in corners.family_dtypes(fam, ("float32", "float16", "int8", "uint8", "int64", "bool")):
            assert fam.fill(( 2, 3), dtype, rng).dtype == np.dtype(dtype)


def test_every_op_has_a_dtype_data_set():
    for domain, op in reference_ops()[:40]:
        assert any(ds.family in ("dtype",) or ds.undefined for ds in data_sets(op, domain)), op


def _params(spec):
    return {k: v for k, v in spec.params.items() if k != "undefined"}


END_TO_END = ("node/Add/*/nan_inf-float32", "node/Gather/*/neg_index-float32", "node/Mod/*/neg_int-int32",
              "node/Softmax/*/axis-all_neg_inf-float32")


def test_end_to_end_on_reference_and_onnxruntime(specs, tmp_path):
    runs = expand(specs, targets=["reference", "onnxruntime"], include=END_TO_END)
    assert len(runs) >= 8
    empty_table = tmp_path / "known_failures.toml"
    empty_table.write_text("")
    runner = Runner(RunnerOptions(cache_dir=str(tmp_path / "cache"), known_failures_path=str(empty_table), timeout=120))
    try:
        records = [runner.run(run) for run in runs]
    finally:
        runner.close()
    statuses = {r.case_id: r.status for r in records}
    assert set(statuses.values()) <= {"passed", "unavailable"}, statuses
    assert any(r.status == "passed" and r.target == "onnxruntime" for r in records)
    assert all(r.kind == "node" and r.framework == "onnx" for r in records)


def test_a_wrong_target_output_is_caught():
    """NaN where the reference has a number (and a number where it has NaN) fails, whatever the tolerance."""
    spec = next(s for s in all_cases() if s.op == "Relu" and s.variant == "nan_inf-float32")
    built = build_node(_params(spec), spec.seed)
    golden = built.run(built.model, built.inputs)
    assert np.isnan(golden[0]).any()
    conv = Conversion(status="ok", golden_sets=[golden], input_sets=[built.inputs], output_names=["y0"])
    assert judge(spec, conv, [golden]).status == "passed"
    wrong = np.nan_to_num(golden[0], nan=0.0)
    verdict = judge(spec, conv, [[wrong]])
    assert verdict.status == "failed" and "NaN" in verdict.message
    loose = dataclasses.replace(spec, tolerance={"atol": 1e9, "rtol": 1e9})
    assert judge(loose, conv, [[wrong]]).status == "failed"


def test_integer_outputs_are_exact():
    spec = next(s for s in all_cases() if s.op == "Add" and s.variant == "int_extremes-int32")
    built = build_node(_params(spec), spec.seed)
    golden = built.run(built.model, built.inputs)
    conv = Conversion(status="ok", golden_sets=[golden], input_sets=[built.inputs], output_names=["y0"])
    off_by_one = golden[0].copy()
    off_by_one.flat[0] += 1
    assert judge(spec, conv, [[off_by_one]]).status == "failed"


def test_runs_name_their_case(specs):
    run = CaseRun(next(s for s in specs if s.op == "Gather"), "onnx", 11, "reference")
    assert run.case_id.startswith("node/Gather/onnx/onnx/opset11/reference/")
