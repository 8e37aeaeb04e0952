"""The numpy reference executor as a target: the oracle every other target is held against."""
from __future__ import annotations

from ..errors import UnsupportedOperator
from . import register_target
from .base import Target, dist_version


@register_target("reference")
class ReferenceTarget(Target):
    precision = "fp32"
    description = "conformance.reference: planned numpy interpreter of ONNX (float32 arithmetic)"
    #: the executor's arithmetic: "float32", or "float64" for a higher-precision oracle
    compute = "float32"

    def available(self):
        return True, ""

    def version(self):
        return f"onnx {dist_version('onnx')}, numpy {dist_version('numpy')}"

    def prepare(self, model):
        from ..reference import ReferenceExecutor, UnsupportedOp
        try:
            return ReferenceExecutor(model, precision=self.compute)
        except UnsupportedOp as exc:
            missing = ", ".join(sorted({op_type for _, op_type, _ in exc.missing}))
            raise UnsupportedOperator(str(exc), op=missing, target="reference",
                                      fix="implement the op in conformance/reference/ops/") from exc

    def run(self, session, feeds):
        return session.run(None, feeds)
