"""The abstract operators the graph generator draws from, one ``@abstract`` entry per op of
the operator table. Registration order is the generator's order: simple ops first, so that
shrinking (which prefers the first choice) turns an op into a plain unary one.

Continuous ops read any float value; ops that jump or are only partly defined read a fresh
input drawn in the table's domain for them (``suites.operators.samples`` domains).
"""
from __future__ import annotations

from hypothesis import strategies as st

from .abstract import (FLOAT, NUMERIC, Drawn, Fresh, TensorType, abstract, axes, axis, broadcast, broadcast_partner,
                       factor_shape, first, fresh, numel, pick, reduce_shape, shapes, type_of)

# torch-only for now: the table's tf/paddle calls are there, but graphs are built in torch first
TORCH = ("torch",)


def _same(draw, values, dtypes=FLOAT, attrs=None) -> Drawn:
    arg = first(draw, values, dtypes)
    t = type_of(values, arg)
    return Drawn((arg,), attrs or {}, t)


def _unary(name, attrs=None):
    @abstract(name, frameworks=TORCH)
    def rule(draw, values):
        return _same(draw, values, attrs=attrs(draw) if attrs else None)
    return rule


for _name in ("neg", "abs", "square", "sin", "cos", "atan", "tanh", "sigmoid", "erf", "relu", "gelu", "selu",
              "silu", "softplus", "softsign", "hardswish", "hardsigmoid", "mish"):
    _unary(_name)
_unary("leaky_relu", lambda draw: {"slope": draw(st.sampled_from([0.01, 0.1, 0.3]))})
_unary("elu", lambda draw: {"alpha": draw(st.sampled_from([1.0, 0.5]))})
_unary("clip", lambda draw: {"min": -0.5, "max": draw(st.sampled_from([0.8, 2.0]))})


def _binary(name, dtypes):
    @abstract(name, frameworks=TORCH)
    def rule(draw, values):
        a = first(draw, values, dtypes)
        ta = type_of(values, a)
        partner = broadcast_partner(draw, ta.shape)
        b = pick(draw, values, lambda t: t.dtype == ta.dtype and broadcast(ta.shape, t.shape) is not None,
                 lambda: Fresh(TensorType(partner, ta.dtype)))
        out = broadcast(ta.shape, type_of(values, b).shape)
        return Drawn((a, b), {}, TensorType(out, ta.dtype))
    return rule


for _name in ("add", "sub", "mul", "maximum", "minimum"):
    _binary(_name, NUMERIC)


def _fresh_unary(name, domain: dict, out_dtype=None):
    @abstract(name, frameworks=TORCH)
    def rule(draw, values):
        f = fresh(draw, FLOAT, **domain)
        return Drawn((f,), {}, TensorType(f.type.shape, out_dtype or f.type.dtype))
    return rule


_fresh_unary("exp", {"domain": "uniform", "low": -3.0, "high": 3.0})
_fresh_unary("log", {"domain": "positive"})
_fresh_unary("sqrt", {"domain": "positive"})
_fresh_unary("reciprocal", {"domain": "nonzero"})
_fresh_unary("floor", {"domain": "frac"})
_fresh_unary("ceil", {"domain": "frac"})
_fresh_unary("round", {"domain": "frac"})


def _compare(name):
    @abstract(name, frameworks=TORCH)
    def rule(draw, values):
        a = fresh(draw, FLOAT, domain="grid")
        b = Fresh(TensorType(broadcast_partner(draw, a.type.shape), "float32"), {"domain": "grid"})
        return Drawn((a, b), {}, TensorType(broadcast(a.type.shape, b.type.shape), "bool"))
    return rule


for _name in ("greater", "less", "equal"):
    _compare(_name)


@abstract("where", frameworks=TORCH)
def where(draw, values):
    x = first(draw, values, FLOAT)
    tx = type_of(values, x)
    cond = pick(draw, values, lambda t: t.dtype == "bool" and broadcast(tx.shape, t.shape) is not None,
                lambda: Fresh(TensorType(broadcast_partner(draw, tx.shape), "bool"), {"domain": "bool"}))
    y = pick(draw, values, lambda t: t.dtype == "float32" and broadcast(tx.shape, t.shape) is not None,
             lambda: Fresh(TensorType(broadcast_partner(draw, tx.shape), "float32")))
    out = broadcast(broadcast(tx.shape, type_of(values, cond).shape), type_of(values, y).shape)
    return Drawn((cond, x, y), {}, TensorType(out, "float32"))


def _reduce(name, dtypes=FLOAT):
    @abstract(name, frameworks=TORCH)
    def rule(draw, values):
        x = first(draw, values, dtypes)
        t = type_of(values, x)
        ax, keep = axes(draw, t.rank), draw(st.booleans())
        return Drawn((x,), {"axis": ax, "keepdims": keep}, TensorType(reduce_shape(t.shape, ax, keep), t.dtype))
    return rule


for _name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min"):
    _reduce(_name)


@abstract("argmax", frameworks=TORCH)
def argmax(draw, values):
    f = fresh(draw, FLOAT)                       # ties on an intermediate would flip the index
    a, keep = axis(draw, f.type.rank), draw(st.booleans())
    return Drawn((f,), {"axis": a, "keepdims": keep}, TensorType(reduce_shape(f.type.shape, [a], keep), "int64"))


def _softmax(name):
    @abstract(name, frameworks=TORCH)
    def rule(draw, values):
        x = first(draw, values, FLOAT)
        t = type_of(values, x)
        return Drawn((x,), {"axis": axis(draw, t.rank)}, t)
    return rule


_softmax("softmax")
_softmax("log_softmax")


@abstract("cumsum", frameworks=TORCH)
def cumsum(draw, values):
    x = first(draw, values, FLOAT)
    t = type_of(values, x)
    return Drawn((x,), {"axis": axis(draw, t.rank)}, t)


@abstract("flip", frameworks=TORCH)
def flip(draw, values):
    x = first(draw, values, NUMERIC)
    t = type_of(values, x)
    return Drawn((x,), {"axis": axes(draw, t.rank)}, t)


@abstract("roll", frameworks=TORCH)
def roll(draw, values):
    x = first(draw, values, NUMERIC)
    t = type_of(values, x)
    return Drawn((x,), {"shift": draw(st.integers(-3, 3)), "axis": axis(draw, t.rank)}, t)


@abstract("transpose", frameworks=TORCH)
def transpose(draw, values):
    x = first(draw, values, NUMERIC, min_rank=2)
    t = type_of(values, x)
    perm = draw(st.permutations(range(t.rank)))
    return Drawn((x,), {"perm": list(perm)}, TensorType(tuple(t.shape[p] for p in perm), t.dtype))


@abstract("reshape", frameworks=TORCH)
def reshape(draw, values):
    x = first(draw, values, NUMERIC)
    t = type_of(values, x)
    shape = factor_shape(draw, numel(t.shape))
    known = numel([s for s in shape if s != -1])
    out = tuple(numel(t.shape) // known if s == -1 else s for s in shape)
    return Drawn((x,), {"shape": shape}, TensorType(out, t.dtype))


@abstract("flatten", frameworks=TORCH)
def flatten(draw, values):
    x = first(draw, values, NUMERIC, min_rank=2)
    t = type_of(values, x)
    start = draw(st.integers(0, t.rank - 1))
    end = draw(st.integers(start, t.rank - 1))
    out = t.shape[:start] + (numel(t.shape[start:end + 1]),) + t.shape[end + 1:]
    return Drawn((x,), {"start": start, "end": end}, TensorType(out, t.dtype))


@abstract("unsqueeze", frameworks=TORCH)
def unsqueeze(draw, values):
    x = first(draw, values, NUMERIC, max_rank=3)
    t = type_of(values, x)
    a = draw(st.integers(0, t.rank))
    return Drawn((x,), {"axis": a}, TensorType(t.shape[:a] + (1,) + t.shape[a:], t.dtype))


@abstract("squeeze", frameworks=TORCH)
def squeeze(draw, values):
    def has_one(t):
        return 1 in t.shape and t.rank >= 2

    def make():
        shape = list(draw(shapes(2, 4)))
        shape[draw(st.integers(0, len(shape) - 1))] = 1
        return Fresh(TensorType(tuple(shape), "float32"))
    x = pick(draw, values, lambda t: t.dtype in NUMERIC and has_one(t), make)
    t = type_of(values, x)
    a = draw(st.sampled_from([i for i, s in enumerate(t.shape) if s == 1]))
    return Drawn((x,), {"axis": a}, TensorType(t.shape[:a] + t.shape[a + 1:], t.dtype))


@abstract("slice", frameworks=TORCH)
def slice_(draw, values):
    x = first(draw, values, NUMERIC)
    t = type_of(values, x)
    spec, out = [], []
    for side in t.shape:
        if draw(st.booleans()):
            spec.append(None)
            out.append(side)
            continue
        start = draw(st.integers(0, side - 1))
        stop = draw(st.integers(start + 1, side))
        step = draw(st.integers(1, 2))
        spec.append([start, stop, step])
        out.append(len(range(start, stop, step)))
    return Drawn((x,), {"slices": spec}, TensorType(tuple(out), t.dtype))


@abstract("tile", frameworks=TORCH)
def tile(draw, values):
    x = first(draw, values, NUMERIC, max_rank=3)
    t = type_of(values, x)
    reps = draw(st.lists(st.integers(1, 3), min_size=t.rank, max_size=t.rank))
    return Drawn((x,), {"reps": reps}, TensorType(tuple(s * r for s, r in zip(t.shape, reps)), t.dtype))


@abstract("expand", frameworks=TORCH)
def expand(draw, values):
    x = first(draw, values, NUMERIC, max_rank=3)
    t = type_of(values, x)
    lead = draw(st.lists(st.integers(1, 4), max_size=4 - t.rank))
    out = tuple(lead) + tuple(draw(st.integers(1, 4)) if s == 1 else s for s in t.shape)
    return Drawn((x,), {"shape": list(out)}, TensorType(out, t.dtype))


@abstract("concat", frameworks=TORCH)
def concat(draw, values):
    x = first(draw, values, NUMERIC)
    t = type_of(values, x)
    a = draw(st.integers(0, t.rank - 1))

    def fits(u):
        return u.dtype == t.dtype and u.rank == t.rank and all(
            p == q for i, (p, q) in enumerate(zip(u.shape, t.shape)) if i != a)
    side = draw(st.integers(1, 4))
    y = pick(draw, values, fits, lambda: Fresh(TensorType(t.shape[:a] + (side,) + t.shape[a + 1:], t.dtype)))
    out = t.shape[:a] + (t.shape[a] + type_of(values, y).shape[a],) + t.shape[a + 1:]
    return Drawn((x, y), {"axis": a}, TensorType(out, t.dtype))


@abstract("gather", frameworks=TORCH)
def gather(draw, values):
    x = first(draw, values, FLOAT)
    t = type_of(values, x)
    a = draw(st.integers(0, t.rank - 1))
    n = draw(st.integers(1, 4))
    index = Fresh(TensorType((n,), "int64"), {"domain": "index", "high": t.shape[a]})
    return Drawn((x, index), {"axis": a}, TensorType(t.shape[:a] + (n,) + t.shape[a + 1:], t.dtype))


@abstract("matmul", frameworks=TORCH)
def matmul(draw, values):
    x = first(draw, values, FLOAT, min_rank=2)
    t = type_of(values, x)
    n = draw(st.integers(1, 6))
    w = Fresh(TensorType((t.shape[-1], n), "float32"))
    return Drawn((x, w), {}, TensorType(t.shape[:-1] + (n,), "float32"))
