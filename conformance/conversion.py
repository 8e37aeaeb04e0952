"""The convert stage: spec + converter name + opset -> a ``Conversion`` (ONNX bytes, sample
inputs, the source framework's outputs), cached.

A converter name may chain ONNX -> ONNX passes after the converter (``tf2onnx+optimize``): the
base conversion runs in the framework's worker process and is cached under its own key, the
passes run here and the chained result is cached under the chain's key. A name may also say
which environment the worker runs in (``tf2onnx@tf216``, see ``conformance.placement``): the
environment's key and the versions installed there go into the cache key. Two caches: a small
in-memory LRU per session, and the content-addressed ``ConversionCache`` on disk.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

import onnx

from converters import get_chain_steps, get_converter, split_chain
from converters.frameworks import DISTRIBUTIONS

from .environments import EnvironmentFailure
from .placement import SESSION, Placement, Placements, split_env

from .cache import ConversionCache, cache_key
from .cases import CaseSpec, Conversion
from .errors import WorkerCrashed, WorkerTimeout, classify_failure
from .workers import WorkerError, WorkerPool


class LRU(OrderedDict):
    """A dict that keeps its ``size`` most recently put entries."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass(frozen=True)
class ConversionPlan:
    """Which conversion a (spec, converter chain, opset) needs, and its cache keys."""

    base_name: str
    base_key: str
    key: str                           # the chain's key (the base key when nothing is chained)
    passes: list = field(default_factory=list)


def plan_conversion(spec: CaseSpec, converter_name: str, opset: int, placement: Placement = SESSION) -> ConversionPlan:
    chain, _ = split_env(converter_name)
    base_name, pass_names = split_chain(chain)
    base = get_converter(base_name)
    fw_version = placement.version(DISTRIBUTIONS.get(spec.framework, spec.framework))
    fingerprint = base.fingerprint(placement.version(base.distribution) if placement.env else None)
    base_key = cache_key(spec, base_name + placement.cache_tag, fingerprint, fw_version, opset)
    if not pass_names:
        return ConversionPlan(base_name, base_key, base_key)
    passes = get_chain_steps(chain)
    key = cache_key(spec, chain + placement.cache_tag, fingerprint + "|" + ",".join(p.version() for p in passes),
                    fw_version, opset)
    return ConversionPlan(base_name, base_key, key, passes)


def convert_in_worker(pool: WorkerPool, spec: CaseSpec, base_name: str, opset: int,
                      timeout: float, placement: Placement = SESSION) -> tuple[Conversion, bool]:
    """Build the case and convert it in its framework's worker (started in the placement's
    environment): (the conversion, whether the worker answered). A crash, a timeout or a
    worker error is a Conversion too."""
    t0 = time.perf_counter()
    fresh = get_converter(base_name).fresh_process
    worker = pool.get(spec.framework, f"{spec.framework}-{base_name}" if fresh else None, placement.interpreter,
                      forking=fresh)
    try:
        return worker.request("convert", spec.to_dict(), base_name, opset, timeout=timeout), True
    except (WorkerCrashed, WorkerTimeout) as exc:
        # a converter that aborts the process on an op it cannot map (paddle2onnx does) is
        # unsupported, not an error, when its last words say so; a segfault is a crash
        # whatever was printed before it
        said = " ".join(exc.context.get("output") or [])
        deliberate = exc.context.get("deliberate", False)
        status = classify_failure(said) if deliberate and said else "error"
        return Conversion(status=status, message=exc.message,
                          seconds={"build": 0.0, "convert": time.perf_counter() - t0}), False
    except WorkerError as exc:
        conv = Conversion(status="error", message=f"conversion failed: {exc.message}",
                          seconds={"build": 0.0, "convert": time.perf_counter() - t0}, error_type=exc.type_name)
        conv.versions["traceback"] = exc.traceback[-4000:]
        return conv, False
    finally:
        if fresh and not worker.forking:
            worker.stop()      # no fork here: the next conversion starts in a new process


def apply_passes(conv: Conversion, passes) -> Conversion:
    """The base conversion with the chained ONNX -> ONNX passes applied, in order."""
    t0 = time.perf_counter()
    step = "loading the converted model"
    try:
        model = onnx.load_from_string(conv.onnx_bytes)
        for p in passes:
            step = f"pass {p.name!r}"
            model = p.apply(model)
        data = model.SerializeToString()
    except Exception as exc:
        return Conversion(status="error", message=f"{step} failed: {type(exc).__name__}: {exc}",
                          versions=conv.versions, seconds=dict(conv.seconds))
    seconds = dict(conv.seconds)
    seconds["convert"] = seconds.get("convert", 0.0) + time.perf_counter() - t0
    return Conversion(status="ok", artifact=data, input_names=conv.input_names,
                      output_names=[o.name for o in model.graph.output], input_sets=conv.input_sets,
                      golden_sets=conv.golden_sets, expected=conv.expected,
                      expected_shapes=conv.expected_shapes, seconds=seconds, versions=conv.versions)


class Conversions:
    """Conversions of one session: the in-memory LRU in front of the disk cache."""

    def __init__(self, pool: WorkerPool, cache: ConversionCache, timeout: float,
                 placements: Placements | None = None):
        self.pool, self.cache, self.timeout = pool, cache, timeout
        self.placements = placements or Placements()
        self.memory = LRU(64)
        self.done = 0                  # conversions actually run in a worker (not cache hits)

    def placement(self, spec: CaseSpec, converter_name: str) -> Placement:
        """Where the converter's worker runs for this spec's framework (raises EnvironmentFailure)."""
        return self.placements.for_name(converter_name, spec.framework)

    def get(self, spec: CaseSpec, converter_name: str, opset: int) -> tuple[Conversion, str]:
        """(the conversion, its cache key) of the spec by the converter chain at the opset."""
        try:
            placement = self.placement(spec, converter_name)
        except EnvironmentFailure as exc:
            return Conversion(status="error", message=exc.message), f"unplaced:{converter_name}"
        plan = plan_conversion(spec, converter_name, opset, placement)
        if plan.key in self.memory:
            return self.memory[plan.key], plan.key
        conv = self.cache.get(plan.key)
        if conv is None:
            conv = self._base(spec, plan, opset, placement)
            if plan.passes and conv.status == "ok":
                conv = apply_passes(conv, plan.passes)
            if plan.passes:
                self.cache.put(plan.key, conv)
        return self.memory.put(plan.key, conv), plan.key

    def _base(self, spec: CaseSpec, plan: ConversionPlan, opset: int, placement: Placement) -> Conversion:
        conv = self.memory.get(plan.base_key) or self.cache.get(plan.base_key)
        if conv is not None:
            return conv
        conv, answered = convert_in_worker(self.pool, spec, plan.base_name, opset, self.timeout, placement)
        self.done += answered
        self.cache.put(plan.base_key, conv)
        return self.memory.put(plan.base_key, conv)
