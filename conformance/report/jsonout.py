"""The matrix as JSON: the same model the HTML and Markdown render, for other tools."""
from __future__ import annotations

import json

from .model import Matrix


def render_json(matrix: Matrix) -> str:
    return json.dumps(matrix.to_dict(), indent=1, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
