"""``conformance matrix RESULTS.jsonl [more.jsonl ...] [--out reports/]``."""
from __future__ import annotations

import argparse

from ..results import merge, read
from . import build_matrix, write_reports


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "matrix", help="coverage matrix (HTML, Markdown, JSON) from result files",
        description="Merge result files (shards of one run; disagreeing duplicates are refused) and "
                    "write matrix.html, matrix.md and matrix.json.")
    p.add_argument("results", nargs="+", metavar="RESULTS.jsonl", help="result files written by --results")
    p.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports/)")
    p.add_argument("--title", default="Conformance matrix")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    records = merge(read(path) for path in args.results)
    paths = write_reports(records, args.out, title=args.title)
    summary = build_matrix(records).summary
    counts = ", ".join(f"{k} {v}" for k, v in summary.status_counts.items())
    print(f"{len(records)} records ({counts}); passed {summary.overall.text}")
    for key, path in paths.items():
        print(f"  {key:5s} {path}")
    return 0
