"""A generated graph as a Paddle layer: ``build(params, seed)`` for a ``kind="fuzz"`` case, run
in the paddle worker and converted by paddle2onnx (after ``paddle.jit.save`` with the declared
input specs, free axes -1).

Each node is the operator table's Paddle call, built by the operator suite's builder
(``paddle_ops.PaddleOps``: the custom builder functions, module calls, and the fixed-arity
``CallOp`` layers for functional calls)."""
from __future__ import annotations

import paddle

from conformance.cases import Built
from suites.operators import paddle_ops
from suites.operators.specs import spec_by_name

from . import paddle_control, program

MAX_INPUTS = 24      # forward's fixed signature (dy2static takes no *args against an InputSpec list)


class Item(paddle.nn.Layer):
    """The one output of a multi-output layer that the node reads (``program.node_output``)."""

    def __init__(self, node: dict, layer: paddle.nn.Layer):
        super().__init__()
        self.node = {"item": node["item"]}
        self.layer = layer

    def forward(self, *xs):
        return program.node_output(self.node, self.layer(*xs))


def _table_layer(node: dict, seed: int, arity: int) -> paddle.nn.Layer:
    call = spec_by_name()[node["op"]].call("paddle").resolve(node["attrs"], {})
    builder = paddle_ops.PaddleOps()
    if call["kind"] == "custom":
        return builder.custom(call["custom"], node["attrs"], [None] * arity, seed)
    if call["kind"] == "module":
        return builder.module(call, [None] * arity, seed)
    return builder.call_op(call, [None] * arity)


def node_layer(node: dict, seed: int, arity: int) -> paddle.nn.Layer:
    if program.is_structure(node):
        return paddle_control.structure(node, lambda body_node, k: node_layer(body_node, seed * 31 + k,
                                                                              len(body_node["args"])), arity)
    layer = _table_layer(node, seed, arity)
    return Item(node, layer) if "item" in node else layer


class Program(paddle.nn.Layer):
    """forward(x0, x1, ...) evaluates the nodes in order and returns the graph's outputs."""

    def __init__(self, graph: dict, seed: int):
        super().__init__()
        if len(graph["inputs"]) > MAX_INPUTS:
            raise ValueError(f"a paddle program takes at most {MAX_INPUTS} inputs, not {len(graph['inputs'])}")
        self.n_inputs = len(graph["inputs"])
        self.node_args = [list(n["args"]) for n in graph["nodes"]]
        self.outputs = list(graph["outputs"])
        self.nodes = paddle.nn.LayerList([node_layer(n, seed + i, len(n["args"])) for i, n in enumerate(graph["nodes"])])

    def values(self, *inputs) -> list:
        """Every value of the graph, run eagerly: the inputs, then each node's output."""
        values = list(inputs)
        for args, layer in zip(self.node_args, self.nodes):
            values.append(layer(*[values[a] for a in args]))
        return values

    def forward(self, x0, x1=None, x2=None, x3=None, x4=None, x5=None, x6=None, x7=None, x8=None, x9=None, x10=None,
                x11=None, x12=None, x13=None, x14=None, x15=None, x16=None, x17=None, x18=None, x19=None, x20=None,
                x21=None, x22=None, x23=None):
        values = [x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19, x20, x21,
                  x22, x23][:self.n_inputs]
        for args, layer in zip(self.node_args, self.nodes):
            values.append(layer(*[values[a] for a in args]))
        return tuple([values[o] for o in self.outputs])


def build(params: dict, seed: int) -> Built:
    graph = params["graph"]
    sets = program.input_sets(graph, seed)
    paddle.seed(seed)
    model = Program(graph, seed)
    model.eval()
    return program.built(graph, model, sets)
