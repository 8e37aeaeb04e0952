"""The session library without pytest's machinery: shards partition and balance, parts merge
and go, skip reasons are tallied from data, the end of a session writes, summarises and gates."""
from __future__ import annotations

from collections import Counter

import pytest

from conformance import results
from conformance.errors import ConformanceError
from conformance.results import CaseResult
from conformance.session import (Tally, collect_parts, conclude, parse_shard, part_path, parts_dir, reset_parts,
                                 select_shard)


def record(case_id: str, status: str = "passed", message: str = "") -> CaseResult:
    return CaseResult(case_id=case_id, kind="op", framework="torch", converter="torch-script",
                      target="reference", status=status, opset=17, message=message)


def test_parse_shard_accepts_k_of_n_only():
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/2", "3/2", "2", "a/b", "1/2/3"):
        with pytest.raises(ConformanceError, match="expected K/N"):
            parse_shard(bad)


def test_shards_partition_balance_and_keep_order():
    items = [f"case{i}" for i in range(10)]
    shards = [select_shard(items, k, 3) for k in (1, 2, 3)]
    selected = [s for s, _ in shards]
    assert sorted(sum(selected, [])) == sorted(items)
    assert {len(s) for s in selected} <= {3, 4}
    for s, rest in shards:
        assert s == [i for i in items if i in s] and set(rest) == set(items) - set(s)
    assert select_shard(list(reversed(items)), 1, 3)[0] == list(reversed(selected[0]))


def test_parts_merge_into_one_sorted_list_and_go(tmp_path):
    out = tmp_path / "r.jsonl"
    reset_parts(out)
    results.append(part_path(out, "gw1"), [record("b"), record("a", "failed")])
    results.append(part_path(out, "gw0"), [record("a", "passed")])
    conflicts: list[str] = []
    merged = collect_parts(out, conflicts)
    assert [r.case_id for r in merged] == ["a", "b"]
    assert len(conflicts) == 1 and not parts_dir(out).exists()


def test_tally_counts_reasons_of_cases_not_run():
    tally = Tally()
    for status, reason in [("unavailable", "no gpu"), ("unavailable", "no gpu "), ("unsupported", "op X"),
                           ("skipped", "whatever"), ("xfailed", "known")]:
        tally.note_outcome(status, reason)
    assert tally.skip_reason_lines() == ["    2 unavailable: no gpu", "    1 unsupported: op X"]


def test_conclude_writes_summarises_and_gates_the_selected_cases(tmp_path):
    base = tmp_path / "base.jsonl"
    results.write(base, [record("a"), record("gone")])
    out = tmp_path / "r.jsonl"
    summary = conclude(out, [record("a", "failed", "off by one")], baseline=base, selected={"a"})
    assert [r.case_id for r in results.read(out)] == ["a"]
    assert summary.counts == Counter({"failed": 1}) and summary.exit_code == 1
    assert summary.lines()[0] == "1 case records (1 failed)" and "REGRESSED" in summary.gate
    summary = conclude(out, [record("a")], baseline=tmp_path / "missing.jsonl")
    assert summary.exit_code == 2 and summary.gate.startswith("gate: error:")
