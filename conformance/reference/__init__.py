"""The numpy reference executor of ONNX: the conformance suite's oracle.

Imports numpy and onnx only. ``ReferenceExecutor(model).run(None, feeds)``.
"""
from . import ops  # noqa: F401  (registers every op implementation)
from .executor import ExecutionError, NodeContext, ReferenceExecutor, UnsupportedOp, load_model
from .registry import lookup, op

__all__ = ["ReferenceExecutor", "UnsupportedOp", "ExecutionError", "NodeContext", "op", "lookup", "load_model"]
