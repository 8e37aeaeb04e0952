"""A small mutable view of an ONNX graph that the rewrite passes edit.

Nodes stay ``onnx.NodeProto`` objects; initializers are kept as numpy arrays once a pass has
looked at them. The graph keeps its producer and consumer maps consistent itself: every edit
that changes which node reads or writes which name goes through a method here (``set_input``,
``replace_node``, ``remove_nodes``, ``replace_output``...), and each rebuilds the maps. A
rewrite that makes several such edits in a row wraps them in ``with graph.batch():`` to rebuild
once at the end. Rebuilding rather than maintaining the maps incrementally keeps them obviously
right; the graphs are small enough for it. Attributes (``set_attr``) may be edited directly.

Names that must survive every rewrite ("protected"): the graph's outputs and any outer-scope
name a subgraph (If/Loop/Scan body) reads. A rewrite that would remove such a name renames the
replacement tensor instead, or leaves the node alone.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from contextlib import contextmanager

import numpy as np
import onnx
from onnx import helper, numpy_helper

DEFAULT_DOMAINS = ("", "ai.onnx")


def subgraph_attrs(node: onnx.NodeProto) -> list[onnx.GraphProto]:
    graphs = []
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            graphs.append(a.g)
        elif a.type == onnx.AttributeProto.GRAPHS:
            graphs.extend(a.graphs)
    return graphs


def outer_names_used(graph: onnx.GraphProto) -> set[str]:
    """Names a (sub)graph reads that it does not define itself (its outer-scope references)."""
    defined = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    defined |= {t.name for t in graph.sparse_initializer}
    used: set[str] = set()
    for node in graph.node:
        used.update(n for n in node.input if n)
        for sub in subgraph_attrs(node):
            used |= outer_names_used(sub)
        defined.update(node.output)
    used.update(o.name for o in graph.output)
    return used - defined


def attr_dict(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def get_attr(node: onnx.NodeProto, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def set_attr(node: onnx.NodeProto, name: str, value) -> None:
    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            break
    node.attribute.append(helper.make_attribute(name, value))


def del_attr(node: onnx.NodeProto, name: str) -> None:
    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            return


class Graph:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        g = model.graph
        self.nodes: list[onnx.NodeProto] = [onnx.NodeProto.FromString(n.SerializeToString()) for n in g.node]
        self._init_protos: dict[str, onnx.TensorProto] = {t.name: t for t in g.initializer}
        self._arrays: dict[str, np.ndarray] = {}
        self.input_names = [i.name for i in g.input]
        self.output_names = [o.name for o in g.output]
        self.opset = next((o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS), 0)
        self._counter = itertools.count()
        self._taken: set[str] = set()
        self.shapes: dict[str, tuple] = {}     # name -> tuple of int|None (rank known)
        self.types: dict[str, int] = {}        # name -> TensorProto elem type
        self._batch_depth = 0
        self._stale = False
        self._reindex()

    # ---------------------------------------------------------------- bookkeeping
    def _reindex(self) -> None:
        """Rebuild the producer/consumer maps, the protected names and the names taken."""
        self._stale = False
        self.producer: dict[str, tuple[onnx.NodeProto, int]] = {}
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        self.protected: set[str] = set(self.output_names)
        for node in self.nodes:
            for k, o in enumerate(node.output):
                if o:
                    self.producer[o] = (node, k)
            for i in node.input:
                if i:
                    self.consumers[i].append(node)
            for sub in subgraph_attrs(node):
                for name in outer_names_used(sub):
                    self.consumers[name].append(node)
                    self.protected.add(name)
        self._taken = set(self.producer) | set(self._init_protos) | set(self._arrays) | set(self.input_names)

    def _edited(self) -> None:
        """Called by every edit method: rebuild the maps now, or at the end of the open batch."""
        if self._batch_depth:
            self._stale = True
        else:
            self._reindex()

    @contextmanager
    def batch(self):
        """Edits inside rebuild the maps once, on leaving; the maps are stale until then."""
        self._batch_depth += 1
        try:
            yield self
        finally:
            self._batch_depth -= 1
            if not self._batch_depth and self._stale:
                self._reindex()

    def snapshot(self):
        """What ``restore`` needs to put the nodes and initializers back as they are now."""
        return ([onnx.NodeProto.FromString(n.SerializeToString()) for n in self.nodes],
                dict(self._arrays), dict(self._init_protos))

    def restore(self, snapshot) -> None:
        nodes, arrays, protos = snapshot
        self.nodes, self._arrays, self._init_protos = nodes, arrays, protos
        self._reindex()

    def ensure_types(self) -> None:
        """Infer shapes and types unless some types are already known."""
        if not self.types:
            self.infer()

    def ensure_shapes(self) -> None:
        """Infer shapes and types unless some shapes are already known."""
        if not self.shapes:
            self.infer()

    def fresh(self, base: str) -> str:
        while True:
            name = f"{base}__opt{next(self._counter)}"
            if name not in self._taken:
                self._taken.add(name)
                return name

    def fresh_node_name(self, base: str) -> str:
        """A node name no node of the graph has (ONNX requires node names to be unique)."""
        taken = {n.name for n in self.nodes}
        if base not in taken:
            return base
        while True:
            name = f"{base}__opt{next(self._counter)}"
            if name not in taken:
                return name

    def is_graph_input(self, name: str) -> bool:
        return name in self.input_names

    # ---------------------------------------------------------------- initializers
    def is_init(self, name: str) -> bool:
        # an initializer that is also listed as a graph input can be overridden: not a constant
        return (name in self._arrays or name in self._init_protos) and name not in self.input_names

    def init_names(self) -> list[str]:
        return list(dict.fromkeys(itertools.chain(self._init_protos, self._arrays)))

    def array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = numpy_helper.to_array(self._init_protos[name])
        return self._arrays[name]

    def const(self, name: str):
        """The value of ``name`` if it is a constant (initializer or Constant node), else None."""
        if self.is_init(name):
            try:
                return self.array(name)
            except Exception:
                return None
        prod = self.producer.get(name)
        if prod and prod[0].op_type == "Constant" and prod[0].domain in DEFAULT_DOMAINS:
            return constant_node_value(prod[0])
        return None

    def init_dtype(self, name: str) -> int:
        if name in self._init_protos and name not in self._arrays:
            return self._init_protos[name].data_type
        return helper.np_dtype_to_tensor_dtype(self.array(name).dtype)

    def add_init(self, value: np.ndarray, base: str) -> str:
        name = self.fresh(base)
        self._arrays[name] = np.asarray(value)
        return name

    def set_init(self, name: str, value: np.ndarray) -> None:
        self._arrays[name] = np.asarray(value)
        self._init_protos.pop(name, None)

    def remove_inits(self, names) -> None:
        names = list(names)
        for name in names:
            self._arrays.pop(name, None)
            self._init_protos.pop(name, None)
        if names:
            self._edited()

    # ---------------------------------------------------------------- rewiring
    def uses(self, name: str) -> int:
        return len(self.consumers.get(name, ())) + (name in self.protected)

    def only_consumer(self, name: str):
        """The single node reading ``name`` if nothing else (graph output, subgraph) reads it."""
        cons = self.consumers.get(name, [])
        if len(cons) == 1 and name not in self.protected and list(cons[0].input).count(name) >= 1:
            return cons[0]
        return None

    def set_input(self, node: onnx.NodeProto, index: int, name: str) -> None:
        node.input[index] = name
        self._edited()

    def set_inputs(self, node: onnx.NodeProto, names) -> None:
        node.input[:] = list(names)
        self._edited()

    def set_output(self, node: onnx.NodeProto, index: int, name: str) -> None:
        node.output[index] = name
        self._edited()

    def rename_inputs(self, renames: dict[str, str]) -> None:
        """Every node input named ``old`` reads ``renames[old]`` instead (outputs untouched)."""
        for node in self.nodes:
            for k, i in enumerate(node.input):
                if i in renames:
                    node.input[k] = renames[i]
        self._edited()

    def rename_everywhere(self, old: str, new: str) -> None:
        for node in self.nodes:
            for k, i in enumerate(node.input):
                if i == old:
                    node.input[k] = new
            for k, o in enumerate(node.output):
                if o == old:
                    node.output[k] = new
        self._edited()

    def replace_output(self, old: str, new: str) -> bool:
        """Make every reader of ``old`` read ``new`` instead, so ``old``'s producer becomes dead.

        When ``old`` is protected (graph output, subgraph reference) the tensor ``new`` is renamed
        to ``old`` instead, which needs ``new`` to come from a node of this graph and to be
        unprotected itself. Returns False (nothing changed) when neither is possible.
        """
        if old == new:
            return True
        if old in self.protected:
            if new in self.protected or new not in self.producer or self.is_graph_input(new):
                return False
            # the producer of ``old`` must stop writing it first
            for node in self.nodes:
                for k, o in enumerate(node.output):
                    if o == old:
                        node.output[k] = ""
            self.rename_everywhere(new, old)
            return True
        for node in self.consumers.get(old, []):
            for k, i in enumerate(node.input):
                if i == old:
                    node.input[k] = new
        self._edited()
        return True

    def set_nodes(self, nodes) -> None:
        self.nodes = list(nodes)
        self._edited()

    def replace_node(self, old: onnx.NodeProto, new) -> None:
        """Put the node(s) ``new`` where ``old`` is."""
        idx = next(k for k, n in enumerate(self.nodes) if n is old)
        self.nodes[idx:idx + 1] = [new] if isinstance(new, onnx.NodeProto) else list(new)
        self._edited()

    def insert_after(self, anchor: onnx.NodeProto | None, new_nodes: list[onnx.NodeProto]) -> None:
        """Insert ``new_nodes`` right after ``anchor`` (before every node when ``anchor`` is None)."""
        idx = 0 if anchor is None else next(k for k, n in enumerate(self.nodes) if n is anchor) + 1
        self.nodes[idx:idx] = new_nodes
        self._edited()

    def remove_nodes(self, dead) -> None:
        dead_ids = {id(n) for n in dead}
        self.nodes = [n for n in self.nodes if id(n) not in dead_ids]
        self._edited()

    def drop_if_dead(self, node: onnx.NodeProto) -> None:
        """Remove ``node`` when nothing reads any of its outputs any more."""
        if not any(o and self.uses(o) for o in node.output):
            self.remove_nodes([node])

    # ---------------------------------------------------------------- shapes
    def infer(self) -> None:
        """Refresh ``shapes``/``types`` from onnx.shape_inference (best effort)."""
        self.shapes, self.types = {}, {}
        model = self._model_for_inference()
        try:
            inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
        except Exception:
            try:
                inferred = onnx.shape_inference.infer_shapes(model)
            except Exception:
                return
        g = inferred.graph
        for vi in itertools.chain(g.input, g.output, g.value_info):
            t = vi.type.tensor_type
            if not vi.type.HasField("tensor_type"):
                continue
            self.types[vi.name] = t.elem_type
            if t.HasField("shape"):
                self.shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
        for name in self.init_names():
            if name in self._arrays:
                a = self._arrays[name]
                self.shapes[name] = tuple(a.shape)
                self.types[name] = helper.np_dtype_to_tensor_dtype(a.dtype)
            else:
                t = self._init_protos[name]
                self.shapes[name] = tuple(t.dims)
                self.types[name] = t.data_type

    def _model_for_inference(self) -> onnx.ModelProto:
        """The graph with large weights declared as typed inputs instead of data: inference needs
        their shapes only, and serializing 100 MB of weights per call is what made it slow."""
        light = onnx.ModelProto()
        light.ir_version = self.model.ir_version
        light.opset_import.extend(self.model.opset_import)
        light.functions.extend(self.model.functions)
        g = self.model.graph
        inits, extra_inputs = [], []
        for name in self.init_names():
            if name in self.input_names:
                continue
            if name in self._arrays:
                a = self._arrays[name]
                dims, dtype, size = a.shape, helper.np_dtype_to_tensor_dtype(a.dtype), a.size
            else:
                t = self._init_protos[name]
                dims, dtype, size = tuple(t.dims), t.data_type, int(np.prod(t.dims, dtype=np.int64))
            if size > 64 and dtype not in (onnx.TensorProto.INT64, onnx.TensorProto.INT32):
                extra_inputs.append(helper.make_tensor_value_info(name, dtype, list(dims)))
            elif name in self._arrays:
                inits.append(numpy_helper.from_array(self._arrays[name], name))
            else:
                inits.append(self._init_protos[name])
        # outputs without their declared shapes: an exporter's wrong declaration must not become a
        # "static shape" that a pass trusts
        outputs = []
        for o in g.output:
            vi = onnx.ValueInfoProto()
            vi.CopyFrom(o)
            if vi.type.HasField("tensor_type"):
                vi.type.tensor_type.ClearField("shape")
            outputs.append(vi)
        light.graph.CopyFrom(helper.make_graph(self.nodes, g.name, list(g.input) + extra_inputs, outputs,
                                               inits, sparse_initializer=list(g.sparse_initializer)))
        return light

    def static_shape(self, name: str):
        if self.is_init(name):
            return tuple(self.array(name).shape)
        s = self.shapes.get(name)
        if s is None or any(d is None for d in s):
            return None
        return s

    def rank(self, name: str):
        if self.is_init(name):
            return self.array(name).ndim
        s = self.shapes.get(name)
        return None if s is None else len(s)

    # ---------------------------------------------------------------- output
    def to_model(self, keep_value_info: bool = True) -> onnx.ModelProto:
        g = self.model.graph
        used = set()
        for node in self.nodes:
            used.update(node.input)
            for sub in subgraph_attrs(node):
                used |= outer_names_used(sub)
        used.update(self.output_names)
        inits = []
        for name in self.init_names():
            if name in self._arrays:
                inits.append(numpy_helper.from_array(self._arrays[name], name))
            else:
                inits.append(self._init_protos[name])
        value_info = []
        if keep_value_info:
            produced = {o for n in self.nodes for o in n.output}
            value_info = [vi for vi in g.value_info if vi.name in produced]
        graph = helper.make_graph(self.nodes, g.name, list(g.input), list(g.output), inits,
                                  doc_string=g.doc_string, value_info=value_info,
                                  sparse_initializer=list(g.sparse_initializer))
        model = onnx.ModelProto()
        model.ir_version = self.model.ir_version
        model.opset_import.extend(self.model.opset_import)
        model.producer_name = self.model.producer_name
        model.producer_version = self.model.producer_version
        model.domain = self.model.domain
        model.model_version = self.model.model_version
        model.doc_string = self.model.doc_string
        model.metadata_props.extend(self.model.metadata_props)
        model.functions.extend(self.model.functions)
        model.graph.CopyFrom(graph)
        return model


def constant_node_value(node: onnx.NodeProto):
    """Value of a Constant node, or None for forms we do not read (sparse)."""
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
    return None
