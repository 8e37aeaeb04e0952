"""LiteRT (TensorFlow Lite's runtime, ``ai-edge-litert``) running ``.tflite`` models.

The model runs through its serving signature: feeds by the signature's input names, outputs by
its output names, in the order the converter declared them (formats.Package). Inputs of a shape
other than the last are resized by the signature runner (dynamic batch and sizes). XNNPACK, the
default CPU delegate, computes in float32 for float32 models; a quantized model computes in
what it was quantized to, which its conversion states (the record's ``precision``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formats import Package
from . import register_target
from .base import Target, TargetOptions, feeds_in_order


@dataclass
class LiteRtSession:
    runner: object
    inputs: list[str]
    outputs: list[str]


@register_target("litert")
class LiteRtTarget(Target):
    precision = "fp32"
    formats = ("tflite",)
    description = "LiteRT interpreter (ai-edge-litert), XNNPACK CPU delegate"
    requires = "ai_edge_litert"
    distribution = "ai-edge-litert"
    install = "pip install -e '.[tflite]'"

    def prepare(self, model, options: TargetOptions | None = None):
        return self.prepare_file(model, options)

    def prepare_package(self, package: Package, options: TargetOptions | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.check_precision(options, {"fp32": "fp32"})
        threads = options.intra_op_threads if options is not None and options.intra_op_threads else None
        interpreter = Interpreter(model_content=package.only_file(), num_threads=threads)
        signatures = interpreter.get_signature_list()
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
        signature = signatures[key]
        return LiteRtSession(interpreter.get_signature_runner(key),
                             package.inputs or list(signature["inputs"]),
                             package.outputs or list(signature["outputs"]))

    def run(self, session: LiteRtSession, feeds):
        values = feeds_in_order(session.inputs, feeds)
        # np.require, not np.ascontiguousarray: that one turns a 0-d input into shape (1,)
        result = session.runner(**{name: np.require(v, requirements="C") for name, v in zip(session.inputs, values)})
        return [np.array(result[name]) for name in session.outputs]
