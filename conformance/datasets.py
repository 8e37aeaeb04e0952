"""Labelled data sets that ship inside an installed package, read with numpy alone (nothing is
downloaded): scikit-learn's handwritten digits, the file ``sklearn.datasets.load_digits`` parses
(``digits.csv.gz``: 1,797 rows of 64 pixels 0..16 and a label).

A framework worker may run in an environment without scikit-learn (paddle's): the main process
finds the file with ``digits_file()`` and hands its path to the worker, which calls
``read_digits(path)``. Each user keeps its own fixed split (bench's QSL, the accuracy suite).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np


def digits_file() -> str | None:
    """Where the installed scikit-learn keeps the digits (found without importing it), or None."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    return str(path) if path.is_file() else None


def read_digits(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (n, 64) float32 scaled to [0, 1], labels (n,) int64) from the digits file."""
    table = np.loadtxt(path, delimiter=",")             # np.loadtxt reads the .gz itself
    return (table[:, :-1] / 16.0).astype(np.float32), table[:, -1].astype(np.int64)
