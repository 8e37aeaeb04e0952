"""The system under test: a registered target's session prepared under the run's thread
settings, and the sample library (LoadGen's QSL) it is fed from.

* ``SampleLibrary``: seeded inputs for the model's signature (``conformance.inputs``), and
  batching along a dynamic batch dimension where every input has one.
* ``prepare_session``: ``Target.prepare`` with the settings' threads as ``TargetOptions``.
* ``SystemUnderTest``: the target and its session; ``issue(indices)`` runs samples (one batched
  call when the library batches, else back to back) and keeps a few outputs for the accuracy check.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import onnx

from ..errors import ConformanceError
from ..inputs import input_specs, random_inputs
from ..targets import get_target
from ..targets.base import TargetOptions, model_bytes, prepare_target
from .settings import TestSettings


def load_model(model) -> onnx.ModelProto:
    """A ModelProto from a path, bytes or a ModelProto."""
    if hasattr(model, "graph"):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    return onnx.load(str(model))


def resolve_target(target):
    """A registered target by name, or the Target object given."""
    return get_target(target) if isinstance(target, str) else target


class SampleLibrary:
    """Seeded inputs for one model (LoadGen's QuerySampleLibrary).

    One *sample* is the model's inputs at batch 1 (or at the fixed shape when no dim is
    dynamic). Dynamic dims take ``shapes`` overrides, else 1. When every input has a dynamic
    first dim the library batches samples along it (``batchable``). Samples are drawn one after
    another from one generator seeded with ``seed`` (``inputs.random_inputs``)."""

    def __init__(self, model, count: int = 16, seed: int = 0, shapes: dict | None = None):
        self.inputs = input_specs(model)
        shapes = dict(shapes or {})
        unknown = set(shapes) - {s.name for s in self.inputs}
        if unknown:
            raise ConformanceError(f"--shape names unknown input(s) {sorted(unknown)}",
                                   fix=f"inputs are {[s.name for s in self.inputs]}")
        rng = np.random.default_rng(seed)
        self.samples: list[dict[str, np.ndarray]] = [random_inputs(model, shapes, rng, fill=1)
                                                     for _ in range(max(1, count))]
        self.shapes: dict[str, tuple[int, ...]] = {s.name: self.samples[0][s.name].shape for s in self.inputs}
        self.batchable = bool(self.inputs) and all(
            s.dynamic_batch and self.shapes[s.name][0] == 1 for s in self.inputs)

    def __len__(self) -> int:
        return len(self.samples)

    def feeds(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
        """Feeds for one call: the samples concatenated along the batch dim (batchable only)."""
        if len(indices) == 1:
            return self.samples[indices[0]]
        return {name: np.concatenate([self.samples[i][name] for i in indices], axis=0)
                for name in self.samples[0]}


def target_options(settings: TestSettings) -> TargetOptions:
    return TargetOptions(intra_op_threads=settings.intra_op_threads, inter_op_threads=settings.inter_op_threads,
                         allow_spinning=settings.allow_spinning)


def prepare_session(target, model, settings: TestSettings) -> tuple[Any, dict]:
    """Prepare a session under the settings' thread settings; returns it and the thread
    settings with what the target applied of them (``Target.applied_options``)."""
    data = model.SerializeToString() if hasattr(model, "graph") else model_bytes(model)
    session, applied = prepare_target(target, data, target_options(settings))
    return session, dict(settings.threads(), **applied)


class SystemUnderTest:
    """A target's session plus the sample library: the thing queries are issued to."""

    def __init__(self, target, session, library: SampleLibrary, output_names: list[str] | None = None):
        self.target = target
        self.session = session
        self.library = library
        self.output_names = output_names or []
        self.captured: dict[int, list[np.ndarray]] = {}   # sample index -> outputs (for accuracy)
        self.capture_limit = 0

    def run_feeds(self, feeds: dict) -> list[np.ndarray]:
        return self.target.run(self.session, feeds)

    def issue(self, indices: Sequence[int], batch: int | None = None) -> None:
        """Run the samples: in batches of ``batch`` along the dynamic batch dim when the
        library is batchable, else one after another."""
        indices = list(indices)
        step = (batch or len(indices)) if self.library.batchable else 1
        for start in range(0, len(indices), step):
            chunk = indices[start:start + step]
            outputs = self.run_feeds(self.library.feeds(chunk))
            if len(self.captured) < self.capture_limit:
                self._capture(chunk, outputs)

    def _capture(self, chunk: list[int], outputs: list[np.ndarray]) -> None:
        for pos, index in enumerate(chunk):
            if index in self.captured or len(self.captured) >= self.capture_limit:
                continue
            if len(chunk) == 1:
                self.captured[index] = [np.array(o, copy=True) for o in outputs]
            elif all(np.ndim(o) and np.shape(o)[0] == len(chunk) for o in outputs):
                self.captured[index] = [np.array(o[pos:pos + 1], copy=True) for o in outputs]
