"""The abstract operators the graph generator draws from, one ``@abstract`` entry per op of
the operator table. Registration order is the generator's order: simple ops first, so that
shrinking (which prefers the first choice) turns an op into a plain unary one.

Continuous ops read any float value; ops that jump or are only partly defined read a fresh
input drawn in the table's domain for them (``suites.operators.samples`` domains), with the
corner kinds their domain allows. Each rule keeps to the attributes every framework's call of
the table takes, or draws per ``ctx.framework`` where the calls differ.
"""
from __future__ import annotations

from hypothesis import strategies as st

from .abstract import (CORNERS_FLOAT, CORNERS_FLOAT_MODERATE, FLOAT, NUMERIC, Drawn, Fresh, TensorType, abstract, axes,
                       axis, broadcast_types, corner_flag, default_corners, factor_shape, first, fresh, numel, partner,
                       pick, reduce_type, type_of, with_free)


def _same(draw, values, ctx, dtypes=FLOAT, attrs=None, corners=None) -> Drawn:
    arg = first(draw, values, ctx, dtypes, corners=corners)
    return Drawn((arg,), attrs or {}, type_of(values, arg))


def _unary(name, attrs=None, corners=None):
    @abstract(name)
    def rule(draw, values, ctx):
        return _same(draw, values, ctx, attrs=attrs(draw, ctx) if attrs else None, corners=corners)
    return rule


# paddle's hardswish overflows to inf above ~5.7e37 (x * 6 first), ONNX's HardSwish does not
for _name in ("neg", "abs", "square", "sin", "cos", "atan", "tanh", "sigmoid", "erf", "relu", "gelu", "selu",
              "silu", "softplus", "softsign", "hardswish", "hardsigmoid", "mish"):
    _unary(_name, corners=CORNERS_FLOAT_MODERATE if _name == "hardswish" else None)
_unary("leaky_relu", lambda draw, ctx: {"slope": draw(st.sampled_from([0.01, 0.1, 0.3]))})
# tf.nn.elu has no alpha (always 1)
_unary("elu", lambda draw, ctx: {} if ctx.framework == "tensorflow" else {"alpha": draw(st.sampled_from([1.0, 0.5]))})
_unary("clip", lambda draw, ctx: {"min": -0.5, "max": draw(st.sampled_from([0.8, 2.0]))})


def _binary(name, dtypes):
    @abstract(name)
    def rule(draw, values, ctx):
        a = first(draw, values, ctx, dtypes)
        ta = type_of(values, a)
        mate = partner(draw, ta)
        b = pick(draw, values, lambda t: t.dtype == ta.dtype and broadcast_types(ta, t) is not None,
                 lambda: Fresh(mate, {"corners": list(_corners(ta.dtype))}, corner_flag(draw, ctx)))
        return Drawn((a, b), {}, broadcast_types(ta, type_of(values, b)))
    return rule


def _corners(dtype):
    return default_corners(dtype)


for _name in ("add", "sub", "mul", "maximum", "minimum"):
    _binary(_name, NUMERIC)


def _fresh_unary(name, domain: dict, corners: tuple, out_dtype=None):
    @abstract(name)
    def rule(draw, values, ctx):
        f = fresh(draw, ctx, FLOAT, corners=corners, **domain)
        return Drawn((f,), {}, TensorType(f.type.shape, out_dtype or f.type.dtype, f.type.free))
    return rule


_ALL = CORNERS_FLOAT
_fresh_unary("exp", {"domain": "uniform", "low": -3.0, "high": 3.0}, _ALL)
_fresh_unary("log", {"domain": "positive"}, ("zero", "nonfinite", "extreme"))
_fresh_unary("sqrt", {"domain": "positive"}, ("zero", "nonfinite", "extreme"))
_fresh_unary("reciprocal", {"domain": "nonzero"}, ("sign", "ties", "nonfinite", "extreme"))
_fresh_unary("floor", {"domain": "frac"}, _ALL)
_fresh_unary("ceil", {"domain": "frac"}, _ALL)
_fresh_unary("round", {"domain": "frac"}, _ALL)


def _compare(name):
    @abstract(name)
    def rule(draw, values, ctx):
        a = fresh(draw, ctx, FLOAT, domain="grid", corners=("zero", "ties", "nonfinite", "extreme"))
        b = Fresh(partner(draw, a.type), {"domain": "grid", "corners": ["zero", "ties", "nonfinite"]}, a.corner)
        return Drawn((a, b), {}, broadcast_types(a.type, b.type, "bool"))
    return rule


for _name in ("greater", "less", "equal"):
    _compare(_name)


@abstract("where")
def where(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT)
    tx = type_of(values, x)
    cond = pick(draw, values, lambda t: t.dtype == "bool" and broadcast_types(tx, t) is not None,
                lambda: Fresh(partner(draw, tx, "bool"), {"domain": "bool", "corners": []}))
    tc = broadcast_types(tx, type_of(values, cond), "float32")
    y = pick(draw, values, lambda t: t.dtype == "float32" and broadcast_types(tc, t) is not None,
             lambda: Fresh(partner(draw, tx), {"corners": list(_ALL)}, corner_flag(draw, ctx)))
    return Drawn((cond, x, y), {}, broadcast_types(tc, type_of(values, y), "float32"))


def _reduce(name, dtypes=FLOAT):
    @abstract(name)
    def rule(draw, values, ctx):
        x = first(draw, values, ctx, dtypes)
        t = type_of(values, x)
        ax, keep = axes(draw, t.rank), draw(st.booleans())
        return Drawn((x,), {"axis": ax, "keepdims": keep}, reduce_type(t, ax, keep))
    return rule


for _name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min"):
    _reduce(_name)


@abstract("argmax")
def argmax(draw, values, ctx):
    # a fresh input: ties on an intermediate would flip the index; corner ties are exact (the first wins)
    f = fresh(draw, ctx, FLOAT, corners=("zero", "sign", "ties", "extreme"))
    a = axis(draw, f.type.rank)
    keep = False if ctx.framework == "tensorflow" else draw(st.booleans())    # tf.math.argmax has no keepdims
    attrs = {"axis": a} if ctx.framework == "tensorflow" else {"axis": a, "keepdims": keep}
    return Drawn((f,), attrs, reduce_type(f.type, [a], keep, "int64"))


def _along_axis(name):
    @abstract(name)
    def rule(draw, values, ctx):
        x = first(draw, values, ctx, FLOAT)
        t = type_of(values, x)
        return Drawn((x,), {"axis": axis(draw, t.rank)}, t)
    return rule


_along_axis("softmax")
_along_axis("log_softmax")
_along_axis("cumsum")


@abstract("flip")
def flip(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC)
    t = type_of(values, x)
    return Drawn((x,), {"axis": axes(draw, t.rank)}, t)


@abstract("roll")
def roll(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC)
    t = type_of(values, x)
    return Drawn((x,), {"shift": draw(st.integers(-3, 3)), "axis": axis(draw, t.rank)}, t)


@abstract("transpose")
def transpose(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC, min_rank=2)
    t = type_of(values, x)
    perm = list(draw(st.permutations(range(t.rank))))
    free = tuple(i for i, p in enumerate(perm) if p in t.free)
    return Drawn((x,), {"perm": perm}, TensorType(tuple(t.shape[p] for p in perm), t.dtype, free))


@abstract("reshape")
def reshape(draw, values, ctx):
    """Over a free axis k the shape keeps the sides up to k (k written -1) and factors the rest."""
    x = first(draw, values, ctx, NUMERIC, accept=lambda t: len(t.free) <= 1)
    t = type_of(values, x)
    if not t.free:
        shape = factor_shape(draw, numel(t.shape))
        known = numel([s for s in shape if s != -1])
        out = tuple(numel(t.shape) // known if s == -1 else s for s in shape)
        return Drawn((x,), {"shape": shape}, TensorType(out, t.dtype))
    k = t.free[0]
    tail = factor_shape(draw, numel(t.shape[k + 1:]), max_rank=max(1, 3 - k), minus_one=False) \
        if k + 1 < t.rank and draw(st.booleans()) else list(t.shape[k + 1:])
    shape = list(t.shape[:k]) + [-1] + tail
    return Drawn((x,), {"shape": shape}, TensorType(t.shape[:k + 1] + tuple(tail), t.dtype, (k,)))


def _flatten_tf(draw, values, ctx):
    # keras.layers.Flatten: everything after axis 0 into one side (a free axis may be axis 0 only)
    x = first(draw, values, ctx, NUMERIC, min_rank=2, free_ok=lambda a, r: a == 0)
    t = type_of(values, x)
    return Drawn((x,), {"start": 1}, TensorType((t.shape[0], numel(t.shape[1:])), t.dtype, t.free))


@abstract("flatten")
def flatten(draw, values, ctx):
    if ctx.framework == "tensorflow":
        return _flatten_tf(draw, values, ctx)
    x = first(draw, values, ctx, NUMERIC, min_rank=2)
    t = type_of(values, x)
    start = draw(st.integers(0, t.rank - 1))
    end = draw(st.integers(start, t.rank - 1))
    if any(start <= a <= end for a in t.free) and start < end:    # B x side is no free side
        end = start
    out = t.shape[:start] + (numel(t.shape[start:end + 1]),) + t.shape[end + 1:]
    shift = end - start
    free = tuple(a if a <= start else a - shift for a in t.free)
    return Drawn((x,), {"start": start, "end": end}, TensorType(out, t.dtype, free))


@abstract("unsqueeze")
def unsqueeze(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC, max_rank=3)
    t = type_of(values, x)
    a = draw(st.integers(0, t.rank))
    free = tuple(f + (f >= a) for f in t.free)
    return Drawn((x,), {"axis": a}, TensorType(t.shape[:a] + (1,) + t.shape[a:], t.dtype, free))


@abstract("squeeze")
def squeeze(draw, values, ctx):
    def has_one(t):
        return t.rank >= 2 and any(s == 1 and i not in t.free for i, s in enumerate(t.shape))

    def make():
        shape = list(draw(st.lists(st.integers(1, 6), min_size=2, max_size=4)))
        one = draw(st.integers(0, len(shape) - 1))
        shape[one] = 1
        return with_free(draw, ctx, shape, "float32", fixed=(one,))
    x = pick(draw, values, lambda t: t.dtype in NUMERIC and has_one(t), make)
    t = type_of(values, x)
    a = draw(st.sampled_from([i for i, s in enumerate(t.shape) if s == 1 and i not in t.free]))
    free = tuple(f - (f > a) for f in t.free)
    return Drawn((x,), {"axis": a}, TensorType(t.shape[:a] + t.shape[a + 1:], t.dtype, free))


@abstract("slice")
def slice_(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC)
    t = type_of(values, x)
    spec, out = [], []
    for i, side in enumerate(t.shape):
        if i in t.free or draw(st.booleans()):      # a free side is kept whole
            spec.append(None)
            out.append(side)
            continue
        start = draw(st.integers(0, side - 1))
        stop = draw(st.integers(start + 1, side))
        step = draw(st.integers(1, 2))
        spec.append([start, stop, step])
        out.append(len(range(start, stop, step)))
    return Drawn((x,), {"slices": spec}, TensorType(tuple(out), t.dtype, t.free))


@abstract("tile")
def tile(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC, max_rank=3)
    t = type_of(values, x)
    reps = [1 if i in t.free else draw(st.integers(1, 3)) for i in range(t.rank)]
    return Drawn((x,), {"reps": reps}, TensorType(tuple(s * r for s, r in zip(t.shape, reps)), t.dtype, t.free))


@abstract("expand")
def expand(draw, values, ctx):
    # the target shape is literal: its operand has no free side (tf.broadcast_to takes no -1)
    x = first(draw, values, ctx, NUMERIC, max_rank=3, free_ok=lambda a, r: False)
    t = type_of(values, x)
    lead = draw(st.lists(st.integers(1, 4), max_size=4 - t.rank))
    out = tuple(lead) + tuple(draw(st.integers(1, 4)) if s == 1 else s for s in t.shape)
    return Drawn((x,), {"shape": list(out)}, TensorType(out, t.dtype))


@abstract("concat")
def concat(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC, accept=lambda t: len(t.free) < t.rank, free_ok=lambda a, r: r > 1)
    t = type_of(values, x)
    a = draw(st.sampled_from([i for i in range(t.rank) if i not in t.free]))     # B + side is no free side

    def fits(u):
        return u.dtype == t.dtype and u.rank == t.rank and u.free == t.free and all(
            p == q for i, (p, q) in enumerate(zip(u.shape, t.shape)) if i != a)
    side = draw(st.integers(1, 4))
    y = pick(draw, values, fits, lambda: Fresh(TensorType(t.shape[:a] + (side,) + t.shape[a + 1:], t.dtype, t.free),
                                               {"corners": list(_corners(t.dtype))}, corner_flag(draw, ctx)))
    out = t.shape[:a] + (t.shape[a] + type_of(values, y).shape[a],) + t.shape[a + 1:]
    return Drawn((x, y), {"axis": a}, TensorType(out, t.dtype, t.free))


@abstract("gather")
def gather(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT)
    t = type_of(values, x)
    a = draw(st.integers(0, t.rank - 1))
    n = draw(st.integers(1, 4))
    high = min(ctx.batch, ctx.batch2) if a in t.free else t.shape[a]       # valid at both sizes
    index = Fresh(TensorType((n,), "int64"), {"domain": "index", "high": high, "corners": ["bounds"]},
                  corner_flag(draw, ctx))
    free = tuple(f for f in t.free if f != a)
    return Drawn((x, index), {"axis": a}, TensorType(t.shape[:a] + (n,) + t.shape[a + 1:], t.dtype, free))


@abstract("matmul")
def matmul(draw, values, ctx):
    # near FLT_MAX a sum of products overflows by the engine's order and fusing (torch NaN, FMA -inf)
    x = first(draw, values, ctx, FLOAT, min_rank=2, free_ok=lambda a, r: a != r - 1, corners=CORNERS_FLOAT_MODERATE)
    t = type_of(values, x)
    n = draw(st.integers(1, 6))
    w = Fresh(TensorType((t.shape[-1], n), "float32"), {"corners": ["zero", "sign", "ties"]},
              corner_flag(draw, ctx))
    return Drawn((x, w), {}, TensorType(t.shape[:-1] + (n,), "float32", t.free))
