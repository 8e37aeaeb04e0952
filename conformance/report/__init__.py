"""Reports over result records: the coverage matrix (model.py) and its renderings.

``write_reports(records, out_dir)`` is what the pytest plugin and ``conformance matrix`` call.
Reports read records only; they never re-run anything.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..results import CaseResult
from .html import render_html
from .jsonout import render_json
from .markdown import render_markdown
from .model import Matrix, build_matrix

FILENAMES = {"html": "matrix.html", "md": "matrix.md", "json": "matrix.json"}


def write_reports(records: Iterable[CaseResult], out_dir, title: str = "Conformance matrix") -> dict[str, Path]:
    """Write matrix.html, matrix.md and matrix.json under ``out_dir``; return their paths."""
    matrix = build_matrix(records)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {"html": render_html(matrix, title), "md": render_markdown(matrix, title), "json": render_json(matrix)}
    paths = {}
    for key, text in texts.items():
        path = out / FILENAMES[key]
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        paths[key] = path
    return paths


__all__ = ["Matrix", "build_matrix", "write_reports", "FILENAMES"]
