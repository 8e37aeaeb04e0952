"""onnxruntime on the CPU execution provider: all graph optimizations, and none (-basic), so
that a difference between the two points at onnxruntime's optimizer."""
from __future__ import annotations

from . import register_target
from .base import Target, TargetOptions, model_bytes


class OnnxRuntimeTarget(Target):
    precision = "fp32"
    level = "ORT_ENABLE_ALL"
    providers = ("CPUExecutionProvider",)
    requires = distribution = "onnxruntime"
    install = "pip install onnxruntime"
    description = "onnxruntime CPUExecutionProvider, all graph optimizations"

    def __init__(self, intra_op_threads: int = 0, inter_op_threads: int = 0):
        self.intra_op_threads = intra_op_threads
        self.inter_op_threads = inter_op_threads

    def session_options(self, options: TargetOptions | None = None):
        """SessionOptions of this target, with ``options``' thread settings on top."""
        import onnxruntime as ort
        options = options or TargetOptions()
        opts = ort.SessionOptions()
        opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, self.level)
        opts.intra_op_num_threads = int(self.intra_op_threads if options.intra_op_threads is None
                                        else options.intra_op_threads)
        opts.inter_op_num_threads = int(self.inter_op_threads if options.inter_op_threads is None
                                        else options.inter_op_threads)
        if options.allow_spinning is not None:
            spin = "1" if options.allow_spinning else "0"
            opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
            opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
        opts.log_severity_level = 3
        return opts

    def prepare(self, model, options: TargetOptions | None = None):
        import onnxruntime as ort
        self.check_precision(options, {"fp32": "fp32"})
        return ort.InferenceSession(model_bytes(model), self.session_options(options),
                                    providers=list(self.providers))

    def applied_options(self, session, options):
        return {"applied": "onnxruntime SessionOptions", "providers": session.get_providers()}

    def run(self, session, feeds):
        return session.run(None, feeds)


@register_target("onnxruntime")
class OnnxRuntimeAll(OnnxRuntimeTarget):
    pass


@register_target("onnxruntime-basic")
class OnnxRuntimeNoOpt(OnnxRuntimeTarget):
    level = "ORT_DISABLE_ALL"
    description = "onnxruntime CPUExecutionProvider, graph optimizations off (catches optimizer bugs)"
