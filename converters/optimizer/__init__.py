"""Our own ONNX graph optimizer (default ONNX domain only), tested like any other converter.

``optimize(model, passes=None) -> (model, Report)``; the passes live in ``passes/`` and are
composable by name (``conformance optimize IN OUT --passes fold,dce``)."""
from .passes import OPTIMIZER_PASSES
from .pipeline import DEFAULT_PIPELINE, Report, optimize, parse_passes

__all__ = ["optimize", "Report", "DEFAULT_PIPELINE", "OPTIMIZER_PASSES", "parse_passes"]
