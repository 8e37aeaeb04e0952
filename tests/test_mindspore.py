"""MindSpore as a source framework: cells exported to ONNX (``mindspore-onnx``) and to MINDIR
(``mindspore-mindir``, run by the ``mindspore`` target), golden from MindSpore itself.

The cases need the ``mindspore`` environment (``conformance env build mindspore``): where it is
not built they skip with that reason, and never build it (2.7 GB). The ``.ckpt`` refusal and the
opt-in collection need no MindSpore.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance.cases import CaseSpec
from conformance.environments import environment_state, get_environment
from conformance.runner import CaseRun, Runner, RunnerOptions

ROOT = Path(__file__).resolve().parents[1]
MODELS = "suites.architectures.mindspore_models"


def _arch(builder: str, params=None) -> CaseSpec:
    return CaseSpec(kind="arch", name="t", framework="mindspore", builder=f"{MODELS}:{builder}",
                    params=params or {}, variant=builder, tolerance={"rtol": 1e-4, "atol": 1e-4})


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    state = environment_state(get_environment("mindspore"))
    if not state.built:
        pytest.skip("environment 'mindspore' is not built (conformance env build mindspore)")
    table = tmp_path_factory.mktemp("kf") / "empty.toml"
    table.write_text("")
    r = Runner(RunnerOptions(cache_dir=str(tmp_path_factory.mktemp("cache")), known_failures_path=str(table),
                             timeout=300))
    yield r
    r.close()


def test_a_cnn_exported_to_onnx_matches_mindspore_on_onnxruntime(runner):
    record = runner.run(CaseRun(_arch("build_cnn"), "mindspore-onnx", 11, "onnxruntime"))
    assert record.status == "passed", record.message
    assert record.format == "onnx" and {"Conv", "BatchNormalization", "MaxPool", "Gemm"} <= set(record.onnx_ops)
    assert record.versions["framework"] == "2.10.0" and record.converter_env == "mindspore"


def test_the_mindir_target_returns_the_outputs_in_declared_order(runner):
    spec = _arch("build_lstm", {"layers": 2, "bidirectional": True})
    conv, _ = runner.conversion(spec, "mindspore-mindir", 17)
    assert conv.status == "ok" and conv.format == "mindir"
    assert conv.output_names == ["output", "h_n", "c_n"]
    target = runner.target("mindspore")
    outputs = target.run(target.prepare_artifact(conv.artifact, "mindir"), dict(zip(conv.input_names,
                                                                                     conv.input_sets[0])))
    assert [o.shape for o in outputs] == [(2, 12, 64), (4, 2, 32), (4, 2, 32)]
    for got, golden in zip(outputs, conv.golden_sets[0]):
        np.testing.assert_allclose(got, golden, rtol=1e-5, atol=1e-5)
    record = runner.run(CaseRun(spec, "mindspore-mindir", 17, "mindspore"))
    assert record.status == "passed" and record.target_env == "mindspore", record.message


def test_an_op_mint_lacks_is_unsupported_and_named(runner):
    spec = CaseSpec(kind="op", name="no_such_op", framework="mindspore",
                    builder="suites.operators.mindspore_ops:build",
                    params={"call": {"target": "torch.no_such_op", "kind": "fn", "kwargs": {}, "names": None,
                                     "packed": False, "pre": [], "custom": None},
                            "attrs": {}, "inputs": [{"shape": [2, 3], "dtype": "float32", "domain": "normal"}]})
    record = runner.run(CaseRun(spec, "mindspore-onnx", 11, "reference"))
    assert record.status == "unsupported" and "mindspore.mint has no no_such_op" in record.message


def test_a_mindspore_checkpoint_is_refused_in_one_line_with_exit_2(tmp_path):
    # a MindSpore checkpoint is a protobuf of named tensors (mindspore.save_checkpoint(nn.Dense(4, 3)))
    ckpt = tmp_path / "weights.ckpt"
    ckpt.write_bytes(bytes.fromhex("0a490a06776569676874123f080308041207466c6f617433321a30983d9cbd06da4cbe5511eb3e00"))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "check", str(ckpt)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "MindSpore checkpoint" in lines[0] and "mindspore.onnx.export" in lines[0]


@pytest.mark.parametrize("args,collected", [((), False), (("-m", "mindspore"), True),
                                            (("--framework", "mindspore"), True), (("-k", "not mindspore"), False)])
def test_mindspore_cases_are_collected_only_when_a_run_asks_for_them(args, collected):
    done = subprocess.run([sys.executable, "-m", "pytest", "suites/architectures/test_architectures.py",
                           "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    ids = [line for line in done.stdout.splitlines() if "/mindspore/" in line]
    assert bool(ids) == collected, done.stdout[-800:]
    if collected:
        assert not any("/mindspore-mindir/" in i for i in ids)     # the default targets run ONNX only
        assert any("/mindspore-onnx/" in i and "/onnxruntime/" in i for i in ids)


@pytest.mark.parametrize("framework,collected", [(None, False), (["mindspore"], True), (["torch,mindspore"], True),
                                                 (["torch"], False)])
def test_conformance_run_collects_mindspore_cases_when_it_names_the_framework(framework, collected):
    from conformance.selection import Asked, select_runs, suite_specs
    specs = suite_specs(["architectures"], Asked.of(framework))
    runs = select_runs(specs, target=["reference", "mindspore"], framework=framework)
    assert any(r.spec.framework == "mindspore" for r in runs) == collected
    if collected:       # both paths: MINDIR on MindSpore's runtime, its ONNX export on the reference
        assert {(r.converter, r.target) for r in runs if r.spec.framework == "mindspore"} == {
            ("mindspore-mindir", "mindspore"), ("mindspore-onnx", "reference")}
