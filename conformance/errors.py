"""Typed errors. Each carries enough context for a one-line, actionable message."""
from __future__ import annotations

import re


class ConformanceError(Exception):
    """Base of every error this package raises on purpose.

    ``context`` holds case id, op, framework and versions where known; ``fix`` is the
    one-line hint shown to users. Keys in ``INTERNAL`` are for the code that catches the
    error and stay out of the message.
    """

    INTERNAL: tuple[str, ...] = ()

    def __init__(self, message: str, *, fix: str | None = None, **context):
        self.message = message
        self.fix = fix
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [self.message]
        shown = {k: v for k, v in self.context.items() if k not in self.INTERNAL}
        if shown:
            parts.append("(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")")
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
    # what the worker said before it died, and whether it exited on purpose (an abort or an
    # exit code, not a signal): read by the conversion stage to classify the failure
    INTERNAL = ("output", "deliberate")


class WorkerTimeout(ConformanceError):
    pass


class ResultsFileError(ConformanceError):
    """A results file is missing, empty, truncated or of another schema (exit 2)."""


class InvalidModel(ConformanceError):
    """A model file that is not valid ONNX or cannot be read."""


# Phrases converters, runtimes and the reference executor use when an operator (or an opset form
# of it) has no mapping or no kernel. One list for every stage: a conversion, a target's run and
# `conformance check` decide "unsupported" here and nowhere else.
_UNSUPPORTED_PHRASES = re.compile(
    r"unsupported|not supported|no onnx function|no symbolic|is not implemented for onnx|"
    r"cannot be exported|not (?:yet )?implemented|no decomposition|cannot support|due to opset version|"
    r"NOT_IMPLEMENTED|no implementation|Could not find an implementation|not a registered function/op|"
    r"No Op registered|does not implement|does not support", re.I)
# Exception types that mean "no mapping" wherever they are raised (the reference executor's
# UnsupportedOp is a NotImplementedError; its name also arrives as text from a worker).
_UNSUPPORTED_TYPES = ("UnsupportedOperator", "UnsupportedOp", "NotImplementedError")


def _says_unsupported(text: str | None) -> bool:
    """Does a converter's or runtime's own message say an op has no mapping?"""
    return bool(_UNSUPPORTED_PHRASES.search(text or ""))


def classify_failure(error: BaseException | str, evidence: str = "") -> str:
    """``"unsupported"`` when a failure says an op has no mapping (by its type, its message or
    ``evidence``, e.g. what a converter printed), else ``"error"``."""
    if isinstance(error, BaseException):
        names = {cls.__name__ for cls in type(error).__mro__}
        if "InvalidModel" in names:    # a model the spec forbids is an error, whatever its words
            return "error"
        if names & set(_UNSUPPORTED_TYPES):
            return "unsupported"
        error = f"{type(error).__name__}: {error}"
    return "unsupported" if _says_unsupported(f"{error} {evidence}") else "error"
