"""Cases: the declarative spec that crosses process boundaries, and what a builder returns.

A ``CaseSpec`` is plain, picklable, JSON-able data: which builder (``"module:function"``) to
call in the framework's worker process, with which parameters. The builder returns a
``Built``: the framework model, its sample inputs and how to export it. Nothing here imports
a framework.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

FRAMEWORKS = ("torch", "tensorflow", "paddle")


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


@dataclass
class Conversion:
    """What comes back from a worker: plain data only."""

    status: str                                  # ok | unsupported | error
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

    @property
    def onnx_bytes(self) -> bytes | None:
        """The ONNX model's bytes; None when the artifact is in another format."""
        return self.artifact if self.format == "onnx" else None
