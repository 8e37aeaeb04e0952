"""scikit-learn's digits (``load_digits``: 1,797 labelled 8×8 images, 10 classes; shipped inside
the package, nothing downloaded) and the one fixed split every framework trains and is judged on.

Numpy only: the framework workers read the file scikit-learn ships (``digits.csv.gz``, what
``load_digits`` parses) by the path the main process found, because a worker may run in an
environment without scikit-learn (paddle's)."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SPLIT_SEED = 0            # the split is the data set's, not a case's: every case sees the same
TEST_FRACTION = 0.2
CLASSES = 10


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray       # (n, 1, 8, 8) float32 in [0, 1]
    y_train: np.ndarray       # (n,) int64
    x_test: np.ndarray
    y_test: np.ndarray


def digits_file() -> str | None:
    """Where the installed scikit-learn keeps the digits (found without importing it), or None."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    return str(path) if path.is_file() else None


@lru_cache(maxsize=2)
def digits_split(path: str) -> Split:
    """A stratified split: the same TEST_FRACTION of each class held out, by a seeded shuffle."""
    table = np.loadtxt(path, delimiter=",")             # 64 pixel values (0..16), then the label
    images = (table[:, :-1] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    labels = table[:, -1].astype(np.int64)
    rng = np.random.default_rng(SPLIT_SEED)
    test = np.zeros(len(labels), bool)
    for c in range(CLASSES):
        members = rng.permutation(np.flatnonzero(labels == c))
        test[members[:round(len(members) * TEST_FRACTION)]] = True
    return Split(images[~test], labels[~test], images[test], labels[test])


def batches(n: int, size: int, rng: np.random.Generator):
    """Index arrays of a seeded shuffle of ``range(n)`` in mini-batches of ``size``."""
    order = rng.permutation(n)
    return [order[i:i + size] for i in range(0, n, size)]
