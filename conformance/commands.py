"""``conformance targets`` and ``conformance run``: the registries and the suites without pytest."""
from __future__ import annotations

import sys
from pathlib import Path

from converters import CHAIN_STEPS, CONVERTERS, converter_status

from .errors import ConformanceError
from .selection import select_runs, split_values, suite_specs
from .session import ConformanceSession, SessionOptions, conclude, format_counts
from .targets import TARGETS, get_target, target_status


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
    runs = select_runs(suite_specs(split_values(args.suite, ("operators", "padding", "architectures", "multio-control"))),
                       target=args.target, framework=args.framework, converter=args.converter, opset=args.opset,
                       case=args.case, exclude_case=args.exclude_case)
    if not runs:
        raise ConformanceError("no cases selected", fix="check --suite, --case and --framework")
    session = ConformanceSession(SessionOptions(results=args.results, timeout=args.timeout, cache_dir=args.cache_dir,
                                                use_cache=not args.no_cache), parts=False)
    records = []
    try:
        for i, run in enumerate(runs, 1):
            record = session.run(run)
            records.append(record)
            if args.verbose or record.status in ("failed", "error"):
                print(f"[{i}/{len(runs)}] {record.status.upper():<11} {record.case_id}")
    finally:
        session.close()
    summary = conclude(args.results, records)
    print(format_counts(summary.counts) or "no cases selected")
    print(f"results: {summary.results}")
    for line in summary.report_lines():
        print(line)
    return 1 if summary.counts["failed"] or summary.counts["error"] else 0


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
