"""The worker side of a node case: draw the data set, write the single-node model, and run the
reference executor on it for the golden (the suite's oracle is that executor, not a framework).

A data set the executor cannot decide (it raises ``NotImplementedError``, ``UnsupportedOp``
among them) gets no invented golden: the Built says so and the identity converter reports
the case unsupported with the executor's words.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from conformance.cases import Built
from conformance.reference import ReferenceExecutor

from .datasets import DataSet, NodeData, materialize
from .schema import opset_imports, tensor_type


def build_node(params: dict, seed: int) -> Built:
    ds = DataSet(**{k: v for k, v in params.items() if k not in ("undefined", "unjudged")}, form_name="")
    data = materialize(ds, seed)
    model, names, feeds = node_model(ds, data)
    try:
        golden = run_reference(model, names, feeds)
    except NotImplementedError as exc:
        return Built(model=model, inputs=feeds, input_names=names, run=lambda m, xs: [],
                     options={"undecided": f"{type(exc).__name__}: {exc}"})
    typed = with_output_types(model, golden)
    return Built(model=typed, inputs=feeds, input_names=names,
                 output_names=[o.name for o in typed.graph.output],
                 run=lambda m, xs: run_reference(m, names, xs))


def run_reference(model: onnx.ModelProto, names: list[str], feeds: list[np.ndarray]) -> list[np.ndarray]:
    outputs = ReferenceExecutor(model).run(None, dict(zip(names, feeds)))
    return [np.asarray(o) for o in outputs]


def node_model(ds: DataSet, data: NodeData):
    """(model with untyped outputs, graph input names, feeds) of the data set's node, with the
    helper nodes its form needs (SequenceConstruct/Optional before, its tail after)."""
    nodes, graph_inputs, names, feeds, node_inputs = [], [], [], [], []
    for i, value in enumerate(data.inputs):
        if value is None:
            node_inputs.append("")
            continue
        arrays = value if isinstance(value, list) else [value]
        tensor_names = [f"x{i}" if len(arrays) == 1 and not isinstance(value, list) else f"x{i}_{j}"
                        for j in range(len(arrays))]
        for name, array in zip(tensor_names, arrays):
            graph_inputs.append(helper.make_tensor_value_info(name, tensor_type(array.dtype), array.shape))
            names.append(name)
            feeds.append(array)
        node_inputs.append(_wrap_input(i, value, tensor_names, data, nodes))
    outs = [f"y{k}" for k in range(data.outputs)]
    nodes.append(helper.make_node(ds.op, node_inputs, outs, domain=ds.domain, **data.attrs))
    outs = _tail(outs, data, nodes)
    graph = helper.make_graph(nodes, f"{ds.op}_{ds.family}_{ds.dtype}", graph_inputs,
                              [onnx.ValueInfoProto(name=n) for n in outs])
    imports = opset_imports(ds.domain, ds.version)
    model = helper.make_model(graph, opset_imports=imports, ir_version=helper.find_min_ir_version_for(imports))
    return model, names, feeds


def _wrap_input(i: int, value, tensor_names: list[str], data: NodeData, nodes: list) -> str:
    role = data.form.inputs[i]
    if isinstance(value, list):
        nodes.append(helper.make_node("SequenceConstruct", tensor_names, [f"seq{i}"]))
        return f"seq{i}"
    if getattr(role, "optional", False):
        nodes.append(helper.make_node("Optional", tensor_names, [f"opt{i}"]))
        return f"opt{i}"
    return tensor_names[0]


def _tail(outs: list[str], data: NodeData, nodes: list) -> list[str]:
    """Chain the form's tail nodes after output 0 (a sequence or optional back to a tensor)."""
    current = outs[0]
    for k, (op_type, attrs) in enumerate(data.form.tail):
        nodes.append(helper.make_node(op_type, [current], [f"t{k}"], **attrs))
        current = f"t{k}"
    return [current] + outs[1:]


def with_output_types(model: onnx.ModelProto, golden: list[np.ndarray]) -> onnx.ModelProto:
    """The model with each output typed as the reference computed it (rank left open): targets
    such as onnxruntime want typed graph outputs."""
    typed = onnx.ModelProto()
    typed.CopyFrom(model)
    del typed.graph.output[:]
    for value, array in zip(model.graph.output, golden):
        typed.graph.output.append(helper.make_tensor_value_info(value.name, tensor_type(array.dtype), None))
    return typed
