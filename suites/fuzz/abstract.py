"""Abstract operators: what the graph generator needs to know of an op of the operator table
to use it in a random graph that is valid by construction (NNSmith's idea): which inputs it
takes (dtypes, ranks, a shape it can consume), the attributes it draws from its domain, and
its output type as a function of the input types and attributes.

An abstract op names its entry of the operator table (``suites.operators.specs``): the table
says how each framework calls the op and which canonical attributes it takes, so a generated
graph is built in torch, TensorFlow and Paddle by the same code as the suites' cases. The
frameworks an op is drawn for are those the table has a call for (less ``exclude``); a rule
gets a ``Context`` naming the framework it draws for, so it can keep to the attributes that
framework's call takes.

Every rule works on ``TensorType`` (shape, dtype, free axes) and draws with a Hypothesis
``draw``; drawing a node never fails: an op that finds no suitable tensor in the graph takes a
fresh graph input of a type it derives (so shrinking, which replays smaller draws, stays valid).
Ops whose result jumps at some input values (rounding, comparisons, argmax) or overflows
easily (exp, pow) read fresh graph inputs only, drawn away from those points: on an
intermediate, a last-bit difference between two correct engines would flip their result.

Free axes: a graph has one dynamic size, the batch ``B`` (``Context.batch`` at export,
``Context.batch2`` at the second run). A tensor's ``free`` axes are those of size ``B``; the
model is exported with them dynamic, and every rule says what becomes of them (kept, moved,
reduced away) or refuses operands whose free axes it would turn into a function of ``B`` it
cannot declare (a concat along a free axis, a literal reshape over one).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from hypothesis import strategies as st

FLOAT = ("float32",)
INT = ("int32", "int64")
NUMERIC = FLOAT + INT

# corner kinds (``samples.corner_values``) a fresh input may be drawn with, by default
CORNERS_FLOAT = ("zero", "sign", "ties", "nonfinite", "extreme")
CORNERS_INT = ("zero", "sign", "extreme")
# the float corners without values near FLT_MAX, for ops whose float32 result there depends on how
# they order or fuse their arithmetic, which no spec fixes: a sum of products that overflows to
# +inf and -inf (NaN) in one order and not in another, a variance's squared deviation, paddle's
# hardswish x * relu6(x + 3) / 6 (inf at 1e38) against ONNX's x * min(max(x / 6 + 0.5, 0), 1)
CORNERS_FLOAT_MODERATE = tuple(c for c in CORNERS_FLOAT if c != "extreme")


@dataclass(frozen=True)
class TensorType:
    shape: tuple
    dtype: str
    free: tuple = ()          # axes of size B (dynamic at export)

    @property
    def rank(self) -> int:
        return len(self.shape)

    def at(self, batch: int) -> tuple:
        """The shape when B is ``batch``."""
        return tuple(batch if i in self.free else s for i, s in enumerate(self.shape))


@dataclass(frozen=True)
class Context:
    """What every rule may read: the framework drawn for and the two values of B."""

    framework: str = "torch"
    batch: int = 2
    batch2: int = 3
    corner_choices: tuple = (False, False, True)     # a fresh input's corner flag is drawn from these


@dataclass(frozen=True)
class Fresh:
    """A new graph input this node reads: its type, its value domain (``samples.draw`` keys),
    and whether its values are corner values (of the kinds ``domain["corners"]``)."""

    type: TensorType
    domain: dict = field(default_factory=dict)
    corner: bool = False


@dataclass(frozen=True)
class Drawn:
    """One drawn node: the tensors it reads (graph values or fresh inputs), its canonical
    attributes (the table's names) and its output type."""

    args: tuple            # each an int (id of an existing value) or a Fresh
    attrs: dict
    output: TensorType
    item: int | None = None    # which output of a multi-output call (topk, split ...) the node is


@dataclass(frozen=True)
class AbstractOp:
    name: str                                 # the operator table's entry
    draw: Callable                            # draw(draw, values: list[TensorType], ctx: Context) -> Drawn
    exclude: tuple = ()                       # frameworks not drawn for although the table has a call
    structure: tuple = ()                     # a control-flow structure (no table entry): the frameworks building it

    def frameworks(self) -> tuple:
        if self.structure:
            return tuple(fw for fw in self.structure if fw not in self.exclude)
        from suites.operators.specs import spec_by_name
        spec = spec_by_name()[self.name]
        return tuple(fw for fw in spec.frameworks() if fw not in self.exclude)


REGISTRY: dict[str, AbstractOp] = {}


def abstract(name: str, **kw):
    """Register the decorated ``draw(draw, values, ctx) -> Drawn`` as the abstract op ``name``."""
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


def corner_flag(draw, ctx: Context) -> bool:
    return draw(st.sampled_from(ctx.corner_choices))


def default_corners(dtype: str) -> tuple:
    return CORNERS_FLOAT if dtype.startswith("float") else CORNERS_INT


def fresh(draw, ctx: Context, dtypes=FLOAT, min_rank=1, max_rank=4, free_ok: Callable[[int, int], bool] = None,
          corners: tuple | None = None, **domain) -> Fresh:
    """A fresh input of one of ``dtypes``; its free axis (at most one) is drawn among those
    ``free_ok(axis, rank)`` allows, axis 0 first (what shrinking prefers), then none."""
    dtype = draw(st.sampled_from(dtypes))
    shape = list(draw(shapes(min_rank, max_rank)))
    return with_free(draw, ctx, shape, dtype, free_ok, corners, **domain)


def with_free(draw, ctx: Context, shape, dtype, free_ok=None, corners=None, fixed: tuple = (), **domain) -> Fresh:
    """A fresh input of ``shape`` (axes in ``fixed`` kept static), perhaps with a free axis."""
    shape = list(shape)
    rank = len(shape)
    ok = [a for a in range(rank) if a not in fixed and (free_ok is None or free_ok(a, rank))]
    options = ([0] if 0 in ok else []) + [None] + [a for a in ok if a != 0]
    free = draw(st.sampled_from(options))
    if free is not None:
        shape[free] = ctx.batch
    kinds = default_corners(dtype) if corners is None else corners
    return Fresh(TensorType(tuple(shape), dtype, () if free is None else (free,)), dict(domain, corners=list(kinds)),
                 corner_flag(draw, ctx) if kinds else False)


def type_of(values, arg) -> TensorType:
    return arg.type if isinstance(arg, Fresh) else values[arg]


def first(draw, values, ctx: Context, dtypes=FLOAT, min_rank=1, max_rank=4, accept=lambda t: True, free_ok=None,
          corners: tuple | None = None):
    """The op's main operand: a value of one of ``dtypes`` and rank, or a fresh one (its corner
    kinds ``corners``, default its dtype's). A value's free axes must all pass ``free_ok(axis, rank)``."""
    def ok(t):
        return (t.dtype in dtypes and min_rank <= t.rank <= max_rank and accept(t)
                and (free_ok is None or all(free_ok(a, t.rank) for a in t.free)))
    return pick(draw, values, ok, lambda: fresh(draw, ctx, dtypes, min_rank, max_rank, free_ok, corners))


def partner(draw, t: TensorType, dtype: str | None = None) -> TensorType:
    """A type that broadcasts against ``t``: a suffix of it with some sides set to 1 (a free
    side stays free or becomes 1)."""
    keep = draw(st.integers(0, t.rank))
    start = t.rank - keep
    shape, free = [], []
    for i in range(start, t.rank):
        if draw(st.booleans()):
            shape.append(1)
        else:
            shape.append(t.shape[i])
            if i in t.free:
                free.append(i - start)
    return TensorType(tuple(shape), dtype or t.dtype, tuple(free))


def broadcast_types(a: TensorType, b: TensorType, dtype: str | None = None) -> TensorType | None:
    """numpy broadcasting over free axes: a free side meets a free side or a static 1, never
    another static size (which would hold only at export)."""
    rank = max(a.rank, b.rank)
    out, free = [], []
    for i in range(rank):
        ia, ib = i - (rank - a.rank), i - (rank - b.rank)
        da, fa = (a.shape[ia], ia in a.free) if ia >= 0 else (1, False)
        db, fb = (b.shape[ib], ib in b.free) if ib >= 0 else (1, False)
        if fa or fb:
            if not ((fa and fb) or (fa and db == 1) or (fb and da == 1)):
                return None
            out.append(da if fa else db)
            free.append(i)
        elif da != db and 1 not in (da, db):
            return None
        else:
            out.append(max(da, db))
    return TensorType(tuple(out), dtype or a.dtype, tuple(free))


def broadcast(a: tuple, b: tuple) -> tuple | None:
    t = broadcast_types(TensorType(tuple(a), "float32"), TensorType(tuple(b), "float32"))
    return None if t is None else t.shape


def axis(draw, rank: int) -> int:
    return draw(st.integers(-rank, rank - 1))


def axes(draw, rank: int) -> list[int]:
    return sorted(draw(st.sets(st.integers(0, rank - 1), min_size=1, max_size=rank)))


def reduce_shape(shape: tuple, ax: list[int] | None, keep: bool) -> tuple:
    ax = range(len(shape)) if ax is None else [a % len(shape) for a in ax]
    return tuple(1 if i in ax else s for i, s in enumerate(shape) if keep or i not in ax)


def reduce_type(t: TensorType, ax: list[int], keep: bool, dtype: str | None = None) -> TensorType:
    ax = {a % t.rank for a in ax}
    kept = [i for i in range(t.rank) if keep or i not in ax]
    free = tuple(j for j, i in enumerate(kept) if i in t.free and i not in ax)
    return TensorType(reduce_shape(t.shape, sorted(ax), keep), dtype or t.dtype, free)


def conv_out(size: int, kernel: int, stride: int, pad: int, dilation: int = 1) -> int:
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def factor_shape(draw, numel: int, max_rank: int = 4, minus_one: bool = True) -> list[int]:
    """A random shape of ``numel`` elements (rank 1..max_rank), perhaps with one side written -1."""
    rank = draw(st.integers(1, max_rank))
    out, left = [], numel
    for _ in range(rank - 1):
        d = draw(st.sampled_from(divisors(left)))
        out.append(d)
        left //= d
    out.append(left)
    if minus_one and draw(st.booleans()):
        out[draw(st.integers(0, rank - 1))] = -1
    return out


def numel(shape) -> int:
    return math.prod(shape)
