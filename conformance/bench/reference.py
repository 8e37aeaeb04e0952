"""``conformance bench-reference``: how fast and how exact our numpy reference executor is.

For every ONNX model found under ``--models`` (``NAME/model.onnx`` with ``inputs.npz`` and
``expected.npz`` beside it, or ONNX's ``test_data_set_0/`` layout, or a bare ``*.onnx`` fed with
seeded random inputs) it times, in this one process, our ``ReferenceExecutor``, onnxruntime
(the registered ``onnxruntime`` target: CPU execution provider, default threads) and
``onnx.reference.ReferenceEvaluator``: one warm-up run, then the median of ``--runs`` runs.
Accuracy is the largest absolute difference to the source framework's outputs divided by the
output's scale (its largest magnitude): ``comparator.scaled_error``. A failure of onnxruntime
or onnx.reference on a model is recorded as that engine's failure, never a crash of the command.

It lives outside ``conformance/reference/``, which imports numpy and onnx only: onnxruntime
comes through the target registry, and ``--profile`` through the executor's ``profile`` hook.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from ..comparator import scaled_error
from ..inputs import load_npz, random_inputs
from ..reference import ReferenceExecutor
from ..reference.ops.linalg import get_blas_threads, set_blas_threads
from ..targets import get_target
from ..targets.base import dist_version

TARGET_ACCURACY = 1e-4
TARGET_OURS_OVER_ORT = 3.0
TARGET_REF_OVER_OURS = 10.0


@dataclass
class ModelCase:
    name: str
    path: str
    inputs: dict
    expected: dict | None          # output name -> array; None when no source outputs exist
    expected_source: str = "source framework"


@dataclass
class EngineResult:
    ok: bool = False
    median_ms: float | None = None
    runs: int = 0
    times_ms: list = field(default_factory=list)
    rel_error: float | None = None   # max |out - expected| / scale over all outputs
    error: str | None = None         # why the engine failed


@dataclass
class ModelResult:
    name: str
    path: str
    expected_source: str
    engines: dict                    # "ours" | "onnxruntime" | "onnx.reference" -> EngineResult
    op_profile: dict | None = None   # op type -> [ms per run, calls per run] (with --profile)


class OpProfiler:
    """Time per op type of our executor, through its ``profile`` hook: pass ``record`` as
    ``ReferenceExecutor(model, profile=...)``; only runs while ``counting`` is set count."""

    def __init__(self):
        self.seconds: dict = {}
        self.calls: dict = {}
        self.counting = False

    def record(self, node: onnx.NodeProto, seconds: float) -> None:
        if self.counting:
            name = node.op_type
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1

    def counted(self, run):
        """``run`` with counting switched on while it runs."""
        def counted_run():
            self.counting = True
            try:
                return run()
            finally:
                self.counting = False
        return counted_run

    def table(self, runs: int) -> dict:
        return {k: [round(v / runs * 1e3, 3), self.calls[k] // runs]
                for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1])}


# --------------------------------------------------------------------------- discovery

def _pb_dir(folder: Path, prefix: str, names: list[str]) -> dict:
    files = sorted(folder.glob(f"{prefix}_*.pb"), key=lambda p: int(p.stem.split("_")[-1]))
    out = {}
    for name, f in zip(names, files):
        t = onnx.TensorProto()
        t.ParseFromString(f.read_bytes())
        out[t.name or name] = numpy_helper.to_array(t)
    return out


def _graph_io(model: onnx.ModelProto):
    init = {i.name for i in model.graph.initializer}
    return ([i.name for i in model.graph.input if i.name not in init],
            [o.name for o in model.graph.output])


def find_models(root: str) -> list[ModelCase]:
    """Every model under root: NAME/model.onnx (zoo layout) or any other *.onnx file."""
    root_path = Path(root)
    paths = sorted(set(root_path.rglob("*.onnx")))
    cases = []
    for path in paths:
        if "test_data_set" in str(path):
            continue
        folder = path.parent
        name = folder.name if path.name == "model.onnx" else path.stem
        model = onnx.load(str(path), load_external_data=False)
        in_names, out_names = _graph_io(model)
        inputs = expected = None
        source = "source framework"
        if (folder / "inputs.npz").exists() and path.name == "model.onnx":
            inputs = load_npz(folder / "inputs.npz", "inputs")
            if (folder / "expected.npz").exists():
                expected = load_npz(folder / "expected.npz", "expected outputs")
        elif (folder / "test_data_set_0").is_dir() and path.name == "model.onnx":
            inputs = _pb_dir(folder / "test_data_set_0", "input", in_names)
            expected = _pb_dir(folder / "test_data_set_0", "output", out_names) or None
        if inputs is None:
            # ints in [0, 2): index-like inputs stay in range; dynamic dims 1
            inputs = random_inputs(model, seed=0, fill=1, int_high=2)
        if expected is not None:
            # Match source outputs to graph outputs by name, else by position.
            if not set(out_names) & set(expected):
                expected = dict(zip(out_names, expected.values()))
            expected = {k: v for k, v in expected.items() if k in out_names}
        if inputs and not set(in_names) <= set(inputs):
            inputs = dict(zip(in_names, inputs.values()))
        if expected is None:
            source = "onnxruntime (no source outputs saved)"
        cases.append(ModelCase(name=name, path=str(path), inputs=inputs, expected=expected,
                               expected_source=source))
    return cases


# --------------------------------------------------------------------------- measuring

def relative_error(outputs: dict, expected: dict) -> float:
    """``comparator.scaled_error`` of outputs and expected values matched by output name."""
    return scaled_error([outputs.get(name) for name in expected], list(expected.values()))


def time_engine(run_once, runs: int, budget_s: float | None = None,
                pause_s: float = 0.0) -> tuple[dict, EngineResult]:
    """Warm up once (its outputs are returned), then time up to ``runs`` runs (fewer if the
    warm-up says they would exceed ``budget_s``); report the median."""
    res = EngineResult()
    t0 = time.perf_counter()
    outputs = run_once()
    warm = time.perf_counter() - t0
    n = runs
    if budget_s is not None and warm > 0:
        n = max(1, min(runs, int(budget_s / warm)))
    times = []
    for _ in range(n):
        if pause_s:
            time.sleep(pause_s)
        t0 = time.perf_counter()
        run_once()
        times.append((time.perf_counter() - t0) * 1e3)
    res.ok = True
    res.runs = n
    res.times_ms = [round(t, 3) for t in times]
    res.median_ms = statistics.median(times)
    return outputs, res


def _failed(exc: BaseException) -> EngineResult:
    msg = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return EngineResult(ok=False, error=msg[:200])


def _interleaved(engines: dict, runs: int, pause_s: float = 0.0) -> dict:
    """Warm up every engine once, then time them in turns (ours, onnxruntime, ours, ...) so
    that a change of machine load hits both alike; median per engine. A short pause before
    every timed run keeps one run's CPU throttling on a shared machine out of the next (seen
    here: back-to-back runs of the LSTM model took 10-20 ms, paused ones 2.7 ms)."""
    outputs, results = {}, {}
    for name, fn in engines.items():
        try:
            outputs[name] = fn()
            results[name] = EngineResult(ok=True)
        except Exception as exc:   # noqa: BLE001 - an engine failure is a result
            results[name] = _failed(exc)
    live = {k: fn for k, fn in engines.items() if results[k].ok}
    times: dict = {k: [] for k in live}
    for _ in range(runs):
        for name, fn in live.items():
            if pause_s:
                time.sleep(pause_s)
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    for name, ts in times.items():
        r = results[name]
        r.runs, r.times_ms, r.median_ms = len(ts), [round(t, 3) for t in ts], statistics.median(ts)
    return outputs, results


def _runners(model: onnx.ModelProto, inputs: dict, engines: list[str], profiler: OpProfiler | None,
             verbose: bool) -> tuple[dict, dict]:
    """Run-once callables of ours and onnxruntime, and the failures of those that cannot load."""
    makers = {"ours": lambda: ReferenceExecutor(model, profile=profiler.record if profiler else None),
              "onnxruntime": lambda: get_target("onnxruntime").prepare(model.SerializeToString())}
    runners, failures = {}, {}
    for name, make in makers.items():
        if name not in engines:
            continue
        try:
            session = make()
            runners[name] = lambda session=session: session.run(None, inputs)
        except Exception as exc:   # noqa: BLE001
            failures[name] = _failed(exc)
            if verbose:
                traceback.print_exc()
    return runners, failures


def _time_onnx_reference(model, inputs: dict, runs: int, budget_s: float, pause_s: float,
                         verbose: bool) -> tuple[list | None, EngineResult]:
    try:
        evaluator = ReferenceEvaluator(model)
        with np.errstate(all="ignore"):
            return time_engine(lambda: evaluator.run(None, inputs), runs, budget_s, pause_s)
    except Exception as exc:   # noqa: BLE001
        if verbose:
            traceback.print_exc()
        return None, _failed(exc)


def bench_model(case: ModelCase, runs: int, engines: list[str], reference_budget_s: float,
                verbose: bool = False, pause_s: float = 0.0, profile: bool = False) -> ModelResult:
    model = onnx.load(case.path)
    _, out_names = _graph_io(model)
    profiler = OpProfiler() if profile else None
    runners, results = _runners(model, case.inputs, engines, profiler, verbose)
    if profiler is not None and "ours" in runners:
        runners["ours"] = profiler.counted(runners["ours"])
        runners["ours"]()            # one counted run before _interleaved's counted warm-up
    outs, timed = _interleaved(runners, runs, pause_s)
    op_profile = None
    if profiler is not None and results.get("ours") is None and timed.get("ours") and timed["ours"].ok:
        # the run above, _interleaved's warm-up and its `runs` timed runs were all counted
        op_profile = profiler.table(runs + 2)
    results.update(timed)
    outputs_of = {name: dict(zip(out_names, o)) for name, o in outs.items()}
    if "onnx.reference" in engines:
        outs, results["onnx.reference"] = _time_onnx_reference(model, case.inputs, runs, reference_budget_s,
                                                               pause_s, verbose)
        if outs is not None:
            outputs_of["onnx.reference"] = dict(zip(out_names, outs))
    expected = case.expected
    if expected is None and "onnxruntime" in outputs_of:
        expected = outputs_of["onnxruntime"]
    if expected is not None:
        for engine, outputs in outputs_of.items():
            results[engine].rel_error = relative_error(outputs, expected)
    return ModelResult(name=case.name, path=case.path, expected_source=case.expected_source,
                       engines=results, op_profile=op_profile)


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summarize(results: list[ModelResult]) -> dict:
    ours_over_ort, ref_over_ours, errors = [], [], []
    ref_over_ort = []   # the same yardstick held to onnxruntime, on the models all three ran
    ref_failures = []
    for m in results:
        ours, ort_, ref = (m.engines.get(k) for k in ("ours", "onnxruntime", "onnx.reference"))
        if ours and ours.ok and ort_ and ort_.ok:
            ours_over_ort.append(ours.median_ms / ort_.median_ms)
        if ours and ours.ok and ref is not None:
            if ref.ok:
                ref_over_ours.append(ref.median_ms / ours.median_ms)
                if ort_ and ort_.ok:
                    ref_over_ort.append(ref.median_ms / ort_.median_ms)
            else:
                ref_failures.append(m.name)
        if ours and ours.rel_error is not None:
            errors.append(ours.rel_error)
    g1, g2 = geomean(ours_over_ort), geomean(ref_over_ours)
    worst = max(errors) if errors else None
    return {
        "models": len(results),
        "ours_failed": [m.name for m in results if not m.engines.get("ours", EngineResult()).ok],
        "onnx_reference_failed": ref_failures,
        "geomean_ours_over_onnxruntime": g1,
        "geomean_onnx_reference_over_ours": g2,
        "geomean_onnx_reference_over_onnxruntime": geomean(ref_over_ort),
        "worst_relative_error_ours": worst,
        "targets": {
            "relative_error_max": TARGET_ACCURACY,
            "ours_over_onnxruntime_max": TARGET_OURS_OVER_ORT,
            "onnx_reference_over_ours_min": TARGET_REF_OVER_OURS,
        },
        "met": {
            "accuracy": worst is not None and worst <= TARGET_ACCURACY,
            "ours_over_onnxruntime": g1 is not None and g1 <= TARGET_OURS_OVER_ORT,
            "onnx_reference_over_ours": g2 is not None and g2 >= TARGET_REF_OVER_OURS,
        },
    }


# --------------------------------------------------------------------------- output

def _ms(r: EngineResult | None) -> str:
    if r is None:
        return "-"
    if not r.ok:
        return "FAILED"
    return f"{r.median_ms:.1f}"


def _err(r: EngineResult | None) -> str:
    if r is None or r.rel_error is None:
        return "-"
    return f"{r.rel_error:.1e}"


def format_table(results: list[ModelResult], summary: dict) -> str:
    head = ["model", "ours ms", "ort ms", "onnx.ref ms", "ours/ort", "ref/ours",
            "err ours", "err ort", "err onnx.ref"]
    rows = []
    for m in results:
        ours, ort_, ref = (m.engines.get(k) for k in ("ours", "onnxruntime", "onnx.reference"))
        ratio = (f"{ours.median_ms / ort_.median_ms:.2f}"
                 if ours and ours.ok and ort_ and ort_.ok else "-")
        ref_ratio = (f"{ref.median_ms / ours.median_ms:.1f}"
                     if ours and ours.ok and ref and ref.ok else "-")
        rows.append([m.name, _ms(ours), _ms(ort_), _ms(ref), ratio, ref_ratio,
                     _err(ours), _err(ort_), _err(ref)])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    g1, g2 = summary["geomean_ours_over_onnxruntime"], summary["geomean_onnx_reference_over_ours"]
    worst = summary["worst_relative_error_ours"]
    met = summary["met"]
    out.append("")
    out.append(f"geomean ours/onnxruntime      {g1:.2f}  (target <= {TARGET_OURS_OVER_ORT})  "
               f"{'met' if met['ours_over_onnxruntime'] else 'NOT met'}" if g1 else
               "geomean ours/onnxruntime      -")
    out.append(f"geomean onnx.reference/ours   {g2:.1f}  (target >= {TARGET_REF_OVER_OURS})  "
               f"{'met' if met['onnx_reference_over_ours'] else 'NOT met'}" if g2 else
               "geomean onnx.reference/ours   -")
    g3 = summary.get("geomean_onnx_reference_over_onnxruntime")
    if g3:
        out.append(f"  for scale: onnx.reference/onnxruntime {g3:.1f} on the same models "
                   f"(onnxruntime held to the same yardstick)")
    out.append(f"worst relative error (ours)   {worst:.1e}  (target <= {TARGET_ACCURACY:g})  "
               f"{'met' if met['accuracy'] else 'NOT met'}" if worst is not None else
               "worst relative error (ours)   -")
    for m in results:
        for engine, r in m.engines.items():
            if not r.ok:
                out.append(f"{m.name}: {engine} failed: {r.error}")
        if m.expected_source != "source framework":
            out.append(f"{m.name}: errors measured against {m.expected_source}")
    return "\n".join(out)


def default_models_dir() -> str:
    for candidate in ("reports/models", "suites/models"):
        if glob.glob(os.path.join(candidate, "**", "*.onnx"), recursive=True):
            return candidate
    return "reports/models"


def main(args: argparse.Namespace) -> int:
    if getattr(args, "blas_threads", None) is not None:
        set_blas_threads(args.blas_threads)  # from the CLI; callers of main() may omit it
    root = args.models or default_models_dir()
    cases = find_models(root)
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.name in wanted]
    if not cases:
        print(f"bench-reference: no ONNX models under {root!r} "
              f"(export the zoo with `python -m suites.models.export`)", file=sys.stderr)
        return 2
    engines = ["ours", "onnxruntime", "onnx.reference"]
    if args.skip_onnx_reference:
        engines.remove("onnx.reference")
    results = []
    for case in cases:
        print(f"[bench-reference] {case.name} ...", file=sys.stderr, flush=True)
        results.append(bench_model(case, args.runs, engines, args.reference_budget, args.verbose,
                                   args.pause, getattr(args, "profile", False)))
    summary = summarize(results)
    print(format_table(results, summary))
    for m in results:
        if m.op_profile:
            top = list(m.op_profile.items())[:8]
            print(f"{m.name}: ours by op type (ms/run, calls/run): "
                  + ", ".join(f"{k} {v[0]:.1f} x{v[1]}" for k, v in top))
    v = _versions()
    print(f"(ours: BLAS threads {v['reference_blas_threads']}; onnxruntime "
          f"{v.get('onnxruntime', '?')} default threads; {v['cpu_count']} CPUs; "
          f"load average {', '.join(f'{x:.1f}' for x in v['loadavg'] or [])})")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "models_dir": root,
            "runs": args.runs,
            "pause_s": args.pause,
            "versions": v,
            "results": [{**{k: v for k, v in asdict(m).items() if k != "engines"},
                         "engines": {e: asdict(r) for e, r in m.engines.items()}} for m in results],
            "summary": summary,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2))
    if summary["ours_failed"]:
        return 1
    if args.check and not all(summary["met"].values()):
        return 1
    return 0


def _versions() -> dict:
    out = {"numpy": np.__version__, "onnx": onnx.__version__, "cpu_count": os.cpu_count(),
           "reference_blas_threads": get_blas_threads() or "openblas default",
           "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    if dist_version("onnxruntime"):
        out["onnxruntime"] = dist_version("onnxruntime")
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-reference",
        help="time the numpy reference executor against onnxruntime and onnx.reference",
        description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("--models", metavar="DIR", help="folder searched for *.onnx models "
                   "(default: reports/models or suites/models, whichever has models)")
    p.add_argument("--runs", type=int, default=10, help="timed runs per engine after one warm-up (default 10)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--only", metavar="NAMES", help="comma-separated model names to run")
    p.add_argument("--skip-onnx-reference", action="store_true", help="do not run onnx.reference")
    p.add_argument("--reference-budget", type=float, default=60.0, metavar="S",
                   help="seconds of timed runs allowed to onnx.reference per model (default 60)")
    p.add_argument("--pause", type=float, default=0.05, metavar="S",
                   help="sleep before every timed run, for every engine (default 0.05 s): keeps "
                        "CPU throttling on a shared machine from leaking between runs")
    p.add_argument("--profile", action="store_true",
                   help="also time our executor by op type and print where the time goes")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    p.add_argument("--blas-threads", type=int, default=0, metavar="N",
                   help="BLAS threads of the reference executor during the benchmark: 0 (default) keeps "
                        "OpenBLAS's own setting, as onnxruntime runs with its default threads; the suites "
                        "use 1 (CONFORMANCE_REFERENCE_BLAS_THREADS), since xdist workers share the cores")
    p.set_defaults(func=main)
