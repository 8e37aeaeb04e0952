"""A generated graph as a torch model: ``build(params, seed)`` for a ``kind="fuzz"`` case.
Runs in the torch worker. Each node is the operator table's torch call, built by the operator
suite's builder (``torch_ops``); ``program`` adds the inputs at both shapes and the dynamic axes."""
from __future__ import annotations

import torch

from conformance.cases import Built
from suites.operators.specs import spec_by_name
from suites.operators.torch_ops import CallOp, TorchOps

from . import program, torch_control

MAX_INPUTS = 24


def node_module(node: dict, seed: int) -> torch.nn.Module:
    spec = spec_by_name()[node["op"]]
    call = spec.call("torch").resolve(node["attrs"], {})
    if call["kind"] == "custom":
        return TorchOps().custom(call["custom"], node["attrs"], [], seed)
    if call["kind"] == "module":
        return TorchOps().module(call, [], seed)
    return CallOp(call)


class Program(torch.nn.Module):
    """forward(*inputs) evaluates the nodes in order and returns the graph's outputs. (The graph is
    ``description``: torch.onnx.export takes a module with a ``graph`` attribute for a ScriptModule.)"""

    def __init__(self, graph: dict, seed: int):
        super().__init__()
        if len(graph["inputs"]) > MAX_INPUTS:
            raise ValueError(f"a torch program takes at most {MAX_INPUTS} inputs, not {len(graph['inputs'])}")
        self.description = graph
        # a control node traces its bodies on example tensors of its arguments' shapes
        shapes = program.value_shapes(graph, program.batches(graph)[0] or 1) if any(
            program.is_structure(n) for n in graph["nodes"]) else []
        self.ops = torch.nn.ModuleList(self._module(n, seed + i, shapes) for i, n in enumerate(graph["nodes"]))

    @staticmethod
    def _module(node: dict, seed: int, shapes: list[tuple]) -> torch.nn.Module:
        if program.is_structure(node):
            return torch_control.structure(node, lambda body_node, k: node_module(body_node, seed * 31 + k),
                                           [shapes[a] for a in node["args"]])
        return node_module(node, seed)

    def values(self, *inputs) -> list:
        """Every value of the graph: the inputs, then each node's output."""
        values = list(inputs)
        for node, op in zip(self.description["nodes"], self.ops):
            values.append(program.node_output(node, op(*(values[a] for a in node["args"]))))
        return values

    # named arguments, not *inputs: torch.onnx's dynamo exporter maps dynamic_axes onto the
    # signature, and a varargs tuple breaks that translation (IndexError / treespec mismatch)
    def forward(self, x0, x1=None, x2=None, x3=None, x4=None, x5=None, x6=None, x7=None, x8=None, x9=None, x10=None,
                x11=None, x12=None, x13=None, x14=None, x15=None, x16=None, x17=None, x18=None, x19=None, x20=None,
                x21=None, x22=None, x23=None):
        inputs = [x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19, x20, x21,
                  x22, x23][:len(self.description["inputs"])]
        values = self.values(*inputs)
        return tuple(values[o] for o in self.description["outputs"])


def build(params: dict, seed: int) -> Built:
    graph = params["graph"]
    sets = program.input_sets(graph, seed)
    torch.manual_seed(seed)
    return program.built(graph, Program(graph, seed).eval(), sets)
