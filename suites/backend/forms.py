"""How an op is fed: its inputs' roles and its attributes, as plain data (a ``Form``).

The generic form is derived from the schema (every required input a data input of one shape,
variadic inputs twice, optional ones left out); ``overrides.py`` declares forms for ops whose
inputs must agree in shape, carry indices, axes or shapes, or whose older opsets took as
attributes what newer ones take as inputs. A role says how its input is drawn for a family:

* ``Data``  the family's values (or plain values where the family does not fit its dtype)
* ``Index`` indices into an axis of size ``bound``: in range, negative (``neg_index``), all the
  same (``dup_index``) or past the end (``oob_index``)
* ``Axes``  an axes input: negative under ``neg_axis``, empty under ``empty_axes``
* ``Const`` a fixed tensor; ``None`` an omitted optional input
Attributes may be ``Axis``/``AxesAttr`` (negative under ``neg_axis``) or a callable of the
data set's dtype (subgraphs of If, Loop, Scan).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_SHAPE = (2, 3, 4)


@dataclass(frozen=True)
class Data:
    shape: tuple | None = None           # None: the form's shape
    tp: str | None = None                # type parameter; None: the schema's at this position
    dtype: str | None = None             # a fixed dtype, whatever the data set's
    plain: bool = False                  # typical values always (weights, scales), never the corner's
    seq: int = 0                         # > 0: a sequence of this many tensors (SequenceConstruct)
    optional: bool = False               # wrapped in an Optional node


@dataclass(frozen=True)
class Index:
    shape: tuple
    bound: int
    dtype: str = "int64"


@dataclass(frozen=True)
class Axes:
    values: tuple
    rank: int
    empty_ok: bool = False               # the op defines empty axes (noop_with_empty_axes, all axes)


@dataclass(frozen=True)
class Const:
    value: Any
    dtype: str | None = "int64"          # None: the data set's dtype
    like: int | None = None              # take the dtype of this input position instead


@dataclass(frozen=True)
class Axis:
    value: int
    rank: int


@dataclass(frozen=True)
class AxesAttr:
    values: tuple
    rank: int


@dataclass(frozen=True)
class Form:
    inputs: tuple = ()                   # roles; () derives them from the schema
    attrs: dict = field(default_factory=dict)
    name: str = ""                       # prefix of the data sets' names, when an op has several forms
    outputs: int | None = None           # outputs taken (None: the schema's required ones)
    since: int = 0                       # the form applies to versions since..until-1
    until: int = 10**6
    shape: tuple = DEFAULT_SHAPE
    primary: str | None = None           # the type parameter data sets iterate over
    dtypes: tuple | None = None          # restrict the primary parameter's dtypes
    skip: tuple = ()                     # families that make no sense here
    only: tuple | None = None            # the only families that apply
    extra: tuple = ()                    # opt-in families (oob_index)
    undefined: dict = field(default_factory=dict)   # family -> the spec's words: no golden exists
    unjudged: str = ""                   # why no output of this form can be judged here (string outputs)
    fixup: str | None = None             # name in fixups.FIXUPS, applied to the drawn inputs
    tail: tuple = ()                     # (op, attrs) nodes after output 0 (sequence/optional -> tensor)

    def applies(self, version: int) -> bool:
        return self.since <= version < self.until


def form(*inputs, **kw) -> Form:
    """``Form`` with the roles as positional arguments: ``form(Data(), Index((2,), 3), attrs=...)``."""
    return Form(inputs=tuple(inputs), **kw)


AttrValue = Any | Callable
