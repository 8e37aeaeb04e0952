"""``conformance targets`` and ``conformance run``: the registries and the suites without pytest."""
from __future__ import annotations

import sys
from pathlib import Path

from converters import CHAIN_STEPS, CONVERTERS, converter_status

from .environments import environment_state, get_environment, load_environments
from .errors import ConformanceError
from .placement import Placements, base_converter
from .runner import Runner, RunnerOptions
from .selection import SUITE_MODULES, Asked, select_runs, split_values, suite_specs
from .session import ConformanceSession, SessionOptions, conclude, format_counts
from .targets import TARGETS, get_target


def _lines(placements: Placements):
    """(kind, name, framework) of every converter and target, by default placement, then each
    ``NAME@ENV`` a declared environment provides (its requirements name the distribution)."""
    yield from (("target", name, None) for name in TARGETS.names())
    for name in CONVERTERS.names():
        yield "converter", name, CONVERTERS.get(name).framework if name in CONVERTERS else None
    for env in placements.environments.values():
        provided = set(env.requirement_names())
        for name in TARGETS.names():
            if name in TARGETS and get_target(name).distribution in provided and env.name != placements.env_name(name):
                yield "target", f"{name}@{env.name}", None
        for name in CONVERTERS.names():
            conv = CONVERTERS.get(name) if name in CONVERTERS else None
            if conv is not None and conv.distribution in provided and env.name not in (
                    placements.env_name(name, conv.framework),):
                yield "converter", f"{name}@{env.name}", conv.framework


def _status(runner: Runner, kind: str, name: str, framework: str | None) -> tuple[bool, str, str]:
    """(available, reason or description, environment) of one line; an environment that is
    not built is not built here (that is ``conformance env build``'s job)."""
    env = runner.placements.env_name(name, framework)
    if env is not None and not environment_state(get_environment(env, runner.placements.environments)).built:
        return False, f"environment {env!r} is not built (conformance env build {env})", env
    if kind == "converter":
        ok, why = runner.converter_status(name, framework)
        base = CONVERTERS.get(base_converter(name)) if base_converter(name) in CONVERTERS else None
        writes = f"{base.format}{'' if base.precision == 'fp32' else ' (' + base.precision + ')'}" if base else "?"
        return ok, why or f"framework {framework} -> {writes}", env or "main"
    try:
        target = runner.target(name)
        ok, why = target.available()
        return ok, why or f"runs {', '.join(target.formats)}; {target.precision}; {target.description}", env or "main"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}", env or "main"


def cmd_targets(args) -> int:
    runner = Runner(RunnerOptions(environments=load_environments(extra=args.env) if args.env else None))
    rows = []
    try:
        for kind, name, framework in _lines(runner.placements):
            rows.append((kind, name) + _status(runner, kind, name, framework))
    finally:
        runner.close()
    for name in CHAIN_STEPS.names():
        ok, why = (converter_status(f"torch-script+{name}") if name in CHAIN_STEPS
                   else (False, CHAIN_STEPS.load_error(name)))
        rows.append(("pass", name, ok, why or "chain after a converter: CONVERTER+" + name, "main"))
    width = max(len(r[1]) for r in rows)
    env_width = max(len(r[4]) for r in rows)
    for kind, name, ok, text, env in rows:
        print(f"{kind:<9} {name:<{width}}  {env:<{env_width}}  {'available  ' if ok else 'UNAVAILABLE'}  {text}")
    return 0


def _build_environments(runs, placements: Placements) -> None:
    """Every environment the runs name, built before the first case: an unknown name or an
    unresolvable requirement is the command's one-line error (exit 2), not a column of
    ``unavailable`` records."""
    names = {placements.env_name(r.converter, r.spec.framework) for r in runs}
    names |= {placements.env_name(r.target) for r in runs}
    for env in sorted(n for n in names if n):
        placements.placement(env)


def cmd_run(args) -> int:
    sys.path.insert(0, str(Path.cwd()))
    asked = Asked.of(args.framework, args.converter, tuple(args.case or ()))
    runs = select_runs(suite_specs(split_values(args.suite, SUITE_MODULES), asked),
                       target=args.target, framework=args.framework, converter=args.converter, opset=args.opset,
                       case=args.case, exclude_case=args.exclude_case)
    if not runs:
        raise ConformanceError("no cases selected", fix="check --suite, --case and --framework")
    environments = load_environments(extra=args.env) if args.env else None
    _build_environments(runs, Placements(environments))
    session = ConformanceSession(SessionOptions(results=args.results, timeout=args.timeout, cache_dir=args.cache_dir,
                                                use_cache=not args.no_cache, environments=tuple(args.env)),
                                 parts=False)
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
    p = sub.add_parser("targets", help="list registered targets, converters and passes, the environment each "
                                       "runs in, and whether each is available there")
    p.add_argument("--env", action="append", default=[], metavar='NAME="REQ REQ ..."',
                   help="declare a named environment (as pytest's --env)")
    p.set_defaults(func=cmd_targets)

    p = sub.add_parser("run", help="run conformance suites without pytest and write results + matrix")
    p.add_argument("--suite", action="append", help=f"{', '.join(SUITE_MODULES)} or a suite module (default: all)")
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
    p.add_argument("--env", action="append", default=[], metavar='NAME="REQ REQ ..."',
                   help="declare a named environment for NAME@ENV converters and targets; repeatable")
    p.set_defaults(func=cmd_run)
