"""The target interface: one shape for every backend, in the manner of Polygraphy's runners."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np


class Target:
    """A backend that executes ONNX models.

    ``prepare`` is called once per model and may be slow (engine build); ``run`` many times.
    Targets know nothing of converters: they receive ONNX bytes or a ModelProto.
    """

    name: str = ""
    #: the arithmetic precision the target computes in (fp32, bf16, fp16, ...): stated, not implied
    precision: str = "fp32"
    description: str = ""

    def available(self) -> tuple[bool, str]:
        return True, ""

    def version(self) -> str:
        return ""

    def prepare(self, model) -> Any:
        raise NotImplementedError

    def run(self, session, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError


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
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""
