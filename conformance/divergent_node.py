"""First divergent node: the first ONNX node where a target departs from an oracle, cut out.

One of three diagnoses of a failed case (``conformance.blame``: whose fault;
``conformance.divergent_node``, this module: the first divergent ONNX node, when the target is
at fault; ``conformance.source_layers``: the first divergent source layer, when the converter
is at fault).

``first_divergent_node(model, feeds, target_name, tol)`` runs the model once on the oracle
(the reference executor's ``run_all``: every intermediate) and once on the target with every
intermediate exposed as a graph output (a copy of the model; output types from shape
inference, else from the oracle's values). Walking the nodes in graph order (topological in
valid ONNX), the first node with an output outside tolerance is the divergence: its inputs
agreed (they are earlier nodes' outputs, or graph inputs and initializers), its output did
not. ``Divergence.write_repro(dir)`` saves that node alone as a one-node model with the
captured inputs and the oracle's outputs in ONNX's backend-test layout
(``model.onnx``, ``test_data_set_0/input_N.pb``, ``output_N.pb``): the smallest repro.

Caveat, stated where it is reported: exposing every intermediate as an output stops a target
from fusing across those values, so a fault that lives only in a fused kernel may vanish in
the exposed model; then no node diverges and ``first_divergent_node`` returns None.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .comparator import Comparison, compare
from .errors import ConformanceError
from .reference import ReferenceExecutor
from .targets import get_target
from .tolerance import Tolerance, resolve_tolerance


class LocalizationError(ConformanceError):
    """The oracle or the target could not run the model with its intermediates exposed."""


@dataclass
class Divergence:
    target: str
    node_index: int
    node: onnx.NodeProto
    output_name: str                  # the first of the node's outputs out of tolerance
    comparison: Comparison = field(repr=False)          # of that output
    inputs: dict[str, np.ndarray] = field(repr=False)   # the node's inputs as the oracle computed them
    expected: dict[str, np.ndarray] = field(repr=False)  # the node's outputs on the oracle
    actual: dict[str, np.ndarray] = field(repr=False)    # the node's outputs on the target
    model: onnx.ModelProto = field(repr=False, default=None)     # the one-node model
    compared_nodes: int = 0
    reproduces: bool | None = None    # does the one-node model alone diverge on the target
    repro_dir: Path | None = None

    @property
    def op_type(self) -> str:
        return self.node.op_type

    @property
    def node_name(self) -> str:
        return self.node.name

    def summary(self) -> str:
        """``#3 Add 'add0' (output 'a'): max_abs 0.1, ...; reproduces alone``."""
        c = self.comparison
        label = f"#{self.node_index} {self.op_type}" + (f" {self.node_name!r}" if self.node_name else "")
        stats = "; ".join(c.problems) if c.problems else (
            f"max_abs {c.max_abs:.3g}, max_rel {c.max_rel:.3g}, mismatch {100 * (c.mismatch or 0):.2f}%")
        text = f"{label} (output {self.output_name!r}): {stats}"
        if self.reproduces is not None:
            text += "; reproduces alone" if self.reproduces else "; does NOT reproduce alone (context-dependent)"
        return text

    def describe(self) -> str:
        return "first divergent node " + self.summary()

    __str__ = summary

    def to_dict(self) -> dict:
        c = self.comparison
        return {"summary": self.summary(), "target": self.target, "node_index": self.node_index, "node_name": self.node_name,
                "op_type": self.op_type, "domain": self.node.domain, "output": self.output_name,
                "max_abs": c.max_abs, "max_rel": c.max_rel, "mismatch": c.mismatch, "problems": c.problems,
                "inputs": {k: [list(v.shape), str(v.dtype)] for k, v in self.inputs.items()},
                "compared_nodes": self.compared_nodes, "reproduces": self.reproduces,
                "repro_dir": str(self.repro_dir) if self.repro_dir else None}

    def write_repro(self, out_dir) -> Path:
        """``model.onnx`` and ``test_data_set_0/{input,output}_N.pb`` under ``out_dir``."""
        out = Path(out_dir)
        data = out / "test_data_set_0"
        data.mkdir(parents=True, exist_ok=True)
        onnx.save(self.model, str(out / "model.onnx"))
        for i, value in enumerate(self.model.graph.input):
            _save_tensor(self.inputs[value.name], value.name, data / f"input_{i}.pb")
        for i, value in enumerate(self.model.graph.output):
            _save_tensor(self.expected[value.name], value.name, data / f"output_{i}.pb")
        (out / "divergence.txt").write_text(self.describe() + "\n" + self.comparison.message + "\n")
        self.repro_dir = out
        return out


def _save_tensor(array, name: str, path: Path) -> None:
    tensor = numpy_helper.from_array(np.asarray(array), name)
    path.write_bytes(tensor.SerializeToString())


def load_model(model) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    return onnx.load(str(model))


def _inferred_types(model: onnx.ModelProto) -> dict[str, onnx.TypeProto]:
    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False)
    except Exception:   # inference is a help here, not a requirement: fall back to the oracle's dtypes
        inferred = model
    g = inferred.graph
    return {v.name: v.type for v in [*g.value_info, *g.output, *g.input]
            if v.type.HasField("tensor_type") and v.type.tensor_type.elem_type}


def _tensor_type(array: np.ndarray, with_shape: bool = True) -> onnx.TypeProto:
    elem = helper.np_dtype_to_tensor_dtype(np.asarray(array).dtype)
    return helper.make_tensor_type_proto(elem, list(np.shape(array)) if with_shape else None)


def expose_intermediates(model: onnx.ModelProto, known: dict[str, np.ndarray] | None = None
                         ) -> tuple[onnx.ModelProto, list[str]]:
    """A copy of ``model`` whose graph outputs include every top-level node output.

    Types come from shape inference; a value it cannot type takes the dtype of ``known[name]``
    (the oracle's value); a value typed by neither is left out. Returns (copy, added names).
    """
    exposed = copy.deepcopy(model)
    types = _inferred_types(model)
    present = {o.name for o in exposed.graph.output}
    added = []
    for node in exposed.graph.node:
        for name in node.output:
            if not name or name in present:
                continue
            if name in types:
                tp = types[name]
            elif known is not None and isinstance(known.get(name), np.ndarray):
                tp = _tensor_type(known[name], with_shape=False)
            else:
                continue
            value = onnx.ValueInfoProto(name=name)
            value.type.CopyFrom(tp)
            exposed.graph.output.append(value)
            present.add(name)
            added.append(name)
    return exposed, added


def _outer_names(graph: onnx.GraphProto) -> set[str]:
    """Names a subgraph reads from its enclosing scope."""
    defined = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    used: set[str] = set()
    for node in graph.node:
        used.update(n for n in node.input if n)
        for attr in node.attribute:
            for sub in ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)):
                used |= _outer_names(sub)
        defined.update(node.output)
    return used - defined


def node_value_names(node: onnx.NodeProto) -> list[str]:
    """Inputs of the node, then outer-scope names its subgraphs read, without duplicates."""
    names = [n for n in node.input if n]
    for attr in node.attribute:
        for sub in ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)):
            names += sorted(_outer_names(sub))
    return list(dict.fromkeys(names))


def one_node_model(model: onnx.ModelProto, node: onnx.NodeProto, inputs: dict[str, np.ndarray],
                   outputs: dict[str, np.ndarray]) -> onnx.ModelProto:
    """``node`` alone. Values that were initializers stay initializers; every other input
    becomes a graph input, typed and shaped by its captured value."""
    initializers = {t.name: t for t in model.graph.initializer}
    graph_inputs, graph_inits = [], []
    for name in inputs:
        if name in initializers:
            graph_inits.append(initializers[name])
        else:
            graph_inputs.append(helper.make_value_info(name, _tensor_type(inputs[name])))
    graph_outputs = [helper.make_value_info(name, _tensor_type(outputs[name])) for name in node.output
                     if name and name in outputs]
    graph = helper.make_graph([copy.deepcopy(node)], f"repro_{node.op_type}_{node.name or 'node'}",
                              graph_inputs, graph_outputs, initializer=graph_inits)
    repro = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name="conformance.divergent_node")
    repro.ir_version = model.ir_version
    repro.functions.extend(model.functions)
    return repro


#: the oracle that is the truth: the reference executor computing in float64, its values rounded
#: to the model's own types (the target's values are float32: compared on equal terms)
FLOAT64_ORACLE = "reference-float64"


def _oracle_values(model: onnx.ModelProto, feeds: dict[str, np.ndarray], oracle) -> dict[str, Any]:
    if callable(oracle):
        return oracle(model, feeds)
    if oracle in ("reference", FLOAT64_ORACLE):
        try:
            if oracle == FLOAT64_ORACLE:
                return float64_values(model, feeds)
            return ReferenceExecutor(model, "float32").run_all(feeds)
        except Exception as exc:
            raise LocalizationError(f"the reference executor cannot run the model: {_one_line(exc)}") from None
    # a runtime reports the values it computed; the ones it was given (initializers, feeds) are
    # the model's own, so a node reading a weight can still be cut out with it
    given = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    given.update(feeds)
    return {**given, **_run_exposed(model, feeds, oracle)}


def float64_values(model: onnx.ModelProto, feeds: dict[str, np.ndarray], rounded: bool = True) -> dict[str, Any]:
    """Every value of the model computed by the reference executor in float64; ``rounded``:
    each floating value rounded to its type in the model (from shape inference; float32 where
    inference cannot say)."""
    values = ReferenceExecutor(model, "float64", cast_outputs=False).run_all(feeds)
    return rounded_to_model_types(model, values) if rounded else values


def rounded_to_model_types(model: onnx.ModelProto, values: dict[str, Any]) -> dict[str, Any]:
    """float64 values rounded to their types in the model (float32 where inference cannot say)."""
    values = dict(values)
    types = _inferred_types(model)
    for name, value in values.items():
        if isinstance(value, np.ndarray) and value.dtype == np.float64:
            elem = types[name].tensor_type.elem_type if name in types else onnx.TensorProto.FLOAT
            if elem != onnx.TensorProto.DOUBLE:
                values[name] = value.astype(helper.tensor_dtype_to_np_dtype(elem))
    return values


def _run_exposed(model: onnx.ModelProto, feeds, target_name, known=None) -> dict[str, Any]:
    """``target_name``: a target's name or the ``Target`` itself (one in an environment)."""
    exposed, _ = expose_intermediates(model, known)
    target = get_target(target_name) if isinstance(target_name, str) else target_name
    target_name = target.name
    try:
        session = target.prepare(exposed)
        values = target.run(session, dict(feeds))
    except Exception as exc:
        raise LocalizationError(f"target {target_name} cannot run the model with its intermediates "
                                f"exposed: {_one_line(exc)}") from None
    return {o.name: v for o, v in zip(exposed.graph.output, values)}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _tol_for(tol, array: np.ndarray, name: str = "") -> Tolerance:
    if isinstance(tol, Tolerance):
        return tol
    if isinstance(tol, Mapping):        # per value (a noise floor measured for each)
        return tol.get(name) or resolve_tolerance(array.dtype)
    if callable(tol):
        return tol(array.dtype)
    return resolve_tolerance(array.dtype)


def first_divergent_node(model, feeds: dict[str, np.ndarray], target_name: str,
                         tol: Tolerance | Callable | None = None, *, oracle: str | Callable = "reference",
                         check_repro: bool = True) -> Divergence | None:
    """The first node (graph order) whose output on ``target_name`` is out of ``tol`` from the
    oracle's, or None when every node agrees. ``tol``: a Tolerance for every value, a
    function of the dtype, a mapping value name -> Tolerance (others: the dtype's default), or
    None for the per-dtype defaults. ``oracle``: "reference" (the reference executor),
    ``FLOAT64_ORACLE`` (it in float64), another target's name (the initializers and feeds are
    taken from the model), or ``f(model, feeds) -> {name: value}``.
    ``target_name`` may also be the ``Target`` itself (a target in a named environment)."""
    model = load_model(model)
    target = get_target(target_name) if isinstance(target_name, str) else target_name
    target_name = target.name
    if oracle == target_name:
        raise LocalizationError(f"target {target_name} cannot be compared against itself",
                                fix="choose another oracle")
    expected_all = _oracle_values(model, feeds, oracle)
    actual_all = _run_exposed(model, feeds, target, known=expected_all)
    compared = 0
    for index, node in enumerate(model.graph.node):
        for name in node.output:
            if not name or name not in actual_all or name not in expected_all:
                continue
            expected, actual = expected_all[name], actual_all[name]
            if not isinstance(expected, np.ndarray) or not isinstance(actual, np.ndarray):
                continue   # sequences, maps, optionals: not compared element-wise here
            comparison = compare(actual, expected, _tol_for(tol, expected, name), name=name)
            compared += 1
            if comparison.passed:
                continue
            value_names = node_value_names(node)
            missing = [n for n in value_names if n not in expected_all]
            if missing:
                raise LocalizationError(f"the oracle did not report values {missing} read by node "
                                        f"#{index} {node.op_type}")
            inputs = {n: np.asarray(expected_all[n]) for n in value_names}
            outs = [n for n in node.output if n]
            divergence = Divergence(
                target=target_name, node_index=index, node=node, output_name=name, comparison=comparison,
                inputs=inputs, expected={n: np.asarray(expected_all[n]) for n in outs if n in expected_all},
                actual={n: np.asarray(actual_all[n]) for n in outs if n in actual_all}, compared_nodes=compared)
            divergence.model = one_node_model(model, node, inputs, divergence.expected)
            if check_repro:
                divergence.reproduces = _reproduces(divergence, tol, target)
            return divergence
    return None


def _reproduces(divergence: Divergence, tol, target) -> bool | None:
    feeds = {v.name: divergence.inputs[v.name] for v in divergence.model.graph.input}
    try:
        values = target.run(target.prepare(divergence.model), feeds)
    except Exception:
        return None
    for value, out in zip(values, divergence.model.graph.output):
        expected = divergence.expected[out.name]
        if not compare(value, expected, _tol_for(tol, expected, out.name), name=out.name).passed:
            return True
    return False
