"""LoadGen's two callbacks on our side: the sample library (its QSL) and the system under test.

* ``SampleLibrary``: seeded random inputs for the model's signature (``conformance.inputs``),
  batched along a dynamic batch dimension where every input has one; ``digits.DigitsLibrary``
  is the labelled one. ``LIBRARIES`` maps ``--dataset`` to them.
* ``prepare_session``: ``Target.prepare`` with the settings' threads as ``TargetOptions``: the
  only way a target is reached.
* ``LoadGenSUT``: queries from LoadGen go into a queue in work items (one query; Offline: a
  batch of its samples); worker threads run them on the target and report each sample done
  with ``QuerySamplesComplete``: in accuracy mode with the sample's first output, which LoadGen
  writes to ``mlperf_log_accuracy.json``.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np
import onnx

from ..errors import ConformanceError
from ..inputs import input_specs, random_inputs
from ..targets import get_target
from ..targets.base import TargetOptions, model_bytes, prepare_target
from .settings import BenchSettings


def load_model(model) -> onnx.ModelProto:
    """A ModelProto from a path, bytes or a ModelProto."""
    if hasattr(model, "graph"):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    try:
        return onnx.load(str(model))
    except Exception as exc:      # protobuf's DecodeError and friends: not an ONNX file
        raise ConformanceError(f"{model} is not a readable ONNX model: {type(exc).__name__}",
                               fix="pass an .onnx file") from exc


def resolve_target(target):
    """A registered target by name, or the Target object given."""
    return get_target(target) if isinstance(target, str) else target


class SampleLibrary:
    """Seeded random inputs for one model (LoadGen's QuerySampleLibrary).

    One *sample* is the model's inputs at batch 1 (or at the fixed shape when no dim is
    dynamic). Dynamic dims take ``shapes`` overrides, else 1. When every input has a dynamic
    first dim the library batches samples along it (``batchable``)."""

    labels = None          # random inputs have no labels: no accuracy script

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


def random_library(model, settings: BenchSettings) -> SampleLibrary:
    return SampleLibrary(model, settings.performance_sample_count, settings.seed, settings.shapes)


def digits_library(model, settings: BenchSettings):
    from .digits import DigitsLibrary       # scikit-learn's data file is read only when asked for
    return DigitsLibrary(model)


LIBRARIES: dict[str, Callable] = {"random": random_library, "digits": digits_library}


def make_library(model, settings: BenchSettings):
    try:
        return LIBRARIES[settings.dataset](model, settings)
    except KeyError:
        raise ConformanceError(f"unknown dataset {settings.dataset!r}",
                               fix=f"choose one of: {', '.join(LIBRARIES)}") from None


def target_options(settings: BenchSettings) -> TargetOptions:
    return TargetOptions(intra_op_threads=settings.intra_op_threads, inter_op_threads=settings.inter_op_threads,
                         allow_spinning=settings.allow_spinning)


def prepare_session(target, model, settings: BenchSettings) -> tuple[Any, dict]:
    """Prepare a session under the settings' thread settings; returns it and the thread
    settings with what the target applied of them (``Target.applied_options``)."""
    data = model.SerializeToString() if hasattr(model, "graph") else model_bytes(model)
    session, applied = prepare_target(target, data, target_options(settings))
    return session, dict(settings.threads(), **applied)


class LoadGenSUT:
    """A target's session behind LoadGen's ``IssueQuery``: a queue and ``workers`` threads.

    ``item_size`` samples of a query make one work item (Offline: its batch; others: the whole
    query); an item runs as one call along the dynamic batch dim when the library batches,
    else sample by sample. ``service_ms`` collects each item's time in ``Target.run``: LoadGen
    logs percentiles, not per-query latencies, and the A/B gate needs samples."""

    def __init__(self, target, session, library, *, workers: int = 1, item_size: int | None = None,
                 respond_with_outputs: bool = False, capture_limit: int = 0):
        self.target, self.session, self.library = target, session, library
        self.workers, self.item_size = max(1, workers), item_size
        self.respond_with_outputs = respond_with_outputs
        self.capture_limit = capture_limit
        self.captured: dict[int, list[np.ndarray]] = {}     # sample index -> outputs (agreement check)
        self.service_ms: list[float] = []
        self.errors: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ direct runs (warm-up)
    def run_indices(self, indices: Sequence[int]) -> list[list[np.ndarray]]:
        """Outputs per call: one batched call when the library batches, else one per sample."""
        groups = [list(indices)] if self.library.batchable else [[i] for i in indices]
        return [self.target.run(self.session, self.library.feeds(group)) for group in groups]

    def time_indices(self, indices: Sequence[int]) -> float:
        t0 = time.perf_counter()
        self.run_indices(indices)
        return (time.perf_counter() - t0) * 1e3

    # ------------------------------------------------------------------ LoadGen callbacks
    def start(self) -> None:
        self._threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(self.workers)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def issue_query(self, query_samples) -> None:
        size = self.item_size or len(query_samples)
        for start in range(0, len(query_samples), size):
            self._queue.put(list(query_samples[start:start + size]))

    def flush_queries(self) -> None:
        pass

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            indices = [q.index for q in item]
            t0 = time.perf_counter()
            try:
                outputs = self.run_indices(indices)
            except Exception as exc:      # a failing query must still complete, or LoadGen waits forever
                self.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                outputs = None
            self.service_ms.append((time.perf_counter() - t0) * 1e3)
            self._complete(item, self._per_sample(indices, outputs))

    def _per_sample(self, indices: list[int], outputs) -> list[list[np.ndarray] | None]:
        """Each sample's outputs, split from a batched call along the batch dim."""
        if outputs is None:
            return [None] * len(indices)
        if not (self.library.batchable and len(indices) > 1):
            return outputs
        batched = [np.asarray(o) for o in outputs[0]]
        if not all(o.ndim and o.shape[0] == len(indices) for o in batched):
            return [None] * len(indices)      # an output without the batch dim first cannot be split
        return [[o[pos:pos + 1] for o in batched] for pos in range(len(indices))]

    def _complete(self, item, per_sample) -> None:
        import mlperf_loadgen as lg
        keep = []      # the response buffers must live until QuerySamplesComplete has copied them
        responses = []
        for sample, outputs in zip(item, per_sample):
            if outputs is not None and len(self.captured) < self.capture_limit and sample.index not in self.captured:
                self.captured[sample.index] = [np.array(o, copy=True) for o in outputs]
            if self.respond_with_outputs and outputs is not None:
                data = np.ascontiguousarray(np.asarray(outputs[0], dtype=np.float32).reshape(-1))
                keep.append(data)
                responses.append(lg.QuerySampleResponse(sample.id, data.ctypes.data, data.nbytes))
            else:
                responses.append(lg.QuerySampleResponse(sample.id, 0, 0))
        lg.QuerySamplesComplete(responses)
