"""The target interface: one shape for every backend, in the manner of Polygraphy's runners."""
from __future__ import annotations

import functools
import importlib.util
import inspect
import os
from importlib import metadata
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import ConformanceError
from ..formats import ONNX, Package


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
    """A backend that executes converted models: ONNX, or the other formats in ``formats``.

    ``prepare`` is called once per model and may be slow (engine build); ``run`` many times.
    Targets know nothing of converters: they receive ONNX bytes or a ModelProto, or (through
    ``prepare_artifact``) the package of another format (conformance.formats.Package).
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
    #: a runtime known to crash its process on some models (a segfault in a compiler): the
    #: session serves it from a worker process of its own, so a crash costs one case
    isolated: bool = False
    #: the named environment (environments.toml) it runs in when its name carries no ``@ENV``:
    #: a runtime that cannot live in the session's environment ("" = the session's)
    environment: str = ""
    #: the artifact formats it runs (conformance.formats); a case runs on a converter x target
    #: pair only when the target takes the converter's format
    formats: tuple[str, ...] = ("onnx",)

    def available(self) -> tuple[bool, str]:
        if self.requires and importlib.util.find_spec(self.requires) is None:
            return False, f"python module {self.requires!r} is not installed ({self.install})"
        return True, ""

    def version(self) -> str:
        return dist_version(self.distribution) if self.distribution else ""

    def prepare(self, model, options: TargetOptions | None = None) -> Any:
        raise NotImplementedError

    def prepare_artifact(self, artifact: bytes, fmt: str, options: TargetOptions | None = None) -> Any:
        """Prepare a converted model of format ``fmt``: ONNX bytes go to ``prepare``, the bytes
        of any other format (a formats.Package's) to ``prepare_package``."""
        if fmt not in self.formats:
            raise ConformanceError(f"target {self.name!r} does not run {fmt} models",
                                   fix=f"it runs: {', '.join(self.formats)}")
        if fmt == ONNX:
            return prepare_target(self, artifact, options)[0]
        return self.prepare_package(Package.from_bytes(artifact), options)

    def prepare_package(self, package: Package, options: TargetOptions | None = None) -> Any:
        """Prepare a package of one of the non-ONNX formats in ``formats``; its declared input
        and output names say the feeds' names and the outputs' order (none: as they come)."""
        raise NotImplementedError(f"target {self.name!r} declares no package loader")

    def prepare_file(self, data: bytes, options: TargetOptions | None = None) -> Any:
        """A bare file of the target's first format, as a user hands it: no declared names."""
        return self.prepare_package(Package(self.formats[0], {"model": bytes(data)}, [], []), options)

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


def prepare_converted(target, artifact: bytes, fmt: str, options: TargetOptions | None = None) -> Any:
    """Prepare a converted model of format ``fmt`` on ``target``: its ``prepare_artifact``, or
    for a plugin target written before formats existed (no such method), ``prepare`` on ONNX."""
    if hasattr(target, "prepare_artifact"):
        return target.prepare_artifact(artifact, fmt, options)
    if fmt != "onnx":
        raise ConformanceError(f"target {getattr(target, 'name', target)!r} runs ONNX models only, not {fmt}")
    return prepare_target(target, artifact, options)[0]


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


# ---------------------------------------------------------------- inputs and outputs by declaration

class TargetAdapterError(ConformanceError):
    """Our own target code could not adapt a runtime to the model (a tensor name it cannot map,
    an output count that does not match the declaration): a fault of this harness, never of the
    runtime it drives."""


@dataclass(frozen=True)
class DeclaredIO:
    """The model's graph inputs (initializers excluded) and outputs, by name, in declared order:
    the order every target takes its feeds by name and returns its outputs in."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def declared_io(model) -> DeclaredIO:
    import onnx
    proto = model if hasattr(model, "graph") else onnx.load_from_string(model_bytes(model))
    initializers = {init.name for init in proto.graph.initializer}
    return DeclaredIO(tuple(i.name for i in proto.graph.input if i.name not in initializers),
                      tuple(o.name for o in proto.graph.output))


def match_ports(declared: Sequence[str], port_names: Sequence[set[str]], what: str) -> list[int]:
    """For each declared tensor name, the index of the runtime port that holds it.

    Runtimes rename and merge: OpenVINO names an input port after the Cast it folded into it too
    (``{'x', 'auto.cast.0'}``) and gives two ports one name when a tensor is output twice. So the
    port at the declared position wins when it carries the name, else the one port that carries
    it, else (a runtime that renamed it away) the declared position, since runtimes keep the
    order of parameters and results."""
    if len(declared) != len(port_names):
        raise TargetAdapterError(f"the runtime has {len(port_names)} {what} ports, the model declares "
                                 f"{len(declared)}: {list(declared)}")
    order = []
    for position, name in enumerate(declared):
        carriers = [j for j, names in enumerate(port_names) if name in names]
        if name in port_names[position] or not carriers:
            order.append(position)
        elif len(carriers) == 1:
            order.append(carriers[0])
        else:
            raise TargetAdapterError(f"{what} {name!r} is carried by ports {carriers}, none at its declared "
                                     f"position {position}: cannot tell which holds it")
    return order


def match_input_ports(declared: Sequence[str], port_names: Sequence[set[str]]) -> list[tuple[int, int]]:
    """(port index, declared input index) for every input port. A runtime may drop an input
    the model never reads for its values (OpenVINO folds ``ones_like(x)`` to a constant and
    keeps no port for ``x``): with fewer ports than inputs, each port is matched by name, and
    the dropped inputs are fed nowhere."""
    if len(port_names) >= len(declared):
        return [(port, i) for i, port in enumerate(match_ports(declared, port_names, "input"))]
    pairs = []
    for port, names in enumerate(port_names):
        found = [i for i, name in enumerate(declared) if name in names]
        if len(found) != 1:
            raise TargetAdapterError(f"input port {port} (names {sorted(names)}) matches {len(found)} of the "
                                     f"declared inputs {list(declared)}")
        pairs.append((port, found[0]))
    return pairs


def feeds_in_order(declared: Sequence[str], feeds: dict) -> list:
    """The feeds for the declared inputs, in order; a missing one is said by name."""
    missing = [name for name in declared if name not in feeds]
    if missing:
        raise TargetAdapterError(f"no value fed for input(s) {missing}; fed: {sorted(feeds)}")
    return [feeds[name] for name in declared]


_PYTHON_SLIPS = (LookupError, TypeError, AttributeError, NameError, AssertionError, UnboundLocalError)
_TARGETS_DIR = os.path.dirname(os.path.abspath(__file__))


def raised_by_adapter(exc: BaseException) -> bool:
    """Whether ``exc`` is a fault of our own target code rather than of the runtime it drives:
    a ``TargetAdapterError``, or a slip of Python code (a KeyError, a TypeError) whose raising
    line is in ``conformance/targets/``. Errors our targets raise on purpose to state a fact about
    the model (``InvalidModel``, ``UnsupportedOperator``) are not the adapter's fault."""
    if isinstance(exc, TargetAdapterError):
        return True
    # A runtime's compiled code raises from the Python line that called it, so the raising line
    # alone cannot tell: only the errors of Python code itself (a lookup, a wrong type) count.
    if isinstance(exc, ConformanceError) or not isinstance(exc, _PYTHON_SLIPS):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == _TARGETS_DIR
