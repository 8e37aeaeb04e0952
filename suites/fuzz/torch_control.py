"""The control-flow structures (drawn by ``control``) as torch modules, run in the torch worker.

The TorchScript exporter traces the program; a traced loop would be unrolled and a traced
``if`` frozen to the branch taken, so the loop and the conditional are scripted functions
(``torch.jit.script``) around bodies traced once into functions (``torch.jit.trace``), which
the tracer inlines as ``prim::Loop`` / ``prim::If`` and the exporter writes as ONNX ``Loop`` /
``If``. (Scripted *modules* cannot be called under torch.onnx.export's own trace: "not part of
the active trace"; scripted functions can.) Under torch.export (the dynamo exporter)
scripted modules cannot be traced: there the conditional is ``torch.cond`` and the loop a
Python loop over the body (unrolled; an input-dependent count runs ``while_loop``)."""
from __future__ import annotations

import torch

from . import program


class Body(torch.nn.Module):
    """forward(x, y): a body's nodes over the state ``x`` and the captured ``y`` (ignored
    where the body has none)."""

    def __init__(self, nodes: list[dict], modules: list, captured: bool):
        super().__init__()
        self.nodes = nodes
        self.ops = torch.nn.ModuleList(modules)
        self.captured = captured

    def forward(self, x, y):
        return program.run_body(self.nodes, list(self.ops), x, y if self.captured else None)


def traced(body: Body, state_shape: tuple, y_shape: tuple | None):
    """The body as a traced function (a ScriptFunction a scripted function may call)."""
    x = torch.zeros(state_shape)
    y = torch.zeros(y_shape) if y_shape is not None else x
    return torch.jit.trace(lambda a, b: body(a, b), (x, y), check_trace=False)


def scripted_loop(body_fn):
    @torch.jit.script
    def loop(x, n: torch.Tensor, y):
        for _ in range(int(n)):
            x = body_fn(x, y)
        return x
    return loop


def scripted_cond(then_fn, else_fn):
    @torch.jit.script
    def cond(pred: torch.Tensor, x, y):
        if bool(pred):
            return then_fn(x, y)
        return else_fn(x, y)
    return cond


def _exporting() -> bool:
    return torch.compiler.is_compiling() or torch.compiler.is_exporting()


class Loop(torch.nn.Module):
    def __init__(self, node: dict, body: Body, state_shape: tuple, y_shape: tuple | None):
        super().__init__()
        self.node = node
        self.body = body
        self.scripted = scripted_loop(traced(body, state_shape, y_shape))

    def forward(self, *args):
        x, n, y = program.loop_args(self.node, list(args))
        y = x if y is None else y
        trips = self.node["attrs"]["trips"]
        if not _exporting():
            return self.scripted(x, torch.tensor(trips) if n is None else n, y)
        if n is None:
            for _ in range(trips):
                x = self.body(x, y)
            return x
        from torch._higher_order_ops import while_loop
        return while_loop(lambda i, s: i < n, lambda i, s: (i + 1, self.body(s, y)), (torch.zeros_like(n), x))[1]


class Cond(torch.nn.Module):
    def __init__(self, node: dict, then: Body, else_: Body, state_shape: tuple, y_shape: tuple | None):
        super().__init__()
        self.then, self.else_ = then, else_
        self.scripted = scripted_cond(traced(then, state_shape, y_shape), traced(else_, state_shape, y_shape))

    def forward(self, *args):
        pred, x, y = program.cond_args(list(args))
        y = x if y is None else y
        if not _exporting():
            return self.scripted(pred, x, y)
        return torch.cond(pred, lambda a, b: self.then(a, b), lambda a, b: self.else_(a, b), (x, y))


def structure(node: dict, make_module, arg_shapes: list[tuple]) -> torch.nn.Module:
    """The module of a control node; ``make_module(body_node, k)`` builds body node k."""
    def body(nodes, offset, y_shape):
        return Body(nodes, [make_module(n, offset + k) for k, n in enumerate(nodes)], y_shape is not None)
    if node["op"] == "loop":
        state, _, y = program.loop_args(node, arg_shapes)
        return Loop(node, body(node["attrs"]["body"], 0, y), state, y)
    _, state, y = program.cond_args(arg_shapes)
    return Cond(node, body(node["attrs"]["then"], 0, y), body(node["attrs"]["else"], 10, y), state, y)
