"""Data sets: for one op at one version, every (form, family, dtype) that applies, and the
inputs and attributes one of them draws from a seed.

``data_sets`` runs where cases are collected and only decides what applies (no arrays);
``materialize`` runs in the worker and draws the arrays, so a case carries no array in its
spec and is the same data in every process.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .corners import FAMILIES, Family, default_dtype, family_dtypes, plain
from .fixups import FIXUPS
from .forms import Axes, AxesAttr, Axis, Const, Data, Form, Index
from .overrides import OVERRIDES
from .schema import NEGATIVE_INDICES_OPSET, Signature, signature, versions

#: families a form must name to get (their cases are mostly undefined behaviour)
OPT_IN = ("oob_index",)
#: families of negative axes and indices: opset 11 allowed them across the default domain's ops
#: (Flatten, Gather, Concat, Softmax...); before it they are invalid
NEGATIVE_FAMILIES = ("neg_axis", "neg_index")
#: data sets kept for an op's older versions (its newest gets every one): the first of the
#: list, which is ordered plain dtype first, then the corners
OLDER_VERSION_DATA_SETS = 4


@dataclass(frozen=True)
class DataSet:
    op: str
    domain: str
    version: int
    form: int                       # index into the op's forms at this version
    form_name: str
    family: str
    dtype: str
    undefined: str = ""             # the spec's words, where it defines no result
    unjudged: str = ""              # why its outputs cannot be judged here

    @property
    def variant(self) -> str:
        return "-".join(p for p in (self.form_name, self.family, self.dtype) if p)

    def params(self) -> dict:
        return {"op": self.op, "domain": self.domain, "version": self.version, "form": self.form,
                "family": self.family, "dtype": self.dtype}


@dataclass
class NodeData:
    """What a data set draws: one entry per formal input (an array, a list of arrays for a
    sequence input, None when omitted), the node's attributes and how many outputs to take."""
    inputs: list
    attrs: dict
    outputs: int
    form: Form


def generic_form(sig: Signature) -> Form:
    """Every required input a data input, variadic ones twice, optional ones left out."""
    roles = []
    for param in sig.inputs:
        if param.optional:
            roles.append(None)
        else:
            roles.extend([Data(tp=param.type_str)] * (2 if param.variadic else 1))
    while roles and roles[-1] is None:
        roles.pop()
    return Form(inputs=tuple(roles))


def forms_for(op: str, domain: str, version: int) -> list[Form]:
    sig = signature(op, version, domain)
    declared = [f for f in OVERRIDES.get(op, ()) if f.applies(version)]
    forms = declared or [Form()]
    return [_with_types(f if f.inputs else replace(generic_form(sig), **_form_fields(f)), sig) for f in forms]


def _form_fields(f: Form) -> dict:
    return {k: getattr(f, k) for k in ("attrs", "name", "outputs", "shape", "primary", "dtypes", "skip", "only",
                                        "extra", "undefined", "unjudged", "fixup", "tail")}


def _with_types(f: Form, sig: Signature) -> Form:
    """Each data role's type parameter filled from the schema position it sits at."""
    roles, formal = [], _formal_positions(sig, len(f.inputs))
    for role, param in zip(f.inputs, formal):
        if isinstance(role, Data) and role.tp is None:
            role = replace(role, tp=param.type_str)
        roles.append(role)
    return replace(f, inputs=tuple(roles))


def _formal_positions(sig: Signature, count: int) -> list:
    """The formal parameter each of ``count`` actual inputs binds to (variadic: the last one repeats)."""
    params = list(sig.inputs)
    return [params[min(i, len(params) - 1)] for i in range(count)] if params else [None] * count


def primary_type(f: Form, sig: Signature) -> str | None:
    """The type parameter data sets iterate over: the form's, else the first data input's that
    allows several dtypes, else the first data input's."""
    if f.primary:
        return f.primary
    tps = [r.tp for r in f.inputs if isinstance(r, Data) and r.dtype is None]
    for tp in tps:
        if len(sig.dtypes_of(tp)) > 1:
            return tp
    return tps[0] if tps else None


def _roles(f: Form) -> set[str]:
    """The roles a form offers families: ``data`` (a corner-filled input or attribute), ``empty``
    (a data input whose first axis can be emptied), ``index``, ``axis``, ``axes``."""
    found = set()
    if any(callable(v) for v in f.attrs.values()):
        found.add("data")
    for role in f.inputs:
        if isinstance(role, Data) and not role.plain:
            found.update(("data", "empty"))
        if isinstance(role, Index):
            found.add("index")
        if isinstance(role, Axes):
            found.add("axis")
            if role.empty_ok:
                found.add("axes")
    if any(isinstance(v, (Axis, AxesAttr)) for v in f.attrs.values()):
        found.add("axis")
    return found


def _families(f: Form) -> list[Family]:
    roles = _roles(f)
    out = []
    for fam in FAMILIES.values():
        absent = fam.role not in roles or (fam.empty and "empty" not in roles)
        if (absent and fam.name != "dtype") or fam.name in f.skip or (f.only is not None and fam.name not in f.only):
            continue
        if fam.name in OPT_IN and fam.name not in f.extra and fam.name not in f.undefined:
            continue
        out.append(fam)
    return out


def data_sets_of_version(op: str, domain: str, version: int) -> list[DataSet]:
    sets = []
    for index, f in enumerate(forms_for(op, domain, version)):
        sig = signature(op, version, domain)
        allowed = _allowed(f, sig)
        for fam in _families(f):
            if fam.name in NEGATIVE_FAMILIES and not domain and version < NEGATIVE_INDICES_OPSET:
                continue
            for dtype in family_dtypes(fam, allowed):
                sets.append(DataSet(op, domain, version, index, f.name, fam.name, dtype,
                                    f.undefined.get(fam.name, ""), f.unjudged))
    return sets


def _allowed(f: Form, sig: Signature) -> tuple[str, ...]:
    """The primary parameter's dtypes: the form's choice, else the schema's; strings only where
    the op takes nothing else (the comparator and most families are numeric)."""
    tp = primary_type(f, sig)
    allowed = sig.dtypes_of(tp) if tp else ()
    if f.dtypes is not None:
        return tuple(d for d in allowed if d in f.dtypes) or tuple(f.dtypes)
    numeric = tuple(d for d in allowed if d != "object")
    return numeric or allowed or ("float32",)


def data_sets(op: str, domain: str = "") -> list[DataSet]:
    """Every data set of every version of the op (older versions: the first few of theirs)."""
    all_versions = versions(op, domain)
    out = []
    for version in all_versions:
        sets = data_sets_of_version(op, domain, version)
        out.extend(sets if version == all_versions[-1] else sets[:OLDER_VERSION_DATA_SETS])
    return out


def materialize(ds: DataSet, seed: int) -> NodeData:
    """Draw the data set's inputs and resolve its attributes (seeded: same seed, same arrays)."""
    f = forms_for(ds.op, ds.domain, ds.version)[ds.form]
    sig = signature(ds.op, ds.version, ds.domain)
    rng = np.random.default_rng(seed)
    fam = FAMILIES[ds.family]
    tp = primary_type(f, sig)
    inputs = []
    for role in f.inputs:
        inputs.append(_draw(role, f, sig, tp, ds.dtype, fam, rng, inputs))
    attrs = {k: _attr(v, fam, ds.dtype, rng) for k, v in f.attrs.items()}
    if f.fixup:
        inputs = FIXUPS[f.fixup](inputs, attrs, ds, rng)
    outputs = f.outputs if f.outputs is not None else sum(1 for p in sig.outputs if not p.optional)
    return NodeData(inputs, attrs, outputs, f)


def _dtype_for(role: Data, sig: Signature, primary: str | None, dtype: str) -> str:
    if role.dtype:
        return role.dtype
    allowed = sig.dtypes_of(role.tp)
    if role.tp == primary or dtype in allowed:
        return dtype
    return default_dtype(allowed)


def _draw(role, f: Form, sig: Signature, primary, dtype: str, fam: Family, rng, drawn: list):
    if role is None:
        return None
    if isinstance(role, Const):
        like = drawn[role.like].dtype if role.like is not None else (role.dtype or dtype)
        return np.array(role.value, dtype=like)
    if isinstance(role, Index):
        return _index(role, fam, rng)
    if isinstance(role, Axes):
        return _axes(role, fam)
    shape = role.shape or f.shape
    if not role.plain and shape == _first_data_shape(f):
        shape = _shape(shape, fam)
    want = _dtype_for(role, sig, primary, dtype)
    if role.seq:
        return [_fill(role, shape, want, fam, rng) for _ in range(role.seq)]
    return _fill(role, shape, want, fam, rng)


def _first_data_shape(f: Form) -> tuple | None:
    """The shape ``empty`` empties: the first corner-filled data input's (and every input shaped
    like it; weights and differently shaped operands keep theirs, so the node stays valid)."""
    for role in f.inputs:
        if isinstance(role, Data) and not role.plain:
            return role.shape or f.shape
    return None


def _fill(role: Data, shape, dtype: str, fam: Family, rng) -> np.ndarray:
    if role.plain or fam.fill is None or not fam.applies_to(dtype) or fam.fill is plain:
        return plain(shape, dtype, rng)
    return fam.fill(shape, dtype, rng)


def _shape(shape: tuple, fam: Family) -> tuple:
    return (0,) + tuple(shape[1:]) if fam.empty and len(shape) else tuple(shape)


def _index(role: Index, fam: Family, rng) -> np.ndarray:
    shape = _shape(role.shape, fam)
    values = rng.integers(0, role.bound, size=shape)
    if fam.name == "neg_index":
        values = values - role.bound
    elif fam.name == "dup_index":
        values = np.full(shape, rng.integers(0, role.bound))
    elif fam.name == "oob_index":
        values = np.where(rng.integers(0, 2, size=shape) == 1, role.bound, values)
    return values.astype(role.dtype)


def _axes(role: Axes, fam: Family) -> np.ndarray:
    if fam.name == "empty_axes":
        return np.array([], dtype=np.int64)
    values = [v - role.rank if fam.name == "neg_axis" and v >= 0 else v for v in role.values]
    return np.array(values, dtype=np.int64)


def _attr(value, fam: Family, dtype: str, rng):
    if isinstance(value, Axis):
        return value.value - value.rank if fam.name == "neg_axis" and value.value >= 0 else value.value
    if isinstance(value, AxesAttr):
        return [v - value.rank if fam.name == "neg_axis" and v >= 0 else v for v in value.values]
    if callable(value):       # a tensor or graph built for the data set: fill(shape) gives its values
        return value(dtype, lambda shape: _fill(Data(), shape, dtype, fam, rng))
    return value
