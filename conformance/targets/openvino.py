"""OpenVINO on its CPU plugin.

The CPU plugin computes in bf16 by default on CPUs with AMX/AVX512-BF16 (relative error ~4e-3
on a ResNet18 here); this target asks for f32 with INFERENCE_PRECISION_HINT (~4e-7) and states
that precision. ``openvino-bf16`` keeps the plugin's default and states bf16.
"""
from __future__ import annotations

import numpy as np

from . import register_target
from .base import Target, TargetOptions, model_bytes


@register_target("openvino")
class OpenVinoTarget(Target):
    precision = "fp32"
    hint = "f32"
    description = "OpenVINO CPU plugin, INFERENCE_PRECISION_HINT=f32"
    requires = distribution = "openvino"
    install = "pip install -e '.[openvino]'"

    def compile_config(self, options: TargetOptions | None = None) -> dict:
        """The CPU plugin's config: this target's precision hint, or the one ``options`` asks
        for, and ``options``' intra-op threads as INFERENCE_NUM_THREADS (spinning and inter-op
        threads have no CPU-plugin equivalent)."""
        hint = self.check_precision(options, {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}) or self.hint
        config = {"INFERENCE_PRECISION_HINT": hint} if hint else {}
        if options is not None and options.intra_op_threads:
            config["INFERENCE_NUM_THREADS"] = int(options.intra_op_threads)
        return config

    def prepare(self, model, options: TargetOptions | None = None):
        import openvino as ov
        core = ov.Core()
        ov_model = core.read_model(model=model_bytes(model))
        return core.compile_model(ov_model, "CPU", self.compile_config(options))

    def applied_options(self, session, options):
        return {"applied": f"OpenVINO CPU config {self.compile_config(options)}"}

    def run(self, session, feeds):
        request = session.create_infer_request()
        names = [p.get_any_name() for p in session.inputs]
        result = request.infer({n: feeds[n] for n in names})
        return [np.asarray(result[out]) for out in session.outputs]


@register_target("openvino-bf16")
class OpenVinoDefaultPrecision(OpenVinoTarget):
    precision = "bf16 (plugin default where the CPU supports it)"
    hint = None
    description = "OpenVINO CPU plugin with its default inference precision"
