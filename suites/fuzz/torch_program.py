"""A generated graph as a torch model: ``build(params, seed)`` for a ``kind="fuzz"`` case.
Runs in the torch worker. (TensorFlow and Paddle programs: the same loop over the table's
calls with ``tf_ops`` / ``paddle_ops``; not written yet.)"""
from __future__ import annotations

import torch

from conformance.cases import Built
from suites.operators import samples
from suites.operators.specs import spec_by_name
from suites.operators.torch_ops import CallOp, TorchOps


def node_module(node: dict, seed: int) -> torch.nn.Module:
    spec = spec_by_name()[node["op"]]
    call = spec.call("torch").resolve(node["attrs"], {})
    if call["kind"] == "custom":
        return TorchOps().custom(call["custom"], node["attrs"], [], seed)
    return CallOp(call)


class Program(torch.nn.Module):
    """forward(*inputs) evaluates the nodes in order and returns the graph's outputs."""

    def __init__(self, graph: dict, seed: int):
        super().__init__()
        self.graph = graph
        self.ops = torch.nn.ModuleList(node_module(n, seed + i) for i, n in enumerate(graph["nodes"]))

    def forward(self, *inputs):
        values = list(inputs)
        for node, op in zip(self.graph["nodes"], self.ops):
            values.append(op(*(values[a] for a in node["args"])))
        return tuple(values[o] for o in self.graph["outputs"])


def build(params: dict, seed: int) -> Built:
    graph = params["graph"]
    inputs = samples.generate(graph["inputs"], seed)
    torch.manual_seed(seed)
    return Built(model=Program(graph, seed).eval(), inputs=inputs)
