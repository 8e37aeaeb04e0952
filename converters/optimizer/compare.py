"""Compare our optimizer with onnxruntime's BASIC level, onnxoptimizer and onnxsim on a folder of models.

    python -m converters.optimizer.compare --models reports/models [--precision] [--json OUT]

``--models`` holds one folder per model (``NAME/model.onnx`` and optionally ``inputs.npz``, as
``python -m suites.models.export`` writes them) or bare ``NAME.onnx`` files (seeded inputs).
Per model: node counts, the largest relative difference of our output against the original on
the reference executor and on onnxruntime with graph optimizations off, and the median run times
of both models on both (best CPU time of interleaved runs; run with OPENBLAS_NUM_THREADS=1 so
that numpy is single-threaded like the onnxruntime sessions here). ``--precision`` adds FP16 and INT8 metrics for models with a Conv:
cosine similarity and top-1 agreement of the logits over seeded inputs, and the size reduction.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

from conformance.comparator import scaled_error

from .pipeline import optimize
from .precision import FP16_TOLERANCE, INT8_TOLERANCE, convert_float16, quantize_int8, seeded_feeds

#: where onnxruntime BASIC runs are written (a temp folder per process)
_TMP = Path(tempfile.mkdtemp(prefix="optcompare-"))


def find_models(folder: Path) -> list[tuple[str, Path, dict | None]]:
    found = []
    for p in sorted(folder.iterdir()):
        if p.is_dir() and (p / "model.onnx").exists():
            feeds = None
            if (p / "inputs.npz").exists():
                with np.load(p / "inputs.npz") as z:
                    feeds = {k: z[k] for k in z.files}
            found.append((p.name, p / "model.onnx", feeds))
        elif p.suffix == ".onnx" and p.is_file():
            found.append((p.stem, p, None))
    return found


def ort_session(model: onnx.ModelProto, level: str = "disable", threads: int = 1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
                                   "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                   "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def ort_basic_nodes(model: onnx.ModelProto, name: str) -> int:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.optimized_model_filepath = str(_TMP / f"{name}.ort_basic.onnx")
    ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return len(onnx.load(so.optimized_model_filepath).graph.node)


def onnxoptimizer_nodes(model: onnx.ModelProto):
    try:
        import onnxoptimizer
    except ImportError:
        return None
    try:
        return len(onnxoptimizer.optimize(model, onnxoptimizer.get_fuse_and_elimination_passes()).graph.node)
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def onnxsim_nodes(model: onnx.ModelProto):
    try:
        import onnxsim
    except ImportError:
        return None
    try:
        simplified, ok = onnxsim.simplify(model)
        return len(simplified.graph.node) if ok else "unchecked"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _interleaved_times(fa, fb, repeat: int, budget_s: float) -> tuple[float, float, float]:
    """Best CPU times of two callables run alternately, so load changes hit both alike.

    Process CPU time, not wall time, and the minimum, not the median: on a shared machine other
    processes only ever add wall time, and everything here runs on one thread (onnxruntime with
    one intra-op thread; numpy with OPENBLAS_NUM_THREADS=1), so CPU time is the work done.
    The third value is the run-to-run noise: how far the median run lies above the best one,
    relative to the best, for whichever of the two spreads more."""
    fa(), fb()
    ta, tb = [], []
    start = time.perf_counter()
    clock = time.process_time
    for _ in range(repeat):
        t0 = clock(); fa(); ta.append(clock() - t0)
        t0 = clock(); fb(); tb.append(clock() - t0)
        if time.perf_counter() - start > budget_s and len(ta) >= 3:
            break
    noise = max((float(np.median(t)) - min(t)) / min(t) if min(t) > 0 else 0.0 for t in (ta, tb))
    return min(ta), min(tb), noise


def reference_executor():
    try:
        from conformance.reference import ReferenceExecutor
        return ReferenceExecutor
    except Exception:
        return None


#: compute kernels that no rewrite inside the default ONNX domain removes: they stay in any
#: optimized graph at (at least) their cost, whatever pass runs before them
KERNEL_OPS = frozenset({
    "Conv", "ConvTranspose", "MatMul", "Gemm", "GRU", "LSTM", "RNN", "Softmax", "LogSoftmax",
    "LayerNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
    "Relu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "Erf", "Gelu",
    "Resize", "Einsum"})
_BINARY = frozenset({"Add", "Sub", "Mul", "Div"})


def _dynamic_names(graph: onnx.GraphProto) -> set[str]:
    """Values that depend on a graph input through more than its shape."""
    init = {i.name for i in graph.initializer}
    dynamic = {i.name for i in graph.input if i.name not in init}
    for node in graph.node:   # exporters write nodes in topological order
        if node.op_type in ("Shape", "Size"):
            continue
        if any(name in dynamic for name in node.input):
            dynamic.update(n for n in node.output if n)
    return dynamic


def kernel_nodes(model: onnx.ModelProto) -> list[bool]:
    """Per node: is it a compute kernel (``KERNEL_OPS``, or an elementwise Add/Sub/Mul/Div of
    two run-time values, like a residual)? Everything else (shape arithmetic, layout moves,
    casts, affine ops on constants, BatchNormalization, ...) is what a rewrite can remove."""
    dynamic = _dynamic_names(model.graph)
    return [n.op_type in KERNEL_OPS or
            (n.op_type in _BINARY and len(n.input) == 2 and all(i in dynamic for i in n.input))
            for n in model.graph.node]


def reference_node_times(model: onnx.ModelProto, feeds: dict, runs: int = 5) -> tuple[list[float], float]:
    """Seconds per node of ``model`` on the reference executor (graph order), each node timed
    around its op implementation, and the seconds of the whole run (interpreter overhead
    included) of the run with the least time in its nodes, out of ``runs``."""
    Ref = reference_executor()
    ex = Ref(model)
    index = {id(node): k for k, node in enumerate(ex.model.graph.node)}
    current = [0.0] * len(model.graph.node)

    def timed(k, impl):
        def run(ctx, *args):
            t0 = time.perf_counter()
            try:
                return impl(ctx, *args)
            finally:
                current[k] += time.perf_counter() - t0
        return run

    for step in ex._plan.steps:
        step.impl = timed(index[id(step.ctx.node)], step.impl)
    ex.run(None, feeds)
    best, best_total = None, math.inf
    for _ in range(runs):
        current[:] = [0.0] * len(current)
        t0 = time.perf_counter()
        ex.run(None, feeds)
        total = time.perf_counter() - t0
        if best is None or sum(current) < sum(best):
            best, best_total = list(current), total
    return best, best_total


def kernel_ceiling(model: onnx.ModelProto, feeds: dict, runs: int = 5) -> dict:
    """How much faster any node-removing rewrite could make ``model`` on the reference executor:
    a whole run's time over the time of its compute kernels alone (every other node, and the
    executor's own per-node work, taken as removable)."""
    times, total = reference_node_times(model, feeds, runs)
    kernel = sum(t for t, k in zip(times, kernel_nodes(model)) if k)
    return {"run_s": total, "kernel_s": kernel, "ceiling": total / kernel if kernel else math.inf}


def compare_model(name: str, model: onnx.ModelProto, feeds: dict | None, repeat: int, budget_s: float) -> dict:
    feeds = feeds or seeded_feeds(model, 1, 0)[0]
    row: dict = {"model": name, "nodes_orig": len(model.graph.node)}
    t0 = time.perf_counter()
    ours, report = optimize(model)
    row["optimize_s"] = time.perf_counter() - t0
    row["nodes_ours"] = len(ours.graph.node)
    row["pass_errors"] = [f"{r.name}: {r.error}" for r in report.records if r.error]
    row["nodes_ort_basic"] = ort_basic_nodes(model, name)
    row["nodes_onnxoptimizer"] = onnxoptimizer_nodes(model)
    row["nodes_onnxsim"] = onnxsim_nodes(model)

    s_orig, s_ours = ort_session(model), ort_session(ours)
    out_orig, out_ours = s_orig.run(None, feeds), s_ours.run(None, feeds)
    row["maxrel_ort"] = scaled_error(out_ours, out_orig)
    row["ort_s_orig"], row["ort_s_ours"], row["ort_noise"] = _interleaved_times(
        lambda: s_orig.run(None, feeds), lambda: s_ours.run(None, feeds), repeat, budget_s)

    Ref = reference_executor()
    if Ref is not None:
        try:
            r_orig, r_ours = Ref(model), Ref(ours)
            ref_orig, ref_ours = r_orig.run(None, feeds), r_ours.run(None, feeds)
            row["maxrel_ref"] = scaled_error(ref_ours, ref_orig)
            row["ref_s_orig"], row["ref_s_ours"], row["ref_noise"] = _interleaved_times(
                lambda: r_orig.run(None, feeds), lambda: r_ours.run(None, feeds), max(3, repeat // 10), budget_s)
            row["ref_kernels"] = kernel_ceiling(model, feeds)
        except Exception as exc:
            row["ref_error"] = f"{type(exc).__name__}: {str(exc)[:120]}"
    return row


def _with_logits(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """The model with its final Softmax's input as an extra output (the logits), and that name."""
    outputs = {o.name for o in model.graph.output}
    for node in reversed(model.graph.node):
        if node.op_type == "Softmax" and node.output[0] in outputs:
            m = onnx.ModelProto()
            m.CopyFrom(model)
            m.graph.output.append(onnx.helper.make_tensor_value_info(node.input[0], onnx.TensorProto.FLOAT, None))
            return m, node.input[0]
    return model, model.graph.output[0].name


def precision_metrics(name: str, model: onnx.ModelProto, samples: int = 16) -> dict:
    """FP16 and INT8 against float32 on onnxruntime (optimizations off): cosine and top-1 of the logits."""
    base, logits = _with_logits(optimize(model)[0])
    eval_feeds = seeded_feeds(base, samples, seed=2024)
    s32 = ort_session(base)
    ref = [s32.run([logits], f)[0] for f in eval_feeds]
    size32 = len(base.SerializeToString())
    out = {}
    for kind, convert in (("fp16", lambda m: convert_float16(m, keep_io_types=True)),
                          ("int8", lambda m: quantize_int8(m, calibration=seeded_feeds(m, 8, seed=7)))):
        try:
            converted = convert(base)
            s = ort_session(converted)
            cos, agree = [], 0
            for f, r in zip(eval_feeds, ref):
                y = np.asarray(s.run([logits], f)[0], dtype=np.float64)
                r64 = np.asarray(r, dtype=np.float64)
                for a, b in zip(r64.reshape(r64.shape[0], -1), y.reshape(y.shape[0], -1)):
                    cos.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30)))
                    agree += int(np.argmax(a) == np.argmax(b))
            tol = FP16_TOLERANCE if kind == "fp16" else INT8_TOLERANCE
            out[kind] = {"cosine_min": min(cos), "cosine_mean": float(np.mean(cos)),
                         "top1_agreement": agree / len(cos), "samples": len(cos),
                         "size_ratio": len(converted.SerializeToString()) / size32,
                         "pass": min(cos) >= tol["cosine_min"] and agree / len(cos) >= tol["top1_agreement_min"]}
        except Exception as exc:
            out[kind] = {"error": f"{type(exc).__name__}: {str(exc)[:160]}"}
    return out


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1e}" if v < 1e-2 or v >= 1e4 else f"{v:.3g}"
    return str(v)


def print_table(rows: list[dict], file=sys.stdout) -> None:
    has_sim = any(r.get("nodes_onnxsim") is not None for r in rows)
    head = ["model", "orig", "ours", "ORT basic", "onnxopt"] + (["onnxsim"] if has_sim else []) + \
           ["maxrel ref", "maxrel ORT", "ORT-noopt CPU ms orig/ours", "ref CPU ms orig/ours", "ref kernels %",
            "ref ceiling"]
    lines = [head]
    for r in rows:
        ort_t = f"{r['ort_s_orig'] * 1e3:.2f} / {r['ort_s_ours'] * 1e3:.2f}"
        ref_t = f"{r['ref_s_orig'] * 1e3:.1f} / {r['ref_s_ours'] * 1e3:.1f}" if "ref_s_orig" in r else \
            r.get("ref_error", "-")
        lines.append([r["model"], r["nodes_orig"], r["nodes_ours"], r["nodes_ort_basic"], r["nodes_onnxoptimizer"]]
                     + ([r.get("nodes_onnxsim")] if has_sim else [])
                     + [r.get("maxrel_ref"), r["maxrel_ort"], ort_t, ref_t]
                     + ([f"{100 * r['ref_kernels']['kernel_s'] / r['ref_kernels']['run_s']:.0f}",
                         f"{r['ref_kernels']['ceiling']:.2f}x"] if "ref_kernels" in r else ["-", "-"]))
    text = [[_fmt(c) for c in line] for line in lines]
    widths = [max(len(t[k]) for t in text) for k in range(len(head))]
    for t in text:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths)), file=file)
    speed = [r["ref_s_orig"] / r["ref_s_ours"] for r in rows if "ref_s_orig" in r]
    ort_speed = [r["ort_s_orig"] / r["ort_s_ours"] for r in rows]
    if speed:
        print(f"geometric-mean speed-up, reference executor: {math.exp(np.mean(np.log(speed))):.2f}x", file=file)
    ceilings = [r["ref_kernels"]["ceiling"] for r in rows if "ref_kernels" in r]
    if ceilings:
        print(f"geometric-mean ceiling, reference executor: {math.exp(np.mean(np.log(ceilings))):.2f}x "
              f"(original time over its compute kernels' time: the most any node-removing rewrite could gain)",
              file=file)
    print(f"geometric-mean speed-up, onnxruntime (optimizations off): {math.exp(np.mean(np.log(ort_speed))):.2f}x",
          file=file)
    slower = [f"{r['model']} {r['ort_s_ours'] / r['ort_s_orig']:.3f}x time (noise {r['ort_noise']:.1%})"
              for r in rows if r["ort_s_ours"] / r["ort_s_orig"] - 1 > r.get("ort_noise", 0.0)]
    print("slower on onnxruntime (optimizations off) beyond run-to-run noise: "
          + ("; ".join(slower) if slower else "none"), file=file)
    prec = [r for r in rows if "precision" in r]
    if prec:
        print(f"\nreduced precision (logits over seeded inputs; fp16 needs cosine>={FP16_TOLERANCE['cosine_min']}, "
              f"top-1>={FP16_TOLERANCE['top1_agreement_min']}; int8 cosine>={INT8_TOLERANCE['cosine_min']}, "
              f"top-1>={INT8_TOLERANCE['top1_agreement_min']})", file=file)
        for r in prec:
            for kind, m in r["precision"].items():
                if "error" in m:
                    print(f"  {r['model']:<22} {kind}: {m['error']}", file=file)
                else:
                    print(f"  {r['model']:<22} {kind}: cosine min {m['cosine_min']:.6f} (1-cos {1 - m['cosine_min']:.1e})  "
                          f"top-1 {m['top1_agreement']:.3f} ({m['samples']})  size x{m['size_ratio']:.2f}  "
                          f"{'PASS' if m['pass'] else 'FAIL'}", file=file)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True, help="folder of NAME/model.onnx (+inputs.npz) or NAME.onnx")
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--precision", action="store_true", help="add FP16/INT8 metrics for CNNs (models with Conv)")
    ap.add_argument("--repeat", type=int, default=30, help="timed runs per model and runtime (interleaved)")
    ap.add_argument("--budget", type=float, default=20.0, help="seconds of timing per model and runtime at most")
    ap.add_argument("--json", default="", help="also write the rows here")
    args = ap.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    rows = []
    for name, path, feeds in find_models(Path(args.models)):
        if only and name not in only:
            continue
        model = onnx.load(path)
        row = compare_model(name, model, feeds, args.repeat, args.budget)
        if args.precision and any(n.op_type == "Conv" for n in model.graph.node):
            row["precision"] = precision_metrics(name, model)
        rows.append(row)
        print(f"... {name} done", file=sys.stderr)
    if not rows:
        print(f"no models under {args.models}", file=sys.stderr)
        return 2
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
