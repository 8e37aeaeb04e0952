"""Paths beyond ONNX (issue 18): TorchScript (traced and scripted), torch.export and OpenVINO's
own frontends, each converter x target end to end on a tiny real model (seeded), the classic
silent error of tracing (a shape baked in) caught at the case's second input shape, and clean
``unavailable`` records where a package is missing."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from conformance.cases import Built, CaseSpec
from conformance.formats import FORMATS
from conformance.selection import expand
from conformance.targets import get_target
from converters import get_converter


def _have(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


HAVE_TORCH = _have("torch")
HAVE_OV_TORCH = _have("torch", "openvino")
HAVE_OV_TF = _have("tensorflow", "openvino")


def torch_shape_baking(params, seed):
    """``x * arange(x.shape[1])``, the length read as a Python int: tracing bakes 4 in, so the
    traced model fails (or silently broadcasts wrong) at the second input set's length 6."""
    import torch

    class ScaleByPosition(torch.nn.Module):
        def forward(self, x):
            n = int(x.shape[1])
            return x * torch.arange(n, dtype=x.dtype) + (x.sum() if n > 4 else -x.sum())

    rng = np.random.default_rng(seed)
    return Built(model=ScaleByPosition(), inputs=[rng.standard_normal((2, 4)).astype(np.float32)],
                 input_names=["x"], dynamic_axes={"x": {1: "length"}},
                 extra_inputs=[[rng.standard_normal((2, 6)).astype(np.float32)]])


def _spec(framework: str, builder: str, name: str) -> CaseSpec:
    return CaseSpec(kind="arch", name=name, framework=framework, builder=builder, params={}, variant="tiny")


TORCH_MLP = _spec("torch", "tests.fixtures.builders:torch_mlp", "mlp")
KERAS_MLP = _spec("tensorflow", "tests.fixtures.builders:keras_mlp", "mlp")
PADDLE_MLP = _spec("paddle", "tests.fixtures.builders:paddle_mlp", "mlp")
SHAPE_BAKING = _spec("torch", "tests.test_paths:torch_shape_baking", "shape-baking")


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    from conformance.runner import Runner, RunnerOptions
    runner = Runner(RunnerOptions(timeout=300, cache_dir=str(tmp_path_factory.mktemp("cache"))))
    yield runner
    runner.close()


def _run(runner, spec, converter, target):
    from conformance.runner import CaseRun
    return runner.run(CaseRun(spec, converter, 17, target))


def test_formats_and_pairs_are_declared():
    assert get_converter("torchscript-trace").format == get_converter("torchscript-script").format == "torchscript"
    assert get_converter("torch-export").format == "torch-export"
    assert {get_converter(n).format for n in ("ov-torch", "ov-tensorflow", "ov-paddle")} == {"openvino"}
    assert all(get_converter(n).format in FORMATS for n in ("torchscript-trace", "torch-export", "ov-torch"))
    assert get_target("openvino").formats == ("onnx", "openvino")
    runs = expand([TORCH_MLP], targets=["onnxruntime", "openvino", "torchscript", "torch-export"],
                  converters=["torch-script", "torchscript-trace", "torch-export", "ov-torch"])
    assert {(r.converter, r.target) for r in runs} == {
        ("torch-script", "onnxruntime"), ("torch-script", "openvino"), ("torchscript-trace", "torchscript"),
        ("torch-export", "torch-export"), ("ov-torch", "openvino")}


def test_torch_targets_do_not_import_torch_at_import():
    import subprocess
    import sys
    code = ("import sys, conformance.targets.torchscript, conformance.targets.torch_export, "
            "conformance.targets.openvino; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("converter,target", [("torchscript-trace", "torchscript"),
                                              ("torchscript-script", "torchscript"),
                                              ("torch-export", "torch-export")])
def test_torch_paths_pass_on_a_tiny_mlp(runner, converter, target):
    record = _run(runner, TORCH_MLP, converter, target)
    assert record.status == "passed", record.message
    assert record.format == get_converter(converter).format and record.onnx_ops == []
    assert record.max_abs < 1e-5


@pytest.mark.skipif(not HAVE_OV_TORCH, reason="torch and openvino are not installed")
def test_openvino_torch_frontend_passes_on_a_tiny_mlp(runner):
    record = _run(runner, TORCH_MLP, "ov-torch", "openvino")
    assert record.status == "passed", record.message
    assert (record.format, record.precision) == ("openvino", "fp32")
    assert record.max_abs < 1e-5


@pytest.mark.skipif(not HAVE_OV_TF, reason="tensorflow and openvino are not installed")
def test_openvino_tensorflow_frontend_passes_on_a_tiny_mlp(runner):
    record = _run(runner, KERAS_MLP, "ov-tensorflow", "openvino")
    assert record.status == "passed", record.message
    assert record.format == "openvino" and record.max_abs < 1e-5


def test_openvino_paddle_frontend_passes_or_says_why(runner):
    """Paddle's worker may run in an environment of its own: where that one (or this) lacks
    paddle or openvino, the record says so instead of failing."""
    record = _run(runner, PADDLE_MLP, "ov-paddle", "openvino")
    if record.status == "unavailable":
        assert "openvino" in record.message or "paddle" in record.message, record.message
        pytest.skip(record.message)
    assert record.status == "passed", record.message
    assert record.format == "openvino" and record.max_abs < 1e-5


@pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")
def test_tracing_bakes_a_shape_in_and_the_second_input_set_reveals_it(runner):
    traced = _run(runner, SHAPE_BAKING, "torchscript-trace", "torchscript")
    assert traced.status in ("failed", "error"), traced.message
    assert traced.status != "passed"
    scripted = _run(runner, SHAPE_BAKING, "torchscript-script", "torchscript")
    assert scripted.status == "passed", scripted.message       # scripting keeps the shape symbolic
    exported = _run(runner, SHAPE_BAKING, "torch-export", "torch-export")
    assert exported.status in ("passed", "error", "unsupported"), exported.message


@pytest.mark.parametrize("converter,target,module", [("torchscript-trace", "torchscript", "torch"),
                                                     ("torch-export", "torch-export", "torch"),
                                                     ("ov-torch", "openvino", "openvino")])
def test_a_missing_package_is_unavailable_not_an_error(tmp_path, monkeypatch, converter, target, module):
    from conformance.runner import CaseRun, Runner, RunnerOptions
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    assert get_target(target).available()[0] is (module != "torch") or target == "openvino"
    ok, why = get_converter(converter).available()
    assert not ok and module in why
    runner = Runner(RunnerOptions(timeout=60, cache_dir=str(tmp_path / "cache")))
    try:
        record = runner.run(CaseRun(TORCH_MLP, converter, 17, target))
    finally:
        runner.close()
    assert record.status == "unavailable", record.message
    assert module in record.message



@pytest.mark.parametrize("op, variant, said", [
    ("abs", "default", "cannot write abs() in the legacy program format"),            # an op with a PIR-only binding
    ("nn.Identity", "float32", "refuses a model with no operator"),                    # nothing to save
    ("t", "bool", "legacy transpose op refuses a dtype"),                               # narrower dtype list
    ("batch_norm_functional", "eps1e-2-scale", "'epsilon' should be less or equal than 0.001"),
    ("gru", "h6", "Unknown place type: Place(undefined:0)"),                          # to_static cannot place it
])
def test_what_paddle_cannot_save_in_the_legacy_format_is_unsupported_on_ov_paddle(runner, op, variant, said):
    """OpenVINO's Paddle frontend reads the legacy .pdmodel program; what Paddle 3.3 cannot save
    in it (paddle.abs: "must be Value, but got Variable"; an identity: "program must not be
    empty"; paddle.t on bool; batch_norm with epsilon 1e-2; nn.GRU) is a path that cannot carry
    the model: `unsupported` with Paddle's reason, not a conversion error."""
    from conformance.selection import suite_specs
    (spec,) = [s for s in suite_specs(["operators"]) if s.op == op and s.framework == "paddle" and s.variant == variant]
    record = _run(runner, spec, "ov-paddle", "openvino")
    if record.status == "unavailable":
        pytest.skip(record.message)
    assert record.status == "unsupported", record.message
    assert said in record.message


def test_a_concat_only_the_pir_program_saves_is_unsupported_on_ov_paddle(runner):
    """The Paddle DLRM with segment bags concatenates paddle.shape(x) with an int64 tensor: its
    PIR program saves (paddle2onnx's path), the legacy .pdmodel one raises 'All the Tensors in
    the input must have the same data type' (a conversion error before): `unsupported`."""
    from conformance.selection import suite_specs
    (spec,) = [s for s in suite_specs(["families"]) if s.framework == "paddle" and s.variant == "dlrm-segment-bags-sum-mean"]
    record = _run(runner, spec, "ov-paddle", "openvino")
    if record.status == "unavailable":
        pytest.skip(record.message)
    assert record.status == "unsupported", record.message
    assert "legacy program refuses a concat" in record.message
