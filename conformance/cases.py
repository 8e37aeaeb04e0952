"""Cases: the declarative spec that crosses process boundaries, and what a builder returns.

A ``CaseSpec`` is plain, picklable, JSON-able data: which builder (``"module:function"``) to
call in the framework's worker process, with which parameters. The builder returns a
``Built``: the framework model, its sample inputs and how to export it. Nothing here imports
a framework.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import numpy as np

FRAMEWORKS = ("torch", "tensorflow", "paddle")
# A case's dynamic-shape twin: exported with its free axes declared dynamic and run at the export
# shape and at an unseen one. Its variant ends in DYNAMIC_TAG, it carries the DYNAMIC marker.
DYNAMIC = "dynamic"
DYNAMIC_TAG = "+dyn"
# the unseen size of a free axis: the export size grown by an odd step, so parity changes too
# (SAME pads and ceil-mode windows depend on it)
UNSEEN_GROWTH = 3


def seed_for(text: str) -> int:
    """Deterministic 31-bit seed derived from a case id (same id, same draws, any process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class CaseSpec:
    kind: str                    # op | padding | semantics | arch | model
    name: str                    # op spec name or architecture name
    framework: str               # torch | tensorflow | paddle
    builder: str                 # "package.module:function", called as builder(params, seed) in the worker
    params: dict = field(default_factory=dict)   # JSON-able
    variant: str = "default"     # the readable tail of the id: "stride2-pad1-groups2"
    op: str | None = None
    arch: str | None = None
    # restrict to these ONNX exporters (None: all for the framework); converters to other formats
    # run on it whenever --converter names them
    converters: tuple[str, ...] | None = None
    min_opset: int | None = None
    # the one opset the case's model is written at (backend node cases): it runs at that opset
    # only, and --opset selects among such cases instead of re-targeting them
    opset: int | None = None
    tolerance: dict = field(default_factory=dict)  # rtol/atol/rule overrides for this case
    marks: tuple[str, ...] = ()

    @property
    def base_id(self) -> str:
        return f"{self.kind}/{self.name}/{self.framework}"

    @property
    def seed(self) -> int:
        # independent of converter, opset and target: every converter sees the same inputs
        return seed_for(f"{self.base_id}/{self.variant}")

    def case_id(self, converter: str, opset: int, target: str) -> str:
        return f"{self.base_id}/{converter}/opset{opset}/{target}/{self.variant}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["converters"] = list(self.converters) if self.converters is not None else None
        data["marks"] = list(self.marks)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CaseSpec":
        data = dict(data)
        if data.get("converters") is not None:
            data["converters"] = tuple(data["converters"])
        data["marks"] = tuple(data.get("marks") or ())
        return cls(**data)

    def fingerprint(self) -> str:
        """Content hash of everything that determines the converted model and its inputs."""
        payload = json.dumps({"builder": self.builder, "params": self.params, "seed": self.seed,
                              "framework": self.framework, "id": self.base_id, "variant": self.variant},
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


def twin_sizes(size: int) -> tuple[int, int]:
    """(export size, unseen size) of a free axis of sample size ``size``: torch.export
    specializes size-1 dimensions, so the export example has at least 2."""
    export = max(int(size), 2)
    return export, export + UNSEEN_GROWTH


def twin_shapes(shape, axes) -> tuple[list[int], list[int]]:
    """(export shape, unseen shape) of a sample shape whose ``axes`` are free (``twin_sizes``)."""
    export, unseen = [int(d) for d in shape], [int(d) for d in shape]
    for axis in axes:
        export[axis], unseen[axis] = twin_sizes(shape[axis])
    return export, unseen


def dynamic_twin(spec: CaseSpec, params: dict) -> CaseSpec:
    """``spec``'s dynamic-shape twin with ``params`` (its inputs at the export shape and what its
    builder needs for the unseen shape): variant tagged ``+dyn``, marker ``dynamic``."""
    return replace(spec, params=params, variant=spec.variant + DYNAMIC_TAG, marks=(*spec.marks, DYNAMIC))


def is_dynamic_twin(spec: CaseSpec) -> bool:
    return DYNAMIC in spec.marks


def twin_origin(spec: CaseSpec) -> CaseSpec:
    """The case a dynamic twin was made from (by id: its params are not restored)."""
    return replace(spec, variant=spec.variant.removesuffix(DYNAMIC_TAG),
                   marks=tuple(m for m in spec.marks if m != DYNAMIC))


def changed_axes(sample: list[np.ndarray], unseen: list[np.ndarray]) -> list[tuple[int, ...]]:
    """Per input, the axes on which the unseen input set's shape differs from the sample's."""
    if len(sample) != len(unseen) or any(np.ndim(a) != np.ndim(b) for a, b in zip(sample, unseen)):
        raise ValueError(f"an unseen input set must have the sample's inputs and ranks: "
                         f"{[np.shape(a) for a in sample]} vs {[np.shape(b) for b in unseen]}")
    return [tuple(i for i, (m, n) in enumerate(zip(np.shape(a), np.shape(b))) if m != n)
            for a, b in zip(sample, unseen)]


def axis_symbol(axis: int) -> str:
    """The symbolic name of a dynamic axis (inputs growing on the same axis share it)."""
    return "batch" if axis == 0 else f"dim{axis}"


@dataclass
class Built:
    """What a builder returns, inside the framework's worker process."""

    model: Any                                   # torch.nn.Module / keras.Model / paddle.nn.Layer / callable
    inputs: list[np.ndarray]                     # sample inputs, in call order
    input_names: list[str] | None = None
    output_names: list[str] | None = None
    # input name -> {axis: symbolic name}; converters export these axes as dynamic
    dynamic_axes: dict[str, dict[int, str]] | None = None
    # further input sets run through the same conversion (dynamic shapes)
    extra_inputs: list[list[np.ndarray]] = field(default_factory=list)
    # source-side execution override: run(model, inputs) -> list of arrays
    run: Callable[[Any, list[np.ndarray]], list[np.ndarray]] | None = None
    # expected output shapes per input set, asserted besides values (None: not asserted)
    expected_shapes: list[list[tuple]] | None = None
    # hand-computed expected outputs (semantics/padding cases); compared as well as the source
    expected: list[np.ndarray] | None = None
    # anything a converter needs that is framework specific (e.g. keras input signature)
    options: dict = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.input_names) if self.input_names else [f"input_{i}" for i in range(len(self.inputs))]

    def with_unseen_inputs(self, unseen: list[np.ndarray], shapes: list[tuple] | None = None) -> "Built":
        """This model exported with the axes on which ``unseen`` differs from the sample declared
        dynamic, and run on ``unseen`` as a further input set (``shapes``: its expected output
        shapes, where the sample's are asserted)."""
        axes = changed_axes(self.inputs, unseen)
        self.dynamic_axes = {name: {a: axis_symbol(a) for a in changed}
                             for name, changed in zip(self.names(), axes) if changed}
        self.extra_inputs = [list(unseen)]
        if self.expected_shapes is not None and shapes is not None:
            self.expected_shapes = [self.expected_shapes[0], [tuple(s) for s in shapes]]
        return self


@dataclass
class Conversion:
    """What comes back from a worker: plain data only."""

    # ok | unsupported | error | skipped (a dynamic twin whose source refuses the unseen shape)
    status: str
    message: str = ""
    # the converted model: ONNX bytes, or a conformance.formats.Package's bytes for other formats
    artifact: bytes | None = None
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    input_sets: list[list[np.ndarray]] = field(default_factory=list)    # [0] is the main sample
    golden_sets: list[list[np.ndarray]] = field(default_factory=list)   # source framework's outputs per set
    expected: list[np.ndarray] | None = None
    expected_shapes: list[list[tuple]] | None = None
    seconds: dict = field(default_factory=lambda: {"build": 0.0, "convert": 0.0})
    versions: dict = field(default_factory=dict)
    cached: bool = False
    error_type: str = ""                         # class name of the exception behind an error status
    format: str = "onnx"                         # the artifact's format (conformance.formats)
    # the arithmetic the converter stored the model in: "fp32", or what it quantized to
    # ("fp16-weights", "int8"); a quantized model is judged at metric level (conformance.judge)
    precision: str = "fp32"

    def input_set_label(self, i: int) -> str:
        """How a record names input set ``i``: the sample, or a further set with its shapes."""
        return "sample" if i == 0 else f"input set {i} {[tuple(np.shape(a)) for a in self.input_sets[i]]}"

    @property
    def onnx_bytes(self) -> bytes | None:
        """The ONNX model's bytes; None when the artifact is in another format."""
        return self.artifact if self.format == "onnx" else None
