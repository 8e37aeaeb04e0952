"""Model inputs: what a graph declares, seeded random inputs, ``NAME=DxD`` shapes, npz files.

The one place inputs are generated from a seed: ``check``, the benchmarks, the optimizer's
precision comparison, the reference benchmark and the model-file loaders all call
``random_array`` / ``random_inputs``. Floats are N(0, 1), integers uniform in
``[0, int_high)`` (10 by default), bools fair coins; every draw comes from one
``numpy.random.Generator`` in input order, so the same seed gives the same inputs.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import onnx
from onnx import helper

from .errors import ConformanceError

DEFAULT_SEED = 0
DEFAULT_INT_HIGH = 10
DRAWABLE_KINDS = "fciub"     # numpy dtype kinds random_array draws


class InvalidInputs(ConformanceError):
    """Inputs (or shapes for them) that do not fit the model."""


@dataclass(frozen=True)
class InputSpec:
    """A graph input: its numpy dtype and dims (int, a symbolic name, or None for unknown);
    ``dims`` is None when the rank itself is unknown."""
    name: str
    dtype: np.dtype
    dims: tuple | None

    @property
    def dynamic(self) -> bool:
        return self.dims is None or any(not isinstance(d, int) for d in self.dims)

    @property
    def dynamic_batch(self) -> bool:
        return bool(self.dims) and not isinstance(self.dims[0], int)

    def shape_text(self) -> str:
        if self.dims is None:
            return "unknown rank"
        return "x".join(str(d) if isinstance(d, int) else "?" for d in self.dims) or "scalar"


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The graph's real inputs (initializers listed as inputs are not)."""
    initializers = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def input_spec(value: onnx.ValueInfoProto) -> InputSpec:
    """The dtype and dims of a tensor input; InvalidInputs for anything else."""
    t = value.type
    if not t.HasField("tensor_type") or not t.tensor_type.elem_type:
        raise InvalidInputs(f"input {value.name!r} is not a typed tensor; this command feeds tensors only")
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(t.tensor_type.elem_type))
    except Exception:
        raise InvalidInputs(f"input {value.name!r} has element type "
                            f"{onnx.TensorProto.DataType.Name(t.tensor_type.elem_type)} with no numpy equivalent",
                            fix="pass --inputs with arrays of that type") from None
    if not t.tensor_type.HasField("shape"):
        return InputSpec(value.name, dtype, None)
    dims = tuple(int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or None)
                 for d in t.tensor_type.shape.dim)
    return InputSpec(value.name, dtype, dims)


def input_specs(model: onnx.ModelProto) -> list[InputSpec]:
    return [input_spec(v) for v in graph_inputs(model)]


def parse_shapes(specs: Iterable[str] | Mapping[str, Sequence[int]] | None) -> dict[str, tuple[int, ...]]:
    """``["x=1x3x224x224", ...]`` (or a mapping) -> {name: shape}."""
    if not specs:
        return {}
    if isinstance(specs, Mapping):
        return {k: tuple(int(d) for d in v) for k, v in specs.items()}
    shapes = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        try:
            shape = tuple(int(d) for d in dims.lower().split("x")) if dims.strip() else ()
        except ValueError:
            shape = None
        if not sep or not name or shape is None or any(d < 0 for d in shape):
            raise InvalidInputs(f"--shape {spec!r} is not NAME=DxDxD", fix="e.g. --shape input=1x3x224x224")
        shapes[name] = shape
    return shapes


def check_shape(spec: InputSpec, shape: Sequence[int], what: str) -> None:
    """InvalidInputs when ``shape`` does not fit what the model declares for ``spec``."""
    if spec.dims is None:
        return
    if len(shape) != len(spec.dims) or any(isinstance(d, int) and d != s for d, s in zip(spec.dims, shape)):
        raise InvalidInputs(f"{what} {spec.name!r} has shape {tuple(shape)}, the model declares [{spec.shape_text()}]")


def concrete_shape(spec: InputSpec, shapes: Mapping[str, Sequence[int]], fill: int | Sequence[int] | None = None
                   ) -> tuple[int, ...]:
    """The shape to draw for ``spec``: ``shapes[name]`` when given (checked against the model),
    else the declared dims with each dynamic one set to ``fill`` (an int, or one value per
    position); with ``fill=None`` a dynamic input without a given shape is InvalidInputs."""
    if spec.name in shapes:
        shape = tuple(int(d) for d in shapes[spec.name])
        check_shape(spec, shape, "--shape for input")
        return shape
    if spec.dynamic and (fill is None or spec.dims is None):
        dims = spec.dims or (1,)
        raise InvalidInputs(f"input {spec.name!r} has dynamic dimensions ({spec.shape_text()})",
                            fix=f"pass --shape {spec.name}=" + "x".join(
                                str(d) if isinstance(d, int) else "1" for d in dims))
    fills = [fill] * len(spec.dims) if isinstance(fill, int) or fill is None else list(fill)
    return tuple(d if isinstance(d, int) else int(fills[k]) for k, d in enumerate(spec.dims))


def random_array(rng: np.random.Generator, dtype, shape: Sequence[int], int_high: int = DEFAULT_INT_HIGH
                 ) -> np.ndarray:
    """One seeded array: floats and complex N(0, 1), integers in [0, int_high), bools fair coins."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    if dtype.kind in "fc":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind in "iu":
        return rng.integers(0, int_high, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    raise InvalidInputs(f"inputs of dtype {dtype} cannot be drawn at random", fix="pass --inputs INPUTS.npz")


def random_inputs(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]] | None = None,
                  seed: int | np.random.Generator = DEFAULT_SEED, *, fill: int | Sequence[int] | None = None,
                  int_high: int = DEFAULT_INT_HIGH) -> dict[str, np.ndarray]:
    """Seeded inputs from the model's input types (see ``random_array``). A dynamic dimension
    takes ``shapes[name]``, else ``fill`` (see ``concrete_shape``). ``seed`` may be a Generator
    to draw several input sets from one stream."""
    shapes = dict(shapes or {})
    specs = input_specs(model)
    names = [s.name for s in specs]
    unknown = sorted(set(shapes) - set(names))
    if unknown:
        raise InvalidInputs(f"--shape names {unknown} are not inputs of the model; inputs: {names}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    feeds = {}
    for spec in specs:
        shape = concrete_shape(spec, shapes, fill)
        if spec.dtype.kind not in DRAWABLE_KINDS:
            raise InvalidInputs(f"input {spec.name!r} of dtype {spec.dtype} cannot be drawn at random",
                                fix="pass --inputs INPUTS.npz")
        feeds[spec.name] = random_array(rng, spec.dtype, shape, int_high)
    return feeds


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def load_npz(path, what: str) -> dict[str, np.ndarray]:
    """The arrays of an .npz archive by name; InvalidInputs for a missing or unreadable file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputs(f"{what} file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise InvalidInputs(f"{what} file {path} is a single array, not an .npz archive",
                                    fix="save with numpy.savez(path, name=array, ...)")
            return {k: data[k] for k in data.files}
    except InvalidInputs:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InvalidInputs(f"{what} file {path} is not a readable .npz ({_first_line(exc)})") from None


def save_npz(path, arrays: Mapping[str, np.ndarray]) -> Path:
    path = Path(path)
    np.savez(path, **{name: np.asarray(a) for name, a in arrays.items()})
    return path


def by_name(arrays: Mapping[str, np.ndarray] | Sequence[np.ndarray], names: list[str], what: str) -> dict:
    """Map arrays to ``names``: by key, or by position (a list, or npz keys arr_0, arr_1...)."""
    if not isinstance(arrays, Mapping):
        arrays = {f"arr_{i}": a for i, a in enumerate(arrays)}
    keys = list(arrays)
    if set(keys) == set(names):
        return {n: np.asarray(arrays[n]) for n in names}
    positional = [f"arr_{i}" for i in range(len(names))]
    if sorted(keys) == sorted(positional):
        return {n: np.asarray(arrays[p]) for n, p in zip(names, positional)}
    missing, extra = sorted(set(names) - set(keys)), sorted(set(keys) - set(names))
    raise InvalidInputs(f"{what} do not match the model: missing {missing}, unexpected {extra}",
                        fix=f"name the arrays {names}")


def validate_inputs(model: onnx.ModelProto, inputs) -> dict[str, np.ndarray]:
    """User-given inputs by name, each checked against the model's declared dtype and shape."""
    specs = input_specs(model)
    feeds = by_name(inputs, [s.name for s in specs], "inputs")
    for spec in specs:
        array = feeds[spec.name]
        if array.dtype != spec.dtype:
            raise InvalidInputs(f"input {spec.name!r} is {array.dtype}, the model expects {spec.dtype}",
                                fix=f"convert it with .astype('{spec.dtype}')")
        check_shape(spec, array.shape, "input")
    return feeds
