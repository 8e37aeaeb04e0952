"""Chain steps: ONNX -> ONNX steps chained after a converter (``tf2onnx+optimize``,
``torch_script+fp16``): our optimizer and the reduced-precision conversions, registered in
``converters.CHAIN_STEPS`` under the names users chain (``optimize``, ``fp16``, ``int8``).

Not to be confused with the optimizer's *rewrite passes* (``converters/optimizer/passes/``): the
``optimize`` chain step runs the whole pipeline of those."""
from __future__ import annotations

import copy
import importlib.util
from importlib import metadata

import numpy as np

from conformance.accuracy import LOSSY_METADATA_KEY

from . import ChainStep, register_chain_step
from .optimizer import optimize
from .optimizer.graph import Graph
from .optimizer.passes.prune import prune_channels, sparsify
from .optimizer.pipeline import DEFAULT_PIPELINE
from .optimizer.precision import convert_float16, quantize_int8


def _repo_version() -> str:
    try:
        return metadata.version("onnx-conformance")
    except metadata.PackageNotFoundError:
        return ""


@register_chain_step("optimize")
class OptimizeStep(ChainStep):
    """The default optimizer pipeline (converters/optimizer)."""

    name = "optimize"

    def version(self) -> str:
        return f"{_repo_version()}:{','.join(DEFAULT_PIPELINE)}"

    def apply(self, model):
        optimized, self.last_report = optimize(model)
        return optimized


@register_chain_step("fp16")
class Float16Step(ChainStep):
    """float32 -> float16 with float32 inputs/outputs and sensitive ops kept in float32."""

    name = "fp16"
    keep_io_types = True

    def version(self) -> str:
        return _repo_version()

    def apply(self, model):
        return convert_float16(model, keep_io_types=self.keep_io_types)


@register_chain_step("int8")
class Int8Step(ChainStep):
    """Static INT8 post-training quantization (QDQ) calibrated on seeded inputs."""

    name = "int8"

    def available(self) -> tuple[bool, str]:
        if importlib.util.find_spec("onnxruntime") is None:
            return False, "python module 'onnxruntime' is not installed (pip install -c constraints.txt onnxruntime)"
        return True, ""

    def version(self) -> str:
        try:
            return f"{_repo_version()}:onnxruntime-{metadata.version('onnxruntime')}"
        except metadata.PackageNotFoundError:
            return _repo_version()

    def apply(self, model):
        return quantize_int8(model)


def _ratio(argument: str | None, default: float, what: str) -> float:
    try:
        value = default if argument is None else float(argument)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise ValueError(f"{what} must be a number in [0, 1), got {argument!r}")
    return value


def _parameters(model) -> tuple[int, int]:
    """(float weight elements, of which nonzero) of a model's initializers."""
    from onnx import numpy_helper
    arrays = [numpy_helper.to_array(t) for t in model.graph.initializer]
    floats = [a for a in arrays if a.dtype.kind == "f"]
    return sum(a.size for a in floats), sum(int(np.count_nonzero(a)) for a in floats)


class _LossyStep(ChainStep):
    """A chain step that changes what the model computes by a ``ratio`` (``+name:RATIO``) and
    says so in the model's metadata (``conformance.accuracy`` judges such a model by accuracy)."""

    ratio = 0.5
    rewrite = None                              # (graph, ratio) -> number of layers changed

    def configured(self, argument):
        step = copy.copy(self)
        step.ratio = _ratio(argument, type(self).ratio, f"+{self.name}'s ratio")
        return step

    def version(self) -> str:
        return f"{_repo_version()}:{self.ratio}"

    def apply(self, model):
        before = _parameters(model)
        graph = Graph(model)
        layers = type(self).rewrite(graph, self.ratio)
        out = graph.to_model(keep_value_info=False)
        after = _parameters(out)
        self.last_report = {"layers": layers, "parameters": [before[0], after[0]], "nonzero": [before[1], after[1]],
                            "nodes": [len(model.graph.node), len(out.graph.node)]}
        out.metadata_props.add(key=LOSSY_METADATA_KEY,
                               value=f"{self.name}:{self.ratio:g} ({layers} layers; parameters {before[0]} -> "
                                     f"{after[0]}, nonzero {before[1]} -> {after[1]})")
        return out


@register_chain_step("prune")
class PruneStep(_LossyStep):
    """Structured L1 channel pruning: ``+prune:0.5`` removes half the channels of every layer
    that feeds one next layer (converters/optimizer/passes/prune.py)."""

    name = "prune"
    rewrite = staticmethod(prune_channels)


@register_chain_step("sparsify")
class SparsifyStep(_LossyStep):
    """Unstructured magnitude pruning: ``+sparsify:0.5`` zeroes half of every layer's weights."""

    name = "sparsify"
    rewrite = staticmethod(sparsify)
