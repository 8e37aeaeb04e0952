"""scikit-learn's digits (``load_digits``: 1,797 labelled 8×8 images, 10 classes; shipped inside
the package, nothing downloaded) and the one fixed split every framework trains and is judged on.

Numpy only: the framework workers read the file scikit-learn ships (``digits.csv.gz``, what
``load_digits`` parses) by the path the main process found, because a worker may run in an
environment without scikit-learn (paddle's)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from conformance.datasets import digits_file, read_digits  # noqa: F401 - digits_file re-exported for the specs

SPLIT_SEED = 0            # the split is the data set's, not a case's: every case sees the same
TEST_FRACTION = 0.2
CLASSES = 10


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray       # (n, 1, 8, 8) float32 in [0, 1]
    y_train: np.ndarray       # (n,) int64
    x_test: np.ndarray
    y_test: np.ndarray


@lru_cache(maxsize=2)
def digits_split(path: str) -> Split:
    """A stratified split: the same TEST_FRACTION of each class held out, by a seeded shuffle."""
    pixels, labels = read_digits(path)
    images = pixels.reshape(-1, 1, 8, 8)
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
