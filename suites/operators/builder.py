"""The framework-neutral half of the operator builders: numpy only, no framework import.

A case's params (see ``specs.variant_params``) say how to call the op: a ``Call`` resolved to
plain data. Reading that data, drawing the sample inputs, seeding parameters and dispatching
on the call's kind is the same in every framework and lives here, written once; the builder
modules (``torch_ops``, ``tf_ops``, ``paddle_ops``) subclass ``OpBuilder`` with what is really
theirs: the framework calls, module classes and layouts. They run inside their framework's
worker, where the framework import is cheap and expected.
"""
from __future__ import annotations

import importlib
import sys

from conformance.cases import Built, changed_axes

from . import samples


def resolve(dotted: str, roots: dict):
    """``"torch.nn.functional.relu"`` -> the object, starting from ``roots[first part]`` (the
    framework modules the builder has imported) or an import of that first part."""
    first, *rest = dotted.split(".")
    obj = roots[first] if first in roots else importlib.import_module(first)
    for part in rest:
        obj = getattr(obj, part)
    return obj


def slices(spec) -> tuple:
    """The canonical ``slices`` attribute ([start, stop, step] | int | None per axis) as an index."""
    return tuple(slice(None) if s is None else (s if isinstance(s, int) else slice(*s)) for s in spec)


def per_dim(value, nd: int, kind=tuple):
    """A scalar repeated ``nd`` times, or a sequence as given, as ``kind`` (tuple or list)."""
    return kind(value) if isinstance(value, (list, tuple)) else kind([value] * nd)


def invoke(f, call: dict, xs, kwargs: dict):
    """Call ``f`` on the tensors ``xs`` the way the spec's ``Call`` says: as keywords
    (``names``), as one list (``packed``), or positionally after the ``pre`` attributes."""
    names = call.get("names")
    if names:
        return f(**dict(zip(names, xs)), **kwargs)
    if call.get("packed"):
        return f(list(xs), **kwargs)
    return f(*(call.get("pre") or []), *xs, **kwargs)


def randomize_tensors(named, seed: int, assign, *, positive: str, is_float=lambda t: True, scale: float = 0.5):
    """Seeded, non-trivial values for a layer's parameters and statistics (default inits hide
    bugs: zero biases, unit gammas, zero means). ``named``: (name, tensor) pairs; a name
    containing ``positive`` (the framework's word for a variance) gets positive values; the
    i-th tensor is seeded ``seed + i``, whether or not it is skipped as not floating point."""
    for i, (name, tensor) in enumerate(named):
        if not is_float(tensor):
            continue
        kind = "positive" if positive in name else "normal"
        assign(tensor, samples.weights(seed + i, tensor.shape, kind, scale))


def conv_kwargs(a: dict) -> dict:
    """Canonical conv attributes with their defaults, under the keywords torch and paddle share."""
    return {"stride": a.get("stride", 1), "padding": a.get("pad", 0), "dilation": a.get("dilation", 1),
            "groups": a.get("groups", 1)}


def conv_transpose(nn, name: str, a: dict):
    """The torch / paddle transposed convolution module ``nn.<name.format(nd=a["nd"])>`` of the
    canonical attributes ``a`` (keywords the two frameworks share)."""
    cls = getattr(nn, name.format(nd=a["nd"]))
    return cls(a["in"], a["out"], a["kernel"], **conv_kwargs(a), output_padding=a.get("output_padding", 0))


class OpBuilder:
    """``build(params, seed) -> Built`` for one framework. Subclasses say how to seed the
    framework, build a ``custom`` / ``module`` / functional call, and finish the model."""

    channels_last = False          # inputs marked layout="nc*" arrive with axis 1 moved last
    # per input, the axes the case being built declares dynamic (a dynamic twin's), for the
    # builders whose model must leave them open (Keras inputs) or name its inputs (torch.export)
    dynamic: list = []

    def seed(self, seed: int) -> None:
        raise NotImplementedError

    def custom(self, name: str, attrs: dict, inputs: list, seed: int):
        """The builder module's own ``name(attrs, seed)`` (torch, paddle)."""
        return getattr(sys.modules[type(self).__module__], name)(attrs, seed)

    def module(self, call: dict, inputs: list, seed: int):
        raise NotImplementedError

    def call_op(self, call: dict, inputs: list):
        raise NotImplementedError

    def finish(self, model):
        return model

    def build(self, params: dict, seed: int) -> Built:
        """The case's model and sample inputs; a dynamic twin's (``params["unseen"]``: its inputs
        at the unseen shape) also declares the axes on which those differ dynamic."""
        call = params["call"]
        inputs = samples.generate(params["inputs"], seed, channels_last=self.channels_last)
        unseen = samples.generate(params["unseen"], seed + 1, channels_last=self.channels_last) \
            if "unseen" in params else None
        self.dynamic = changed_axes(inputs, unseen) if unseen is not None else [() for _ in inputs]
        self.seed(seed)
        if call["kind"] == "custom":
            model = self.custom(call["custom"], params["attrs"], inputs, seed)
        elif call["kind"] == "module":
            model = self.module(call, inputs, seed)
        else:
            model = self.call_op(call, inputs)
        built = Built(model=self.finish(model), inputs=inputs)
        return built.with_unseen_inputs(unseen) if unseen is not None else built
