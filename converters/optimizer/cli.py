"""``conformance optimize IN.onnx OUT.onnx [--passes fold,dce,...]``."""
from __future__ import annotations

import argparse
import sys

import onnx

from conformance.errors import ConformanceError, InvalidModel

from .passes import REWRITE_PASSES
from .pipeline import DEFAULT_PIPELINE, MAX_ROUNDS, optimize, parse_passes


def register(subparsers) -> None:
    p = subparsers.add_parser("optimize", help="optimize an ONNX model with our rewrite passes",
                              description="Run the optimizer's rewrite passes (default ONNX domain only) and "
                                          "report nodes before/after per pass.")
    p.add_argument("input", nargs="?", help="model to read (.onnx)")
    p.add_argument("output", nargs="?", help="where to write the optimized model")
    p.add_argument("--passes", default=None,
                   help="comma-separated rewrite pass names, run in order until nothing changes "
                        "(default: the full pipeline); --list-passes shows them")
    p.add_argument("--list-passes", action="store_true", help="print the rewrite passes and exit")
    p.add_argument("--rounds", type=int, default=None, help="maximum repetitions of the pass list")
    p.add_argument("--quiet", action="store_true", help="print only the one-line summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list_passes:
        for name, info in sorted(REWRITE_PASSES.items()):
            mark = "*" if name in DEFAULT_PIPELINE else " "
            print(f"{mark} {name:18s} [{info.stage}] {info.doc}")
        print("* = in the default pipeline")
        return 0
    if not args.input or not args.output:
        raise ConformanceError("optimize needs an input and an output model",
                               fix="conformance optimize IN.onnx OUT.onnx [--passes ...]")
    try:
        names = parse_passes(args.passes)
    except KeyError as exc:
        raise ConformanceError(str(exc.args[0]), fix="see conformance optimize --list-passes") from None
    try:
        model = onnx.load(args.input)
    except Exception as exc:
        raise InvalidModel(f"cannot read {args.input}: {exc}", fix="pass a valid .onnx file") from None
    optimized, report = optimize(model, names, max_rounds=args.rounds or MAX_ROUNDS, strict=args.verbose)
    onnx.save(optimized, args.output)
    text = report.summary()
    print(text.splitlines()[0] if args.quiet else text)
    errors = [r for r in report.records if r.error]
    for r in errors:
        print(f"conformance: warning: rewrite pass {r.name} failed and was skipped: {r.error}", file=sys.stderr)
    return 0
