"""Edge paths of issue 18: ExecuTorch (torch.export -> ``.pte`` with XNNPACK, run by ExecuTorch's
runtime) and pnnx -> ncnn (``.param`` + ``.bin``, run by ncnn with its fp16/bf16 options off).
Each converter x target end to end on a tiny real CNN (seeded, batch dynamic), the artifact
through the conversion cache, an op pnnx cannot lower named in an ``unsupported`` record, ncnn's
precision switches, and clean ``unavailable`` records where a package is missing."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from conformance.cases import Built, CaseSpec
from conformance.formats import FORMATS, Package
from conformance.selection import expand
from conformance.targets import get_target
from converters import get_converter


def _have(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


HAVE_EXECUTORCH = _have("torch", "executorch")
HAVE_NCNN = _have("torch", "pnnx", "ncnn")


def torch_tiny_cnn(params, seed):
    """conv -> relu -> global mean -> linear, batch 2 then an unseen batch 3."""
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 2)).eval()
    rng = np.random.default_rng(seed)
    return Built(model=model, inputs=[rng.standard_normal((2, 3, 8, 8)).astype(np.float32)], input_names=["image"],
                 dynamic_axes={"image": {0: "batch"}},
                 extra_inputs=[[rng.standard_normal((3, 3, 8, 8)).astype(np.float32)]])


def torch_argmax(params, seed):
    import torch

    class ArgMax(torch.nn.Module):
        def forward(self, x):
            return torch.argmax(x, dim=1)

    return Built(model=ArgMax(), inputs=[np.random.default_rng(seed).standard_normal((2, 5)).astype(np.float32)])


def _spec(builder: str, name: str) -> CaseSpec:
    return CaseSpec(kind="arch", name=name, framework="torch", builder=f"tests.test_paths_edge:{builder}",
                    params={}, variant="tiny")


TINY_CNN = _spec("torch_tiny_cnn", "tiny-cnn")
ARGMAX = _spec("torch_argmax", "argmax")
PATHS = [("executorch", "executorch", HAVE_EXECUTORCH), ("pnnx", "ncnn", HAVE_NCNN)]


def _run(tmp_path, spec, converter, target):
    from conformance.runner import CaseRun, Runner, RunnerOptions
    runner = Runner(RunnerOptions(timeout=600, cache_dir=str(tmp_path / "cache")))
    try:
        return runner.run(CaseRun(spec, converter, 17, target))
    finally:
        runner.close()


def test_formats_and_pairs_are_declared():
    assert (get_converter("executorch").format, get_converter("pnnx").format) == ("pte", "ncnn")
    assert {"pte", "ncnn"} <= set(FORMATS) and FORMATS["pte"].as_onnx and FORMATS["ncnn"].as_onnx
    assert (get_converter("pnnx").precision, get_converter("pnnx-fp16").precision) == ("fp32", "fp16-weights")
    assert (get_target("executorch").formats, get_target("ncnn").formats) == (("pte",), ("ncnn",))
    assert get_target("ncnn").precision == get_target("executorch").precision == "fp32"
    runs = expand([TINY_CNN], targets=["onnxruntime", "executorch", "ncnn"],
                  converters=["torch-script", "executorch", "pnnx"])
    assert {(r.converter, r.target) for r in runs} == {
        ("torch-script", "onnxruntime"), ("executorch", "executorch"), ("pnnx", "ncnn")}


def test_edge_targets_do_not_import_their_runtimes_at_import():
    code = ("import sys, conformance.targets.executorch, conformance.targets.ncnn; "
            "print(sorted(m for m in ('torch', 'executorch', 'ncnn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("converter,target,have", PATHS)
def test_each_path_passes_on_a_tiny_cnn_and_its_artifact_comes_back_from_the_cache(tmp_path, converter, target,
                                                                                 have):
    if not have:
        pytest.skip(f"the {converter} path is not installed (extra {get_converter(converter).extra})")
    first = _run(tmp_path, TINY_CNN, converter, target)
    assert first.status == "passed", first.message
    assert (first.format, first.precision, first.onnx_ops) == (get_converter(converter).format, "fp32", [])
    assert first.max_abs < 1e-5 and not first.cached
    again = _run(tmp_path, TINY_CNN, converter, target)        # a new session on the same cache
    assert again.cached and again.status == "passed" and again.max_abs == first.max_abs
    stored = list((tmp_path / "cache").rglob(f"model.{first.format}.zip"))
    assert len(stored) == 1
    package = Package.from_bytes(stored[0].read_bytes())
    assert package.format == first.format and package.inputs == ["image"] and len(package.outputs) == 1


@pytest.mark.skipif(not HAVE_NCNN, reason="pnnx and ncnn are not installed")
def test_fp16_weights_are_held_to_float16s_tolerance(tmp_path):
    record = _run(tmp_path, TINY_CNN, "pnnx-fp16", "ncnn")
    assert record.status == "passed", record.message
    assert record.precision == "fp16-weights"
    assert 1e-6 < record.max_abs < 1e-2          # rounded weights: not the float32 model again


@pytest.mark.skipif(not HAVE_NCNN, reason="pnnx and ncnn are not installed")
def test_an_op_pnnx_cannot_lower_to_ncnn_is_unsupported_by_name(tmp_path):
    record = _run(tmp_path, ARGMAX, "pnnx", "ncnn")
    assert record.status == "unsupported", record.message
    assert "torch.argmax" in record.message


@pytest.mark.skipif(not HAVE_NCNN, reason="pnnx and ncnn are not installed")
def test_ncnn_precision_switches(tmp_path):
    from conformance.errors import ConformanceError
    from conformance.targets.base import TargetOptions
    from converters.pnnx_converter import PnnxConverter

    built = torch_tiny_cnn({}, 0)
    artifact = PnnxConverter().convert(built, 17, tmp_path).to_bytes()
    target = get_target("ncnn")
    plain = target.prepare_artifact(artifact, "ncnn")
    assert not plain.net.opt.use_fp16_arithmetic and not plain.net.opt.use_bf16_storage
    fp16 = target.prepare_artifact(artifact, "ncnn", TargetOptions(precision="fp16", intra_op_threads=1))
    assert fp16.net.opt.use_fp16_arithmetic and target.applied_options(fp16, TargetOptions())["applied"] == {
        "precision": "fp16", "num_threads": 1}
    with pytest.raises(ConformanceError, match="cannot compute in 'int8'"):
        target.prepare_artifact(artifact, "ncnn", TargetOptions(precision="int8"))
    got = target.run(plain, {"image": built.inputs[0]})[0]
    assert got.shape == (2, 2)


@pytest.mark.parametrize("converter,target,module", [("executorch", "executorch", "executorch"),
                                                     ("pnnx", "ncnn", "pnnx")])
def test_a_missing_package_is_unavailable_with_the_install_command(tmp_path, monkeypatch, converter, target,
                                                                   module):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    record = _run(tmp_path, TINY_CNN, converter, target)
    assert record.status == "unavailable", record.message
    # the first missing package is named: the patched one, or one this machine lacks anyway
    assert module in record.message or not HAVE_NCNN
    extra = "executorch" if module == "executorch" else "ncnn"
    assert f".[{extra}]" in record.message


@pytest.mark.skipif(not HAVE_EXECUTORCH, reason="executorch is not installed")
def test_an_op_without_an_executorch_kernel_is_unsupported_by_name(tmp_path):
    """nn.EmbeddingBag lowers to aten::_embedding_bag, which ExecuTorch 1.5's runtime has no
    kernel for: load_method fails with OperatorMissing (0x14), the op named in its log only (an
    `error` record before); the record is `unsupported` and names the op."""
    from conformance.selection import suite_specs
    (spec,) = [s for s in suite_specs(["families"]) if s.framework == "torch" and s.variant == "dlrm-sum-mean-sum"]
    record = _run(tmp_path, spec, "executorch", "executorch")
    assert record.status == "unsupported", record.message
    assert "aten::_embedding_bag" in record.message


@pytest.mark.skipif(not HAVE_EXECUTORCH, reason="executorch is not installed")
def test_a_reshape_xnnpack_cannot_take_with_two_dynamic_dims_is_unsupported(tmp_path):
    """The token-mask model views a tensor over a dynamic batch and a dynamic sequence: XNNPACK's
    lowering refuses it ('XNNPACK reshape only supports 1 dynamic dimension', a conversion error
    before): `unsupported`, naming the reshape."""
    from conformance.selection import suite_specs
    (spec,) = [s for s in suite_specs(["multio-control"]) if s.framework == "torch" and s.variant == "token-mask-tuple-out"]
    record = _run(tmp_path, spec, "executorch", "executorch")
    assert record.status == "unsupported", record.message
    assert "cannot lower reshape" in record.message
