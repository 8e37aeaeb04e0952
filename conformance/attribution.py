"""Localize a converter's failure to the first source module whose ONNX counterpart differs.

When the reference executor agrees with the target but not with the source framework, the
converted graph itself computes something else. This module names *where*: it maps ONNX nodes
back to the source framework's module/layer names the exporters leave behind, evaluates every
ONNX value on the sample feeds, and walks the source modules in execution order, comparing each
module's intermediate output (``converters.intermediates.source_intermediates``, collected in
the framework worker) with the ONNX values that leave that module's group of nodes.

Where the exporters keep source names:

* torch-script (``torch.onnx.export(dynamo=False)``): node names are scope paths,
  ``/layer1/layer1.0/conv1/Conv``; a module called twice gets ``relu_1`` for its second call.
* torch dynamo exporter: ``metadata_props["pkg.torch.onnx.name_scopes"]`` lists qualified module
  names, ``['', 'layer1', 'layer1.0', 'layer1.0.bn1', '<op>']``.
* tf2onnx: TF op names, ``model_1/conv1_conv_1/convolution`` (Keras 3 appends ``_<n>`` to the
  layer scopes); nodes tf2onnx rewrote are renamed ``Conv__547`` and belong to no layer.
* paddle2onnx (2.x): no source names on nodes (``Conv.0``), but values are named after the
  Paddle op and its ordinal in the program, ``p2o.pd_op.conv2d.3.0`` (4th conv2d, output 0).
  With the worker's call log (``"__calls__"``: layer name and class per call, in order) the
  k-th call of a layer class that lowers to one op (Conv2D -> conv2d, BatchNorm2D ->
  batch_norm_, LSTM/GRU -> rnn, ...) is matched to ordinal k of that op -- only where the
  number of calls equals the number of ONNX ordinals, so a functional call of the same op
  cannot shift the pairing silently.

Fusions: exporters fold BatchNorm into the preceding Conv, so the ONNX value leaving ``conv1``
is the source's ``bn1`` output. A module whose ONNX value matches a *later* module's source
output is treated as fused, not divergent. Layouts: Keras is NHWC while tf2onnx computes
convolutions in NCHW, so values are compared up to a transpose when the shapes are a
permutation of each other (and up to size-1 axes, e.g. ONNX LSTM's ``num_directions`` axis).

Nothing here imports a framework.
"""
from __future__ import annotations

import ast
import itertools
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

_SUFFIX = re.compile(r"_\d+$")
# Intermediate values are compared more loosely than final outputs: the verdict on the outputs
# already used the case's tolerance; here we only separate "the same computation" from "a
# different one", and a 1e-4 relative drift over a deep stack is rounding, not a bug.
MIN_RTOL = 1e-4
MIN_ATOL_SCALE = 1e-4


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
                f"{self.agreeing_before} earlier modules agree]")


def stats(a: np.ndarray) -> dict:
    a = np.asarray(a, dtype=np.float64)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return {"mean": float("nan"), "std": float("nan"), "min": float("nan"), "max": float("nan"),
                "nonfinite": int(a.size)}
    return {"mean": float(finite.mean()), "std": float(finite.std()), "min": float(finite.min()),
            "max": float(finite.max()), "nonfinite": int(a.size - finite.size)}


# ------------------------------------------------------------------------------ node -> module
def scope_candidates(node) -> list[str]:
    """Module-name candidates a node carries, innermost first (see the module docstring)."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                break
            return [s for s in reversed(list(scopes)[:-1]) if s]
    if "/" not in node.name:
        return []
    parts = [p for p in node.name.split("/")[:-1] if p]
    out, current = [], ""
    for part in parts:
        # torch-script segments are attribute names ("conv1") or, below a container, the
        # container's attribute plus the child's ("layer1.0" under "layer1", "conv.3" under
        # "features.10.conv"); rebuild the qualified module name
        last = current.rpartition(".")[2]
        if not current:
            current = part
        elif part.startswith(current + "."):
            current = part
        elif "." in part and part.split(".", 1)[0] == last:
            current = f"{current}.{part.split('.', 1)[1]}"
        else:
            current = f"{current}.{part}"
        out.append((current, part))
    candidates = []
    for full, part in reversed(out):
        candidates.extend([full, part] if full != part else [full])
    return candidates


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


def module_groups(graph, known: Mapping[str, Any]) -> dict[str, list]:
    """module name -> the nodes inside it (its own and its descendants'), in graph order."""
    groups: dict[str, list] = {}
    for node in graph.node:
        seen = set()
        for cand in scope_candidates(node):
            name = _resolve(cand, known)
            if name is not None and name not in seen:
                seen.add(name)
                groups.setdefault(name, []).append(node)
    return groups


CALLS_KEY = "__calls__"
# Paddle layer class -> the Paddle op it lowers to (its value names: p2o.pd_op.<op>.<k>.<out>)
PADDLE_LAYER_OPS = {
    "Conv2D": "conv2d", "Conv2DTranspose": "conv2d_transpose", "BatchNorm2D": "batch_norm",
    "BatchNorm1D": "batch_norm", "BatchNorm": "batch_norm", "LayerNorm": "layer_norm", "ReLU": "relu",
    "ReLU6": "relu6", "GELU": "gelu", "Sigmoid": "sigmoid", "Hardswish": "hardswish", "Softmax": "softmax",
    "MaxPool2D": "pool2d", "AvgPool2D": "pool2d", "AdaptiveAvgPool2D": "pool2d", "LSTM": "rnn", "GRU": "rnn",
    "SimpleRNN": "rnn",
}
_P2O_VALUE = re.compile(r"^p2o\.pd_op\.(?P<op>[A-Za-z0-9_]+?)_?\.(?P<k>\d+)\.")


def paddle_ordinal_groups(graph, calls: np.ndarray) -> dict[str, list]:
    """module name -> nodes producing the ONNX values of that layer's calls (paddle2onnx)."""
    producers: dict[tuple[str, int], list] = {}
    for node in graph.node:
        for out in node.output:
            m = _P2O_VALUE.match(out)
            if m:
                producers.setdefault((m["op"], int(m["k"])), []).append(node)
                break
    per_op: dict[str, list[str]] = {}
    for name, cls in np.asarray(calls).reshape(-1, 2):
        op = PADDLE_LAYER_OPS.get(str(cls))
        if op is not None:
            per_op.setdefault(op, []).append(str(name))
    groups: dict[str, list] = {}
    for op, names in per_op.items():
        ordinals = sorted(k for o, k in producers if o == op)
        if ordinals != list(range(len(names))):
            continue                      # functional calls of this op too: pairing unsafe
        for k, name in enumerate(names):
            groups.setdefault(name, []).extend(producers[(op, k)])
    return groups


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


def _errors(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float, bool, float]:
    a = actual.astype(np.float64)
    b = expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(a - b)
        both_nan = np.isnan(a) & np.isnan(b)
        d = np.where(both_nan, 0.0, d)
        max_abs = float(np.nanmax(d)) if d.size else 0.0
        rel = d / np.maximum(np.abs(b), np.finfo(np.float64).eps)
        max_rel = float(np.nanmax(rel)) if d.size else 0.0
    return max_abs, max_rel, bool(np.isnan(d).any()), float(np.nanmax(np.abs(b))) if b.size else 0.0


def _close(actual, expected, rtol: float, atol: float) -> bool:
    a = actual.astype(np.float64)
    b = expected.astype(np.float64)
    scale = float(np.max(np.abs(b[np.isfinite(b)]))) if np.isfinite(b).any() else 0.0
    bound = max(atol, MIN_ATOL_SCALE * max(1.0, scale)) + max(rtol, MIN_RTOL) * np.abs(b)
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
        from conformance.reference.executor import ReferenceExecutor
        return dict(ReferenceExecutor(model).run_all(dict(feeds)))
    except Exception as first:   # an op the executor lacks: fall back rather than give up
        try:
            from onnx.reference import ReferenceEvaluator
            return dict(ReferenceEvaluator(model).run(None, dict(feeds), intermediate=True))
        except Exception:
            raise first from None


def attribute_source(onnx_model, feeds: Mapping[str, np.ndarray], intermediates: Mapping[str, list],
                     tol=None, values: Mapping[str, np.ndarray] | None = None) -> SourceDivergence | None:
    """The first source module (execution order) whose output the ONNX graph computes differently.

    ``intermediates``: ``{module: [arrays]}`` from ``source_intermediates`` on the same feeds.
    ``tol``: a ``conformance.tolerance.Tolerance`` (or anything with rtol/atol); intermediate
    values use at least rtol 1e-4 and atol 1e-4 * max(1, max|expected|) (see ``MIN_RTOL``).
    ``values``: precomputed ONNX values (name -> array); evaluated here when omitted.
    Returns ``None`` when every comparable module agrees or no ONNX node carries a source name.
    """
    import onnx

    model = onnx_model if isinstance(onnx_model, onnx.ModelProto) else onnx.load_from_string(onnx_model)
    rtol = float(getattr(tol, "rtol", 1e-5) or 0.0)
    atol = float(getattr(tol, "atol", 1e-5) or 0.0)
    order = [name for name in intermediates if name and not name.startswith("__")]
    graph = model.graph
    groups = module_groups(graph, intermediates)
    if not groups and CALLS_KEY in intermediates:
        groups = paddle_ordinal_groups(graph, intermediates[CALLS_KEY][0])
    if not groups:
        return None
    if values is None:
        values = evaluate_all(model, feeds)
    position = {name: i for i, name in enumerate(order)}

    def matches_later(value, after: str) -> bool:
        # fusion: the ONNX value leaving this module is a later module's output (Conv+BN folded)
        for later in order[position[after] + 1:]:
            for src in intermediates[later]:
                src = np.asarray(src)
                if _is_float(src):
                    for view, _ in aligned(value, src):
                        if _close(view, src, rtol, atol):
                            return True
        return False

    agreeing, skipped = 0, []
    for name in order:
        nodes = groups.get(name)
        if not nodes:
            skipped.append(name)
            continue
        outs = [v for v in boundary_values(nodes, graph) if v in values and _is_float(np.asarray(values[v]))]
        worst = None        # (max_abs, max_rel, index, value name, view, layout)
        compared, matched_all = False, True
        used: set[str] = set()
        no_candidate: list[int] = []    # outputs with no ONNX value of a compatible size at all
        for index, src in enumerate(intermediates[name]):
            src = np.asarray(src)
            if not _is_float(src):
                continue
            found, best, any_candidate = False, None, False
            for vname in outs:
                for view, layout in aligned(np.asarray(values[vname]), src):
                    compared = any_candidate = True
                    if _close(view, src, rtol, atol):
                        found = True
                        used.add(vname)
                        break
                    max_abs, max_rel, _, _ = _errors(view, src)
                    if best is None or max_abs < best[0]:
                        best = (max_abs, max_rel, index, vname, view, layout)
                if found:
                    break
            if not any_candidate:
                no_candidate.append(index)
            if not found and best is not None:
                matched_all = False
                if worst is None:
                    worst = best
        if matched_all and used and no_candidate:
            # some outputs of this module are found in the graph, others only with a different
            # size (paddle2onnx returning one layer's final states for a 2-layer RNN): pair the
            # unmatched outputs with the module's unused ONNX values of the same rank, in order
            index = no_candidate[0]
            src = np.asarray(intermediates[name][index])
            rest = [v for v in outs if v not in used and np.ndim(values[v]) == src.ndim]
            if rest:
                value = np.asarray(values[rest[0]])
                return _divergence(name, rest[0], nodes, src, value, value, float("inf"), float("inf"),
                                   f"shape {tuple(value.shape)} where the source has {tuple(src.shape)}",
                                   index, agreeing, skipped, order, groups, position)
        if not compared:
            skipped.append(name)
            continue
        if matched_all:
            agreeing += 1
            continue
        max_abs, max_rel, index, vname, view, layout = worst
        if matches_later(np.asarray(values[vname]), name):
            agreeing += 1
            continue
        return _divergence(name, vname, nodes, np.asarray(intermediates[name][index]), values[vname], view,
                           max_abs, max_rel, layout, index, agreeing, skipped, order, groups, position)
    return None


def _divergence(name, vname, nodes, src, value, view, max_abs, max_rel, layout, index, agreeing, skipped,
                order, groups, position) -> SourceDivergence:
    i = position[name]
    fused = [order[j] for j in (i - 1, i + 1) if 0 <= j < len(order) and not groups.get(order[j])
             and not order[j].startswith(name + ".") and not name.startswith(order[j] + ".")]
    return SourceDivergence(
        module=name, onnx_value=vname, onnx_nodes=_main_nodes(nodes),
        source_shape=tuple(np.shape(src)), onnx_shape=tuple(np.shape(value)),
        source_stats=stats(src), onnx_stats=stats(np.asarray(view)), max_abs=max_abs, max_rel=max_rel,
        layout=layout, output_index=index, agreeing_before=agreeing, skipped=skipped, fused_with=fused)
