"""More abstract operators (issue 17): the rest of the table's elementwise math and logic,
reductions, sorting and top-k, index ops, casts, padding and multi-output ops (split, unbind,
topk, sort), so that every framework's converted graphs reach 60 or more ONNX op types.
Registered after ``ops`` and before ``ops_nn`` (simple to complex).

A multi-output call (``torch.topk``, ``tf.split``) gives the node the one tensor at its
``item`` (``Drawn.item``, set by ``with_item``). Where frameworks return different index dtypes (TensorFlow's ``top_k`` and
``argsort`` give int32) the rule declares the framework's.
"""
from __future__ import annotations

from hypothesis import strategies as st

from .abstract import (CORNERS_FLOAT, CORNERS_FLOAT_MODERATE, FLOAT, INT, NUMERIC, Drawn, Fresh, TensorType, abstract, axes, axis,
                       broadcast_types, corner_flag, first, fresh, partner, pick, reduce_type, type_of, with_free)
from .ops import _ALL, _binary, _compare, _fresh_unary, _reduce, _unary

BOOL = ("bool",)
INDEX_DTYPE = {"torch": "int64", "tensorflow": "int32", "paddle": "int64"}     # topk / argsort indices


def with_item(d: Drawn, item: int) -> Drawn:
    """``d`` marked as reading output ``item`` of its call (see ``program.node_output``)."""
    return Drawn(d.args, d.attrs, d.output, item)


# -- elementwise math ---------------------------------------------------------------------------
for _name in ("asinh", "relu6", "hardtanh", "tanhshrink", "logsigmoid"):
    _unary(_name)
_unary("celu", lambda draw, ctx: {"alpha": draw(st.sampled_from([1.0, 1.5, 0.5]))})
_unary("softshrink", lambda draw, ctx: {"lambd": draw(st.sampled_from([0.5, 0.25]))})

_fresh_unary("tan", {"domain": "uniform", "low": -1.2, "high": 1.2}, ("zero", "sign"))
_fresh_unary("asin", {"domain": "uniform", "low": -0.95, "high": 0.95}, ("zero",))
_fresh_unary("acos", {"domain": "uniform", "low": -0.95, "high": 0.95}, ("zero",))
_fresh_unary("atanh", {"domain": "uniform", "low": -0.9, "high": 0.9}, ("zero",))
_fresh_unary("sinh", {"domain": "uniform", "low": -3.0, "high": 3.0}, ("zero", "sign", "nonfinite"))
_fresh_unary("cosh", {"domain": "uniform", "low": -3.0, "high": 3.0}, ("zero", "sign", "nonfinite"))
_fresh_unary("acosh", {"domain": "positive", "low": 1.05, "high": 4.0}, ("nonfinite",))
_fresh_unary("log1p", {"domain": "uniform", "low": -0.5, "high": 3.0}, ("zero", "nonfinite"))
_fresh_unary("expm1", {"domain": "uniform", "low": -3.0, "high": 3.0}, ("zero", "sign"))
_fresh_unary("rsqrt", {"domain": "positive"}, ("nonfinite",))
_fresh_unary("sign", {"domain": "nonzero"}, ("zero", "sign", "nonfinite", "extreme"))
_fresh_unary("hardshrink", {"domain": "normal", "avoid": [-0.5, 0.5]}, ("zero", "sign"))
_fresh_unary("isnan", {"domain": "special"}, ("zero", "nonfinite", "extreme"), out_dtype="bool")
_fresh_unary("isinf", {"domain": "special"}, ("zero", "nonfinite", "extreme"), out_dtype="bool")

for _name in ("greater_equal", "less_equal", "not_equal"):
    _compare(_name)
for _name in ("logical_and", "logical_or", "logical_xor"):
    _binary(_name, BOOL)


@abstract("logical_not")
def logical_not(draw, values, ctx):
    x = first(draw, values, ctx, BOOL)
    return Drawn((x,), {}, type_of(values, x))


def _fresh_pair(draw, values, ctx, a_domain: dict, b_domain: dict, dtypes=FLOAT, a_reads_values: bool = False) -> Drawn:
    """Two operands that broadcast: ``a`` (a graph value when ``a_reads_values``, else fresh)
    and a fresh partner ``b``; each dict holds a domain and its ``corners``."""
    if a_reads_values:
        a = pick(draw, values, lambda t: t.dtype in dtypes,
                 lambda: fresh(draw, ctx, dtypes, **a_domain))
    else:
        a = fresh(draw, ctx, dtypes, **a_domain)
    ta = type_of(values, a)
    domain = {k: v for k, v in b_domain.items() if k != "corners"}
    b = Fresh(partner(draw, ta), dict(domain, corners=list(b_domain["corners"])),
              corner_flag(draw, ctx) if b_domain["corners"] else False)
    return Drawn((a, b), {}, broadcast_types(ta, b.type))


def _pair_rule(name, a: dict, b: dict, dtypes=FLOAT, a_reads_values=False):
    @abstract(name)
    def rule(draw, values, ctx):
        return _fresh_pair(draw, values, ctx, a, b, dtypes, a_reads_values)
    return rule


_pair_rule("div", {"corners": _ALL}, {"domain": "nonzero", "corners": ("sign", "ties", "nonfinite")}, a_reads_values=True)
_pair_rule("pow", {"domain": "positive", "corners": ("zero",)},
           {"domain": "uniform", "low": -2.0, "high": 2.0, "corners": ("zero", "sign")})
_pair_rule("atan2", {"domain": "nonzero", "corners": ("sign", "nonfinite")},
           {"domain": "nonzero", "corners": ("sign", "nonfinite")})
_pair_rule("fmod", {"domain": "uniform", "low": -7.0, "high": 7.0, "corners": ("zero", "nonfinite")},
           {"domain": "positive", "low": 1.1, "high": 2.9, "corners": ()})
# integer division and modulo by positive divisors: INT_MIN / -1 overflows (undefined in C)
_pair_rule("remainder", {"low": -20, "high": 20, "corners": ("zero", "sign")},
           {"domain": "nonzero", "low": 1, "high": 5, "corners": ()}, dtypes=("int32",))
_pair_rule("floor_divide", {"low": -20, "high": 20, "corners": ("zero", "sign")},
           {"domain": "nonzero", "low": 1, "high": 5, "corners": ()}, dtypes=("int32",))


# -- reductions ---------------------------------------------------------------------------------
for _name in ("logsumexp", "reduce_l2"):
    _reduce(_name)
_reduce("reduce_all", BOOL)
_reduce("reduce_any", BOOL)


def _stat(name):
    @abstract(name)
    def rule(draw, values, ctx):
        # no extreme corners: squaring a deviation above ~1.8e19 overflows float32, and no spec says
        # how a variance is accumulated (torch.std([3.4e38, 0]) is 1.7e38, numpy's float32 np.std
        # and the exported Sub/Mul/ReduceMean/Sqrt give inf), so that difference is no finding
        x = first(draw, values, ctx, FLOAT, corners=CORNERS_FLOAT_MODERATE)
        t = type_of(values, x)
        ax, keep = axes(draw, t.rank), draw(st.booleans())
        return Drawn((x,), {"axis": ax, "keepdims": keep, "unbiased": False}, reduce_type(t, ax, keep))
    return rule


_stat("var")
_stat("std")


@abstract("reduce_prod")
def reduce_prod(draw, values, ctx):
    f = fresh(draw, ctx, FLOAT, corners=("zero", "sign"), domain="uniform", low=0.5, high=1.5)
    a, keep = draw(st.integers(0, f.type.rank - 1)), draw(st.booleans())      # torch.prod takes one dim
    return Drawn((f,), {"axis": a, "keepdims": keep}, reduce_type(f.type, [a], keep))


@abstract("reduce_l1")
def reduce_l1(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT)
    t = type_of(values, x)
    keep = draw(st.booleans())
    if ctx.framework == "tensorflow":           # tf.norm: an int axis is a vector norm, a pair a matrix norm
        a = draw(st.integers(0, t.rank - 1))
        return Drawn((x,), {"axis": a, "keepdims": keep}, reduce_type(t, [a], keep))
    ax = axes(draw, t.rank)
    return Drawn((x,), {"axis": ax, "keepdims": keep}, reduce_type(t, ax, keep))


@abstract("argmin")
def argmin(draw, values, ctx):
    f = fresh(draw, ctx, FLOAT, corners=("zero", "sign", "ties", "extreme"))
    a = axis(draw, f.type.rank)
    keep = False if ctx.framework == "tensorflow" else draw(st.booleans())    # tf.math.argmin has no keepdims
    attrs = {"axis": a} if ctx.framework == "tensorflow" else {"axis": a, "keepdims": keep}
    return Drawn((f,), attrs, reduce_type(f.type, [a], keep, "int64"))


# -- sorting --------------------------------------------------------------------------------------
def _sorted_axis(draw, ctx, t: TensorType) -> int:
    """An axis a sort or top-k runs along: TensorFlow's ``top_k`` and ``sort`` default to the last."""
    return t.rank - 1 if ctx.framework == "tensorflow" else draw(st.sampled_from(
        [i for i in range(t.rank) if i not in t.free]))


def _untied(draw, ctx) -> Fresh:
    """A fresh input for index results: no corner values (ties order differently per engine),
    the sorted axis static (TensorFlow sorts the last one)."""
    def keeps_a_static_axis(a, r):
        return a != r - 1 if ctx.framework == "tensorflow" else r > 1
    return fresh(draw, ctx, FLOAT, free_ok=keeps_a_static_axis, corners=())


@abstract("topk")
def topk(draw, values, ctx):
    f = _untied(draw, ctx)
    t = f.type
    a = _sorted_axis(draw, ctx, t)
    k = draw(st.integers(1, t.shape[a]))
    attrs = {"k": k} if ctx.framework == "tensorflow" else {"k": k, "axis": a, "largest": draw(st.booleans())}
    item = draw(st.integers(0, 1))
    shape = t.shape[:a] + (k,) + t.shape[a + 1:]
    dtype = "float32" if item == 0 else INDEX_DTYPE[ctx.framework]
    return with_item(Drawn((f,), attrs, TensorType(shape, dtype, t.free)), item)


@abstract("sort")
def sort(draw, values, ctx):
    # no NaN corners: ONNX's TopK does not say where NaN sorts (numpy puts it last, TensorFlow's
    # top_k and onnxruntime elsewhere), so a NaN's place is no finding
    x = first(draw, values, ctx, FLOAT, corners=tuple(c for c in CORNERS_FLOAT if c != "nonfinite"))
    t = type_of(values, x)
    d = Drawn((x,), {"axis": axis(draw, t.rank)}, t)
    return with_item(d, 0)            # torch.sort gives (values, indices)


@abstract("argsort")
def argsort(draw, values, ctx):
    f = _untied(draw, ctx)
    a = _sorted_axis(draw, ctx, f.type)
    return Drawn((f,), {"axis": a}, TensorType(f.type.shape, INDEX_DTYPE[ctx.framework], f.type.free))


# -- products -------------------------------------------------------------------------------------
@abstract("einsum")
def einsum(draw, values, ctx):
    """x of rank 2 or 3 (its contracted last side static) times a fresh 2-D weight, the weight
    perhaps written transposed: ``bik,kn->bin`` or ``ik,nk->in``."""
    x = first(draw, values, ctx, FLOAT, min_rank=2, max_rank=3, free_ok=lambda a, r: a != r - 1,
              corners=CORNERS_FLOAT_MODERATE)     # a contraction: see matmul
    t = type_of(values, x)
    n = draw(st.integers(1, 5))
    lead = "bi" if t.rank == 3 else "i"
    transposed = draw(st.booleans())
    w_shape = (n, t.shape[-1]) if transposed else (t.shape[-1], n)
    equation = f"{lead}k,{'nk' if transposed else 'kn'}->{lead}n"
    w = Fresh(TensorType(w_shape, "float32"), {"corners": ["zero", "sign", "ties"]}, corner_flag(draw, ctx))
    return Drawn((x, w), {"equation": equation}, TensorType(t.shape[:-1] + (n,), "float32", t.free))


# -- data movement ----------------------------------------------------------------------------------
@abstract("pad")
def pad(draw, values, ctx):
    modes = ["constant", "reflect"] + ([] if ctx.framework == "tensorflow" else ["edge"])
    mode = draw(st.sampled_from(modes))
    if mode == "constant":
        x = first(draw, values, ctx, FLOAT)
        t = type_of(values, x)
        pads = [[0, 0] if i in t.free else [draw(st.integers(0, 2)), draw(st.integers(0, 2))] for i in range(t.rank)]
        attrs = {"pads": pads, "mode": mode, "value": draw(st.sampled_from([0.0, 0.5, -1.5]))}
    else:       # reflect / edge: the last two axes of a rank-4 tensor (torch and paddle pad those only)
        x = first(draw, values, ctx, FLOAT, min_rank=4, accept=lambda u: min(u.shape[2:]) >= 2,
                  free_ok=lambda a, r: a < 2)
        if isinstance(x, Fresh) and min(x.type.shape[2:]) < 2:
            x = Fresh(TensorType(x.type.shape[:2] + (3, 4), x.type.dtype, x.type.free), x.domain, x.corner)
        t = type_of(values, x)
        pads = [[0, 0], [0, 0]] + [[draw(st.integers(0, s - 1)), draw(st.integers(0, s - 1))] for s in t.shape[2:]]
        attrs = {"pads": pads, "mode": mode}
    out = tuple(s + p[0] + p[1] for s, p in zip(t.shape, pads))
    return Drawn((x,), attrs, TensorType(out, t.dtype, t.free))


@abstract("one_hot")
def one_hot(draw, values, ctx):
    classes = draw(st.integers(1, 6))
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    f = with_free(draw, ctx, shape, "int64", corners=("bounds",), domain="index", high=classes)
    dtype = "int64" if ctx.framework == "torch" else "float32"
    return Drawn((f,), {"classes": classes}, TensorType(f.type.shape + (classes,), dtype, f.type.free))


_CASTABLE = NUMERIC + ("float16", "bool")


@abstract("cast")
def cast(draw, values, ctx):
    """Continuous casts (int or bool to anything, float32 <-> float16, int64 -> int32) read any
    value; float to int truncates and float to bool tests != 0, so those read a fresh input
    whose values are away from integers (``frac``) or on a grid (exact zeros)."""
    target = draw(st.sampled_from(_CASTABLE))
    sources = [d for d in _CASTABLE if d != target]
    x = pick(draw, values, lambda t: t.dtype in sources and _smooth_cast(t.dtype, target),
             lambda: _cast_input(draw, ctx, target))
    t = type_of(values, x)
    return Drawn((x,), {"dtype": target}, TensorType(t.shape, target, t.free))


def _smooth_cast(source: str, target: str) -> bool:
    return not (source.startswith("float") and target in INT + BOOL)


def _cast_input(draw, ctx, target: str) -> Fresh:
    if target in INT:
        return fresh(draw, ctx, ("float32",), domain="frac", corners=("sign",))
    if target == "bool":
        return fresh(draw, ctx, ("float32",), domain="grid", corners=("zero", "nonfinite"))
    dtypes = tuple(d for d in ("float32", "float16", "int32", "int64", "bool") if d != target)
    return fresh(draw, ctx, dtypes, corners=("zero", "sign"))


@abstract("gather_elements")
def gather_elements(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT, accept=lambda t: len(t.free) < t.rank, free_ok=lambda a, r: r > 1)
    t = type_of(values, x)
    a = draw(st.sampled_from([i for i in range(t.rank) if i not in t.free]))
    n = draw(st.integers(1, 4))
    shape = t.shape[:a] + (n,) + t.shape[a + 1:]
    index = Fresh(TensorType(shape, "int64", t.free), {"domain": "index", "high": t.shape[a], "corners": ["bounds"]},
                  corner_flag(draw, ctx))
    return Drawn((x, index), {"axis": a}, TensorType(shape, t.dtype, t.free))


@abstract("stack")
def stack(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC, max_rank=3)
    t = type_of(values, x)
    y = pick(draw, values, lambda u: u == t, lambda: Fresh(t, {"corners": list(_corners_of(t))}, corner_flag(draw, ctx)))
    a = draw(st.integers(0, t.rank))
    free = tuple(f + (f >= a) for f in t.free)
    return Drawn((x, y), {"axis": a}, TensorType(t.shape[:a] + (2,) + t.shape[a:], t.dtype, free))


def _corners_of(t: TensorType) -> tuple:
    return _ALL if t.dtype.startswith("float") else ("zero", "sign", "extreme")


def _static_axis_of_side(draw, values, ctx, min_side: int):
    """A numeric value with a static side of at least ``min_side``, and that axis."""
    def ok(t):
        return any(s >= min_side and i not in t.free for i, s in enumerate(t.shape))

    def make():
        shape = list(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
        k = draw(st.integers(0, len(shape) - 1))
        shape[k] = draw(st.integers(min_side, 6))
        return with_free(draw, ctx, shape, draw(st.sampled_from(NUMERIC)), fixed=(k,))
    x = pick(draw, values, lambda t: t.dtype in NUMERIC and ok(t), make)
    t = type_of(values, x)
    a = draw(st.sampled_from([i for i, s in enumerate(t.shape) if s >= min_side and i not in t.free]))
    return x, t, a


@abstract("split")
def split(draw, values, ctx):
    x, t, a = _static_axis_of_side(draw, values, ctx, 2)
    cut = sorted(draw(st.sets(st.integers(1, t.shape[a] - 1), min_size=1, max_size=2)))
    sections = [q - p for p, q in zip([0] + cut, cut + [t.shape[a]])]
    item = draw(st.integers(0, len(sections) - 1))
    out = TensorType(t.shape[:a] + (sections[item],) + t.shape[a + 1:], t.dtype, t.free)
    return with_item(Drawn((x,), {"sections": sections, "axis": a}, out), item)


@abstract("unbind")
def unbind(draw, values, ctx):
    x, t, a = _static_axis_of_side(draw, values, ctx, 1)
    item = draw(st.integers(0, t.shape[a] - 1))
    free = tuple(f - (f > a) for f in t.free)
    return with_item(Drawn((x,), {"axis": a}, TensorType(t.shape[:a] + t.shape[a + 1:], t.dtype, free)), item)


def _band(name, lower: bool):
    @abstract(name)
    def rule(draw, values, ctx):
        x = first(draw, values, ctx, NUMERIC, min_rank=2)
        t = type_of(values, x)
        if ctx.framework == "tensorflow":       # tf.linalg.band_part(num_lower, num_upper): -1 keeps a whole triangle
            side = t.rank - 1 if lower else t.rank - 2          # a band wider than the matrix is refused
            k = draw(st.integers(0, min(2, min(ctx.batch, ctx.batch2) if side in t.free else t.shape[side])))
            attrs = {"diagonal": k if lower else -k, "num_lower": -1 if lower else k, "num_upper": k if lower else -1}
        else:
            attrs = {"diagonal": draw(st.integers(-2, 2))}
        return Drawn((x,), attrs, t)
    return rule


_band("tril", True)
_band("triu", False)


@abstract("full_like")
def full_like(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT)
    return Drawn((x,), {"value": draw(st.sampled_from([2.5, 0.0, -1.0]))}, type_of(values, x))


@abstract("ones_like")
def ones_like(draw, values, ctx):
    x = first(draw, values, ctx, NUMERIC)
    return Drawn((x,), {}, type_of(values, x))


@abstract("normalize")
def normalize(draw, values, ctx):
    x = first(draw, values, ctx, FLOAT)
    t = type_of(values, x)
    return Drawn((x,), {"axis": draw(st.integers(0, t.rank - 1))}, t)
