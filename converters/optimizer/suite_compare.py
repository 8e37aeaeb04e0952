"""Did a chained pass add failures? Pair each case of a plain run with its twin in a run
through ``CONVERTER+optimize`` (same spec, opset, target) and list what got worse.

    python -m converters.optimizer.suite_compare PLAIN.jsonl CHAINED.jsonl [--pass optimize]

Exit 0 when no case that passed without the pass fails with it; 1 otherwise; 2 on bad files.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from conformance import results
from conformance.errors import ResultsFileError

GOOD = ("passed", "xpassed")


def plain_id(case_id: str, converter: str, suffix: str) -> str:
    return case_id.replace(f"/{converter}/", f"/{converter.removesuffix(suffix)}/", 1)


def compare(plain, chained, suffix="+optimize"):
    base = {r.case_id: r for r in plain}
    worse, better, same, missing = [], [], Counter(), []
    seen = set()
    for r in chained:
        if not r.converter.endswith(suffix):
            continue
        twin = base.get(plain_id(r.case_id, r.converter, suffix))
        if twin is None:
            continue
        seen.add(twin.case_id)
        if twin.status in GOOD and r.status not in GOOD:
            worse.append((twin, r))
        elif twin.status not in GOOD and r.status in GOOD:
            better.append((twin, r))
        else:
            same[r.status] += 1
    missing = [r for r in plain if r.case_id not in seen]
    return worse, better, same, missing


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plain")
    ap.add_argument("chained")
    ap.add_argument("--pass", dest="suffix", default="optimize")
    args = ap.parse_args(argv)
    try:
        worse, better, same, missing = compare(results.read(args.plain), results.read(args.chained), "+" + args.suffix)
    except ResultsFileError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    pairs = len(worse) + len(better) + sum(same.values())
    print(f"{pairs} case pairs compared; unchanged: {dict(same)}; not paired: {len(missing)}")
    for twin, r in better:
        print(f"  better  {r.case_id}: {twin.status} -> {r.status}")
    for twin, r in worse:
        first = r.message.splitlines()[0] if r.message else ""
        print(f"  WORSE   {r.case_id}: {twin.status} -> {r.status}: {first}")
    print("no new failures with +" + args.suffix if not worse else f"{len(worse)} new failures with +{args.suffix}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
