"""``conformance matrix``: merges shards, refuses disagreeing duplicates and bad files."""
from __future__ import annotations

import json

from conformance.cli import main
from conformance.results import write

from .test_model import rec, sample_records


def test_matrix_merges_shards(tmp_path, capsys):
    records = sample_records()
    write(tmp_path / "a.jsonl", records[:10])
    write(tmp_path / "b.jsonl", records[8:])          # overlapping identical duplicates collapse
    rc = main(["matrix", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--out", str(tmp_path / "out")])
    assert rc == 0
    data = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert data["summary"]["records"] == len(records)
    assert (tmp_path / "out" / "matrix.html").exists() and (tmp_path / "out" / "matrix.md").exists()
    assert "matrix.html" in capsys.readouterr().out


def test_matrix_refuses_disagreeing_duplicates(tmp_path, capsys):
    write(tmp_path / "a.jsonl", [rec(status="passed")])
    write(tmp_path / "b.jsonl", [rec(status="failed")])
    rc = main(["matrix", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "disagrees" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_matrix_truncated_or_missing_file_exits_2(tmp_path, capsys):
    write(tmp_path / "a.jsonl", sample_records())
    text = (tmp_path / "a.jsonl").read_text()
    (tmp_path / "t.jsonl").write_text(text[: len(text) // 2])
    assert main(["matrix", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "truncated" in capsys.readouterr().err
    assert main(["matrix", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
