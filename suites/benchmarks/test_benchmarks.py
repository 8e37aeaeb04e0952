"""Model benchmarks through pytest-benchmark (marker ``benchmark``; off by default).

The six zoo models of ``suites/models`` (Keras ResNet50 and MobileNetV2, Paddle ResNet18, a
torch transformer encoder, LSTM and GRU), each as converted and after the ``optimize`` pass,
on every requested target. Each benchmark is ``benchmark.pedantic(run, iterations=1,
rounds=N)``: one inference per round, so pytest-benchmark's percentiles are per-inference
latencies and ``--benchmark-json``, ``--benchmark-autosave`` and ``--benchmark-compare-fail``
work as usual. Serial only: pytest-benchmark disables itself under xdist.

    pytest suites/benchmarks -m benchmark --target onnxruntime --bench-models resnet50,gru
    pytest suites/benchmarks --benchmark-only --benchmark-autosave
    pytest suites/benchmarks --benchmark-only --benchmark-compare --benchmark-compare-fail=median:10%

With the plugin's ``--results PATH`` each benchmark is also a result record (kind
``benchmark``, latency samples in ``extra["samples"]``) for the regression gate.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from conformance.bench.loadgen import BenchSettings, environment, prepare_session
from conformance.bench.stats import describe

from .conftest import bench_models, bench_rounds, models_dir

pytestmark = pytest.mark.benchmark
VARIANTS = ("unoptimized", "optimize")
OPSET = 17


def _zoo():
    from suites.architectures.specs import ZOO
    return {spec.arch: spec for spec in ZOO}


def pytest_generate_tests(metafunc):
    if "zoo_arch" not in metafunc.fixturenames:
        return
    from conformance.selection import split_values
    from conformance.targets import DEFAULT_TARGETS
    zoo = _zoo()
    archs = bench_models(metafunc.config) or list(zoo)
    unknown = set(archs) - set(zoo)
    if unknown:
        raise pytest.UsageError(f"--bench-models: unknown {sorted(unknown)}; choose from {sorted(zoo)}")
    targets = split_values(metafunc.config.getoption("--target", default=None), DEFAULT_TARGETS)
    metafunc.parametrize("zoo_arch", archs)
    metafunc.parametrize("variant", VARIANTS)
    metafunc.parametrize("bench_target", targets)


_EXPORTED: dict[str, Path | str] = {}
_OPTIMIZED: dict[str, object] = {}


def _exported(config, arch: str) -> Path:
    """The exporter's folder for ``arch`` (exported now if missing); skip when export fails."""
    if arch not in _EXPORTED:
        folder = Path(models_dir(config)) / arch
        if not (folder / "model.onnx").exists():
            from suites.models.export import export
            written = export(Path(models_dir(config)), only={arch})
            _EXPORTED[arch] = folder if written else f"export of {arch} failed (see stderr)"
        else:
            _EXPORTED[arch] = folder
    result = _EXPORTED[arch]
    if isinstance(result, str):
        pytest.skip(result)
    return result


def _optimized(arch: str, model):
    if arch not in _OPTIMIZED:
        try:
            from converters import CHAIN_STEPS, get_chain_steps
            if "optimize" not in CHAIN_STEPS:
                raise LookupError("no pass named 'optimize' is registered (converters.passes)")
            passes = get_chain_steps("x+optimize")
            ok, why = passes[0].available()
            if not ok:
                raise LookupError(why)
            for p in passes:
                model = p.apply(model)
            _OPTIMIZED[arch] = model
        except (ImportError, LookupError) as exc:
            _OPTIMIZED[arch] = f"optimize pass unavailable: {exc}"
    result = _OPTIMIZED[arch]
    if isinstance(result, str):
        pytest.skip(result)
    return result


def test_model_latency(benchmark, request, zoo_arch, variant, bench_target):
    import onnx

    from conformance.targets import get_target, target_status
    ok, why = target_status(bench_target)
    if not ok:
        pytest.skip(f"target {bench_target} unavailable: {why}")
    spec = _zoo()[zoo_arch]
    folder = _exported(request.config, zoo_arch)
    model = onnx.load(str(folder / "model.onnx"))
    if variant == "optimize":
        model = _optimized(zoo_arch, model)
    with np.load(folder / "inputs.npz") as data:
        feeds = {name: data[name] for name in data.files}
    with np.load(folder / "expected.npz") as data:
        expected_shapes = [data[name].shape for name in data.files]

    target = get_target(bench_target)
    settings = BenchSettings().resolved()
    session, threads = prepare_session(target, model, settings)
    outputs = target.run(session, feeds)
    assert [np.shape(o) for o in outputs] == expected_shapes, "outputs differ in shape from the source model's"

    rounds = bench_rounds(request.config)
    converter = spec.converters[0] + ("+optimize" if variant == "optimize" else "")
    benchmark.group = f"{zoo_arch}/{bench_target}"
    benchmark.extra_info.update({"arch": zoo_arch, "variant": variant, "converter": converter,
                                 "target": bench_target, "target_version": target.version(), "threads": threads})
    benchmark.pedantic(target.run, args=(session, feeds), iterations=1, rounds=rounds, warmup_rounds=2)

    if getattr(benchmark, "disabled", False):
        return
    samples_ms = [t * 1e3 for t in benchmark.stats.stats.data] if benchmark.stats else []
    _record(request.config, spec, converter, bench_target, samples_ms, threads, settings, target)


def _record(config, spec, converter, target_name, samples_ms, threads, settings, target):
    """With ``--results``: one benchmark record per case in the plugin's per-worker part file."""
    results = config.getoption("--results", default=None)
    if not results or not samples_ms:
        return
    from conformance import results as results_mod
    from conformance.session import part_path
    from conformance.results import CaseResult
    env = environment(target, settings)
    env["threads"].update(threads)
    d = describe(samples_ms)
    record = CaseResult(
        case_id=f"benchmark/{spec.arch}/{spec.framework}/{converter}/opset{OPSET}/{target_name}/pytest-benchmark",
        kind="benchmark", framework=spec.framework, converter=converter, target=target_name, status="passed",
        opset=OPSET, arch=spec.arch, seconds={"build": 0.0, "convert": 0.0, "run": sum(samples_ms) / 1e3},
        message=f"{len(samples_ms)} rounds, median {np.median(samples_ms):.3f} ms",
        versions={"target": target.version()},
        extra={"scenario": "pytest-benchmark", "samples": samples_ms, "percentiles_ms": d["percentiles"],
               "mean_ms": d["mean"], "qps": 1e3 / d["mean"] if d["mean"] else None,
               "valid": None, "settings": settings.to_dict(), "environment": env})
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    results_mod.append(part_path(results, worker), [record])
