"""The reference executor: a planned numpy interpreter of ONNX graphs.

Contract for op implementations (ops/*.py, registered with ``registry.op``)
---------------------------------------------------------------------------
``impl(ctx, *inputs)`` returns one array or a tuple of arrays (one per output, in order).
Inputs arrive positionally; an omitted optional input (empty name, or absent trailing input)
arrives as ``None``. Tensors are numpy arrays; sequences are Python lists of arrays; an
optional value is its content or ``None`` when empty. bfloat16/float8/int4 tensors use the
dtypes of ``onnx._custom_element_types`` (see ``dtypes.py``).

``ctx`` is a :class:`NodeContext`, built once per node when the model is planned:

- ``ctx.attr(name, default=None)``: the attribute's value, or ``default`` when the node does
  not set it. INT -> int, FLOAT -> float, STRING -> str (utf-8 decoded), INTS/FLOATS -> list,
  STRINGS -> list of str, TENSOR -> numpy array, TENSORS -> list of arrays, SPARSE_TENSOR ->
  dense numpy array, GRAPH -> a planned subgraph (pass the attribute *name* to
  ``run_subgraph``), TYPE_PROTO -> the TypeProto.
- ``ctx.has_attr(name)``: whether the node sets the attribute.
- ``ctx.opset``: the model's opset version for the node's domain.
- ``ctx.node``: the NodeProto (``ctx.node.op_type`` tells which op a shared impl serves).
- ``ctx.precision``: ``"float32"`` (default) or ``"float64"``. In float64 mode floating
  feeds and initializers arrive as float64; an op that creates floating tensors from
  attributes should create them in ``ctx.float_dtype(declared_dtype)``.
- ``ctx.output_count``: how many outputs the node asks for (trailing optional outputs may be
  omitted); an op may skip computing the others and return fewer values.
- ``ctx.run_subgraph(attr_name, feeds, outer_scope_values=None) -> list``: runs the graph
  attribute with ``feeds`` (dict: subgraph input name -> value); names the subgraph takes from
  enclosing scopes are read from ``outer_scope_values`` or, by default, from the scope the
  node is running in. Returns the subgraph's outputs in order.
- ``ctx.subgraph_input_names(attr_name)`` / ``ctx.subgraph_output_names(attr_name)``.
- ``ctx.cache``: a dict private to the node that lives as long as the executor, for an op
  that wants to keep something it derived once (e.g. a transposed weight keyed by ``id``).

An op unknown for (domain, op type, model opset) makes the executor raise ``UnsupportedOp``
at construction, naming every such op, before anything runs. Standard ops that ONNX defines
as a function (and model-local functions) run through their function body when no
implementation is registered.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import onnx
from onnx import AttributeProto, numpy_helper

from . import dtypes
from .registry import lookup


class UnsupportedOp(NotImplementedError):
    """The model uses operators this executor has no implementation for."""

    def __init__(self, missing: Iterable[tuple[str, str, int]]):
        self.missing = sorted(set(missing))
        names = ", ".join(f"{op_type} (domain {domain or 'ai.onnx'!r}, opset {opset})"
                          for domain, op_type, opset in self.missing)
        super().__init__(f"reference executor does not implement: {names}")


class ExecutionError(RuntimeError):
    """An op failed while running; the message names the node."""


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != np.float64


def _to_precision(value, precision: str):
    if precision != "float64":
        return value
    if _is_float_array(value):
        return value.astype(np.float64)
    if isinstance(value, list):
        return [_to_precision(v, precision) for v in value]
    return value


class NodeContext:
    __slots__ = ("node", "opset", "precision", "output_count", "cache", "scope", "_attrs")

    def __init__(self, node: onnx.NodeProto, opset: int, precision: str, attrs: dict[str, Any]):
        self.node = node
        self.opset = opset
        self.precision = precision
        outputs = list(node.output)
        while outputs and not outputs[-1]:
            outputs.pop()
        self.output_count = len(outputs)
        self.cache: dict = {}
        self.scope: dict = {}
        self._attrs = attrs

    def attr(self, name: str, default=None):
        return self._attrs.get(name, default)

    def has_attr(self, name: str) -> bool:
        return name in self._attrs

    def float_dtype(self, dtype=np.float32):
        dtype = np.dtype(dtype)
        if self.precision == "float64" and dtype.kind == "f":
            return np.dtype(np.float64)
        return dtype

    def run_subgraph(self, attr_name: str, feeds: dict, outer_scope_values: dict | None = None) -> list:
        plan = self._attrs[attr_name]
        scope = self.scope if outer_scope_values is None else outer_scope_values
        return plan.run_with_scope(feeds, scope)

    def subgraph_input_names(self, attr_name: str) -> list[str]:
        return list(self._attrs[attr_name].input_names)

    def subgraph_output_names(self, attr_name: str) -> list[str]:
        return list(self._attrs[attr_name].output_names)


@dataclass
class _Step:
    impl: Callable
    ctx: NodeContext
    inputs: list[str]
    outputs: list[str]
    frees: list[str] = field(default_factory=list)
    has_subgraphs: bool = False


def _tensor_to_array(tensor: onnx.TensorProto, base_dir: str = "") -> np.ndarray:
    array = numpy_helper.to_array(tensor, base_dir)
    if tensor.data_type == onnx.TensorProto.STRING:
        array = np.vectorize(lambda b: b.decode("utf-8") if isinstance(b, bytes) else b, otypes=[object])(array) \
            if array.size else array.astype(object)
    return array


def _sparse_to_dense(sparse: onnx.SparseTensorProto) -> np.ndarray:
    values = _tensor_to_array(sparse.values)
    indices = _tensor_to_array(sparse.indices).astype(np.int64)
    shape = tuple(sparse.dims)
    dense = np.zeros(shape, dtype=values.dtype)
    if indices.ndim == 1:  # linearized indices
        dense.reshape(-1)[indices] = values
    else:
        dense[tuple(indices.T)] = values
    return dense


class _Planner:
    """Shared state while planning one model: opsets, local functions, unknown ops."""

    def __init__(self, opsets: dict[str, int], precision: str, functions: dict, base_dir: str,
                 profile: Callable[[onnx.NodeProto, float], None] | None = None):
        self.opsets = opsets
        self.precision = precision
        self.functions = functions
        self.base_dir = base_dir
        self.profile = profile
        self.missing: list[tuple[str, str, int]] = []

    def opset_for(self, domain: str, opsets: dict[str, int]) -> int:
        domain = "" if domain == "ai.onnx" else domain
        if domain in opsets:
            return opsets[domain]
        return opsets.get("", 1) if domain == "" else 1


class Plan:
    """A planned graph body: ordered steps, initializers, and what it needs from outside."""

    def __init__(self, planner: _Planner, nodes, input_names, output_names, initializers: dict,
                 opsets: dict[str, int], caller_attrs: dict | None = None):
        self.planner = planner
        self.precision = planner.precision
        self.input_names = [n for n in input_names]
        self.output_names = list(output_names)
        self.initializers = {k: _to_precision(v, self.precision) for k, v in initializers.items()}
        self.opsets = opsets
        defined = set(self.input_names) | set(self.initializers)
        ordered = self._topological(list(nodes), defined)
        self.steps: list[_Step] = []
        self.captured: set[str] = set()  # names read from enclosing scopes
        produced = set(defined)
        for node in ordered:
            step, node_captured = self._plan_node(node, caller_attrs)
            for name in list(step.inputs) + sorted(node_captured):
                if name and name not in produced:
                    self.captured.add(name)
            produced.update(n for n in step.outputs if n)
            self.steps.append(step)
        for name in self.output_names:
            if name and name not in produced:
                self.captured.add(name)
        self._plan_frees()

    @staticmethod
    def _topological(nodes: list, defined: set[str]) -> list:
        producers = {}
        for index, node in enumerate(nodes):
            for name in node.output:
                if name:
                    producers[name] = index
        order, state = [], [0] * len(nodes)

        def needs(node):
            names = list(node.input)
            for attr in node.attribute:
                if attr.type == AttributeProto.GRAPH:
                    names.extend(_graph_free_names(attr.g))
                elif attr.type == AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        names.extend(_graph_free_names(g))
            return names

        # iterative DFS keeps the file order where the graph is already sorted
        for start in range(len(nodes)):
            if state[start]:
                continue
            stack = [(start, iter(needs(nodes[start])))]
            state[start] = 1
            while stack:
                index, it = stack[-1]
                advanced = False
                for name in it:
                    dep = producers.get(name)
                    if dep is not None and name not in defined and state[dep] == 0:
                        state[dep] = 1
                        stack.append((dep, iter(needs(nodes[dep]))))
                        advanced = True
                        break
                if not advanced:
                    stack.pop()
                    state[index] = 2
                    order.append(nodes[index])
        return order

    def _parse_attrs(self, node, caller_attrs: dict | None) -> tuple[dict, set[str]]:
        attrs: dict[str, Any] = {}
        captured: set[str] = set()
        for attr in node.attribute:
            if attr.ref_attr_name:
                if caller_attrs is not None and attr.ref_attr_name in caller_attrs:
                    attrs[attr.name] = caller_attrs[attr.ref_attr_name]
                continue
            value = self._attr_value(attr)
            if isinstance(value, Plan):
                captured |= value.captured
            elif isinstance(value, list) and value and isinstance(value[0], Plan):
                for plan in value:
                    captured |= plan.captured
            attrs[attr.name] = value
        return attrs, captured

    def _attr_value(self, attr: onnx.AttributeProto):
        kind = attr.type
        if kind == AttributeProto.FLOAT:
            return float(attr.f)
        if kind == AttributeProto.INT:
            return int(attr.i)
        if kind == AttributeProto.STRING:
            return attr.s.decode("utf-8", errors="surrogateescape")
        if kind == AttributeProto.TENSOR:
            return _tensor_to_array(attr.t, self.planner.base_dir)
        if kind == AttributeProto.SPARSE_TENSOR:
            return _sparse_to_dense(attr.sparse_tensor)
        if kind == AttributeProto.GRAPH:
            return self._subgraph(attr.g)
        if kind == AttributeProto.FLOATS:
            return [float(v) for v in attr.floats]
        if kind == AttributeProto.INTS:
            return [int(v) for v in attr.ints]
        if kind == AttributeProto.STRINGS:
            return [s.decode("utf-8", errors="surrogateescape") for s in attr.strings]
        if kind == AttributeProto.TENSORS:
            return [_tensor_to_array(t, self.planner.base_dir) for t in attr.tensors]
        if kind == AttributeProto.GRAPHS:
            return [self._subgraph(g) for g in attr.graphs]
        if kind == AttributeProto.TYPE_PROTO:
            return attr.tp
        if kind == AttributeProto.TYPE_PROTOS:
            return list(attr.type_protos)
        return onnx.helper.get_attribute_value(attr)

    def _subgraph(self, graph: onnx.GraphProto) -> "Plan":
        return GraphPlan(self.planner, graph, self.opsets)

    def _plan_node(self, node: onnx.NodeProto, caller_attrs: dict | None) -> tuple[_Step, set[str]]:
        attrs, captured = self._parse_attrs(node, caller_attrs)
        domain = "" if node.domain == "ai.onnx" else node.domain
        opset = self.planner.opset_for(domain, self.opsets)
        ctx = NodeContext(node, opset, self.precision, attrs)
        impl = lookup(domain, node.op_type, opset)
        if impl is not None and self.planner.profile is not None:
            impl = _timed(impl, node, self.planner.profile)
        if impl is None:
            impl = self._function_impl(node, domain, opset, attrs)
        if impl is None:
            self.planner.missing.append((domain, node.op_type, opset))
            impl = _unsupported
        inputs = list(node.input)
        has_subgraphs = any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for a in node.attribute)
        return _Step(impl, ctx, inputs, list(node.output), has_subgraphs=has_subgraphs), captured

    def _function_impl(self, node, domain: str, opset: int, attrs: dict):
        """Run a model-local function or an ONNX function-op body when no kernel is registered."""
        key = (node.domain, node.op_type)
        if key in self.planner.functions:
            return _FunctionCall(self.planner, self.planner.functions[key], node, attrs, self.opsets)
        try:
            schema = onnx.defs.get_schema(node.op_type, opset, domain)
        except Exception:
            return None
        if schema.has_function:
            try:
                body = schema.get_function_with_opset_version(opset)
            except Exception:
                body = None
            if not body:
                body = schema.function_body
            if isinstance(body, bytes):
                body = onnx.FunctionProto.FromString(body)
            return _FunctionCall(self.planner, body, node, attrs, self.opsets, schema=schema)
        if schema.has_context_dependent_function:
            return _ContextFunctionCall(self.planner, node, attrs, self.opsets, schema)
        return None

    def _plan_frees(self) -> None:
        """After each step, drop the values nothing later reads (graph outputs are kept)."""
        keep = set(self.output_names) | set(self.initializers) | set(self.input_names)
        last_use: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            for name in step.inputs:
                if name:
                    last_use[name] = index
            for name in _captured_of(step):
                last_use[name] = index
            for name in step.outputs:
                if name and name not in last_use:
                    last_use[name] = index
        for name, index in last_use.items():
            if name not in keep and name not in self.captured:
                self.steps[index].frees.append(name)

    def execute(self, env: dict, keep_all: bool = False) -> dict:
        for step in self.steps:
            try:
                args = [env[name] if name else None for name in step.inputs]
            except KeyError as exc:
                raise ExecutionError(f"{_node_label(step.ctx.node)}: input {exc.args[0]!r} has no value") from None
            if step.has_subgraphs:
                step.ctx.scope = env  # what the node's subgraphs read from enclosing scopes
            try:
                result = step.impl(step.ctx, *args)
            except (ExecutionError, UnsupportedOp):
                raise
            except Exception as exc:
                raise ExecutionError(f"{_node_label(step.ctx.node)} failed: {type(exc).__name__}: {exc}") from exc
            finally:
                if step.has_subgraphs:
                    step.ctx.scope = {}
            if not isinstance(result, tuple):
                result = (result,)
            for name, value in zip(step.outputs, result):
                if name:
                    if value is not None and not isinstance(value, (np.ndarray, list)):
                        value = np.asarray(value)
                    env[name] = value
            if not keep_all:
                for name in step.frees:
                    env.pop(name, None)
        return env

    def run_with_scope(self, feeds: dict, scope: dict) -> list:
        env = {name: scope[name] for name in self.captured if name in scope}
        env.update(self.initializers)
        for name, value in feeds.items():
            env[name] = value
        self.execute(env)
        return [env[name] if name else None for name in self.output_names]


def _captured_of(step: _Step) -> set[str]:
    names: set[str] = set()
    for value in step.ctx._attrs.values():
        if isinstance(value, Plan):
            names |= value.captured
        elif isinstance(value, list) and value and isinstance(value[0], Plan):
            for plan in value:
                names |= plan.captured
    return names


def _graph_free_names(graph: onnx.GraphProto) -> set[str]:
    """Names a (sub)graph reads that it does not define: its outer-scope references."""
    defined = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    defined |= {t.values.name for t in graph.sparse_initializer}
    used: set[str] = set()
    for node in graph.node:
        used.update(n for n in node.input if n)
        for attr in node.attribute:
            if attr.type == AttributeProto.GRAPH:
                used |= _graph_free_names(attr.g)
            elif attr.type == AttributeProto.GRAPHS:
                for g in attr.graphs:
                    used |= _graph_free_names(g)
        defined.update(n for n in node.output if n)
    used.update(o.name for o in graph.output)
    return used - defined


def _node_label(node: onnx.NodeProto) -> str:
    name = f" {node.name!r}" if node.name else ""
    return f"{node.op_type}{name} (outputs {list(node.output)})"


def _timed(impl: Callable, node: onnx.NodeProto, profile: Callable[[onnx.NodeProto, float], None]) -> Callable:
    """``impl`` reporting its wall time to ``profile``: chosen when the node is planned, so an
    executor without a profile runs the kernels themselves, at no cost."""
    def timed(ctx, *inputs):
        start = time.perf_counter()
        try:
            return impl(ctx, *inputs)
        finally:
            profile(node, time.perf_counter() - start)
    return timed


def _unsupported(ctx, *args):
    raise UnsupportedOp([(ctx.node.domain, ctx.node.op_type, ctx.opset)])


class GraphPlan(Plan):
    def __init__(self, planner: _Planner, graph: onnx.GraphProto, opsets: dict[str, int]):
        initializers = {t.name: _tensor_to_array(t, planner.base_dir) for t in graph.initializer}
        for sparse in graph.sparse_initializer:
            initializers[sparse.values.name] = _sparse_to_dense(sparse)
        # IR < 4 lists initializers among the inputs: those are inputs with a default
        inputs = [i.name for i in graph.input]
        super().__init__(planner, graph.node, inputs, [o.name for o in graph.output], initializers, opsets)
        self.graph = graph


class _FunctionCall:
    """Calls a FunctionProto body planned once for this call site (attributes bound)."""

    def __init__(self, planner: _Planner, function: onnx.FunctionProto, node, attrs: dict,
                 outer_opsets: dict[str, int], schema=None):
        opsets = dict(outer_opsets)
        for imp in function.opset_import:
            opsets["" if imp.domain == "ai.onnx" else imp.domain] = imp.version
        bound = dict(attrs)
        # defaults declared by the function (attribute_proto) or by the op schema
        for attr in getattr(function, "attribute_proto", []):
            if attr.name not in bound:
                bound[attr.name] = Plan._attr_value(_AttrReader(planner), attr)
        if schema is not None:
            for name, spec in schema.attributes.items():
                if name not in bound and spec.default_value.type != 0:
                    bound[name] = Plan._attr_value(_AttrReader(planner), spec.default_value)
        self.input_names = list(function.input)
        self.output_names = list(function.output)
        self.body = Plan(planner, function.node, self.input_names, self.output_names, {}, opsets,
                         caller_attrs=bound)

    def __call__(self, ctx, *inputs):
        env = {}
        for name, value in zip(self.input_names, inputs):
            if name:
                env[name] = value
        for name in self.input_names[len(inputs):]:
            env[name] = None
        self.body.execute(env)
        outputs = tuple(env.get(name) for name in self.output_names)
        return outputs[: max(ctx.output_count, 1)]


class _ContextFunctionCall:
    """An ONNX op whose function body depends on input types: built on first run per dtype."""

    def __init__(self, planner: _Planner, node, attrs: dict, opsets: dict[str, int], schema):
        self.planner, self.node, self.attrs, self.opsets, self.schema = planner, node, attrs, opsets, schema
        self.bodies: dict = {}

    def __call__(self, ctx, *inputs):
        key = tuple(None if x is None else (x.dtype.str, x.ndim) if isinstance(x, np.ndarray) else type(x).__name__
                    for x in inputs)
        if key not in self.bodies:
            if len(inputs) != len(self.node.input) or not all(isinstance(x, np.ndarray) for x in inputs):
                # onnx's builder needs a tensor type for every input (it crashes on anything else)
                raise UnsupportedOp([(self.node.domain, self.node.op_type, ctx.opset)])
            types = [onnx.helper.make_tensor_type_proto(dtypes.elem_type_of(x.dtype), list(x.shape)).SerializeToString()
                     for x in inputs]
            raw = self.schema.get_context_dependent_function(_bound_node(self.node, self.attrs).SerializeToString(), types)
            function = onnx.FunctionProto.FromString(raw)
            self.bodies[key] = _FunctionCall(self.planner, function, self.node, self.attrs, self.opsets,
                                             schema=self.schema)
        return self.bodies[key](ctx, *inputs)


def _bound_node(node: onnx.NodeProto, attrs: dict) -> onnx.NodeProto:
    """The node with attribute references (inside a function body) replaced by their values."""
    if not any(a.ref_attr_name for a in node.attribute):
        return node
    bound = onnx.NodeProto()
    bound.CopyFrom(node)
    del bound.attribute[:]
    for attr in node.attribute:
        if not attr.ref_attr_name:
            bound.attribute.append(attr)
        elif attr.name in attrs:
            value = attrs[attr.name]
            if isinstance(value, np.ndarray):
                value = numpy_helper.from_array(value)
            bound.attribute.append(onnx.helper.make_attribute(attr.name, value))
    return bound


class _AttrReader:
    """Lets _attr_value be used outside a Plan (function default attributes)."""

    def __init__(self, planner):
        self.planner = planner

    def _subgraph(self, graph):
        return GraphPlan(self.planner, graph, self.planner.opsets)


def _declared_elem(type_proto: onnx.TypeProto) -> int:
    """The element type a tensor, sequence or optional value is declared with (0 if unknown)."""
    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        return type_proto.tensor_type.elem_type
    if kind == "sequence_type":
        return _declared_elem(type_proto.sequence_type.elem_type)
    if kind == "optional_type":
        return _declared_elem(type_proto.optional_type.elem_type)
    return 0


def _cast_back(value, elem: int | None):
    """float64-mode values back to the declared floating type (through sequences)."""
    if isinstance(value, list):
        return [_cast_back(v, elem) for v in value]
    if isinstance(value, np.ndarray) and elem in dtypes.FLOATING_ELEM and value.dtype != dtypes.to_dtype(elem):
        return value.astype(dtypes.to_dtype(elem))
    return value


def load_model(model) -> tuple[onnx.ModelProto, str]:
    """A ModelProto, bytes or a path -> (the model, the folder its external data is relative to)."""
    if isinstance(model, onnx.ModelProto):
        return model, ""
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_model_from_string(bytes(model)), ""
    path = os.fspath(model)
    return onnx.load(path), os.path.dirname(os.path.abspath(path))


class ReferenceExecutor:
    """Run an ONNX model with numpy, onnxruntime-style.

    ``ReferenceExecutor(model, precision="float32")``: ``model`` is a ModelProto, a path or
    bytes. Planning (order, attributes, initializers, implementation lookup) happens here;
    an unknown op raises :class:`UnsupportedOp` now, not at run time.

    ``profile``: a callable ``(node, seconds)`` called after every run of a registered kernel,
    in subgraphs and function bodies too. A node run through its function body reports the
    body's nodes, not itself; a control-flow node (If, Loop, Scan) reports its own time, which
    includes that of its subgraphs' nodes. Without it the kernels are called directly:
    profiling costs nothing when unused.
    """

    def __init__(self, model, precision: str = "float32",
                 profile: Callable[[onnx.NodeProto, float], None] | None = None, cast_outputs: bool = True):
        # float64 mode hands values back in their declared types unless cast_outputs is False:
        # a noise-floor measurement needs the float64 values themselves
        self.cast_outputs = cast_outputs
        if precision not in ("float32", "float64"):
            raise ValueError(f"precision must be 'float32' or 'float64', not {precision!r}")
        self.model, base_dir = load_model(model)
        self.precision = precision
        opsets = {("" if imp.domain == "ai.onnx" else imp.domain): imp.version for imp in self.model.opset_import}
        functions = {(f.domain, f.name): f for f in self.model.functions}
        self._planner = _Planner(opsets, precision, functions, base_dir, profile)
        graph = self.model.graph
        self._plan = GraphPlan(self._planner, graph, opsets)
        if self._planner.missing:
            raise UnsupportedOp(self._planner.missing)
        initializer_names = set(self._plan.initializers)
        self.input_names = [i.name for i in graph.input if i.name not in initializer_names]
        self.output_names = [o.name for o in graph.output]
        self._input_custom = {}
        for value_info in graph.input:
            elem = value_info.type.tensor_type.elem_type if value_info.type.HasField("tensor_type") else 0
            if elem and dtypes.is_custom(dtypes.to_dtype(elem)):
                self._input_custom[value_info.name] = dtypes.to_dtype(elem)
        self._output_elem = {o.name: _declared_elem(o.type) for o in graph.output}

    def _start_env(self, feeds: dict) -> dict:
        env = dict(self._plan.initializers)
        for name, value in feeds.items():
            if isinstance(value, np.ndarray) or value is None or isinstance(value, list):
                pass
            else:
                value = np.asarray(value)
            custom = self._input_custom.get(name)
            if custom is not None and isinstance(value, np.ndarray) and value.dtype == dtypes.raw_storage(custom):
                value = value.view(custom)  # bfloat16/float8/int4 fed as their storage integers
            env[name] = _to_precision(value, self.precision)
        missing = [n for n in self.input_names if n not in env]
        if missing:
            raise ValueError(f"missing feeds for inputs {missing}")
        return env

    def _finish(self, name: str, value):
        if self.precision == "float64" and self.cast_outputs:
            return _cast_back(value, self._output_elem.get(name))
        return value

    def run(self, output_names: list[str] | None, feeds: dict[str, np.ndarray]) -> list:
        names = self.output_names if output_names is None else list(output_names)
        env = self._plan.execute(self._start_env(feeds), keep_all=output_names is not None
                                 and bool(set(names) - set(self.output_names)))
        try:
            outputs = [self._finish(name, env[name]) for name in names]
        except KeyError as exc:
            raise KeyError(f"no value named {exc.args[0]!r} in the model") from None
        # an output that is an initializer must not hand out the executor's own array
        return [value.copy() if name in self._plan.initializers and isinstance(value, np.ndarray) else value
                for name, value in zip(names, outputs)]

    def run_all(self, feeds: dict[str, np.ndarray]) -> dict[str, Any]:
        """Every value the graph computes (inputs and initializers included), by name."""
        env = self._plan.execute(self._start_env(feeds), keep_all=True)
        return {name: self._finish(name, value) for name, value in env.items()}
