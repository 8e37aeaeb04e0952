"""Cases whose status differs between two runs of the same suites: does a verdict depend on
scheduling (serial vs ``-n 2``) or on the run (twice in a row)?

    python scripts/compare_runs.py A.jsonl B.jsonl [--show 50]

Prints one line per case id (case x target) whose status differs, with both statuses and the
first line of each message, then the number of differing cases and of cases found in one run
only. Exit 0 when every case common to both has the same status and none is missing, 1 when
one differs, 2 when a file cannot be read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.errors import ResultsFileError   # noqa: E402
from conformance.results import read              # noqa: E402


def statuses(path: str) -> dict[str, tuple[str, str]]:
    """case id -> (status, first line of the message); a case recorded twice keeps the last."""
    return {r.case_id: (r.status, (r.message or "").strip().split("\n")[0][:120]) for r in read(path)}


def differences(a: dict, b: dict) -> list[tuple[str, tuple, tuple]]:
    return [(case, a[case], b[case]) for case in sorted(a.keys() & b.keys()) if a[case][0] != b[case][0]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--show", type=int, default=50, help="list at most this many differing cases")
    args = ap.parse_args(argv)
    try:
        a, b = statuses(args.a), statuses(args.b)
    except (ResultsFileError, OSError) as exc:
        print(f"cannot read the results: {exc}")
        return 2
    differ = differences(a, b)
    for case, (sa, ma), (sb, mb) in differ[:args.show]:
        print(f"{case}: {sa} -> {sb}\n    A: {ma}\n    B: {mb}")
    only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
    for case in (only_a + only_b)[:args.show]:
        print(f"{case}: only in {'A' if case in a else 'B'}")
    print(f"{len(a)} cases in A, {len(b)} in B, {len(a.keys() & b.keys())} in both: "
          f"{len(differ)} differ in status, {len(only_a)} only in A, {len(only_b)} only in B")
    return 1 if differ or only_a or only_b else 0


if __name__ == "__main__":
    sys.exit(main())
