"""The control-flow structures (drawn by ``control``) as TensorFlow callables, run in the tensorflow
worker: ``tf.while_loop`` and ``tf.cond``, which tf2onnx (converting the tf.function it wraps
the program in) writes as ONNX ``Loop`` and ``If``. Eagerly (the type check) they run as
Python control flow."""
from __future__ import annotations

import tensorflow as tf

from . import program


def structure(node: dict, make_fn):
    """The callable of a control node; ``make_fn(body_node)`` builds one body node."""
    if node["op"] == "loop":
        return _loop(node, [make_fn(n) for n in node["attrs"]["body"]])
    return _cond([make_fn(n) for n in node["attrs"]["then"]], [make_fn(n) for n in node["attrs"]["else"]], node)


def _loop(node: dict, fns: list):
    nodes = node["attrs"]["body"]

    def f(*args):
        x, n, y = program.loop_args(node, list(args))
        count = tf.constant(node["attrs"]["trips"], tf.int64) if n is None else n
        _, out = tf.while_loop(lambda i, s: i < count, lambda i, s: (i + 1, program.run_body(nodes, fns, s, y)),
                               (tf.zeros_like(count), x))
        return out
    return f


def _cond(then_fns: list, else_fns: list, node: dict):
    def f(*args):
        pred, x, y = program.cond_args(list(args))
        return tf.cond(pred, lambda: program.run_body(node["attrs"]["then"], then_fns, x, y),
                       lambda: program.run_body(node["attrs"]["else"], else_fns, x, y))
    return f
