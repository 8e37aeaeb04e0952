"""Typed errors. Each carries enough context for a one-line, actionable message."""
from __future__ import annotations


class ConformanceError(Exception):
    """Base of every error this package raises on purpose.

    ``context`` holds case id, op, framework and versions where known; ``fix`` is the
    one-line hint shown to users.
    """

    def __init__(self, message: str, *, fix: str | None = None, **context):
        self.message = message
        self.fix = fix
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [self.message]
        if self.context:
            parts.append("(" + ", ".join(f"{k}={v}" for k, v in self.context.items()) + ")")
        if self.fix:
            parts.append(f"- fix: {self.fix}")
        return " ".join(parts)


class UnknownTarget(ConformanceError):
    pass


class UnknownConverter(ConformanceError):
    pass


class UnsupportedOperator(ConformanceError):
    """A converter or executor does not support an operator: recorded as ``unsupported``."""


class ConversionError(ConformanceError):
    pass


class WorkerCrashed(ConformanceError):
    pass


class WorkerTimeout(ConformanceError):
    pass


class ResultsFileError(ConformanceError):
    """A results file is missing, empty, truncated or of another schema (exit 2)."""


class InvalidModel(ConformanceError):
    """A model file that is not valid ONNX or cannot be read."""
