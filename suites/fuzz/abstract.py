"""Abstract operators: what the graph generator needs to know of an op of the operator table
to use it in a random graph that is valid by construction (NNSmith's idea): which inputs it
takes (dtypes, ranks, a shape it can consume), the attributes it draws from its domain, and
its output type as a function of the input types and attributes.

An abstract op names its entry of the operator table (``suites.operators.specs``): the table
says how each framework calls the op and which canonical attributes it takes, so a generated
graph is built in torch, TensorFlow and Paddle by the same code as the suites' cases.

Every rule here works on ``TensorType`` (shape, dtype) and draws with a Hypothesis ``draw``;
drawing a node never fails: an op that finds no suitable tensor in the graph takes a fresh
graph input of a type it derives (so shrinking, which replays smaller draws, stays valid).
Ops whose result jumps at some input values (rounding, comparisons, argmax) or overflows
easily (exp, pow) read fresh graph inputs only, drawn away from those points: on an
intermediate, a last-bit difference between two correct engines would flip their result.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from hypothesis import strategies as st

FLOAT = ("float32",)
INT = ("int32", "int64")
NUMERIC = FLOAT + INT


@dataclass(frozen=True)
class TensorType:
    shape: tuple
    dtype: str

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class Fresh:
    """A new graph input this node reads: its type and its value domain (``samples.draw`` keys)."""

    type: TensorType
    domain: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Drawn:
    """One drawn node: the tensors it reads (graph values or fresh inputs), its canonical
    attributes (the table's names) and its output type."""

    args: tuple            # each an int (id of an existing value) or a Fresh
    attrs: dict
    output: TensorType


@dataclass(frozen=True)
class AbstractOp:
    name: str                                 # the operator table's entry
    draw: Callable                            # draw(draw, values: list[TensorType]) -> Drawn
    frameworks: tuple = ("torch", "tensorflow", "paddle")
    layout: bool = False                      # channels-first NCHW op: not for TensorFlow graphs


REGISTRY: dict[str, AbstractOp] = {}


def abstract(name: str, **kw):
    """Register the decorated ``draw(draw, values) -> Drawn`` as the abstract op ``name``."""
    def register(fn):
        REGISTRY[name] = AbstractOp(name, fn, **kw)
        return fn
    return register


# -- drawing tensors --------------------------------------------------------------------------
def shapes(min_rank=1, max_rank=4, max_side=6):
    return st.lists(st.integers(1, max_side), min_size=min_rank, max_size=max_rank).map(tuple)


def pick(draw, values, accept: Callable[[TensorType], bool], make: Callable[[], Fresh]):
    """An existing value that ``accept``s, or a fresh input: the draw picks an index into the
    acceptable values, one past the end meaning fresh (so shrinking prefers reusing value 0)."""
    ok = [i for i, v in enumerate(values) if accept(v)]
    k = draw(st.integers(0, len(ok)))
    return ok[k] if k < len(ok) else make()


def fresh(draw, dtypes=FLOAT, min_rank=1, max_rank=4, **domain) -> Fresh:
    dtype = draw(st.sampled_from(dtypes))
    return Fresh(TensorType(draw(shapes(min_rank, max_rank)), dtype), domain)


def type_of(values, arg) -> TensorType:
    return arg.type if isinstance(arg, Fresh) else values[arg]


def first(draw, values, dtypes=FLOAT, min_rank=1, max_rank=4, accept=lambda t: True):
    """The op's main operand: a value of one of ``dtypes`` and rank, or a fresh one."""
    def ok(t):
        return t.dtype in dtypes and min_rank <= t.rank <= max_rank and accept(t)
    return pick(draw, values, ok, lambda: fresh(draw, dtypes, min_rank, max_rank))


def broadcast_partner(draw, shape: tuple) -> tuple:
    """A shape that broadcasts against ``shape``: a suffix of it with some sides set to 1."""
    keep = draw(st.integers(0, len(shape)))
    suffix = shape[len(shape) - keep:]
    return tuple(1 if draw(st.booleans()) else s for s in suffix)


def broadcast(a: tuple, b: tuple) -> tuple | None:
    out = []
    for x, y in zip(((1,) * (len(b) - len(a)) + a), ((1,) * (len(a) - len(b)) + b)):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(out)


def axis(draw, rank: int) -> int:
    return draw(st.integers(-rank, rank - 1))


def axes(draw, rank: int) -> list[int]:
    return sorted(draw(st.sets(st.integers(0, rank - 1), min_size=1, max_size=rank)))


def reduce_shape(shape: tuple, ax: list[int] | None, keep: bool) -> tuple:
    ax = range(len(shape)) if ax is None else [a % len(shape) for a in ax]
    return tuple(1 if i in ax else s for i, s in enumerate(shape) if keep or i not in ax)


def conv_out(size: int, kernel: int, stride: int, pad: int, dilation: int = 1) -> int:
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def factor_shape(draw, numel: int) -> list[int]:
    """A random shape of ``numel`` elements (rank 1..4), perhaps with one side written -1."""
    rank = draw(st.integers(1, 4))
    out, left = [], numel
    for _ in range(rank - 1):
        d = draw(st.sampled_from(divisors(left)))
        out.append(d)
        left //= d
    out.append(left)
    if draw(st.booleans()):
        out[draw(st.integers(0, rank - 1))] = -1
    return out


def numel(shape) -> int:
    return math.prod(shape)
