"""Our own ONNX graph optimizer (default ONNX domain only), tested like any other converter.

``optimize(model, passes=None) -> (model, Report)``; its rewrite passes live in ``passes/``
(registry ``REWRITE_PASSES``) and are composable by name (``conformance optimize IN OUT
--passes fold,dce``). Chained after a converter it is the ``+optimize`` chain step
(``converters/passes.py``)."""
from .passes import REWRITE_PASSES, RewritePass, rewrite_pass
from .pipeline import DEFAULT_PIPELINE, Report, optimize, parse_passes

__all__ = ["optimize", "Report", "DEFAULT_PIPELINE", "REWRITE_PASSES", "RewritePass", "rewrite_pass",
           "parse_passes"]
