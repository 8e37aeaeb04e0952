"""Apache TVM (relax): ``tvm.relax.frontend.onnx.from_onnx``, built for ``llvm`` and run on the
relax VirtualMachine on the CPU. Compiled once per model in ``prepare`` (the session caches the
prepared model); symbolic dimensions stay symbolic in relax, so one build runs any size of a
dynamic axis (no per-shape recompilation)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import register_target
from .base import Target, TargetAdapterError, TargetOptions, declared_io, feeds_in_order, model_bytes


@dataclass
class TvmSession:
    vm: Any
    device: Any
    inputs: tuple[str, ...]          # declared inputs, in order
    params: list[int]                # for each relax parameter, the declared input it takes
    outputs: tuple[str, ...]


def _flatten(result) -> list:
    """The VM's result as a flat list of numpy arrays: relax returns a tensor, a tuple of them, a
    shape (a graph output made by Shape stays a shape value in relax) or a scalar value."""
    import tvm
    if isinstance(result, tvm.runtime.Tensor):
        return [result.numpy()]
    if isinstance(result, (bool, int, float, np.generic)):
        return [np.asarray(result)]
    items = list(result)
    if type(result).__name__ in ("Shape", "ShapeTuple"):
        return [np.asarray(items, dtype=np.int64)]
    out = []
    for item in items:
        out.extend(_flatten(item))
    return out


def _var_name(var) -> str:
    """A relax Var's name (``name_hint`` before TVM 0.2x, ``name`` now)."""
    for attr in ("name_hint", "name"):
        name = getattr(var, attr, None)
        if name is not None:
            return str(name)
    return str(var)


@register_target("tvm")
class TvmTarget(Target):
    precision = "fp32"
    description = "Apache TVM relax: from_onnx, built for llvm, relax VirtualMachine on the CPU"
    requires = "tvm"
    distribution = "apache-tvm"
    install = "pip install apache-tvm (0.27, relax only)"
    # a compiler written in C++ (LLVM codegen): a crash on one model must cost one case only
    isolated = True

    def prepare(self, model, options: TargetOptions | None = None):
        import onnx
        import tvm
        from tvm import relax
        from tvm.relax.frontend import onnx as relax_onnx
        self.check_precision(options, {"fp32": "fp32"})
        proto = onnx.load_from_string(model_bytes(model))
        io = declared_io(proto)
        mod = relax_onnx.from_onnx(proto)
        names = [_var_name(p) for p in mod["main"].params]
        params = []
        for position, name in enumerate(names):
            if name in io.inputs:
                params.append(io.inputs.index(name))
            elif len(names) == len(io.inputs):
                params.append(position)
            else:
                raise TargetAdapterError(f"relax parameter {name!r} is none of the declared inputs {list(io.inputs)}")
        executable = tvm.compile(mod, target="llvm")
        device = tvm.cpu()
        return TvmSession(relax.VirtualMachine(executable, device), device, io.inputs, params, io.outputs)

    def run(self, session: TvmSession, feeds):
        import tvm
        values = feeds_in_order(session.inputs, feeds)
        args = [tvm.runtime.tensor(np.asarray(values[i], order="C"), session.device) for i in session.params]
        outputs = _flatten(session.vm["main"](*args))
        if len(outputs) != len(session.outputs):
            raise TargetAdapterError(f"TVM returned {len(outputs)} outputs, the model declares "
                                     f"{len(session.outputs)}: {list(session.outputs)}")
        return outputs
