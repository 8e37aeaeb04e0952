"""``conformance fuzz``: generative differential testing (random valid graphs, shrunk findings).

    conformance fuzz --framework torch|tensorflow|paddle [--converter C,...] --target reference,onnxruntime
                     --budget 5m|N --seed S --max-nodes 8 [--ops add,...] [--exclude-ops ...]
                     [--corner-share 1/3] --out DIR

Writes DIR/summary.json, DIR/findings.jsonl and DIR/repro/<sig8>/ per new finding. The
generator lives in ``suites.fuzz`` and is imported only when the command runs.
"""
from __future__ import annotations

import argparse
import re
from fractions import Fraction
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("fuzz", help="draw random valid graphs, run them on converters x targets, "
                                           "shrink and deduplicate the failures",
                              description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("--framework", default="torch", choices=["torch", "tensorflow", "paddle"])
    p.add_argument("--converter", default=None, help="converter(s), comma-separated (default: torch-script, "
                                                      "tf2onnx or paddle2onnx after --framework)")
    p.add_argument("--target", default="reference,onnxruntime", help="target(s), comma-separated")
    p.add_argument("--budget", default="100", help="a time (30s, 5m, 1h) or a number of graphs (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-nodes", type=int, default=8)
    p.add_argument("--opset", type=int, default=None, help="(default: the converter's default opset)")
    p.add_argument("--ops", default=None, help="only these abstract ops, comma-separated")
    p.add_argument("--exclude-ops", default=None, help="never these abstract ops, comma-separated")
    p.add_argument("--corner-share", default="1/3",
                   help="share of fresh inputs drawn with corner values (0, 1/3, 0.5 ...; default 1/3)")
    p.add_argument("--out", default="fuzz-out")
    p.set_defaults(func=run_fuzz)


def parse_budget(text: str) -> tuple[float | None, int | None]:
    """``"5m"`` -> (300.0, None); ``"40"`` -> (None, 40)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh])", text.strip())
    if m:
        return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)], None
    if text.strip().isdigit():
        return None, int(text)
    raise ValueError(f"--budget {text!r}: give a time like 30s, 5m, 1h or a number of graphs")


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def run_fuzz(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path.cwd()))         # the suites of the checkout, as `conformance run`
    from converters import CONVERTERS

    from suites.fuzz.campaign import Budget, Campaign, write_outputs
    from suites.fuzz.evaluate import CONVERTERS as DEFAULT_CONVERTERS
    from suites.fuzz.evaluate import RunnerCheck
    from suites.fuzz.graphs import available

    from .known_failures import load_known_failures
    from .runner import Runner, RunnerOptions
    try:
        seconds, models = parse_budget(args.budget)
        only, exclude = _split(args.ops) or None, _split(args.exclude_ops) or None
        if not available(args.framework, only, exclude):
            raise ValueError(f"no abstract op left to draw for {args.framework}")
        share = Fraction(args.corner_share)
        if not 0 <= share <= 1:
            raise ValueError(f"--corner-share {args.corner_share}: give a share between 0 and 1")
    except (ValueError, KeyError, ZeroDivisionError) as exc:
        print(f"conformance fuzz: error: {str(exc).strip(chr(39))}", file=sys.stderr)
        return 2
    converters = _split(args.converter) or [DEFAULT_CONVERTERS[args.framework]]
    targets = _split(args.target)
    opset = args.opset or CONVERTERS.get(converters[0]).default_opset
    runner = Runner(RunnerOptions(use_cache=False))
    table = load_known_failures()

    def known(failure, graph=None):
        """The known-failures entry of a finding: its own case id's, or that of the operator
        suite's case of an op of the reduced graph (``op/<op>/<framework>/<converter>/...``)."""
        ids = [failure.case_id] + [f"op/{op}/{args.framework}/{failure.converter}/opset{opset}/{failure.target}/fuzz"
                                   for op in sorted({n["op"] for n in (graph or {}).get("nodes", [])})]
        for case_id in ids:
            entry = table.match(case_id, failure.converter, failure.version, failure.target)
            if entry is not None:
                return entry.patterns[0] if entry.patterns else True
        return None

    campaign = Campaign(RunnerCheck(runner, args.framework, converters, targets, opset), args.framework,
                        args.max_nodes, only, Budget(seconds=seconds, models=models), known,
                        progress=lambda line: print(line, file=sys.stderr, flush=True), corner_share=share,
                        exclude=exclude)
    try:
        campaign.run(args.seed)
    finally:
        runner.close()
    out = write_outputs(campaign, args.out)
    print(f"{campaign.progress_line()}; wrote {out}/summary.json, {out}/findings.jsonl")
    return 0
