"""What the ONNX schemas say about an op: the opset versions where it changed (within the
opsets the targets accept), its inputs and outputs, and the numpy types its type constraints
allow. Read from ``onnx.defs`` so the suite follows the installed onnx, not a hand copy."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import defs

#: opsets of the default domain the suite writes models at: 7 is the oldest onnxruntime runs
#: every op of; the newest is the installed onnx's (onnxruntime 1.32 loads models up to it)
MIN_OPSET = 7
MAX_OPSET = defs.onnx_opset_version()
NEGATIVE_INDICES_OPSET = 11

#: the ai.onnx opset a model of a non-default domain version imports beside it (the ONNX
#: release that introduced that domain version)
COMPANION_OPSET = {"ai.onnx.ml": {1: 11, 2: 11, 3: 16, 4: 19, 5: 21}, "ai.onnx.preview.training": {1: 12}}

#: schema type strings numpy can represent, and the numpy dtype of each
NUMPY_TYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(int8)": "int8", "tensor(int16)": "int16", "tensor(int32)": "int32", "tensor(int64)": "int64",
    "tensor(uint8)": "uint8", "tensor(uint16)": "uint16", "tensor(uint32)": "uint32", "tensor(uint64)": "uint64",
    "tensor(bool)": "bool", "tensor(string)": "object",
}


@dataclass(frozen=True)
class Param:
    """One formal input or output: its name, its type parameter (``T``) or literal type, and
    whether it is optional or variadic."""
    name: str
    type_str: str
    optional: bool
    variadic: bool


@dataclass(frozen=True)
class Signature:
    op: str
    domain: str
    version: int
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    types: dict                 # type parameter -> numpy dtype names it allows (representable ones)
    doc: str

    def dtypes_of(self, type_str: str) -> tuple[str, ...]:
        """numpy dtypes an input typed ``type_str`` (a parameter or a literal type) may have."""
        if type_str in self.types:
            return self.types[type_str]
        return (NUMPY_TYPES[type_str],) if type_str in NUMPY_TYPES else ()


def _param(formal) -> Param:
    option = formal.option
    return Param(formal.name, formal.type_str, option == defs.OpSchema.FormalParameterOption.Optional,
                 option == defs.OpSchema.FormalParameterOption.Variadic)


def _numpy_type(type_str: str) -> str | None:
    """The numpy dtype of a tensor type, or of the tensors in a sequence or optional type."""
    for wrapper in ("seq(", "optional("):
        if type_str.startswith(wrapper):
            return _numpy_type(type_str[len(wrapper):-1])
    return NUMPY_TYPES.get(type_str)


@functools.lru_cache(maxsize=None)
def signature(op: str, version: int, domain: str = "") -> Signature:
    schema = defs.get_schema(op, version, domain)
    types = {c.type_param_str: tuple(dict.fromkeys(_numpy_type(t) for t in c.allowed_type_strs if _numpy_type(t)))
             for c in schema.type_constraints}
    return Signature(op, domain, schema.since_version, tuple(map(_param, schema.inputs)),
                     tuple(map(_param, schema.outputs)), types, schema.doc or "")


@functools.lru_cache(maxsize=None)
def versions(op: str, domain: str = "") -> tuple[int, ...]:
    """The op's since-versions a model can be written at here: for the default domain those in
    MIN_OPSET..MAX_OPSET, with the one in force at MIN_OPSET written at MIN_OPSET; for other
    domains every version."""
    history = sorted({s.since_version for s in defs.get_all_schemas_with_history()
                      if s.name == op and s.domain == domain and not s.deprecated})
    if domain:
        return tuple(history)
    floor = [v for v in history if v <= MIN_OPSET]
    inside = [v for v in history if MIN_OPSET < v <= MAX_OPSET]
    kept, last = [], None
    for version in ([MIN_OPSET] if floor else []) + inside:
        shape = _testable_shape(op, version, domain)
        # a version that only adds types numpy lacks tests nothing new; opset 11 is kept even
        # when its signature is unchanged: it gave negative axes and indices their meaning
        if shape != last or version == NEGATIVE_INDICES_OPSET:
            kept.append(version)
        last = shape
    return tuple(kept)


def _testable_shape(op: str, version: int, domain: str):
    """What a numpy-fed test can see of a version: its formal parameters, representable types
    and attributes with their defaults."""
    schema = defs.get_schema(op, version, domain)
    sig = signature(op, version, domain)
    attrs = tuple(sorted((name, str(a.default_value)) for name, a in schema.attributes.items()))
    return sig.inputs, sig.outputs, tuple(sorted(sig.types.items())), attrs


def opset_imports(domain: str, version: int) -> list:
    """The opset imports of a model holding this op at this version."""
    if not domain:
        return [onnx.helper.make_opsetid("", version)]
    return [onnx.helper.make_opsetid("", COMPANION_OPSET[domain][version]), onnx.helper.make_opsetid(domain, version)]


def tensor_type(dtype) -> int:
    """The TensorProto element type of a numpy dtype (object arrays hold strings)."""
    dtype = np.dtype(dtype)
    return onnx.TensorProto.STRING if dtype == object else onnx.helper.np_dtype_to_tensor_dtype(dtype)
