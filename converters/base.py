"""The converter interface. A converter runs inside its framework's worker process."""
from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

from conformance.cases import Built


class Converter:
    name: str = ""
    framework: str = ""            # torch | tensorflow | paddle | onnx (ONNX -> ONNX passes)
    #: python modules that must be importable for this converter to work
    requires: tuple[str, ...] = ()
    #: distribution whose version identifies this converter (cache key, records)
    distribution: str = ""

    def available(self) -> tuple[bool, str]:
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return False, f"python module {module!r} is not installed (pip install -c constraints.txt -e '.[{self.framework}]')"
        return True, ""

    def version(self) -> str:
        try:
            return metadata.version(self.distribution) if self.distribution else ""
        except metadata.PackageNotFoundError:
            return ""

    def convert(self, built: Built, opset: int, workdir: Path):
        """Return an ``onnx.ModelProto`` for ``built.model``; raise UnsupportedOperator for ops it lacks."""
        raise NotImplementedError


class ModelPass:
    """An ONNX -> ONNX step chained after a converter (``tf2onnx+optimize``). Runs in-process."""

    name: str = ""

    def available(self) -> tuple[bool, str]:
        return True, ""

    def version(self) -> str:
        return ""

    def apply(self, model):
        raise NotImplementedError
