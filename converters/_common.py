"""Helpers shared by the converters: unsupported-op detection and model loading."""
from __future__ import annotations

import re

from conformance.cases import Built
from conformance.errors import ConversionError, UnsupportedOperator, classify_failure

def conversion_failure(message: str, evidence: str = ""):
    """The error to raise for a failed conversion: ``UnsupportedOperator`` when the message or
    the converter's own output (``evidence``) says an op has no mapping, else ConversionError."""
    kind = UnsupportedOperator if classify_failure(message, evidence) == "unsupported" else ConversionError
    return kind(message)


def check_standard_ops(model, converter: str) -> None:
    """A converter that silently leaves framework ops in the graph did not support them."""
    import onnx.defs
    def known(node) -> bool:
        domain = "" if node.domain == "ai.onnx" else node.domain
        return domain in ("", "ai.onnx.ml") and onnx.defs.has(node.op_type, domain)

    unknown = sorted({f"{n.domain or 'ai.onnx'}::{n.op_type}" for n in model.graph.node if not known(n)})
    local = {f.name for f in model.functions}
    unknown = [u for u in unknown if u.split("::", 1)[1] not in local]
    if unknown:
        raise UnsupportedOperator(f"{converter} left non-ONNX ops in the graph: {', '.join(unknown)}")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception an exporter's error was raised from (torch.onnx wraps the one
    that says what failed, "No ONNX function found for aten.segment_reduce", in two layers of
    advice)."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ or exc.__context__
        if inner is None or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def _lines(exc: BaseException, count: int) -> str:
    text = _ANSI.sub("", f"{type(exc).__name__}: {exc}").strip()
    return " | ".join([l.strip() for l in text.splitlines() if l.strip()][:count])


def short(exc: BaseException, limit: int = 600) -> str:
    """One line: the error's first line, and its root cause where it was raised from another."""
    cause = root_cause(exc)
    text = _lines(exc, 6) if cause is exc else f"{_lines(exc, 1)} | cause: {_lines(cause, 3)}"
    return text if len(text) <= limit else text[:limit] + " ..."


def declared_inputs(built):
    """(name, shape with None on dynamic axes, numpy dtype) per input: the signature a
    converter exports, from the sample inputs and Built.dynamic_axes."""
    dynamic = built.dynamic_axes or {}
    out = []
    for name, x in zip(built.names(), built.inputs):
        axes = {int(a) for a in dynamic.get(name, {})}
        out.append((name, [None if i in axes else int(d) for i, d in enumerate(x.shape)], x.dtype))
    return out


def output_names(built: Built, count: int) -> list[str]:
    """The case's output names when they name every flattened output, else ``output_N``: the
    declared output names of a package in another format than ONNX."""
    if built.output_names and len(built.output_names) == count:
        return list(built.output_names)
    return [f"output_{i}" for i in range(count)]
