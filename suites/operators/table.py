"""The operator table's vocabulary: ``OpSpec``, ``Variant``, ``Call``, the input helpers
``T``/``X`` and ``op()``, which appends an entry to ``TABLE``.

The entries themselves live in ``specs`` (ops several frameworks share) and in
``specs_tensorflow`` / ``specs_paddle`` (the rest of each framework's op surface); all of them
only call ``op()``. In the spirit of PyTorch's OpInfo.

Attribute names in variants are canonical (``axis``, ``keepdims``, ``kernel`` ...); a
``Call`` renames them to the framework's keywords, drops those it has no keyword for, and a
variant may add literal framework keywords (``kw={"torch": {...}}``) where values differ.
Inputs marked ``layout="nc*"`` are channels-first; TensorFlow (whose CPU kernels want
channels-last) receives them with axis 1 moved last.
"""
from __future__ import annotations

from dataclasses import dataclass, field

FRAMEWORK_MODULES = {
    "torch": "suites.operators.torch_ops:build",
    "tensorflow": "suites.operators.tf_ops:build",
    "paddle": "suites.operators.paddle_ops:build",
}
FRAMEWORKS = tuple(FRAMEWORK_MODULES)       # the one framework list; its order is the case order

# Converter selection, per framework (a framework not named here runs on all its converters).
# torch-dynamo is slow to export (seconds per case): a variant runs on it only where it says
# ``converters=WITH_DYNAMO``.
TORCH_SCRIPT_ONLY = ("torch-script",)
TORCH_BOTH = ("torch-script", "torch-dynamo")
DEFAULT_CONVERTERS = {"torch": TORCH_SCRIPT_ONLY}
WITH_DYNAMO = {"torch": TORCH_BOTH}


@dataclass(frozen=True)
class Call:
    """How one framework calls the op.

    kind: ``fn``      target(*tensors, **kwargs)
          ``method``  tensors[0].target(*tensors[1:], **kwargs)
          ``module``  target(**kwargs) constructed once (parameters randomized, seeded), then called
          ``getitem`` tensors[0][slices] from the canonical ``slices`` attribute
          ``custom``  a builder function named ``custom`` in the framework module, given the
                      canonical attributes (conv, pool, norm, resize, rnn, attention ...)
    """

    target: str
    kind: str = "fn"
    rename: dict = field(default_factory=dict)    # canonical attribute -> framework keyword
    fixed: dict = field(default_factory=dict)     # keywords always passed
    drop: tuple = ()                              # canonical attributes with no keyword here
    names: tuple | None = None                    # pass tensors as these keywords
    packed: bool = False                          # pass tensors as one list (concat, stack)
    pre: tuple = ()                               # attributes passed positionally before tensors
    custom: str | None = None

    def resolve(self, attrs: dict, literal: dict) -> dict:
        kwargs = {self.rename.get(k, k): v for k, v in attrs.items() if k not in self.drop and k not in self.pre}
        kwargs.update(self.fixed)
        kwargs.update(literal)
        return {"target": self.target, "kind": self.kind, "kwargs": kwargs,
                "names": list(self.names) if self.names else None, "packed": self.packed,
                "pre": [attrs[k] for k in self.pre], "custom": self.custom}


@dataclass(frozen=True)
class Variant:
    id: str
    attrs: dict = field(default_factory=dict)
    inputs: tuple | None = None                   # overrides the spec's inputs
    only: tuple | None = None                     # frameworks this variant applies to
    kw: dict = field(default_factory=dict)        # framework -> literal framework keywords
    tolerance: dict = field(default_factory=dict)
    # framework -> the converters this variant runs on, over DEFAULT_CONVERTERS (WITH_DYNAMO ...)
    converters: dict = field(default_factory=dict)

    def literal(self, framework: str) -> dict:
        return self.kw.get(framework, {})

    def converters_for(self, framework: str) -> tuple | None:
        return {**DEFAULT_CONVERTERS, **self.converters}.get(framework)


@dataclass(frozen=True)
class OpSpec:
    name: str
    onnx: tuple
    inputs: tuple
    variants: tuple
    calls: dict                                   # framework -> Call
    tolerance: dict = field(default_factory=dict)
    min_opset: int | None = None
    notes: str = ""

    def call(self, framework: str) -> Call | None:
        return self.calls.get(framework)

    def frameworks(self) -> list[str]:
        return [fw for fw in FRAMEWORKS if fw in self.calls]


def T(*shape, dtype="float32", domain="normal", layout=None, **kw) -> dict:
    """One sample input: shape, dtype and value domain (see samples.draw)."""
    spec = {"shape": list(shape), "dtype": dtype, "domain": domain}
    if layout:
        spec["layout"] = layout
    spec.update(kw)
    return spec


def X(*shape, **kw) -> dict:
    """A channels-first activation (conv, pool, norm, resize inputs)."""
    return T(*shape, layout="nc*", **kw)


V = Variant
TABLE: list[OpSpec] = []


def op(name, onnx, inputs, variants=None, *, calls, tol=None, min_opset=None, notes=""):
    """One table entry; ``calls`` maps each framework that has the op to its ``Call``."""
    unknown = set(calls) - set(FRAMEWORKS)
    if unknown:
        raise ValueError(f"{name}: unknown frameworks {sorted(unknown)} (known: {FRAMEWORKS})")
    if isinstance(onnx, str):
        onnx = (onnx,)
    variants = tuple(variants) if variants else (V("default"),)
    TABLE.append(OpSpec(name, tuple(onnx), tuple(inputs), variants, dict(calls), dict(tol or {}), min_opset, notes))


def fn(target, **kw) -> Call:
    return Call(target, **kw)


def custom(name, target) -> Call:
    """A framework builder function ``name``; ``target`` documents the framework API it uses."""
    return Call(target, kind="custom", custom=name)


def custom_op(name, onnx, inputs, variants, builder, apis, frameworks=FRAMEWORKS, **kw):
    """An op that each of ``frameworks`` builds with its builder ``builder`` (``apis``: the
    framework API each one uses, for the reader)."""
    op(name, onnx, inputs, variants, calls={fw: custom(builder, apis[fw]) for fw in frameworks}, **kw)


TORCH_DIM = {"axis": "dim", "keepdims": "keepdim"}
PADDLE_DIM = {"keepdims": "keepdim"}
