"""The converter interface. A converter runs inside its framework's worker process.

Besides ``convert``, a converter answers for its own exporter's naming, so that the core can map
ONNX nodes back to source layers without knowing any exporter (``conformance.source_layers``):
``source_scopes(node)`` (the source module names a node carries) and ``layer_groups(graph,
intermediates)`` (for exporters that name values rather than nodes). Both run in the main
process on ``onnx`` protos and import no framework.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
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
    #: the opset cases and users' files are converted at when none is asked for: one the
    #: exporter writes natively (not through onnx's version converter)
    default_opset: int = 17
    #: the artifact format it writes (conformance.formats): ``convert`` returns an
    #: ``onnx.ModelProto`` for "onnx", a ``conformance.formats.Package`` for any other
    format: str = "onnx"
    #: the arithmetic it stores the model in: "fp32", or what it quantizes to ("fp16-weights",
    #: "int8"); a quantized model is judged at metric level, and says so in its record
    precision: str = "fp32"
    #: the pyproject extra that installs what it requires (default: its framework's)
    extra: str = ""
    #: converts users' files of one format only (``conformance check model.tflite``), never a
    #: suite's case: not among a framework's converters by default
    files_only: bool = False

    def available(self) -> tuple[bool, str]:
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return False, f"python module {module!r} is not installed (pip install -c constraints.txt -e '.[{self.extra or self.framework}]')"
        return True, ""

    def warm_up(self) -> None:
        """Import what a conversion needs, once, in a worker that forks a child per conversion
        (``fresh_process``): every child starts with it loaded."""
        for module in self.requires:
            importlib.import_module(module)

    def version(self) -> str:
        try:
            return metadata.version(self.distribution) if self.distribution else ""
        except metadata.PackageNotFoundError:
            return ""

    def fingerprint(self, version: str | None = None) -> str:
        """Version of the converter package (``version``: as installed where it runs, when not
        here) plus a hash of our own adapter code, so that a change to the adapter invalidates
        cached conversions too."""
        return f"{self.version() if version is None else version}+{_code_hash(type(self))}"

    def convert(self, built: Built, opset: int, workdir: Path):
        """Return an ``onnx.ModelProto`` for ``built.model`` (a ``Package`` for a non-ONNX
        ``format``); raise UnsupportedOperator for ops it lacks."""
        raise NotImplementedError

    # -- naming hooks: how this exporter's ONNX graph names the source model's layers ---------
    def source_scopes(self, node) -> list[str]:
        """Source module/layer names ``node`` (an ``onnx.NodeProto``) belongs to, innermost
        first (``["layer1.0.conv1", "conv1", "layer1.0", "layer1"]``). The core resolves them
        against the source's layer names. Default: the exporter leaves none."""
        return []

    def layer_groups(self, graph, intermediates) -> dict[str, list]:
        """``{source layer: [onnx nodes]}`` for exporters that keep no names on nodes but name
        values after the source program (paddle2onnx); used when ``source_scopes`` matched
        nothing. ``intermediates`` is ``converters.intermediates.source_intermediates``'
        answer. Default: no grouping."""
        return {}


def scope_path_candidates(node_name: str) -> list[str]:
    """Qualified module names, innermost first, from a node name written as a scope path
    (``/layer1/layer1.0/conv1/Conv`` by torch-script, ``model_1/conv1_conv_1/convolution`` by
    tf2onnx); ``[]`` for a name without ``/``."""
    if "/" not in node_name:
        return []
    parts = [p for p in node_name.split("/")[:-1] if p]
    out, current = [], ""
    for part in parts:
        # torch-script segments are attribute names ("conv1") or, below a container, the
        # container's attribute plus the child's ("layer1.0" under "layer1", "conv.3" under
        # "features.10.conv"); rebuild the qualified module name
        last = current.rpartition(".")[2]
        if not current:
            current = part
        elif part.startswith(current + "."):
            current = part
        elif "." in part and part.split(".", 1)[0] == last:
            current = f"{current}.{part.split('.', 1)[1]}"
        else:
            current = f"{current}.{part}"
        out.append((current, part))
    candidates = []
    for full, part in reversed(out):
        candidates.extend([full, part] if full != part else [full])
    return candidates


PACKAGE = Path(__file__).resolve().parent


def _module_file(dotted: str) -> Path | None:
    """The file of a module of this package ("converters.optimizer.graph"), or None."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE.name:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported_files(path: Path) -> set[Path]:
    """This package's modules ``path`` imports (relative or absolute, at any depth of the file)."""
    package = ".".join((PACKAGE.name, *path.resolve().parent.relative_to(PACKAGE).parts))
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = f"{anchor}.{node.module}" if node.module else anchor
        else:
            module = node.module or ""
        for dotted in [module] + [f"{module}.{alias.name}" for alias in node.names]:
            file = _module_file(dotted)
            if file is not None:
                found.add(file)
    return found


def local_sources(*paths: Path) -> list[Path]:
    """``paths`` and every module of this package they import, transitively, in a stable order.
    A subpackage reached counts whole: its modules may be found at run time (the optimizer's
    passes are discovered with pkgutil)."""
    seen, todo = set(), [Path(p).resolve() for p in paths]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(_imported_files(path) - seen)
        if path.name == "__init__.py" and path.parent != PACKAGE:
            todo.extend(set(path.parent.glob("*.py")) - seen)
    return sorted(seen)


@functools.lru_cache(maxsize=None)
def _code_hash(cls) -> str:
    """A hash of our code a converter (or chain step) class runs: the modules of its classes and
    every module of this package they import, so an edit of a helper it uses invalidates its
    cached conversions, and an edit of another converter's module does not."""
    roots = [Path(inspect.getfile(klass)) for klass in cls.__mro__
             if (inspect.getmodule(klass) or object).__name__.startswith(PACKAGE.name + ".")]
    digest = hashlib.sha256()
    for path in local_sources(*roots):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class ChainStep:
    """An ONNX -> ONNX step chained after a converter (``tf2onnx+optimize``), run in-process.
    Not to be confused with the optimizer's rewrite passes (converters/optimizer/passes/): the
    ``optimize`` step runs a whole pipeline of those."""

    name: str = ""

    def available(self) -> tuple[bool, str]:
        return True, ""

    def version(self) -> str:
        return _code_hash(type(self))

    def configured(self, argument: str | None) -> "ChainStep":
        """This step with the argument of ``+name:ARGUMENT`` applied (a configured copy); a step
        without a parameter refuses one."""
        if argument is not None:
            raise ValueError(f"chain step {self.name!r} takes no parameter (got {argument!r})")
        return self

    def apply(self, model):
        raise NotImplementedError
