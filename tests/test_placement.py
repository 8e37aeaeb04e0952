"""Converters and targets in named environments (``NAME@ENV``), end to end with real worker
processes: the ``paddle`` environment (built by scripts/setup.sh; it has numpy and onnx 1.17,
so our reference executor and the numpy test converters run there too) serves a target and a
converter; bad environments are one-line ``unavailable`` records and the session goes on."""
from __future__ import annotations

import importlib.metadata

import pytest

from conformance.cases import CaseSpec
from conformance.environments import environment_state, get_environment, load_environments, make_environment
from conformance.placement import Placements, base_converter, split_env
from conformance.runner import CaseRun, Runner, RunnerOptions

ADD = CaseSpec(kind="op", name="add", op="add", framework="numpy", builder="tests.fixtures.builders:numpy_add")


@pytest.mark.parametrize("name, expected", [
    ("tf2onnx", ("tf2onnx", None)),
    ("tf2onnx@tf216", ("tf2onnx", "tf216")),
    ("tf2onnx@tf216+optimize", ("tf2onnx+optimize", "tf216")),
    ("tf2onnx+optimize", ("tf2onnx+optimize", None)),
    ("onnxruntime@ort131", ("onnxruntime", "ort131")),
])
def test_split_env(name, expected):
    assert split_env(name) == expected


def test_base_converter_strips_environment_and_chain():
    assert base_converter("tf2onnx@tf216+optimize") == "tf2onnx"
    assert base_converter("paddle2onnx") == "paddle2onnx"


def test_paddle_runs_in_its_environment_by_default():
    placements = Placements()
    assert placements.env_name("paddle2onnx", "paddle") == "paddle"
    assert placements.env_name("tf2onnx", "tensorflow") is None
    assert placements.env_name("tf2onnx@tf216", "tensorflow") == "tf216"
    assert placements.env_name("onnxruntime@ort131") == "ort131"


@pytest.fixture
def paddle_env():
    if not environment_state(get_environment("paddle")).built:
        pytest.skip("the paddle environment is not built (scripts/setup.sh builds it)")


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_PLUGINS", "tests.fixtures.misbehaving")
    import tests.fixtures.misbehaving  # noqa: F401
    envs = load_environments(extra=[make_environment("nowhere", ["definitely-not-a-package-qq7==0.0.1"])])
    r = Runner(RunnerOptions(timeout=60, cache_dir=str(tmp_path / "cache"), environments=envs))
    yield r
    r.close()


def test_a_target_in_an_environment_runs_there(paddle_env, runner):
    record = runner.run(CaseRun(ADD, "test-onnx-helper", 17, "reference@paddle"))
    assert record.status == "passed", record.message
    assert record.target == "reference@paddle" and record.target_env == "paddle"
    assert record.converter_env is None
    assert "onnx 1.17.0" in record.versions["target"]         # the paddle environment's onnx, not ours


def test_a_converter_in_an_environment_runs_there(paddle_env, runner):
    record = runner.run(CaseRun(ADD, "test-onnx-helper@paddle", 17, "onnxruntime"))
    assert record.status == "passed", record.message
    assert record.converter_env == "paddle" and record.target_env is None
    assert record.versions["onnx"] == "1.17.0"                 # the onnx it wrote the model with
    here = runner.run(CaseRun(ADD, "test-onnx-helper", 17, "onnxruntime"))
    assert here.status == "passed" and here.converter_env is None
    assert here.versions["onnx"] == importlib.metadata.version("onnx")
    # one conversion per environment: the two are cached apart
    assert runner.conversion(ADD, "test-onnx-helper@paddle", 17)[1] != runner.conversion(ADD, "test-onnx-helper", 17)[1]


def test_a_crash_in_an_environment_costs_one_case(paddle_env, runner):
    record = runner.run(CaseRun(ADD, "test-crash@paddle", 17, "onnxruntime"))
    assert record.status == "error"
    assert "in environment 'paddle'" in record.message
    assert runner.run(CaseRun(ADD, "test-onnx-helper@paddle", 17, "onnxruntime")).status == "passed"


def test_unknown_and_unresolvable_environments_are_unavailable_records(runner):
    unknown = runner.run(CaseRun(ADD, "test-onnx-helper@nosuchenv", 17, "onnxruntime"))
    assert unknown.status == "unavailable"
    assert "unknown environment 'nosuchenv'" in unknown.message and "\n" not in unknown.message
    target = runner.run(CaseRun(ADD, "test-onnx-helper", 17, "onnxruntime@nosuchenv"))
    assert target.status == "unavailable" and "nosuchenv" in target.message
    bad = runner.run(CaseRun(ADD, "test-onnx-helper@nowhere", 17, "onnxruntime"))
    assert bad.status == "unavailable"
    assert "definitely-not-a-package-qq7" in bad.message and "\n" not in bad.message
    # the session goes on
    assert runner.run(CaseRun(ADD, "test-onnx-helper", 17, "onnxruntime")).status == "passed"


def test_known_failure_names_include_the_names_without_environments():
    run = CaseRun(ADD, "tf2onnx@tf216+optimize", 17, "onnxruntime@ort131")
    converters = [c for _, c, _ in run.names]
    assert converters == ["tf2onnx@tf216+optimize", "tf2onnx+optimize", "tf2onnx"]
    assert [t for _, _, t in run.names] == ["onnxruntime@ort131", "onnxruntime", "onnxruntime"]
    assert run.names[-1][0] == ADD.case_id("tf2onnx", 17, "onnxruntime")


def test_each_converter_runs_at_its_own_default_opset_unless_asked():
    from conformance.selection import select_runs, suite_specs
    specs = [s for s in suite_specs(["operators"]) if s.op == "relu" and s.framework == "torch"]
    runs = select_runs(specs, target=["onnxruntime"], converter=["torch-script,torch-dynamo"])
    assert {(r.converter, r.opset) for r in runs} == {("torch-script", 17), ("torch-dynamo", 18)}
    asked = select_runs(specs, target=["onnxruntime"], converter=["torch-dynamo@someenv"], opset=["23"])
    assert {(r.converter, r.opset) for r in asked} == {("torch-dynamo@someenv", 23)}


def test_a_converter_to_another_format_runs_once_whatever_the_opsets_asked():
    from conformance.selection import select_runs, suite_specs
    specs = [s for s in suite_specs(["operators"]) if s.op == "relu" and s.framework == "torch"]
    runs = select_runs(specs, target=["onnxruntime", "openvino"], converter=["torch-script,ov-torch"],
                       opset=["13,17"])
    pairs = {(r.converter, r.opset, r.target) for r in runs}
    assert {p for p in pairs if p[0] == "ov-torch"} == {("ov-torch", 13, "openvino")}
    assert {(c, o) for c, o, t in pairs if c == "torch-script" and t == "onnxruntime"} == {
        ("torch-script", 13), ("torch-script", 17)}


def test_conformance_run_refuses_an_unknown_environment_in_one_line(monkeypatch, capsys):
    from pathlib import Path

    from conformance.cli import main
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    code = main(["run", "--suite", "operators", "--case", "op/relu/tensorflow/*", "--converter", "tf2onnx@nosuchenv"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert "unknown environment 'nosuchenv'" in err


def test_conformance_targets_shows_environments(capsys):
    from conformance.cli import main
    assert main(["targets"]) == 0
    lines = {line.split()[1]: line.split()[2] for line in capsys.readouterr().out.splitlines()}
    assert lines["paddle2onnx"] == "paddle" and lines["tf2onnx"] == "main"
    assert lines["onnxruntime@ort131"] == "ort131" and lines["tf2onnx@tf216"] == "tf216"


def test_known_failures_apply_in_environments_by_the_versions_installed_there():
    import textwrap

    from conformance.known_failures import parse_known_failures
    from conformance.recording import apply_known_failure
    from conformance.results import CaseResult
    table = parse_known_failures(textwrap.dedent('''
        [[failure]]
        pattern = "op/add/*"
        converter = "test-onnx-helper"
        versions = "<2"
        target = "onnxruntime"
        reason = "a bug of releases before 2"
    '''), "table.toml")
    run = CaseRun(ADD, "test-onnx-helper@old", 17, "onnxruntime@ort131")

    def record(version):
        return CaseResult(case_id=run.case_id, kind="op", framework="numpy", converter=run.converter,
                          target=run.target, status="failed", versions={"converter": version})
    assert apply_known_failure(record("1.5"), run.names, table).status == "xfailed"
    assert apply_known_failure(record("2.1"), run.names, table).status == "failed"
