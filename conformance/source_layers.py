"""Source-layer localisation: the first SOURCE layer (torch module, Keras layer, Paddle layer)
whose ONNX counterpart computes something else.

One of three diagnoses of a failed case, each in its own module:

* ``conformance.blame``: whose fault (target or converter), from a second opinion;
* ``conformance.divergent_node``: the first divergent ONNX node, when the target is at fault;
* ``conformance.source_layers`` (this module): the first divergent source layer, when the
  converter is at fault -- the converted graph itself computes something else.

How: every ONNX value is evaluated on the sample feeds, ONNX nodes are grouped by the source
layer they came from, and the source layers are walked in execution order, comparing each
layer's intermediate output (``converters.intermediates.source_intermediates``, collected in the
framework worker) with the ONNX values that leave that layer's group of nodes.

Which node belongs to which layer is the exporter's business: each converter answers through
its hooks ``Converter.source_scopes(node)`` and ``Converter.layer_groups(graph, intermediates)``
(``converters/base.py``; torch-script and tf2onnx read scope paths in node names, the dynamo
exporter its ``name_scopes`` metadata, paddle2onnx its value names). This module only resolves
the names those hooks give against the source's layer names.

Fusions: exporters fold BatchNorm into the preceding Conv, so the ONNX value leaving ``conv1``
is the source's ``bn1`` output. A layer whose ONNX value matches a *later* layer's source
output is treated as fused, not divergent. Layouts: Keras is NHWC while tf2onnx computes
convolutions in NCHW, so values are compared up to a transpose when the shapes are a
permutation of each other (and up to size-1 axes, e.g. ONNX LSTM's ``num_directions`` axis).

Nothing here imports a framework.
"""
from __future__ import annotations

import functools
import itertools
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

import converters
from converters.intermediates import CALLS_KEY

from .reference.executor import ReferenceExecutor

_SUFFIX = re.compile(r"_\d+$")
# Intermediate values are compared more loosely than final outputs: the verdict on the outputs
# already used the case's tolerance; here we only separate "the same computation" from "a
# different one", and a 1e-4 relative drift over a deep stack is rounding, not a bug.
MIN_RTOL = 1e-4
MIN_ATOL_SCALE = 1e-4
# converters whose naming hooks are asked, first answer wins, when the caller names no converter
_BUILTIN_NAMINGS = ("torch-dynamo", "torch-script", "tf2onnx", "paddle2onnx")


@dataclass
class SourceDivergence:
    module: str                         # source module / layer name (torch qualified name, keras layer name)
    onnx_value: str                     # the ONNX value compared with the module's output
    onnx_nodes: list[str]               # the ONNX nodes attributed to the module (first few)
    source_shape: tuple
    onnx_shape: tuple
    source_stats: dict
    onnx_stats: dict
    max_abs: float
    max_rel: float
    layout: str = ""                    # "transpose(0, 2, 3, 1)" when compared up to a permutation
    output_index: int = 0               # which output of the module (0 for single-output modules)
    agreeing_before: int = 0            # modules checked and found equal before this one
    skipped: list[str] = field(default_factory=list)   # modules that could not be compared
    # neighbouring modules with no ONNX nodes of their own: the exporter folded them into this
    # one (Conv+BatchNorm), so the divergence may sit in either
    fused_with: list[str] = field(default_factory=list)
    # set when the layer agrees within the intermediate tolerance but not within this multiple of
    # the float32 noise floor of its ONNX value (a small, systematic divergence: gelu's tanh form
    # exported as erf)
    noise_multiple: float | None = None
    noise_floor: float | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["source_shape"] = list(self.source_shape)
        data["onnx_shape"] = list(self.onnx_shape)
        data["skipped"] = self.skipped[:20]
        return data

    def __str__(self) -> str:
        def fmt(s):
            return (f"mean={s['mean']:.4g} std={s['std']:.4g} min={s['min']:.4g} max={s['max']:.4g}")
        out = f" output {self.output_index}" if self.output_index else ""
        lay = f" ({self.layout})" if self.layout else ""
        fused = f" (exported fused with {', '.join(repr(m) for m in self.fused_with)})" if self.fused_with else ""
        return (f"source module '{self.module}'{out}{fused} differs from ONNX value '{self.onnx_value}'{lay} "
                f"[max_abs={self.max_abs:.4g} max_rel={self.max_rel:.4g}; "
                f"source {tuple(self.source_shape)} {fmt(self.source_stats)}; "
                f"onnx {tuple(self.onnx_shape)} {fmt(self.onnx_stats)}; "
                f"{self.agreeing_before} earlier modules agree{self._floor_note()}]")

    def _floor_note(self) -> str:
        if self.noise_multiple is None:
            return ""
        return (f"; within the intermediate tolerance but over {self.noise_multiple:g} x the float32 noise floor "
                f"{self.noise_floor:.3g} of that value")


def stats(a: np.ndarray) -> dict:
    a = np.asarray(a, dtype=np.float64)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return {"mean": float("nan"), "std": float("nan"), "min": float("nan"), "max": float("nan"),
                "nonfinite": int(a.size)}
    return {"mean": float(finite.mean()), "std": float(finite.std()), "min": float(finite.min()),
            "max": float(finite.max()), "nonfinite": int(a.size - finite.size)}


# ------------------------------------------------------------------------------ node -> layer
class AnyExporterNaming:
    """The naming hooks of several converters at once, for a model whose exporter the caller
    does not name: the first converter that answers wins."""

    def __init__(self, namings):
        self.namings = list(namings)

    def source_scopes(self, node) -> list[str]:
        for naming in self.namings:
            scopes = naming.source_scopes(node)
            if scopes:
                return scopes
        return []

    def layer_groups(self, graph, intermediates) -> dict[str, list]:
        for naming in self.namings:
            groups = naming.layer_groups(graph, intermediates)
            if groups:
                return groups
        return {}


@functools.lru_cache(maxsize=1)
def builtin_naming() -> AnyExporterNaming:
    return AnyExporterNaming(converters.get_converter(name) for name in _BUILTIN_NAMINGS
                             if name in converters.CONVERTERS)


def scope_candidates(node, naming=None) -> list[str]:
    """Module-name candidates a node carries, innermost first: ``naming.source_scopes(node)``
    (a ``Converter``), or every built-in exporter's answer when ``naming`` is None."""
    return (naming or builtin_naming()).source_scopes(node)


def _resolve(candidate: str, known: Mapping[str, Any]) -> str | None:
    if candidate in known:
        return candidate
    stripped = _SUFFIX.sub("", candidate)          # second call of a module / keras scope suffix
    if stripped != candidate and stripped in known:
        return stripped
    # "layer1.0.relu_1" -> "layer1.0.relu"
    head, _, tail = candidate.rpartition(".")
    if head:
        stripped = f"{head}.{_SUFFIX.sub('', tail)}"
        if stripped in known:
            return stripped
    return None


def module_groups(graph, known: Mapping[str, Any], naming=None) -> dict[str, list]:
    """module name -> the nodes inside it (its own and its descendants'), in graph order."""
    groups: dict[str, list] = {}
    for node in graph.node:
        seen = set()
        for cand in scope_candidates(node, naming):
            name = _resolve(cand, known)
            if name is not None and name not in seen:
                seen.add(name)
                groups.setdefault(name, []).append(node)
    return groups


def layer_groups(graph, intermediates: Mapping[str, list], naming=None) -> dict[str, list]:
    """Source layer -> its ONNX nodes: by the nodes' scopes, else by the exporter's own grouping."""
    naming = naming or builtin_naming()
    return module_groups(graph, intermediates, naming) or naming.layer_groups(graph, intermediates) or {}


def boundary_values(nodes, graph) -> list[str]:
    """Values produced inside a node group and consumed outside it (or graph outputs)."""
    inside = {id(n) for n in nodes}
    produced = [o for n in nodes for o in n.output if o]
    consumed_outside = set(graph_output.name for graph_output in graph.output)
    for node in graph.node:
        if id(node) not in inside:
            consumed_outside.update(node.input)
    return [v for v in produced if v in consumed_outside]


# ------------------------------------------------------------------------------ comparison
def aligned(value: np.ndarray, like: np.ndarray):
    """Yield (view of ``value`` shaped like ``like``, layout description)."""
    value = np.asarray(value)
    if value.size != like.size:
        return
    identity = tuple(range(value.ndim))
    if value.shape == like.shape:
        yield value, ""
    else:
        squeezed_v = tuple(d for d in value.shape if d != 1)
        squeezed_l = tuple(d for d in like.shape if d != 1)
        if squeezed_v == squeezed_l:
            yield value.reshape(like.shape), f"reshape {value.shape}->{like.shape}"
            return
    # equal shapes can still hide a layout change (NCHW vs NHWC with H == W == C)
    if value.ndim == like.ndim and 2 < value.ndim <= 5 and sorted(value.shape) == sorted(like.shape):
        for perm in itertools.permutations(range(value.ndim)):
            if perm != identity and tuple(value.shape[p] for p in perm) == like.shape:
                yield value.transpose(perm), f"transpose{perm}"


def _errors(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """(max abs, max rel) error; elements NaN on both sides count as equal."""
    a = actual.astype(np.float64)
    b = expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(a - b)
        d = np.where(np.isnan(a) & np.isnan(b), 0.0, d)
        max_abs = float(np.nanmax(d)) if d.size else 0.0
        rel = d / np.maximum(np.abs(b), np.finfo(np.float64).eps)
        max_rel = float(np.nanmax(rel)) if d.size else 0.0
    return max_abs, max_rel


def _close(actual, expected, rtol: float, atol: float, minimum: bool = True) -> bool:
    """Within atol + rtol * |expected|; ``minimum``: at least the intermediate tolerance
    (``MIN_RTOL``, ``MIN_ATOL_SCALE``)."""
    a = actual.astype(np.float64)
    b = expected.astype(np.float64)
    scale = float(np.max(np.abs(b[np.isfinite(b)]))) if np.isfinite(b).any() else 0.0
    if minimum:
        atol, rtol = max(atol, MIN_ATOL_SCALE * max(1.0, scale)), max(rtol, MIN_RTOL)
    bound = atol + rtol * np.abs(b)
    with np.errstate(invalid="ignore"):
        ok = (np.abs(a - b) <= bound) | (np.isnan(a) & np.isnan(b)) | (a == b)
    return bool(ok.all())


_PLUMBING = {"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Reshape", "Slice",
             "ConstantOfShape", "Expand", "Identity", "Range", "Size"}


def _main_nodes(nodes, limit: int = 8) -> list[str]:
    """The group's computing nodes first (a report naming an LSTM should show the LSTM node)."""
    ordered = [n for n in nodes if n.op_type not in _PLUMBING] + [n for n in nodes if n.op_type in _PLUMBING]
    return [f"{n.name or '?'} ({n.op_type})" for n in ordered[:limit]]


def _is_float(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind in "fc" and a.size > 0


def evaluate_all(model, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every value of the graph on ``feeds``: the reference executor, else onnx's evaluator."""
    try:
        return dict(ReferenceExecutor(model).run_all(dict(feeds)))
    except Exception as first:   # an op the executor lacks: fall back rather than give up
        try:
            return dict(ReferenceEvaluator(model).run(None, dict(feeds), intermediate=True))
        except Exception:
            raise first from None


# ------------------------------------------------------------------------------ the walk
@dataclass
class Mismatch:
    """The ONNX value closest to one output of a source layer that it does not match."""
    max_abs: float
    max_rel: float
    output_index: int
    onnx_value: str
    view: np.ndarray                    # the ONNX value aligned to the source output's shape
    layout: str


@dataclass
class LayerComparison:
    """One source layer's outputs against the ONNX values leaving its node group."""
    compared: bool = False              # some output had an ONNX value of a compatible size
    worst: Mismatch | None = None       # the first output no ONNX value matches
    used: set[str] = field(default_factory=set)          # ONNX values that matched an output
    no_candidate: list[int] = field(default_factory=list)  # outputs with no value of that size


@dataclass
class Walk:
    """What the walk over the source layers compares: the graph's values and the source's."""
    graph: Any
    values: Mapping[str, np.ndarray]
    intermediates: Mapping[str, list]
    groups: dict[str, list]
    order: list[str]
    rtol: float
    atol: float
    agreeing: int = 0
    skipped: list[str] = field(default_factory=list)
    # the floor pass: ONNX value -> its float32 noise floor, and the multiple a layer may reach
    floors: Mapping[str, float] | None = None
    multiple: float = 16.0

    def close(self, view: np.ndarray, src: np.ndarray, vname: str) -> bool:
        """Does this ONNX value (aligned) match the source output: within the intermediate
        tolerance, or, in the floor pass, within ``multiple`` x the value's noise floor (at
        least a float32 rounding unit of its scale)?"""
        if self.floors is None:
            return _close(view, src, self.rtol, self.atol)
        finite = np.isfinite(src)
        scale = float(np.max(np.abs(src[finite]))) if finite.any() else 0.0
        floor = max(self.floors.get(vname, 0.0), float(np.finfo(np.float32).eps) * scale)
        return _close(view, src, 0.0, self.multiple * floor, minimum=False)

    def outputs_of(self, nodes) -> list[str]:
        return [v for v in boundary_values(nodes, self.graph)
                if v in self.values and _is_float(np.asarray(self.values[v]))]

    def matches_later(self, value, after: str) -> bool:
        """Fusion: the ONNX value leaving this layer is a later layer's output (Conv+BN folded)."""
        for later in self.order[self.order.index(after) + 1:]:
            for src in self.intermediates[later]:
                src = np.asarray(src)
                if _is_float(src) and any(_close(view, src, self.rtol, self.atol) for view, _ in aligned(value, src)):
                    return True
        return False

    def fused_neighbours(self, name: str) -> list[str]:
        i = self.order.index(name)
        return [self.order[j] for j in (i - 1, i + 1) if 0 <= j < len(self.order) and not self.groups.get(self.order[j])
                and not self.order[j].startswith(name + ".") and not name.startswith(self.order[j] + ".")]


def _closest(src: np.ndarray, index: int, outs: list[str], walk: Walk, result: LayerComparison) -> Mismatch | None:
    """Compare one source output with the layer's ONNX values: None if one matches (noted in
    ``result.used``), else the closest mismatch (None too when no value has a compatible size)."""
    best, any_candidate = None, False
    for vname in outs:
        for view, layout in aligned(np.asarray(walk.values[vname]), src):
            result.compared = any_candidate = True
            if walk.close(view, src, vname):
                result.used.add(vname)
                return None
            max_abs, max_rel = _errors(view, src)
            if best is None or max_abs < best.max_abs:
                best = Mismatch(max_abs, max_rel, index, vname, view, layout)
    if not any_candidate:
        result.no_candidate.append(index)
    return best


def compare_layer(name: str, outs: list[str], walk: Walk) -> LayerComparison:
    result = LayerComparison()
    for index, src in enumerate(walk.intermediates[name]):
        src = np.asarray(src)
        if _is_float(src):
            mismatch = _closest(src, index, outs, walk, result)
            if result.worst is None:
                result.worst = mismatch
    return result


def _shape_mismatch(name: str, outs: list[str], result: LayerComparison, walk: Walk) -> Mismatch | None:
    """Some outputs of the layer are found in the graph, others only with a different size
    (paddle2onnx returning one layer's final states for a 2-layer RNN): pair the first unmatched
    output with the layer's first unused ONNX value of the same rank."""
    if result.worst is not None or not result.used or not result.no_candidate:
        return None
    index = result.no_candidate[0]
    src = np.asarray(walk.intermediates[name][index])
    rest = [v for v in outs if v not in result.used and np.ndim(walk.values[v]) == src.ndim]
    if not rest:
        return None
    value = np.asarray(walk.values[rest[0]])
    return Mismatch(float("inf"), float("inf"), index, rest[0], value,
                    f"shape {tuple(value.shape)} where the source has {tuple(src.shape)}")


def _divergence(name: str, mismatch: Mismatch, walk: Walk) -> SourceDivergence:
    src = np.asarray(walk.intermediates[name][mismatch.output_index])
    value = walk.values[mismatch.onnx_value]
    return SourceDivergence(
        module=name, onnx_value=mismatch.onnx_value, onnx_nodes=_main_nodes(walk.groups[name]),
        source_shape=tuple(np.shape(src)), onnx_shape=tuple(np.shape(value)),
        source_stats=stats(src), onnx_stats=stats(np.asarray(mismatch.view)), max_abs=mismatch.max_abs,
        max_rel=mismatch.max_rel, layout=mismatch.layout, output_index=mismatch.output_index,
        agreeing_before=walk.agreeing, skipped=walk.skipped, fused_with=walk.fused_neighbours(name))


def _check(name: str, walk: Walk) -> SourceDivergence | None:
    """Compare one source layer; count it as agreeing or skipped, or return its divergence."""
    nodes = walk.groups.get(name)
    if not nodes:
        walk.skipped.append(name)
        return None
    outs = walk.outputs_of(nodes)
    result = compare_layer(name, outs, walk)
    shape = _shape_mismatch(name, outs, result, walk)
    if shape is not None:
        return _divergence(name, shape, walk)
    if not result.compared:
        walk.skipped.append(name)
    elif result.worst is None or walk.matches_later(np.asarray(walk.values[result.worst.onnx_value]), name):
        walk.agreeing += 1
    else:
        return _divergence(name, result.worst, walk)
    return None


def first_divergent_source_layer(onnx_model, feeds: Mapping[str, np.ndarray], intermediates: Mapping[str, list],
                                 tol=None, values: Mapping[str, np.ndarray] | None = None,
                                 naming=None, noise_multiple: float | None = None) -> SourceDivergence | None:
    """The first source layer (execution order) whose output the ONNX graph computes differently.

    ``intermediates``: ``{layer: [arrays]}`` from ``source_intermediates`` on the same feeds.
    ``tol``: a ``conformance.tolerance.Tolerance`` (or anything with rtol/atol); intermediate
    values use at least rtol 1e-4 and atol 1e-4 * max(1, max|expected|) (see ``MIN_RTOL``).
    ``values``: precomputed ONNX values (name -> array); evaluated here when omitted.
    ``naming``: the ``Converter`` that wrote the model (its naming hooks); None asks every
    built-in converter. ``noise_multiple``: where every layer agrees within that tolerance, walk
    again holding each layer to this multiple of its ONNX value's float32 noise floor (float32
    against float64 evaluation), to find a small systematic divergence. Returns ``None`` when
    every comparable layer agrees or no ONNX node could be mapped to a source layer.
    """
    model = onnx_model if isinstance(onnx_model, onnx.ModelProto) else onnx.load_from_string(onnx_model)
    groups = layer_groups(model.graph, intermediates, naming)
    if not groups:
        return None
    walk = Walk(graph=model.graph, values=values if values is not None else evaluate_all(model, feeds),
                intermediates=intermediates, groups=groups,
                order=[name for name in intermediates if name and not name.startswith("__")],
                rtol=float(getattr(tol, "rtol", 1e-5) or 0.0), atol=float(getattr(tol, "atol", 1e-5) or 0.0))
    found = _walk(walk)
    if found is not None or not noise_multiple:
        return found
    floors = value_floors(model, feeds, walk.values)
    if floors is None:
        return None
    found = _walk(replace(walk, floors=floors, multiple=noise_multiple, agreeing=0, skipped=[]))
    if found is not None:
        found.noise_multiple, found.noise_floor = noise_multiple, floors.get(found.onnx_value, 0.0)
    return found


def _walk(walk: Walk) -> SourceDivergence | None:
    for name in walk.order:
        found = _check(name, walk)
        if found is not None:
            return found
    return None


def value_floors(model, feeds: Mapping[str, np.ndarray], values: Mapping[str, np.ndarray]) -> dict[str, float] | None:
    """Every float value's float32 noise floor on ``feeds``: how far the float32 evaluation
    (``values``) lands from the reference executor computing in float64 (None where it cannot)."""
    try:
        truth = dict(ReferenceExecutor(model, "float64", cast_outputs=False).run_all(dict(feeds)))
    except Exception:
        return None
    floors = {}
    for name, value in values.items():
        exact = truth.get(name)
        value = np.asarray(value)
        if exact is not None and _is_float(value) and np.shape(exact) == value.shape:
            floors[name] = _errors(value, np.asarray(exact))[0] if value.size else 0.0
    return floors


__all__ = ["SourceDivergence", "first_divergent_source_layer", "scope_candidates",
           "module_groups", "layer_groups", "aligned", "boundary_values", "evaluate_all", "stats", "CALLS_KEY",
           "MIN_RTOL", "MIN_ATOL_SCALE"]
