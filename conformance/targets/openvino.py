"""OpenVINO on its CPU plugin.

The CPU plugin computes in bf16 by default on CPUs with AMX/AVX512-BF16 (relative error ~4e-3
on a ResNet18 here); this target asks for f32 with INFERENCE_PRECISION_HINT (~4e-7) and states
that precision. ``openvino-bf16`` keeps the plugin's default and states bf16.

Both run ONNX models and OpenVINO IR (format ``openvino``: a formats.Package of ``model.xml`` +
``model.bin`` written by OpenVINO's own frontends, converters.openvino_frontend), read from
memory and compiled with the same config.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formats import Package
from . import register_target
from .base import (DeclaredIO, Target, TargetOptions, declared_io, feeds_in_order, match_input_ports, match_ports,
                   model_bytes)


@dataclass
class OpenVinoSession:
    """A compiled model and, for each declared input and output, the index of its port: the CPU
    plugin renames ports (an input takes the name of a Cast folded into it) and gives a tensor
    output twice one name on two ports, so ports are never looked up by name at run time."""

    compiled: object
    declared: DeclaredIO
    input_ports: list[tuple[int, int]]      # (port, declared input): inputs the plugin dropped have none
    output_ports: list[int]                 # the port of each declared output


@register_target("openvino")
class OpenVinoTarget(Target):
    precision = "fp32"
    hint = "f32"
    description = "OpenVINO CPU plugin, INFERENCE_PRECISION_HINT=f32"
    requires = distribution = "openvino"
    install = "pip install -e '.[openvino]'"
    # compile_model segfaults on some valid models (op/inner/tensorflow/*/1d, vdot, meshgrid ...)
    isolated = True
    formats = ("onnx", "openvino")

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
        data = model_bytes(model)
        return self.compiled_session(core, core.read_model(model=data), declared_io(data), options)

    def prepare_package(self, package: Package, options: TargetOptions | None = None):
        import openvino as ov
        core = ov.Core()
        model = core.read_model(model=package.files["model.xml"], weights=package.files.get("model.bin", b""))
        return self.compiled_session(core, model, DeclaredIO(tuple(package.inputs), tuple(package.outputs)), options)

    def compiled_session(self, core, model, declared: DeclaredIO, options: TargetOptions | None) -> "OpenVinoSession":
        compiled = core.compile_model(model, "CPU", self.compile_config(options))
        return OpenVinoSession(
            compiled, declared,
            match_input_ports(declared.inputs, [set(p.get_names()) for p in compiled.inputs]),
            match_ports(declared.outputs, [set(p.get_names()) for p in compiled.outputs], "output"))

    def applied_options(self, session, options):
        return {"applied": f"OpenVINO CPU config {self.compile_config(options)}"}

    def run(self, session, feeds):
        request = session.compiled.create_infer_request()
        values = feeds_in_order(session.declared.inputs, feeds)
        result = request.infer({port: values[i] for port, i in session.input_ports})
        # copies: the request's tensors are reused by the next inference
        return [np.array(result[port]) for port in session.output_ports]


@register_target("openvino-bf16")
class OpenVinoDefaultPrecision(OpenVinoTarget):
    precision = "bf16 (plugin default where the CPU supports it)"
    hint = None
    description = "OpenVINO CPU plugin with its default inference precision"
