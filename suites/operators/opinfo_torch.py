"""torch cases from PyTorch's own OpInfo database, torch side: imported only in the torch worker
(and by ``python -m suites.operators.opinfo_manifest``, which writes the list of cases).

``torch.testing._internal.common_methods_invocations.op_db`` declares, per operator, the dtypes
it supports and generators of sample inputs (``reference_inputs`` adds the extremal values and
corner shapes its authors found bugs with). A case is one sample of one OpInfo at one dtype:

* the sample is regenerated here from the same seed (``torch.manual_seed``) the manifest used,
  and its signature (the shapes and dtypes of its tensors) checked against the manifest's, so a
  drifted sample is an error, never a silently different case;
* its tensors (in ``input``, ``args`` and ``kwargs``, lists of tensors included) become the
  model's inputs; everything else (python scalars, dims, flags) is baked into the module;
* the golden is eager torch, the op's own semantics.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from conformance.cases import Built

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "float64": torch.float64, "int32": torch.int32,
           "int64": torch.int64, "bool": torch.bool, "int8": torch.int8, "uint8": torch.uint8, "int16": torch.int16}
DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}


@functools.lru_cache(maxsize=1)
def op_table() -> dict:
    """``{(name, variant_test_name): OpInfo}`` (importing op_db takes ~3 s and needs expecttest)."""
    from torch.testing._internal.common_methods_invocations import op_db
    return {(op.name, op.variant_test_name): op for op in op_db}


def warm_up() -> None:
    """Called by a worker that forks a child per conversion: every child then has op_db loaded."""
    op_table()


def samples(op, dtype: str, seed: int) -> list:
    """The op's samples at ``dtype``, drawn after seeding torch: the same list in any process."""
    torch.manual_seed(seed)
    make = op.reference_inputs if op.reference_inputs_func is not None else op.sample_inputs
    return list(make("cpu", _DTYPES[dtype], requires_grad=False))


class Slot:
    """Where the i-th model input goes back into a sample's call."""

    def __init__(self, index: int):
        self.index = index


def _extract(value, tensors: list):
    """``value`` with every tensor replaced by a Slot (the tensor appended to ``tensors``)."""
    if isinstance(value, torch.Tensor):
        tensors.append(value)
        return Slot(len(tensors) - 1)
    if isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
        return type(value)(_extract(v, tensors) for v in value)
    return value


def _fill(value, xs):
    if isinstance(value, Slot):
        return xs[value.index]
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Slot, list, tuple)) for v in value):
        return type(value)(_fill(v, xs) for v in value)
    return value


class OpInfoCall(torch.nn.Module):
    """forward(*tensors) calls the OpInfo's function with the sample's arguments."""

    def __init__(self, fn, sample):
        super().__init__()
        self.fn = fn
        tensors: list = []
        self.template = (_extract(sample.input, tensors), _extract(tuple(sample.args), tensors),
                         {k: _extract(v, tensors) for k, v in sample.kwargs.items()})
        self.tensors = tensors

    def forward(self, *xs):
        first, args, kwargs = self.template
        return self.fn(_fill(first, xs), *_fill(args, xs), **{k: _fill(v, xs) for k, v in kwargs.items()})


def signature(tensors) -> list:
    """The shapes and dtypes of a sample's tensors, as the manifest records them."""
    return [[list(t.shape), DTYPE_NAMES.get(t.dtype, str(t.dtype))] for t in tensors]


# ops whose index output torch leaves unspecified among equal values: topk (its docs promise no
# order), sort and argsort unless stable=True. ONNX TopK puts the lower index first, torch's CPU
# kernels do not always (topk of int64 (5, 10, 5), k=3: same values, other indices), so the case
# checks the values the indices select, which every valid order agrees on.
TIES_UNORDERED = {"topk", "sort", "argsort"}


def _sort_dim(name: str, sample) -> int:
    args, kwargs = sample.args, sample.kwargs
    position = 1 if name == "topk" else 0          # topk(x, k, dim), sort(x, dim), argsort(x, dim)
    if len(args) > position and isinstance(args[position], int) and not isinstance(args[position], bool):
        return args[position]
    return kwargs.get("dim", -1)


def comparable(op, sample):
    """The function a case calls: the OpInfo's own, or for TIES_UNORDERED ops one that returns the
    values its indices select in place of the indices."""
    if op.name not in TIES_UNORDERED or sample.kwargs.get("stable"):
        return op.op
    dim = _sort_dim(op.name, sample)

    def selected(x, *args, **kwargs):
        out = op.op(x, *args, **kwargs)
        if isinstance(out, torch.Tensor):          # argsort: indices only
            return torch.gather(x, dim, out)
        values, indices = out
        return values, torch.gather(x, dim, indices)
    return selected


def build(params: dict, seed: int) -> Built:
    op = op_table()[(params["opinfo"], params["variant"])]
    sample = samples(op, params["dtype"], params["sample_seed"])[params["sample"]]
    model = OpInfoCall(comparable(op, sample), sample)
    got = signature(model.tensors)
    if got != params["signature"]:
        raise RuntimeError(f"OpInfo {op.name!r} sample {params['sample']} at {params['dtype']} is not the one the "
                           f"manifest recorded ({got} != {params['signature']}): regenerate it with "
                           f"python -m suites.operators.opinfo_manifest")
    inputs = [t.detach().contiguous().numpy() for t in model.tensors]
    return Built(model=model, inputs=[np.asarray(x) for x in inputs])
