"""The runner end to end with real worker processes: crash, hang, unsupported, wrong
conversion, and the conversion cache (hit, bypass, corrupt entry rebuilt)."""
from __future__ import annotations

import dataclasses

import onnx
import pytest

from conformance.cases import CaseSpec
from conformance.runner import CaseRun, Runner, RunnerOptions
from conformance.workers import CAN_FORK

ADD = CaseSpec(kind="op", name="add", op="add", framework="numpy", builder="tests.fixtures.builders:numpy_add")


@pytest.fixture(autouse=True)
def misbehaving_plugins(monkeypatch):
    monkeypatch.setenv("CONFORMANCE_PLUGINS", "tests.fixtures.misbehaving")
    import tests.fixtures.misbehaving  # noqa: F401  (registers in this process too)


@pytest.fixture
def runner(tmp_path):
    r = Runner(RunnerOptions(timeout=20, cache_dir=str(tmp_path / "cache"), repro_dir=str(tmp_path / "repro")))
    yield r
    r.close()


def run(runner, converter, target="onnxruntime", spec=ADD):
    return runner.run(CaseRun(spec, converter, 17, target))


def test_good_conversion_passes_with_statistics(runner):
    record = run(runner, "test-onnx-helper")
    assert record.status == "passed", record.message
    assert record.case_id == "op/add/numpy/test-onnx-helper/opset17/onnxruntime/default"
    assert record.onnx_ops == ["Add"]
    assert record.max_abs == 0.0 and record.rtol is not None
    assert set(record.seconds) == {"build", "convert", "run"}


def test_crashing_converter_is_one_error_and_the_worker_restarts(runner):
    record = run(runner, "test-crash")
    assert record.status == "error"
    assert "SIGKILL" in record.message
    assert run(runner, "test-onnx-helper").status == "passed"
    assert runner.pool.get("numpy").restarts == 1


@pytest.mark.skipif(not CAN_FORK, reason="this OS cannot fork: each conversion starts a new worker instead")
def test_a_fresh_process_converter_converts_each_case_in_a_fork_of_one_warm_worker(tmp_path):
    r = Runner(RunnerOptions(timeout=20, use_cache=False))
    try:
        specs = [dataclasses.replace(ADD, variant=f"v{i}") for i in range(3)]
        docs = [onnx.load_from_string(r.conversion(spec, "test-isolated", 17)[0].onnx_bytes).doc_string
                for spec in specs]
        pids, counts = zip(*(d.split() for d in docs))
        assert counts == ("1", "1", "1")              # no conversion sees another's state
        worker = r.pool.get("numpy", "numpy-test-isolated")
        assert len(set(pids)) == 3 and str(worker.pid) not in pids and worker.restarts == 0
        crashed = run(r, "test-isolated-crash")
        assert crashed.status == "error", crashed.message
        assert "conversion process (forked from the worker) killed by signal SIGKILL" in crashed.message
        assert run(r, "test-isolated").status == "passed"
        assert r.pool.get("numpy", "numpy-test-isolated").restarts == 0
    finally:
        r.close()


def test_hanging_converter_times_out_and_the_session_goes_on(tmp_path):
    r = Runner(RunnerOptions(timeout=3, cache_dir=str(tmp_path)))
    try:
        record = run(r, "test-hang")
        assert record.status == "error"
        assert "timed out after 3 s" in record.message
        assert run(r, "test-onnx-helper").status == "passed"
    finally:
        r.close()


def test_unsupported_op_is_recorded_as_unsupported(runner):
    record = run(runner, "test-unsupported")
    assert record.status == "unsupported"
    assert "no mapping for numpy.add" in record.message


def test_wrong_conversion_fails_with_statistics_and_a_repro_bundle(runner, tmp_path):
    record = run(runner, "test-wrong-op")
    assert record.status == "failed"
    assert record.max_abs > 0
    assert "atol" in record.message          # the tolerance report says what would have passed
    repro = tmp_path / "repro" / "op_add_numpy_test-wrong-op_opset17_onnxruntime_default"
    assert (repro / "model.onnx").exists()
    assert (repro / "test_data_set_0" / "input_1.pb").exists()
    assert "conformance check" in (repro / "command.sh").read_text()


def test_cache_second_run_converts_nothing(tmp_path):
    opts = RunnerOptions(timeout=20, cache_dir=str(tmp_path))
    first = Runner(opts)
    try:
        assert run(first, "test-onnx-helper").status == "passed"
        assert first.conversions_done == 1
    finally:
        first.close()
    second = Runner(opts)
    try:
        record = run(second, "test-onnx-helper")
        assert record.status == "passed" and record.cached is True
        assert second.conversions_done == 0
        assert second.pool.get("numpy").pid is None      # no worker process was even started
    finally:
        second.close()


def test_corrupt_cache_entry_is_detected_and_rebuilt(tmp_path):
    opts = RunnerOptions(timeout=20, cache_dir=str(tmp_path))
    r = Runner(opts)
    try:
        run(r, "test-onnx-helper")
    finally:
        r.close()
    model = next(tmp_path.rglob("model.onnx"))
    model.write_bytes(model.read_bytes()[:-7] + b"garbage")
    r = Runner(opts)
    try:
        record = run(r, "test-onnx-helper")
        assert record.status == "passed"
        assert r.cache.rebuilt == 1 and r.conversions_done == 1
    finally:
        r.close()


def test_no_cache_always_converts(tmp_path):
    for _ in range(2):
        r = Runner(RunnerOptions(timeout=20, cache_dir=str(tmp_path), use_cache=False))
        try:
            run(r, "test-onnx-helper")
            assert r.conversions_done == 1
        finally:
            r.close()
    assert not any(tmp_path.rglob("meta.json"))


def test_unavailable_target_records_the_reason_without_converting(runner):
    record = run(runner, "test-onnx-helper", target="tensorrt")
    assert record.status == "unavailable"
    assert "tensorrt" in record.message and runner.conversions_done == 0


def test_inputs_are_fed_by_name_when_the_exporter_drops_one(runner):
    spec = CaseSpec(kind="model", name="unused", framework="torch", builder="tests.fixtures.builders:torch_unused_input")
    record = run(runner, "torch-script", spec=spec)
    assert record.status == "passed", record.message


def test_a_source_with_no_outputs_never_passes(runner):
    spec = CaseSpec(kind="op", name="nothing", framework="numpy", builder="tests.fixtures.builders:numpy_nothing")
    record = run(runner, "test-onnx-helper", spec=spec)
    assert record.status == "failed" and "nothing to compare" in record.message


def test_an_unexpected_harness_failure_is_an_error_record(runner):
    spec = CaseSpec(kind="op", name="add", framework="numpy", builder="tests.fixtures.builders:numpy_add",
                    tolerance={"rtol": "not a number"})
    record = run(runner, "test-onnx-helper", spec=spec)
    assert record.status == "error" and record.message.startswith("harness error:")


def test_a_converter_that_aborts_on_an_unsupported_op_is_unsupported(runner):
    record = run(runner, "test-abort-unsupported")
    assert record.status == "unsupported"
    assert "SIGABRT" in record.message and "this operator is not supported" in record.message
    assert run(runner, "test-onnx-helper").status == "passed"       # the worker came back


def test_a_segfault_is_an_error_even_after_the_converter_said_not_supported(runner):
    record = run(runner, "test-segfault-after-unsupported")
    assert record.status == "error"
    assert "SIGSEGV" in record.message and "is not supported" in record.message
    assert run(runner, "test-onnx-helper").status == "passed"


def test_a_known_converter_bug_stays_known_through_a_chained_pass(tmp_path):
    table = tmp_path / "known.toml"
    table.write_text('[[failure]]\npattern = "op/add/numpy/test-wrong-op/*"\nconverter = "test-wrong-op"\n'
                     'reason = "emits Sub for Add"\n')
    r = Runner(RunnerOptions(timeout=20, cache_dir=str(tmp_path / "c"), known_failures_path=str(table)))
    try:
        assert run(r, "test-wrong-op").status == "xfailed"
        chained = run(r, "test-wrong-op+optimize")
        assert chained.status == "xfailed" and "emits Sub for Add" in chained.message
    finally:
        r.close()


def test_a_model_no_target_can_run_is_the_converters_failure(runner):
    record = run(runner, "test-invalid-model")
    assert record.status == "error" and record.attribution == "converter"
    # onnx.checker says why before any target is asked (a lenient one running it would not clear it)
    assert "the model is not valid ONNX (onnx.checker:" in record.message


def test_a_target_that_cannot_run_a_good_model_is_to_blame(runner):
    from conformance.targets import TARGETS, register_target
    from conformance.targets.base import Target

    @register_target("test-crashing-target")
    class CrashingTarget(Target):
        def prepare(self, model):
            return model

        def run(self, session, feeds):
            raise RuntimeError("kernel launch failed")

    try:
        record = run(runner, "test-onnx-helper", target="test-crashing-target")
        assert record.status == "error" and record.attribution == "target"
        assert "agrees with the source framework" in record.message
    finally:
        TARGETS._factories.pop("test-crashing-target", None)
        TARGETS._instances.pop("test-crashing-target", None)


def test_a_converters_code_hash_covers_the_helpers_it_imports_and_no_other_converter():
    from converters import get_converter
    from converters.base import PACKAGE, local_sources
    from conformance.cache import pipeline_code_hash
    import inspect

    def sources(name):
        return {str(p.relative_to(PACKAGE)) for p in local_sources(inspect.getfile(type(get_converter(name))))}
    # executorch exports with torch_export_converter's helpers: editing them must invalidate it
    assert {"executorch_converter.py", "torch_export_converter.py", "base.py"} <= sources("executorch")
    assert not {"tf2onnx_converter.py", "paddle2onnx_converter.py", "executorch_converter.py"} & sources("torch-script")
    # a chain step's code reaches every optimizer pass module (found at run time by pkgutil)
    assert "optimizer/passes/fold.py" in {str(p.relative_to(PACKAGE)) for p in local_sources(PACKAGE / "passes.py")}
    assert get_converter("torch-script").fingerprint("x") != get_converter("tf2onnx").fingerprint("x")
    assert len(pipeline_code_hash()) == 16
