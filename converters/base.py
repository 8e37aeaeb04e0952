"""The converter interface. A converter runs inside its framework's worker process."""
from __future__ import annotations

import functools
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
    #: convert each case in a fresh worker process: for exporters whose process-wide state
    #: leaks from one export into the next (results would depend on case order)
    fresh_process: bool = False

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

    def fingerprint(self) -> str:
        """Version of the converter package plus a hash of our own adapter code, so that a
        change to the adapter invalidates cached conversions too."""
        return f"{self.version()}+{_code_hash(type(self))}"

    def convert(self, built: Built, opset: int, workdir: Path):
        """Return an ``onnx.ModelProto`` for ``built.model``; raise UnsupportedOperator for ops it lacks."""
        raise NotImplementedError


@functools.lru_cache(maxsize=None)
def _code_hash(cls) -> str:
    import hashlib
    import inspect
    digest = hashlib.sha256()
    for klass in cls.__mro__:
        module = inspect.getmodule(klass)
        if module is None or not module.__name__.startswith("converters"):
            continue
        try:
            digest.update(inspect.getsource(module).encode())
        except (OSError, TypeError):
            digest.update(module.__name__.encode())
    return digest.hexdigest()[:12]


class ModelPass:
    """An ONNX -> ONNX step chained after a converter (``tf2onnx+optimize``). Runs in-process."""

    name: str = ""

    def available(self) -> tuple[bool, str]:
        return True, ""

    def version(self) -> str:
        return _code_hash(type(self))

    def apply(self, model):
        raise NotImplementedError
