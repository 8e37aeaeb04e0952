"""``conformance bench`` and ``conformance bench-kernels``.

Exit codes: bench 0 VALID, 1 INVALID; ``--compare`` 0 unless B is slower than A (1);
bench-kernels 0. Errors (bad arguments, unknown target or scenario, a model the target cannot
run, an unreadable user.conf) exit 2, one line, through ``conformance.cli``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from ..errors import ConformanceError
from ..results import append, read
from .kernels import run_kernels, write_report
from .loadgen import BenchSettings, environment, model_label, run_benchmark, run_comparison
from .logs import log_dir_for
from .settings import MODES, scenario_names
from .stats import compare_latencies

BENCH_DESCRIPTION = ("Benchmark an ONNX model on a target in a scenario of MLPerf's LoadGen and print "
                     "LoadGen's summary with our checks. Defaults are small (2-core machine: 5 s minimum "
                     "duration); raise --min-duration to 600s, or pass MLPerf's user.conf, for MLPerf-grade runs.")

_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0}


def parse_time(text: str, default_unit: str) -> float:
    """'10' (in default_unit), '10s', '500ms', '1us', '2m' -> seconds."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*([a-zµ]*)\s*", str(text))
    if not match or (match.group(2) and match.group(2) not in _UNITS):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 10s, 500ms, 1us)")
    return float(match.group(1)) * _UNITS[match.group(2) or default_unit]


def _seconds(text):
    return parse_time(text, "s")


def _millis(text):
    return parse_time(text, "ms") * 1e3


def _shape(text: str) -> tuple[str, list[int]]:
    name, sep, dims = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name, [int(d) for d in re.split(r"[,x]", dims) if d.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shape wants NAME=1x3x224x224 (or d0,d1,...) (got {text!r})") from None


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmark a model on a target with MLPerf's LoadGen",
                              description=BENCH_DESCRIPTION)
    p.add_argument("model", nargs="?", help="ONNX model file")
    p.add_argument("--target", default="onnxruntime", help="target name (default onnxruntime)")
    p.add_argument("--scenario", default="SingleStream",
                   help=f"LoadGen scenario: {' | '.join(scenario_names())} (default SingleStream)")
    p.add_argument("--mode", default="performance", choices=sorted(MODES),
                   help="performance, or accuracy (LoadGen's AccuracyOnly; needs a labelled --dataset)")
    p.add_argument("--dataset", default="random",
                   help="sample library: random (seeded inputs, default) or digits (scikit-learn, labelled)")
    p.add_argument("--fp32-accuracy", type=float, help="accuracy mode: the FP32 top-1 the 99%% rule is held "
                                                       "against (default: the reference executor's)")
    p.add_argument("--user-conf", metavar="FILE", help="a LoadGen user.conf applied over these options")
    p.add_argument("--log-dir", metavar="DIR", help="LoadGen's logs (default: beside --results, else a temp dir)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (without the raw samples)")
    p.add_argument("--min-duration", type=_seconds, help="minimum run time, e.g. 10s, 600s")
    p.add_argument("--max-duration", type=_seconds, help="stop issuing after this long")
    p.add_argument("--min-queries", type=int, help="minimum query count (Offline: samples)")
    p.add_argument("--latency-bound", type=_millis,
                   help="latency bound (ms unless a unit is given: 15ms, 1us): Server's p99 target latency; "
                        "others: held against LoadGen's early-stopping estimate")
    p.add_argument("--target-qps", type=float, help="Server arrival rate; default: 50%% of the capacity the "
                                                    "warm-up measured")
    p.add_argument("--samples-per-query", type=int, default=8, help="MultiStream samples per query (default 8)")
    p.add_argument("--batch-size", type=int, default=8, help="Offline batch along a dynamic batch dim (default 8)")
    p.add_argument("--server-workers", type=int, default=1, help="SUT threads serving queries (default 1)")
    p.add_argument("--shape", type=_shape, action="append", default=[], metavar="NAME=1x3x224x224",
                   help="input shape for dynamic dims (repeatable); dynamic dims default to 1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup", type=int, default=5, help="warm-up queries before timing (default 5)")
    p.add_argument("--intra-op-threads", type=int, help="intra-op threads (default: CPU count)")
    p.add_argument("--inter-op-threads", type=int, default=1)
    p.add_argument("--spinning", action="store_true", help="let onnxruntime threads spin (off by default)")
    p.add_argument("--no-accuracy", action="store_true", help="skip the accuracy check against the reference executor")
    p.add_argument("--results", metavar="PATH", help="append the result record (JSON Lines) to PATH")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="compare A and B: two models (same --target), two targets (same MODEL), "
                        "interleaved A B A B in one process; or two results files")
    p.add_argument("--alpha", type=float, default=0.01, help="--compare significance level (default 0.01)")
    p.add_argument("--min-effect", type=float, default=0.10, help="--compare smallest change that counts (0.10)")
    p.set_defaults(func=bench_command)

    k = subparsers.add_parser("bench-kernels", help="kernel micro-benchmarks: reference executor vs onnxruntime",
                              description="Time one-node ONNX models (conv, depthwise conv, matmul/gemm, "
                                          "attention, LSTM) at several sizes; write a table and a plot.")
    k.add_argument("--out", default="reports/bench-kernels", help="output folder (default reports/bench-kernels)")
    k.add_argument("--target", action="append", default=None, help="targets (default: reference, onnxruntime)")
    k.add_argument("--kernel", action="append", default=None, help="kernels to run (default: all)")
    k.add_argument("--budget", type=float, default=1.0, help="seconds of repetitions per case and target")
    k.set_defaults(func=kernels_command)


def _settings(args):
    return BenchSettings(
        scenario=args.scenario, mode=args.mode, dataset=args.dataset, fp32_accuracy=args.fp32_accuracy,
        user_conf=args.user_conf, min_duration_s=args.min_duration, max_duration_s=args.max_duration,
        min_query_count=args.min_queries, target_qps=args.target_qps, latency_bound_ms=args.latency_bound,
        samples_per_query=args.samples_per_query, offline_batch_size=args.batch_size,
        server_workers=args.server_workers, seed=args.seed, warmup_queries=args.warmup,
        shapes=dict(args.shape), intra_op_threads=args.intra_op_threads, inter_op_threads=args.inter_op_threads,
        allow_spinning=args.spinning, check_accuracy=not args.no_accuracy)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_command(args) -> int:
    if args.compare:
        return compare_command(args)
    if not args.model:
        raise ConformanceError("bench needs a MODEL.onnx (or --compare A B)",
                               fix="conformance bench model.onnx --target onnxruntime --scenario SingleStream")
    if not os.path.exists(args.model):
        raise ConformanceError(f"model file {args.model} does not exist")
    settings = _settings(args)
    if args.log_dir or args.results:
        # one folder per model, scenario and target beside the results, so runs do not overwrite each other
        run_name = f"{model_label(args.model, None)}-{args.scenario}-{args.target}-{args.mode}"
        settings.log_dir = str(log_dir_for(args.log_dir, args.results) / ("" if args.log_dir else run_name))
    summary = run_benchmark(args.model, args.target, settings, log=_log)
    if args.results:
        append(args.results, [summary.to_record()])
    if args.json:
        data = summary.to_dict()
        data.pop("samples", None)
        print(json.dumps(data, indent=1, default=str))
    else:
        print(summary.text())
    return 0 if summary.valid else 1


def _is_results_file(path: str) -> bool:
    return path.endswith((".jsonl", ".json")) and os.path.isfile(path)


def compare_command(args) -> int:
    a, b = args.compare
    if _is_results_file(a) and _is_results_file(b):
        return _compare_results(a, b, args)
    if os.path.isfile(a) and os.path.isfile(b):
        pairs = ((a, args.target), (b, args.target))
    elif args.model:
        pairs = ((args.model, a), (args.model, b))
    else:
        raise ConformanceError(f"--compare {a} {b}: neither two model files nor two targets with a MODEL",
                               fix="conformance bench --compare a.onnx b.onnx --target T, or "
                                   "conformance bench MODEL --compare TARGET_A TARGET_B")
    comparison = run_comparison(pairs[0], pairs[1], _settings(args), alpha=args.alpha, min_effect=args.min_effect)
    if args.json:
        data = comparison.to_dict()
        data.pop("samples_a"), data.pop("samples_b")
        print(json.dumps(data, indent=1, default=str))
    else:
        print(comparison.text())
    return 1 if comparison.verdict.kind == "slower" else 0


def _compare_results(a: str, b: str, args) -> int:
    """Compare the stored latency samples of benchmark records with the same case id."""
    base = {r.case_id: r for r in read(a) if r.kind == "benchmark"}
    new = {r.case_id: r for r in read(b) if r.kind == "benchmark"}
    common = sorted(set(base) & set(new))
    if not common:
        raise ConformanceError(f"no benchmark case in both {a} and {b}")
    worst = 0
    for case_id in common:
        verdict = compare_latencies(base[case_id].extra.get("samples", []), new[case_id].extra.get("samples", []),
                                    alpha=args.alpha, min_effect=args.min_effect)
        print(f"{case_id}: {verdict.reason}")
        loads = [(r.extra.get("environment") or {}).get("load_average") for r in (base[case_id], new[case_id])]
        if all(loads):
            print(f"  load average (1/5/15 min) at the end of each run: {loads[0]} -> {loads[1]}; "
                  "runs far apart in time see different load: prefer --compare MODEL_A MODEL_B (interleaved)")
        worst = max(worst, 1 if verdict.kind == "slower" else 0)
    return worst


def kernels_command(args) -> int:
    targets = [t for spec in (args.target or ["reference,onnxruntime"]) for t in spec.split(",") if t]
    cases = run_kernels(targets, args.kernel, budget_s=args.budget, log=print)
    paths = write_report(cases, targets, Path(args.out), env=environment())
    print(f"wrote {paths['markdown']}, {paths['json']}, {paths['png']}")
    return 0
