"""Input draws the family builders of several frameworks share (numpy only)."""
from __future__ import annotations

import numpy as np


def shape_sets(params: dict, default: list) -> list[tuple]:
    """(batch, *sizes) per input set, the traced sample first: ``params["sets"]`` or ``default``."""
    return [tuple(s) for s in params.get("sets", default)]


def padded_bags(rng, p: dict, batch: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DLRM inputs with bags as a padded index matrix: dense features (batch, p["dense"]), ids
    (batch, tables, length) within each table's ``p["vocab"]``, and each bag's length (batch,
    tables), with an empty bag and a full one in every set."""
    tables = len(p["vocab"])
    dense = rng.standard_normal((batch, p["dense"])).astype(np.float32)
    idx = np.stack([rng.integers(0, v, (batch, length)) for v in p["vocab"]], axis=1).astype(np.int64)
    lengths = rng.integers(0, length + 1, (batch, tables)).astype(np.int64)
    lengths[0, 0] = 0
    lengths[-1, -1] = length
    return dense, idx, lengths
