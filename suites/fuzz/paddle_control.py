"""The control-flow structures (drawn by ``control``) as Paddle layers, run in the paddle worker:
``paddle.static.nn.while_loop`` and ``paddle.static.nn.cond``, which run eagerly in dygraph and
become while / if ops under ``to_static`` (paddle.jit.save), for paddle2onnx to write as ONNX
``Loop`` / ``If``. ``forward`` has a fixed signature (dy2static takes no ``*args``)."""
from __future__ import annotations

import paddle

from . import program


class Structure(paddle.nn.Layer):
    """A loop or a conditional over ``arity`` argument tensors."""

    def __init__(self, node: dict, bodies: list[list], arity: int):
        super().__init__()
        self.node = {"op": node["op"], "attrs": node["attrs"]}
        self.bodies = paddle.nn.LayerList([paddle.nn.LayerList(b) for b in bodies])
        self.arity = arity

    def body(self, k: int, x, y):
        name = ("body",) if self.node["op"] == "loop" else ("then", "else")
        return program.run_body(self.node["attrs"][name[k]], list(self.bodies[k]), x, y)

    def forward(self, a, b=None, c=None):
        args = [a, b, c][:self.arity]
        if self.node["op"] == "cond":
            pred, x, y = program.cond_args(args)
            return paddle.static.nn.cond(pred, lambda: self.body(0, x, y), lambda: self.body(1, x, y))
        x, n, y = program.loop_args(self.node, args)
        count = paddle.full([], self.node["attrs"]["trips"], "int64") if n is None else n
        _, out = paddle.static.nn.while_loop(lambda i, s: i < count, lambda i, s: [i + 1, self.body(0, s, y)],
                                             [paddle.zeros([], "int64"), x])
        return out


def structure(node: dict, make_layer, arity: int) -> paddle.nn.Layer:
    """The layer of a control node; ``make_layer(body_node, k)`` builds body node k."""
    names = ("body",) if node["op"] == "loop" else ("then", "else")
    bodies = [[make_layer(n, 10 * j + k) for k, n in enumerate(node["attrs"][name])] for j, name in enumerate(names)]
    return Structure(node, bodies, arity)
