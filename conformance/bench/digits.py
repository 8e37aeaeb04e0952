"""scikit-learn's handwritten digits as a labelled sample library, and the accuracy script.

The data is read by ``conformance.datasets`` (numpy alone, so that a framework worker without
scikit-learn, the ``paddle`` environment, trains on the same rows when handed its path). The
split is fixed: a permutation seeded with 0, the last quarter held out; the benchmark's QSL is
the held-out quarter, scaled to [0, 1].

The accuracy script reads LoadGen's ``mlperf_log_accuracy.json`` (each completed sample's
response: here its first output as float32, hex-encoded), takes the top-1 class per sample
and compares it with the labels, as MLPerf's ``accuracy-imagenet.py`` does; MLPerf's rule for
a closed-division result is at least 99% of the FP32 model's accuracy.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets import digits_file, read_digits
from ..errors import ConformanceError
from ..inputs import input_specs

TEST_FRACTION = 0.25
SPLIT_SEED = 0
FP32_RULE = 0.99          # MLPerf: >= 99% of the FP32 reference accuracy


def digits_csv() -> str:
    """Where scikit-learn keeps the digits file."""
    path = digits_file()
    if path is None:
        raise ConformanceError("the digits data set needs scikit-learn",
                               fix="pip install -e '.[bench]' (or pip install scikit-learn)")
    return path


@dataclass
class DigitsSplit:
    train_x: np.ndarray      # (n, 64) float32 in [0, 1]
    train_y: np.ndarray      # (n,) int64
    test_x: np.ndarray
    test_y: np.ndarray


def load_digits_split(csv: str | None = None) -> DigitsSplit:
    x, y = read_digits(csv or digits_csv())
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    cut = int(round(len(y) * (1 - TEST_FRACTION)))
    train, test = order[:cut], order[cut:]
    return DigitsSplit(x[train], y[train], x[test], y[test])


class DigitsLibrary:
    """The held-out digits as LoadGen's QSL for a model of one float input holding 64 values
    per sample ((N, 64), (N, 8, 8) or (N, 8, 8, 1)); labelled, so accuracy mode can score it."""

    def __init__(self, model):
        specs = input_specs(model)
        if len(specs) != 1 or not specs[0].dims or not specs[0].dynamic_batch:
            raise ConformanceError("the digits data set needs a model of one input with a dynamic batch dim",
                                   fix="export the classifier with a dynamic batch (python -m suites.benchmarks.digits)")
        sample_dims = [d if isinstance(d, int) else -1 for d in specs[0].dims[1:]]
        if int(np.prod(sample_dims)) != 64:
            raise ConformanceError(f"input {specs[0].name} of shape {specs[0].shape_text()} does not hold "
                                   "an 8x8 digit", fix="the digits data set feeds 64 pixels per sample")
        split = load_digits_split()
        self.name = specs[0].name
        self.images = split.test_x.reshape([-1, *sample_dims]).astype(specs[0].dtype)
        self.labels = split.test_y
        self.samples = [{self.name: self.images[i:i + 1]} for i in range(len(self.labels))]
        self.shapes = {self.name: self.samples[0][self.name].shape}
        self.batchable = True

    def __len__(self) -> int:
        return len(self.labels)

    def feeds(self, indices) -> dict[str, np.ndarray]:
        return {self.name: self.images[list(indices)]}


def read_accuracy_log(path) -> dict[int, np.ndarray]:
    """Sample index -> its float32 response, from LoadGen's accuracy log (first one kept)."""
    try:
        entries = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConformanceError(f"cannot read LoadGen's accuracy log {path}: {exc}") from exc
    responses: dict[int, np.ndarray] = {}
    for entry in entries:
        responses.setdefault(int(entry["qsl_idx"]), np.frombuffer(bytes.fromhex(entry["data"]), np.float32))
    return responses


def top1_from_log(path, labels: np.ndarray) -> dict:
    """Top-1 accuracy over the samples in the accuracy log; a sample missing from it is wrong."""
    responses = read_accuracy_log(path)
    predicted = np.array([int(np.argmax(responses[i])) if responses.get(i, np.empty(0)).size else -1
                          for i in range(len(labels))])
    correct = int(np.count_nonzero(predicted == labels))
    return {"top1": correct / len(labels), "correct": correct, "count": len(labels),
            "logged": len(responses), "predicted": predicted.tolist()}


def fp32_rule(top1: float, fp32_top1: float) -> dict:
    passed = top1 >= FP32_RULE * fp32_top1
    return {"fp32_top1": fp32_top1, "threshold": FP32_RULE * fp32_top1, "passed": passed,
            "message": f"top-1 {top1:.4%} {'>=' if passed else '<'} 99% of FP32 {fp32_top1:.4%}"}
