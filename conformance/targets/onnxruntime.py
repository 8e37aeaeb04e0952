"""onnxruntime on the CPU execution provider: all graph optimizations, and none (-basic), so
that a difference between the two points at onnxruntime's optimizer."""
from __future__ import annotations

import importlib.util

from . import register_target
from .base import Target, dist_version, model_bytes


class OnnxRuntimeTarget(Target):
    precision = "fp32"
    level = "ORT_ENABLE_ALL"
    description = "onnxruntime CPUExecutionProvider, all graph optimizations"

    def __init__(self, intra_op_threads: int = 0, inter_op_threads: int = 0):
        self.intra_op_threads = intra_op_threads
        self.inter_op_threads = inter_op_threads

    def available(self):
        if importlib.util.find_spec("onnxruntime") is None:
            return False, "python module 'onnxruntime' is not installed (pip install onnxruntime)"
        return True, ""

    def version(self):
        return dist_version("onnxruntime")

    def session_options(self):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, self.level)
        opts.intra_op_num_threads = self.intra_op_threads
        opts.inter_op_num_threads = self.inter_op_threads
        opts.log_severity_level = 3
        return opts

    def prepare(self, model):
        import onnxruntime as ort
        return ort.InferenceSession(model_bytes(model), self.session_options(),
                                    providers=["CPUExecutionProvider"])

    def run(self, session, feeds):
        return session.run(None, feeds)


@register_target("onnxruntime")
class OnnxRuntimeAll(OnnxRuntimeTarget):
    pass


@register_target("onnxruntime-basic")
class OnnxRuntimeNoOpt(OnnxRuntimeTarget):
    level = "ORT_DISABLE_ALL"
    description = "onnxruntime CPUExecutionProvider, graph optimizations off (catches optimizer bugs)"
