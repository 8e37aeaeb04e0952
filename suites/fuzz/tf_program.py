"""A generated graph as a TensorFlow program: ``build(params, seed)`` for a ``kind="fuzz"``
case, run in the tensorflow worker and converted by tf2onnx (which wraps it in a tf.function
over the declared input signature, free axes None).

Each node is the operator table's TensorFlow call, built by the operator suite's builders
(``tf_ops``): ``make_call`` for functional calls, the ``custom`` builder functions for layers
(Dense, LayerNormalization ...), ``resolve`` for Keras module calls. Layers are not wrapped in
a functional ``keras.Model`` as the operator suite does (its ``keras.Input``s fix every side);
they are called on tensors, built by a first eager run, and their weights randomized with
``tf_ops.randomize`` from the node's seed."""
from __future__ import annotations

import tensorflow as tf

from conformance.cases import Built
from suites.operators import tf_ops
from suites.operators.specs import spec_by_name

from . import program, tf_control


def node_fn(node: dict):
    """The node's callable over tf tensors (a Keras layer where the table's call makes one)."""
    if program.is_structure(node):
        return tf_control.structure(node, node_fn)
    call = spec_by_name()[node["op"]].call("tensorflow").resolve(node["attrs"], {})
    if call["kind"] == "custom":
        return getattr(tf_ops, call["custom"])(node["attrs"])
    if call["kind"] == "module":
        return tf_ops.resolve(call["target"])(**call["kwargs"])
    return tf_ops.make_call(call)


class Program:
    """A callable over tf tensors evaluating the nodes in order; returns the graph's outputs."""

    def __init__(self, graph: dict, seed: int):
        self.description = graph
        self.fns = [node_fn(n) for n in graph["nodes"]]
        self.seed = seed

    def values(self, *inputs) -> list:
        """Every value of the graph: the inputs, then each node's output."""
        values = list(inputs)
        for node, fn in zip(self.description["nodes"], self.fns):
            values.append(program.node_output(node, fn(*(values[a] for a in node["args"]))))
        return values

    def __call__(self, *inputs):
        values = self.values(*inputs)
        return tuple(values[o] for o in self.description["outputs"])

    def randomize(self) -> None:
        """Seeded weights in every layer (built by a first call)."""
        for i, fn in enumerate(self.fns):
            if getattr(fn, "weights", None):
                tf_ops.randomize(fn, self.seed + i)


def build(params: dict, seed: int) -> Built:
    graph = params["graph"]
    sets = program.input_sets(graph, seed)
    tf_ops.TensorFlowOps().seed(seed)
    model = Program(graph, seed)
    model(*[tf.convert_to_tensor(x) for x in sets[0]])       # builds the layers' weights
    model.randomize()
    return program.built(graph, model, sets)
