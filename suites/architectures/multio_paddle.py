"""Paddle multi-input/multi-output and control-flow builders (run in the paddle worker).
Imports paddle only.

Multi-IO: an int64 token input next to a float mask (embedding lookup, masked mean) with dict
or tuple outputs. Control flow: Python ``if``/``while`` on tensors, which
``paddle.jit.to_static`` (inside ``paddle.jit.save``) turns into ``cond``/``while`` ops, and
the explicit ``paddle.static.nn.cond`` / ``paddle.static.nn.while_loop`` API; paddle2onnx
emits them as ONNX ``If``/``Loop``. The source side runs the layer eagerly (dygraph), where the
same code is plain Python control flow.
"""
from __future__ import annotations

import numpy as np
import paddle
from paddle import nn

from conformance.cases import Built
from suites.architectures.common import LoopEnergy, TokenMaskLayers, threshold, token_inputs


class TokenMaskEncoder(TokenMaskLayers, nn.Layer):
    """``outputs``: "dict" -> {"logits", "pooled", "count"} (count: int64 kept tokens per row);
    "tuple" -> (pooled, argmax label int64, logits); "passthrough" -> (logits, mask, logits,
    tokens): inputs as outputs, one output twice."""

    framework_nn = nn

    def forward(self, tokens, mask):
        weights = mask.unsqueeze(-1)
        total = (self.embed(tokens) * weights).sum(axis=1)
        pooled = total / weights.sum(axis=1).clip(min=1.0)
        logits = self.head(pooled)
        if self.outputs == "dict":
            return {"logits": logits, "pooled": pooled, "count": (mask > 0.5).astype("int64").sum(axis=1)}
        if self.outputs == "passthrough":
            # inputs returned as they are, and one tensor returned twice
            return logits, mask, logits, tokens
        return pooled, logits.argmax(axis=-1), logits


def run_in_paddle_order(model, inputs) -> list[np.ndarray]:
    """Source outputs in Paddle's own flattening order (``paddle.utils.flatten``: dict keys
    sorted), the order ``paddle.jit.save`` gives the saved program's fetch targets and so
    paddle2onnx's graph outputs (named ``fetch_name_<k>``: the keys are lost). The harness's
    default flattens a dict in insertion order, which would compare "logits" with "count"."""
    with paddle.no_grad():
        out = model(*[paddle.to_tensor(x) for x in inputs])
    return [t.numpy() for t in paddle.utils.flatten(out)]


def build_token_mask(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    outputs = params.get("outputs", "dict")
    model = TokenMaskEncoder(outputs)
    model.eval()
    return Built(model=model, inputs=token_inputs(rng, 2, 6), input_names=["tokens", "mask"],
                 run=run_in_paddle_order if outputs == "dict" else None,
                 dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "mask": {0: "batch", 1: "seq"}},
                 extra_inputs=[token_inputs(rng, 3, 9)])


# ------------------------------------------------------------------------------ if / cond
class PythonIf(nn.Layer):
    """A Python ``if`` on a tensor predicate (to_static: a ``cond`` op) whose branches each
    produce two tensors. The predicate's reductions name their axes: ``Tensor.mean()`` with
    no axis aborts paddle2onnx 2.1 ("Can not get input 'axis(dim)' value", SIGABRT) with or
    without control flow around it, an operator bug outside this suite's subject."""

    def __init__(self, dim: int = 6):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, bias):
        h = self.proj(x)
        if h.mean(axis=[0, 1]) + bias.sum(axis=0) > 0:
            scaled = paddle.nn.functional.relu(h) * 2.0 + bias
            reduced = h.sum(axis=-1)
        else:
            scaled = paddle.tanh(h) - bias
            reduced = h.max(axis=-1)
        return scaled, reduced


class StaticCond(PythonIf):
    """The same branches through ``paddle.static.nn.cond`` (the explicit API)."""

    def forward(self, x, bias):
        h = self.proj(x)
        return paddle.static.nn.cond(
            h.mean(axis=[0, 1]) + bias.sum(axis=0) > 0,
            lambda: (paddle.nn.functional.relu(h) * 2.0 + bias, h.sum(axis=-1)),
            lambda: (paddle.tanh(h) - bias, h.max(axis=-1)))


def build_cond(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = StaticCond() if params.get("api") == "static" else PythonIf()
    model.eval()
    x = rng.standard_normal((3, 6)).astype(np.float32)
    bias = rng.standard_normal((6,)).astype(np.float32)
    with paddle.no_grad():
        taken = float(model.proj(paddle.to_tensor(x)).mean()) + float(bias.sum()) > 0
    # the extra set flips the predicate: one conversion, both branches run
    return Built(model=model, inputs=[x, bias], input_names=["x", "bias"], dynamic_axes={"x": {0: "batch"}},
                 extra_inputs=[[rng.standard_normal((5, 6)).astype(np.float32),
                                np.full_like(bias, -5.0 if taken else 5.0)]])


# ------------------------------------------------------------------------------ loops
class PythonWhile(LoopEnergy, nn.Layer):
    """A recurrence over the (dynamic) time axis in a Python ``for`` over ``range(x.shape[1])``,
    then a ``while`` halving the state until its norm is under ``threshold`` or ``max_steps``
    (an int64 input) is reached; returns the state, the int64 counter and the last hidden state."""

    def __init__(self, dim: int = 4, hidden: int = 5):
        super().__init__()
        self.inp = nn.Linear(dim, hidden)
        self.rec = nn.Linear(hidden, hidden, bias_attr=False)
        self.hidden = hidden

    def forward(self, x, threshold, max_steps):
        h = paddle.zeros([x.shape[0], self.hidden], dtype=x.dtype)
        for t in range(x.shape[1]):
            h = paddle.tanh(self.inp(x[:, t]) + self.rec(h))
        state = h * 8.0
        steps = paddle.zeros([1], dtype="int64")
        while self.energy(state) > threshold and steps < max_steps:
            state = state * 0.5
            steps = steps + 1
        return state, steps, h


class NormWhile(PythonWhile):
    """The same loops with the stopping test written ``paddle.linalg.norm(state)`` (Frobenius
    norm of all elements, shape []): the form users write."""

    def energy(self, state):
        return paddle.linalg.norm(state)


class StaticWhile(PythonWhile):
    """The halving loop through ``paddle.static.nn.while_loop`` (the explicit API)."""

    def forward(self, x, threshold, max_steps):
        h = paddle.zeros([x.shape[0], self.hidden], dtype=x.dtype)
        for t in range(x.shape[1]):
            h = paddle.tanh(self.inp(x[:, t]) + self.rec(h))

        def keep_halving(steps, state):
            return paddle.logical_and(self.energy(state) > threshold, steps < max_steps)

        steps, state = paddle.static.nn.while_loop(
            keep_halving, lambda steps, state: [steps + 1, state * 0.5],
            [paddle.zeros([1], dtype="int64"), h * 8.0])
        return state, steps, h


def build_loops(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = {"static": StaticWhile, "python": PythonWhile, "python-norm": NormWhile}[params.get("api", "python")]()
    model.eval()
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    limit = np.array([20], np.int64)
    return Built(model=model, inputs=[x, threshold(1.0), limit], input_names=["x", "threshold", "max_steps"],
                 dynamic_axes={"x": {0: "batch", 1: "seq"}},
                 # another batch and length (trip count), a threshold already met (zero trips),
                 # and a trip limit that stops the second loop early
                 extra_inputs=[[rng.standard_normal((3, 8, 4)).astype(np.float32), threshold(0.3), limit],
                               [x, threshold(100.0), limit],
                               [x, threshold(0.01), np.array([2], np.int64)]])


class PythonCollect(nn.Layer):
    """A Python ``for`` over the (dynamic) time axis with (``branch``) an ``if`` on a tensor
    inside the body (If nested in Loop) and/or (``collect``) the states appended to a list and
    stacked (to_static: tensor-array ops); returns (all states or the last one as [B, 1, H],
    last state)."""

    def __init__(self, branch: bool = True, collect: bool = True, dim: int = 4, hidden: int = 5):
        super().__init__()
        self.inp = nn.Linear(dim, hidden)
        self.rec = nn.Linear(hidden, hidden, bias_attr=False)
        self.hidden = hidden
        self.branch, self.collect = branch, collect

    def forward(self, x):
        h = paddle.zeros([x.shape[0], self.hidden], dtype=x.dtype)
        states = []
        for t in range(x.shape[1]):
            z = self.inp(x[:, t]) + self.rec(h)
            if self.branch:
                if z.sum() > 0:
                    h = paddle.tanh(z)
                else:
                    h = paddle.nn.functional.sigmoid(z) - 0.5
            else:
                h = paddle.tanh(z)
            if self.collect:
                states.append(h)
        if self.collect:
            return paddle.stack(states, axis=1), h
        return h.unsqueeze(1), h


def build_collect(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = PythonCollect(params.get("branch", True), params.get("collect", True))
    model.eval()
    return Built(model=model, inputs=[rng.standard_normal((2, 6, 4)).astype(np.float32)], input_names=["x"],
                 dynamic_axes={"x": {0: "batch", 1: "seq"}},
                 extra_inputs=[[rng.standard_normal((3, 9, 4)).astype(np.float32)]])
