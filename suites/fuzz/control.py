"""Control flow as generated structures (issue 17): a loop with carried state and a
conditional, each around a small subgraph, valid by construction.

``loop``: ``state = body(state, y)`` repeated ``trips`` times, a fixed count (``attrs["trips"]``)
or a fresh int64 scalar input (0-3, read at run time: the exported loop keeps it dynamic).
``cond``: ``then(x, y) if pred else else_(x, y)`` with a fresh bool scalar ``pred``.
A body is a chain of 1-3 nodes of the operator table, each keeping the state's type: a bounded
elementwise op of the state, or an elementwise op of the state and the captured value ``y`` (a
graph value or fresh input that broadcasts into the state's shape). Body nodes are plain node
dicts (``op``, ``args``, ``attrs``) over local values: 0 the state, 1 ``y`` where there is one,
then each body node's output; the body's result is its last node. The bodies live in the
node's ``attrs`` (``body``; ``then`` and ``else``), which no table call reads.

Nodes read ``args``: loop ``[state, (trip count), (y)]``, cond ``[pred, x, (y)]``. Shrinking
shortens a body to one node (the first body op, ``tanh``), a fixed trip count towards 0, and
drops the node as any other.

Each framework builds them with its own control flow (``torch_program``, ``tf_program``,
``paddle_program``): TorchScript loops and ifs (scripted around traced bodies) or ``torch.cond``
under torch.export; ``tf.while_loop`` / ``tf.cond``; ``paddle.static.nn.while_loop`` / ``cond``.
"""
from __future__ import annotations

from hypothesis import strategies as st

from .abstract import FLOAT, Drawn, Fresh, TensorType, abstract, broadcast_types, corner_flag, first, partner, pick, type_of

FRAMEWORKS = ("torch", "tensorflow", "paddle")
# bounded or non-growing, so that a repeated body stays finite; the first is what shrinking keeps
BODY_UNARY = ("tanh", "sin", "sigmoid", "atan", "softsign", "erf", "relu", "cos", "neg", "abs")
BODY_BINARY = ("add", "mul", "maximum", "minimum", "sub")
MAX_TRIPS = 3


def _captured(draw, values, ctx, state: TensorType):
    """None, or a float value (or fresh input) whose broadcast against the state is the state."""
    if not draw(st.booleans()):
        return None

    def fits(t):
        return t.dtype == "float32" and broadcast_types(state, t) == state
    return pick(draw, values, fits, lambda: Fresh(partner(draw, state), {"corners": ["zero", "sign"]},
                                                   corner_flag(draw, ctx)))


def body(draw, captured: bool) -> list[dict]:
    """1-3 body nodes, each reading the previous local value (the state first). A captured value
    is read by some node: paddle.jit.save refuses an input no output depends on."""
    ops = BODY_UNARY + (BODY_BINARY if captured else ())
    nodes = []
    length = draw(st.integers(1, 3))
    for k in range(length):
        unread = captured and k == length - 1 and not any(n["op"] in BODY_BINARY for n in nodes)
        op = draw(st.sampled_from(BODY_BINARY if unread else ops))
        prev = 0 if k == 0 else (1 + captured + k - 1)
        nodes.append({"op": op, "args": [prev, 1] if op in BODY_BINARY else [prev], "attrs": {}})
    return nodes


@abstract("loop", structure=FRAMEWORKS)
def loop(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT)
    t = type_of(values, x)
    y = _captured(draw, values, ctx, t)
    fixed = not draw(st.booleans())            # shrinks to a fixed count
    attrs = {"trips": draw(st.integers(0, MAX_TRIPS)) if fixed else None, "body": body(draw, y is not None)}
    count = () if fixed else (Fresh(TensorType((), "int64"), {"domain": "index", "high": MAX_TRIPS + 1,
                                                              "corners": ["bounds"]}, corner_flag(draw, ctx)),)
    return Drawn((x,) + count + (() if y is None else (y,)), attrs, t)


@abstract("cond", structure=FRAMEWORKS)
def cond(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT)
    t = type_of(values, x)
    y = _captured(draw, values, ctx, t)
    pred = Fresh(TensorType((), "bool"), {"domain": "bool", "corners": []})
    attrs = {"then": body(draw, y is not None), "else": body(draw, y is not None)}
    return Drawn((pred, x) + (() if y is None else (y,)), attrs, t)
