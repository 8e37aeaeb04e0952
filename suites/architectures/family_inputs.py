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


# ----------------------------------------------------------------------------- speech / diffusion
# One draw per family for every framework: torch, Keras and Paddle models of a family see the
# same numbers (Keras only transposes images to channels-last).
SPEECH_SETS = [[2, 40], [1, 40], [4, 61]]                # (batch, frames): 61 frames never traced
DIFFUSION_SETS = [[2, 16, 16, 7], [1, 16, 16, 7], [4, 12, 20, 11]]   # (batch, h, w, context tokens)


def speech_inputs(rng, sets: list[tuple], mels: int, lengths: bool) -> list[list[np.ndarray]]:
    """Per (batch, frames) set: log-mel-like features (batch, frames, mels) float32 and, with
    ``lengths``, frames per utterance (batch,) int64 from frames/2 to frames, one of them full."""
    inputs = [[rng.standard_normal((b, t, mels), dtype=np.float32)] for b, t in sets]
    if lengths:
        for row, (b, t) in zip(inputs, sets):
            frames = rng.integers(t // 2, t + 1, size=b).astype(np.int64)
            frames[rng.integers(b)] = t
            row.append(frames)
    return inputs


def subsampled_frames(frames: int, convs: int = 2) -> int:
    """Frames left after ``convs`` stride-2 convolutions of kernel 3 and padding 1 (or "same")."""
    for _ in range(convs):
        frames = (frames - 1) // 2 + 1
    return frames


def diffusion_inputs(rng, sets: list[tuple], channels: int, context_dim: int,
                     channels_last: bool = False) -> list[list[np.ndarray]]:
    """Per (batch, h, w, context tokens) set: a noisy latent (batch, channels, h, w) (channels
    last if asked), float timesteps in [0, 1000) (batch,) and a text context (batch, tokens,
    context_dim)."""
    inputs = []
    for b, h, w, n in sets:
        sample = rng.standard_normal((b, channels, h, w), dtype=np.float32)
        if channels_last:
            sample = np.ascontiguousarray(sample.transpose(0, 2, 3, 1))
        inputs.append([sample, rng.uniform(0.0, 1000.0, size=b).astype(np.float32),
                       rng.standard_normal((b, n, context_dim), dtype=np.float32)])
    return inputs
