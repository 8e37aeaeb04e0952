"""Constant folding, including shape subgraphs whose inputs have static shapes."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from conformance.reference import ReferenceExecutor

from ..graph import DEFAULT_DOMAINS, Graph, constant_node_value, get_attr, subgraph_attrs
from . import rewrite_pass

NOT_FOLDABLE = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                "Bernoulli", "If", "Loop", "Scan", "SequenceConstruct", "SequenceEmpty", "SplitToSequence",
                "Optional", "OptionalGetElement", "OptionalHasElement"}
#: do not materialise a folded tensor larger than this many bytes if it is larger than its inputs
MAX_GROWTH_BYTES = 1 << 20


def evaluate_node(node: onnx.NodeProto, inputs: list, opset_imports) -> list[np.ndarray]:
    """Run one node on numpy inputs with onnx's reference evaluator, falling back to ours."""
    feeds = {}
    graph_inputs = []
    node = onnx.NodeProto.FromString(node.SerializeToString())
    for k, (name, value) in enumerate(zip(node.input, inputs)):
        if not name:
            continue
        fname = f"in{k}"
        node.input[k] = fname
        if fname not in feeds:
            feeds[fname] = value
            graph_inputs.append(helper.make_tensor_value_info(
                fname, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape))
    outs = [o for o in node.output if o]
    graph = helper.make_graph([node], "fold", graph_inputs, [helper.make_value_info(o, onnx.TypeProto()) for o in outs])
    model = helper.make_model(graph, opset_imports=list(opset_imports))
    try:
        results = ReferenceEvaluator(model).run(None, feeds)
    except Exception:
        results = ReferenceExecutor(model).run(None, feeds)
    return [np.asarray(r) for r in results]


def _shape_value(g: Graph, node: onnx.NodeProto):
    """Value of a Shape/Size node whose input shape is static, else None."""
    shape = g.static_shape(node.input[0])
    if shape is None:
        return None
    if node.op_type == "Size":
        return np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    rank = len(shape)
    start = get_attr(node, "start", 0)
    end = get_attr(node, "end", rank)
    start = max(0, min(rank, start + rank if start < 0 else start))
    end = max(0, min(rank, end + rank if end < 0 else end))
    return np.array(shape[start:end], dtype=np.int64)


def _folded_values(g: Graph, node: onnx.NodeProto):
    """The values of ``node``'s outputs if it can be folded, else None."""
    if node.op_type == "Constant":
        v = constant_node_value(node)
        return None if v is None else [v]
    if node.op_type in ("Shape", "Size"):
        v = _shape_value(g, node)
        return None if v is None else [v]
    ins = [g.const(i) if i else None for i in node.input]
    if any(v is None for v, i in zip(ins, node.input) if i) or not node.input:
        return None
    try:
        values = evaluate_node(node, [v for v in ins], g.model.opset_import)
    except Exception:
        return None
    in_bytes = sum(v.nbytes for v in ins if v is not None)
    out_bytes = sum(v.nbytes for v in values)
    if out_bytes > MAX_GROWTH_BYTES and out_bytes > 2 * in_bytes:
        return None
    return values


def _cast_to_declared(g: Graph, node: onnx.NodeProto, values: list) -> bool:
    """Cast ``values`` (in place) to the types inferred for ``node``'s outputs; False if impossible."""
    ok = True
    for name, v in zip(node.output, values):
        want = g.types.get(name)
        if name and want and v.dtype != object:
            try:
                if helper.np_dtype_to_tensor_dtype(v.dtype) != want:
                    values[list(node.output).index(name)] = v.astype(helper.tensor_dtype_to_np_dtype(want))
            except Exception:
                ok = False
        if v.dtype == object:
            ok = False
    return ok


@rewrite_pass("fold", at={"core": 10}, prepare=Graph.infer)
def constant_folding(g: Graph) -> bool:
    """Evaluate nodes whose inputs are constants (and Shape/Size of static shapes); Constant nodes
    become initializers."""
    changed = False
    for node in list(g.nodes):
        if node.domain not in DEFAULT_DOMAINS or node.op_type in NOT_FOLDABLE or subgraph_attrs(node):
            continue
        outs = [o for o in node.output if o]
        if not outs:
            continue
        values = _folded_values(g, node)
        if values is None or len(values) < len(node.output) or not _cast_to_declared(g, node, values):
            continue
        if any(o in g.protected for o in outs):
            # a graph output (or a name a subgraph reads) keeps its name: a Constant node holds it
            if node.op_type == "Constant":
                continue
            g.replace_node(node, [helper.make_node("Constant", [], [o], value=numpy_helper.from_array(np.asarray(v), o))
                                  for o, v in zip(node.output, values) if o])
            changed = True
            continue
        for o, v in zip(node.output, values):
            if o:
                g.set_init(o, v)
        g.remove_nodes([node])
        changed = True
    return changed
