"""``conformance fuzz``: generative differential testing (random valid graphs, shrunk findings).

    conformance fuzz --framework torch|tensorflow|paddle [--converter C,...] --target reference,onnxruntime
                     --budget 5m|N --seed S --max-nodes 8 [--ops add,...] [--exclude-ops ...]
                     [--corner-share 1/3] [--shard K/N] [--results R.jsonl] --out DIR
    conformance fuzz --merge DIR1,DIR2,... --out DIR      # shard folders of one campaign into one

Writes DIR/summary.json, DIR/findings.jsonl, DIR/state.json and DIR/repro/<sig8>/ per finding.
Running again with the same options and --out resumes the campaign saved there. The generator
lives in ``suites.fuzz`` and is imported only when the command runs.
"""
from __future__ import annotations

import argparse
import re
import sys
import warnings
from fractions import Fraction
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
    p.add_argument("--shard", default="1/1", metavar="K/N", help="run rounds K-1, K-1+N, ... of the seed space")
    p.add_argument("--round-examples", type=int, default=200, help="graphs per round (one Hypothesis seed)")
    p.add_argument("--oracles", default="ort-optimization,batch-split",
                   help="metamorphic checks besides the source framework: ort-optimization, batch-split, or none")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a conversion may take (then: a hang)")
    p.add_argument("--results", default=None, metavar="PATH", help="append every case's record (kind fuzz) here")
    p.add_argument("--merge", default=None, metavar="DIR,DIR", help="merge these shard folders into --out")
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


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4)."""
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ValueError(f"--shard {text!r}: give K/N with 1 <= K <= N, like 2/4")
    return int(m.group(1)), int(m.group(2))


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _error(text: str) -> int:
    print(f"conformance fuzz: error: {text.strip(chr(39))}", file=sys.stderr)
    return 2


def _options(args: argparse.Namespace) -> dict:
    """The validated options (raises ValueError/KeyError with a one-line message)."""
    from suites.fuzz.evaluate import ORACLES
    from suites.fuzz.graphs import available
    seconds, models = parse_budget(args.budget)
    only, exclude = _split(args.ops) or None, _split(args.exclude_ops) or None
    if not available(args.framework, only, exclude):
        raise ValueError(f"no abstract op left to draw for {args.framework}")
    share = Fraction(args.corner_share)
    if not 0 <= share <= 1:
        raise ValueError(f"--corner-share {args.corner_share}: give a share between 0 and 1")
    oracles = tuple(o for o in _split(args.oracles) if o != "none")
    unknown = sorted(set(oracles) - set(ORACLES))
    if unknown:
        raise ValueError(f"--oracles: unknown {', '.join(unknown)} (known: {', '.join(ORACLES)}, none)")
    if args.round_examples < 1:
        raise ValueError("--round-examples must be at least 1")
    return {"seconds": seconds, "models": models, "only": only, "exclude": exclude, "share": share,
            "oracles": oracles, "shard": parse_shard(args.shard)}


def run_fuzz(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path.cwd()))         # the suites of the checkout, as `conformance run`
    from suites.fuzz.outputs import StateError, merge, summary_table
    warnings.filterwarnings("ignore", category=RuntimeWarning)    # numpy on corner values (inf - inf ...)
    try:
        if args.merge:
            merged = merge(_split(args.merge), args.out)
            print(summary_table(merged))
            print(f"merged {len(_split(args.merge))} folders into {args.out}")
            return 0
        options = _options(args)
        return _campaign(args, options)
    except (ValueError, KeyError, ZeroDivisionError, StateError) as exc:
        return _error(str(exc))


def _config(args: argparse.Namespace, options: dict, converters: list[str], targets: list[str], opset: int) -> dict:
    """What determines a campaign's draws and findings: a resume must run with the same."""
    return {"framework": args.framework, "converters": converters, "targets": targets, "opset": opset,
            "seed": args.seed, "max_nodes": args.max_nodes, "ops": options["only"], "exclude": options["exclude"],
            "corner_share": str(options["share"]), "round_examples": args.round_examples,
            "oracles": list(options["oracles"])}


def _campaign(args: argparse.Namespace, options: dict) -> int:
    from converters import CONVERTERS

    from suites.fuzz import known as fuzz_known
    from suites.fuzz.campaign import Budget, Campaign
    from suites.fuzz.evaluate import CONVERTERS as DEFAULT_CONVERTERS
    from suites.fuzz.evaluate import RunnerCheck
    from suites.fuzz.outputs import restore, save, summary_table

    from .known_failures import load_known_failures
    from .results import append
    from .runner import Runner, RunnerOptions
    converters = _split(args.converter) or [DEFAULT_CONVERTERS[args.framework]]
    targets = _split(args.target)
    opset = args.opset or CONVERTERS.get(converters[0]).default_opset
    config = _config(args, options, converters, targets, opset)
    table = load_known_failures()
    runner = Runner(RunnerOptions(use_cache=False, timeout=args.timeout))
    command = " ".join(["conformance", "fuzz"] + sys.argv[2:]) if sys.argv[1:2] == ["fuzz"] else "conformance fuzz"

    campaign = Campaign(RunnerCheck(runner, args.framework, converters, targets, opset, options["oracles"]),
                        args.framework, args.max_nodes, options["only"],
                        Budget(seconds=options["seconds"], models=options["models"]),
                        lambda failure, graph: fuzz_known.describe(table, failure, graph, args.framework),
                        progress=lambda line: print(line, file=sys.stderr, flush=True),
                        round_examples=args.round_examples, corner_share=options["share"],
                        exclude=options["exclude"], shard=options["shard"],
                        on_round=lambda c: save(c, args.out, config, command),
                        on_records=(lambda records: append(args.results, records)) if args.results else None)
    if restore(campaign, args.out, config):
        print(f"resuming the campaign in {args.out}: {campaign.progress_line()}", file=sys.stderr, flush=True)
    try:
        campaign.run(args.seed)
    finally:
        runner.close()
    out = save(campaign, args.out, config, command)
    print(summary_table(campaign))
    print(f"wrote {out}/summary.json, {out}/findings.jsonl, {out}/repro/")
    return 0
