"""The target interface: one shape for every backend, in the manner of Polygraphy's runners."""
from __future__ import annotations

import functools
import importlib.util
import inspect
from importlib import metadata
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConformanceError


@dataclass(frozen=True)
class TargetOptions:
    """How to prepare a session, for targets that can apply it; ``None`` = the target's default.

    ``intra_op_threads`` / ``inter_op_threads``: threads inside one op / across independent ops
    (onnxruntime's SessionOptions; OpenVINO's INFERENCE_NUM_THREADS takes the intra count).
    ``allow_spinning``: whether idle worker threads spin (onnxruntime). ``precision``: the
    arithmetic to compute in, in ``Target.precision``'s words (``fp32``, ``fp16``, ``bf16``,
    ``fp64``); a target that cannot compute in it refuses it. Each target's ``applied_options``
    says what it applied: the benchmark records that next to the settings."""

    intra_op_threads: int | None = None
    inter_op_threads: int | None = None
    allow_spinning: bool | None = None
    precision: str | None = None


class Target:
    """A backend that executes ONNX models.

    ``prepare`` is called once per model and may be slow (engine build); ``run`` many times.
    Targets know nothing of converters: they receive ONNX bytes or a ModelProto.
    """

    name: str = ""
    #: the arithmetic precision the target computes in (fp32, bf16, fp16, ...): stated, not implied
    precision: str = "fp32"
    description: str = ""
    #: the python module the target needs, and how to install it (checked by ``available``)
    requires: str = ""
    install: str = ""
    #: the distribution whose version is the target's version
    distribution: str = ""

    def available(self) -> tuple[bool, str]:
        if self.requires and importlib.util.find_spec(self.requires) is None:
            return False, f"python module {self.requires!r} is not installed ({self.install})"
        return True, ""

    def version(self) -> str:
        return dist_version(self.distribution) if self.distribution else ""

    def prepare(self, model, options: TargetOptions | None = None) -> Any:
        raise NotImplementedError

    def run(self, session, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def applied_options(self, session, options: TargetOptions) -> dict:
        """What ``prepare`` made of ``options`` (``{"applied": ...}`` and any details)."""
        return {"applied": not_applied(self)}

    def check_precision(self, options: TargetOptions | None, offered: dict[str, Any]) -> Any:
        """The target's own setting for the requested precision (``offered[precision]``), or
        None when none was requested; a precision it cannot compute in is an error."""
        wanted = options.precision if options is not None else None
        if wanted is None:
            return None
        if wanted not in offered:
            raise ConformanceError(f"target {self.name!r} cannot compute in {wanted!r}",
                                   fix=f"choose one of: {', '.join(offered)}")
        return offered[wanted]


def not_applied(target) -> str:
    return f"not applicable to target {getattr(target, 'name', target)!r}"


def _takes_options(prepare) -> bool:
    try:
        params = list(inspect.signature(prepare).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def prepare_target(target, model, options: TargetOptions | None = None) -> tuple[Any, dict]:
    """``target.prepare(model, options)`` and what it applied. A target whose ``prepare`` takes
    the model alone (a plugin written before options existed) is prepared as it is, and the
    options are reported as not applied."""
    if options is None:
        return target.prepare(model), {}
    if not _takes_options(target.prepare):
        return target.prepare(model), {"applied": not_applied(target)}
    session = target.prepare(model, options)
    report = getattr(target, "applied_options", None)
    return session, (report(session, options) if callable(report) else {"applied": not_applied(target)})


def model_bytes(model) -> bytes:
    """ONNX bytes from a ModelProto, bytes or a path."""
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    if hasattr(model, "SerializeToString"):
        return model.SerializeToString()
    with open(model, "rb") as fh:
        return fh.read()


@functools.lru_cache(maxsize=None)
def dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""
