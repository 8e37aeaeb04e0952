"""ExecuTorch's runtime (``executorch.runtime``) running ``.pte`` programs, CPU, float32.

The program's ``forward`` method runs with the XNNPACK delegate for the subgraphs lowered to it
and ExecuTorch's portable kernels for the rest, both in float32 for a float32 model. Feeds go in
the package's declared input order; outputs come back flat, in the order the source's are.
executorch (and torch, which it imports) is imported on first prepare, never at import, in the
worker process the session serves it from (``isolated``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import UnsupportedOperator
from ..formats import Package
from . import register_target
from .base import Target, TargetOptions, feeds_in_order

#: the runtime's words for a program op it has no kernel for (it says so when loading the method)
_MISSING_KERNEL = re.compile(r"Missing operator: (?:\[\d+\] )?([\w:.]+)")
#: the Python error of a method that failed to load with Error::OperatorMissing (0x14); the op's
#: name then goes to the runtime's log only ("Failed to load method forward, error: 0x:14")
_OPERATOR_MISSING = re.compile(r"error: 0x:?14\b")


@dataclass
class ExecuTorchSession:
    method: object
    inputs: list[str]
    outputs: list[str]
    #: the program and its bytes, held for as long as the method: the runtime reads the program
    #: from the caller's buffer without a copy, and a method outliving it reads freed memory
    #: (a segfault at the first conv, measured)
    program: object = None
    data: bytes = b""


def kernels_missing(portable_ops: list[str]) -> list[str]:
    """The ops left to the portable kernels (the converter's ``portable_ops``: "<EdgeOpOverload:
    aten._embedding_bag.default>: schema = aten::_embedding_bag(...)") that no kernel registered
    in this runtime implements, by their schema name (``aten::_embedding_bag``)."""
    from executorch.extension.pybindings.portable_lib import _get_operator_names
    registered = {name.split(".")[0] for name in _get_operator_names()}
    names = [m.group(1) for m in (re.search(r"schema = ([\w:]+)\(", op) for op in portable_ops) if m]
    return sorted({name for name in names if name not in registered})


@register_target("executorch")
class ExecuTorchTarget(Target):
    precision = "fp32"
    formats = ("pte",)
    description = "ExecuTorch runtime (executorch.runtime): XNNPACK delegate + portable kernels, CPU, float32"
    requires = "executorch"
    distribution = "executorch"
    install = "pip install -c constraints.txt -e '.[executorch]'"
    #: a native runtime that can take its process down: served from a worker process of its own
    isolated = True

    def prepare(self, model, options: TargetOptions | None = None):
        """A bare ``.pte`` (no declared names): fed in the order the feeds come."""
        return self.prepare_file(model, options)

    def prepare_package(self, package: Package, options: TargetOptions | None = None):
        from executorch.runtime import Runtime

        self.check_precision(options, {"fp32": "fp32"})
        data = package.only_file()
        program = Runtime.get().load_program(data)
        try:
            method = program.load_method("forward")
        except RuntimeError as exc:
            missing = _MISSING_KERNEL.search(str(exc))
            if missing:
                raise UnsupportedOperator(f"the ExecuTorch runtime has no kernel for {missing.group(1)}") from exc
            if _OPERATOR_MISSING.search(str(exc)):
                named = ", ".join(kernels_missing(package.details.get("portable_ops", []))) or "an operator of the program"
                raise UnsupportedOperator(f"the ExecuTorch runtime has no kernel for {named} (OperatorMissing)") from exc
            raise
        return ExecuTorchSession(method, list(package.inputs), list(package.outputs), program, data)

    def run(self, session: ExecuTorchSession, feeds):
        import torch
        values = feeds_in_order(session.inputs, feeds) if session.inputs else list(feeds.values())
        outputs = session.method.execute([torch.from_numpy(np.require(v, requirements="C")) for v in values])
        # copies: the runtime's output tensors live in its planned memory, reused by the next call
        return [np.array(o.detach().numpy() if hasattr(o, "detach") else o) for o in outputs]
