"""``conformance targets`` and ``conformance run``: the registries and the suites without pytest."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from converters import CHAIN_STEPS, CONVERTERS, converter_status

from . import results
from .errors import ConformanceError
from .runner import Runner, RunnerOptions
from .selection import DEFAULT_OPSETS, expand, split_values, suite_specs
from .targets import DEFAULT_TARGETS, TARGETS, get_target, target_status

try:   # the matrix is written when the report package is part of this build
    from .report import write_reports
except ImportError:
    write_reports = None


def cmd_targets(args) -> int:
    rows = []
    for name in TARGETS.names():
        ok, why = target_status(name)
        try:
            t = get_target(name)
            detail = f"{t.precision}; {t.description}"
        except Exception:
            detail = ""
        rows.append(("target", name, ok, why or detail))
    for name in CONVERTERS.names():
        ok, why = converter_status(name)
        fw = CONVERTERS.get(name).framework if name in CONVERTERS else "?"
        rows.append(("converter", name, ok, why or f"framework {fw}"))
    for name in CHAIN_STEPS.names():
        ok, why = (converter_status(f"torch-script+{name}") if name in CHAIN_STEPS
                   else (False, CHAIN_STEPS.load_error(name)))
        rows.append(("pass", name, ok, why or "chain after a converter: CONVERTER+" + name))
    width = max(len(r[1]) for r in rows)
    for kind, name, ok, text in rows:
        print(f"{kind:<9} {name:<{width}}  {'available  ' if ok else 'UNAVAILABLE'}  {text}")
    return 0


def cmd_run(args) -> int:
    sys.path.insert(0, str(Path.cwd()))
    runs = expand(suite_specs(split_values(args.suite, ("operators", "padding", "architectures", "multio-control"))),
                  targets=split_values(args.target, DEFAULT_TARGETS),
                  frameworks=set(split_values(args.framework)), converters=split_values(args.converter),
                  opsets=[int(o) for o in split_values(args.opset, DEFAULT_OPSETS)],
                  include=split_values(args.case), exclude=split_values(args.exclude_case))
    if not runs:
        raise ConformanceError("no cases selected", fix="check --suite, --case and --framework")
    out = Path(args.results)
    runner = Runner(RunnerOptions(timeout=args.timeout, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                                  repro_dir=str(out.resolve().parent / "repro")))
    records, counts = [], Counter()
    try:
        for i, run in enumerate(runs, 1):
            record = runner.run(run)
            records.append(record)
            counts[record.status] += 1
            if args.verbose or record.status in ("failed", "error"):
                print(f"[{i}/{len(runs)}] {record.status.upper():<11} {record.case_id}")
    finally:
        runner.close()
    results.write(out, records)
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no cases selected")
    print(f"results: {out.resolve()}")
    if write_reports is not None:
        for kind, path in write_reports(records, out.resolve().parent).items():
            print(f"coverage matrix ({kind}): {path}")
    return 1 if counts["failed"] or counts["error"] else 0


def register(sub) -> None:
    p = sub.add_parser("targets", help="list registered targets, converters and passes, and whether each is available here")
    p.set_defaults(func=cmd_targets)

    p = sub.add_parser("run", help="run conformance suites without pytest and write results + matrix")
    p.add_argument("--suite", action="append", help="operators, padding, architectures (default: all)")
    p.add_argument("--target", action="append", help="target(s), comma-separated (default reference,onnxruntime)")
    p.add_argument("--framework", action="append")
    p.add_argument("--converter", action="append")
    p.add_argument("--opset", action="append")
    p.add_argument("--case", action="append", help="only case ids matching this glob")
    p.add_argument("--exclude-case", action="append")
    p.add_argument("--results", default="reports/results.jsonl")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--cache-dir")
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=cmd_run)
