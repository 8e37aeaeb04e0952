"""Kernel micro-benchmarks: one-node ONNX models at several sizes, reference executor against
onnxruntime (or any targets), as a table and a plot of time against FLOPs.

A kernel is one registered function (``@kernel("conv")``) that yields ``KernelCase``s: a model
built with ``onnx.helper``, its inputs and its FLOP count. Adding a kernel is one function here.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from onnx import TensorProto, helper

from ..errors import ConformanceError
from ..inputs import random_array
from .settings import BenchSettings
from .sut import prepare_session, resolve_target

OPSET = 17
KERNELS: dict[str, Callable[[], Iterator["KernelCase"]]] = {}


def kernel(name: str):
    def deco(fn):
        KERNELS[name] = fn
        return fn
    return deco


@dataclass
class KernelCase:
    kernel: str
    size: str
    model: object                    # onnx.ModelProto
    feeds: dict
    flops: float
    times_ms: dict = field(default_factory=dict)     # target -> median ms
    errors: dict = field(default_factory=dict)       # target -> message


def _model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "kernel", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def _vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _rand(rng, *shape):
    return random_array(rng, np.float32, shape)


@kernel("conv")
def conv_cases():
    rng = np.random.default_rng(1)
    for c_in, hw, c_out in ((16, 32, 32), (32, 56, 64), (64, 56, 64), (128, 28, 128)):
        k = 3
        node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
        model = _model([node], [_vi("x", (1, c_in, hw, hw)), _vi("w", (c_out, c_in, k, k))],
                       [_vi("y", (1, c_out, hw, hw))])
        yield KernelCase("conv", f"{c_in}x{hw}x{hw}->{c_out} k3", model,
                         {"x": _rand(rng, 1, c_in, hw, hw), "w": _rand(rng, c_out, c_in, k, k)},
                         2.0 * c_out * hw * hw * c_in * k * k)


@kernel("depthwise_conv")
def depthwise_cases():
    rng = np.random.default_rng(2)
    for c, hw in ((32, 56), (64, 56), (128, 28), (256, 28)):
        k = 3
        node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], group=c)
        model = _model([node], [_vi("x", (1, c, hw, hw)), _vi("w", (c, 1, k, k))], [_vi("y", (1, c, hw, hw))])
        yield KernelCase("depthwise_conv", f"{c}x{hw}x{hw} k3", model,
                         {"x": _rand(rng, 1, c, hw, hw), "w": _rand(rng, c, 1, k, k)}, 2.0 * c * hw * hw * k * k)


@kernel("matmul")
def matmul_cases():
    rng = np.random.default_rng(3)
    for n in (64, 256, 512, 1024):
        node = helper.make_node("MatMul", ["a", "b"], ["y"])
        model = _model([node], [_vi("a", (n, n)), _vi("b", (n, n))], [_vi("y", (n, n))])
        yield KernelCase("matmul", f"{n}x{n}x{n}", model, {"a": _rand(rng, n, n), "b": _rand(rng, n, n)},
                         2.0 * n ** 3)


@kernel("gemm")
def gemm_cases():
    rng = np.random.default_rng(4)
    for m, k, n in ((1, 512, 1000), (32, 1024, 1024), (128, 2048, 1000)):
        node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], transB=1)
        model = _model([node], [_vi("a", (m, k)), _vi("b", (n, k)), _vi("c", (n,))], [_vi("y", (m, n))])
        yield KernelCase("gemm", f"{m}x{k}x{n} transB", model,
                         {"a": _rand(rng, m, k), "b": _rand(rng, n, k), "c": _rand(rng, n)}, 2.0 * m * n * k + m * n)


@kernel("attention")
def attention_cases():
    """MatMul(Q, K^T) -> Softmax -> MatMul(., V), K given transposed; 4 heads of 64."""
    rng = np.random.default_rng(5)
    heads, d = 4, 64
    for s in (64, 128, 256, 512):
        nodes = [helper.make_node("MatMul", ["q", "kt"], ["scores"]),
                 helper.make_node("Softmax", ["scores"], ["probs"], axis=-1),
                 helper.make_node("MatMul", ["probs", "v"], ["y"])]
        model = _model(nodes, [_vi("q", (1, heads, s, d)), _vi("kt", (1, heads, d, s)), _vi("v", (1, heads, s, d))],
                       [_vi("y", (1, heads, s, d))])
        yield KernelCase("attention", f"h{heads} s{s} d{d}", model,
                         {"q": _rand(rng, 1, heads, s, d), "kt": _rand(rng, 1, heads, d, s),
                          "v": _rand(rng, 1, heads, s, d)},
                         2 * 2.0 * heads * s * s * d + 5.0 * heads * s * s)


@kernel("lstm")
def lstm_cases():
    rng = np.random.default_rng(6)
    for t, b, i, h in ((16, 1, 64, 64), (32, 4, 128, 128), (64, 8, 256, 256)):
        node = helper.make_node("LSTM", ["x", "w", "r", "bias"], ["y"], hidden_size=h)
        model = _model([node], [_vi("x", (t, b, i)), _vi("w", (1, 4 * h, i)), _vi("r", (1, 4 * h, h)),
                                _vi("bias", (1, 8 * h))], [_vi("y", (t, 1, b, h))])
        scale = np.float32(1.0 / np.sqrt(h))
        yield KernelCase("lstm", f"T{t} B{b} I{i} H{h}", model,
                         {"x": _rand(rng, t, b, i), "w": _rand(rng, 1, 4 * h, i) * scale,
                          "r": _rand(rng, 1, 4 * h, h) * scale, "bias": _rand(rng, 1, 8 * h) * scale},
                         t * (2.0 * b * 4 * h * (i + h) + 10.0 * b * h))


# --------------------------------------------------------------------------- timing
def resolve_targets(names) -> list:
    return [resolve_target(name) for name in names]


def time_case(target, case: KernelCase, *, budget_s: float = 1.0, max_reps: int = 30) -> float:
    """Median wall time (ms) of ``target.run`` after one warm-up; at least 3 repetitions,
    more while under ``budget_s``."""
    session, _ = prepare_session(target, case.model, BenchSettings().resolved())
    target.run(session, case.feeds)
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget_s and len(times) < max_reps):
        t0 = time.perf_counter()
        target.run(session, case.feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def run_kernels(targets=("reference", "onnxruntime"), kernels: list[str] | None = None,
                budget_s: float = 1.0, log: Callable[[str], None] | None = None) -> list[KernelCase]:
    log = log or (lambda msg: None)
    resolved = resolve_targets(targets)
    cases = []
    for name in (kernels or list(KERNELS)):
        if name not in KERNELS:
            raise ConformanceError(f"unknown kernel {name!r}", fix=f"choose from {', '.join(KERNELS)}")
        for case in KERNELS[name]():
            for target in resolved:
                ok, why = target.available()
                if not ok:
                    case.errors[target.name] = f"unavailable: {why}"
                    continue
                try:
                    case.times_ms[target.name] = time_case(target, case, budget_s=budget_s)
                except Exception as exc:   # one unsupported kernel is a table cell, not a crash
                    case.errors[target.name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            log(f"{case.kernel:<15} {case.size:<24} " + "  ".join(
                f"{t}={case.times_ms[t]:.3f}ms" if t in case.times_ms else f"{t}=error" for t in
                [r.name for r in resolved]))
            case.feeds = {}       # free the inputs
            cases.append(case)
    return cases


def table(cases: list[KernelCase], targets: list[str]) -> str:
    head = "| kernel | size | MFLOP | " + " | ".join(f"{t} ms | {t} GFLOP/s" for t in targets)
    if len(targets) == 2:
        head += f" | {targets[0]} / {targets[1]}"
    lines = [head + " |", "|" + "---|" * (3 + 2 * len(targets) + (1 if len(targets) == 2 else 0))]
    for c in cases:
        cells = [c.kernel, c.size, f"{c.flops / 1e6:.1f}"]
        for t in targets:
            if t in c.times_ms:
                ms = c.times_ms[t]
                cells += [f"{ms:.3f}", f"{c.flops / ms / 1e6:.2f}"]
            else:
                cells += [f"error: {c.errors.get(t, '?')}", ""]
        if len(targets) == 2:
            a, b = (c.times_ms.get(t) for t in targets)
            cells.append(f"{a / b:.1f}x" if a and b else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(cases: list[KernelCase], targets: list[str], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5.5))
    markers = "osD^v<>"
    kernels = sorted({c.kernel for c in cases})
    colors = {k: plt.cm.tab10(i) for i, k in enumerate(kernels)}
    for ti, t in enumerate(targets):
        for k in kernels:
            pts = sorted((c.flops, c.times_ms[t]) for c in cases if c.kernel == k and t in c.times_ms)
            if not pts:
                continue
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker=markers[ti % len(markers)], linestyle="-" if ti == 0 else "--",
                    color=colors[k], label=f"{k} ({t})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("FLOPs per run")
    ax.set_ylabel("median time per run (ms)")
    ax.set_title("Kernel micro-benchmarks: " + " vs ".join(targets))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(cases: list[KernelCase], targets: list[str], out: Path, env: dict | None = None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    md = out / "kernels.md"
    md.write_text("# Kernel micro-benchmarks\n\nMedian wall time of one run, after one warm-up.\n"
                  + (f"\nEnvironment: {json.dumps(env)}\n" if env else "") + "\n" + table(cases, targets) + "\n")
    data = [{"kernel": c.kernel, "size": c.size, "flops": c.flops, "times_ms": c.times_ms, "errors": c.errors}
            for c in cases]
    (out / "kernels.json").write_text(json.dumps({"environment": env, "cases": data}, indent=1))
    png = out / "kernels.png"
    plot(cases, targets, png)
    return {"markdown": str(md), "json": str(out / "kernels.json"), "png": str(png)}
