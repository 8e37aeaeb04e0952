"""The numpy reference executor as a target: the oracle every other target is held against."""
from __future__ import annotations

from ..errors import InvalidModel, UnsupportedOperator
from ..reference import ReferenceExecutor, UnsupportedOp, load_model
from ..reference.validity import type_violation
from . import register_target
from .base import Target, TargetOptions, dist_version


@register_target("reference")
class ReferenceTarget(Target):
    precision = "fp32"
    description = "conformance.reference: planned numpy interpreter of ONNX (float32 arithmetic)"
    #: the executor's arithmetic: "float32", or "float64" for a higher-precision oracle
    compute = "float32"

    def version(self):
        return f"onnx {dist_version('onnx')}, numpy {dist_version('numpy')}"

    def prepare(self, model, options: TargetOptions | None = None):
        # Of the options only the precision applies: the executor's BLAS threads are one
        # process-wide setting (CONFORMANCE_REFERENCE_BLAS_THREADS, bench-reference
        # --blas-threads) that one target's session must not change for every other executor.
        compute = self.check_precision(options, {"fp32": "float32", "fp64": "float64"}) or self.compute
        model, _ = load_model(model)        # external data, if any, is loaded with it
        violation = type_violation(model)
        if violation:
            # the oracle runs what the specification allows, nothing more
            raise InvalidModel(f"the model is not valid ONNX: {violation}")
        try:
            return ReferenceExecutor(model, precision=compute)
        except UnsupportedOp as exc:
            missing = ", ".join(sorted({op_type for _, op_type, _ in exc.missing}))
            raise UnsupportedOperator(str(exc), op=missing, target="reference",
                                      fix="implement the op in conformance/reference/ops/") from exc

    def applied_options(self, session, options):
        if options.precision is None:
            return super().applied_options(session, options)
        return {"applied": f"precision {session.precision} (threads: not applicable to target {self.name!r})"}

    def run(self, session, feeds):
        return session.run(None, feeds)
