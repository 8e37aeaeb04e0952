"""PyTorch multi-input/multi-output and control-flow builders (run in the torch worker).
Imports torch only.

Multi-IO: an int64 token input next to a float mask (embedding lookup, masked mean), with
dict and tuple outputs of different dtypes. The harness flattens a dict in insertion order;
both torch exporters emit the graph outputs in that order too, so no ``Built.run`` override is
needed: a converter that reorders them fails the case.

Control flow: ``torch.cond`` (export: the dynamo exporter's ``If``) with a two-output branch,
and a ``torch.jit.script``-ed module whose ``for`` and ``while`` loops depend on the data (the
TorchScript exporter's ``Loop``). Every control-flow case runs extra input sets from the same
conversion, so each branch / trip count the sample does not take is exercised as well.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from conformance.cases import Built
from suites.architectures.common import LoopEnergy, TokenMaskLayers, threshold, token_inputs


class TokenMaskEncoder(TokenMaskLayers, nn.Module):
    """Embedding lookup on int64 tokens, masked mean with a float mask, a linear head.

    ``outputs``: "dict" -> {"logits", "pooled", "count"} (float, float, int64 kept-token counts);
    "tuple" -> (pooled, argmax class int64, logits): a different order and an int output;
    "passthrough" -> (logits, mask, logits, tokens): inputs as outputs, one output twice.
    """

    framework_nn = nn

    def forward(self, tokens, mask):
        weights = mask.unsqueeze(-1)
        total = (self.embed(tokens) * weights).sum(dim=1)
        pooled = total / weights.sum(dim=1).clamp_min(1.0)
        logits = self.head(pooled)
        if self.outputs == "dict":
            return {"logits": logits, "pooled": pooled, "count": (mask > 0.5).sum(dim=1)}
        if self.outputs == "passthrough":
            # inputs returned as they are, and one tensor returned twice: graph outputs that
            # alias graph inputs or each other need Identity nodes and distinct names
            return logits, mask, logits, tokens
        return pooled, logits.argmax(dim=-1), logits


def build_token_mask(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = TokenMaskEncoder(params.get("outputs", "dict")).eval()
    names = {"dict": ["logits", "pooled", "count"], "tuple": ["pooled", "label", "logits"],
             "passthrough": ["logits", "mask_out", "logits_again", "tokens_out"]}[params.get("outputs", "dict")]
    dynamic = params.get("dynamic", True)
    return Built(model=model, inputs=token_inputs(rng, 2, 6), input_names=["tokens", "mask"], output_names=names,
                 dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "mask": {0: "batch", 1: "seq"}} if dynamic else None,
                 extra_inputs=[token_inputs(rng, 3, 9)] if dynamic else [])


# ------------------------------------------------------------------------------ torch.cond
class CondBranches(nn.Module):
    """``torch.cond`` on a data-dependent predicate; each branch returns two tensors whose
    order differs in meaning (scaled, shifted), so swapped If outputs are caught."""

    def __init__(self, dim: int = 6):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, bias):
        h = self.proj(x)

        def positive(h, bias):
            return torch.relu(h) * 2.0 + bias, h.sum(dim=-1)

        def negative(h, bias):
            return torch.tanh(h) - bias, h.amax(dim=-1)

        scaled, reduced = torch.cond(h.mean() + bias.sum() > 0, positive, negative, (h, bias))
        return scaled, reduced


def build_torch_cond(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = CondBranches().eval()
    x = rng.standard_normal((3, 6)).astype(np.float32)
    bias = rng.standard_normal((6,)).astype(np.float32)
    # the sample takes one branch, the extra set the other (predicate flipped by a large bias)
    with torch.no_grad():
        taken = bool(model.proj(torch.from_numpy(x)).mean() + float(bias.sum()) > 0)
    other_bias = np.full_like(bias, -5.0 if taken else 5.0)
    return Built(model=model, inputs=[x, bias], input_names=["x", "bias"], output_names=["scaled", "reduced"],
                 extra_inputs=[[x, other_bias]])


class WhileLoopHalving(nn.Module):
    """``torch._higher_order_ops.while_loop`` (the torch.export loop, the dynamo exporter's
    ``Loop``): halve a projected state until its L1 norm is under ``threshold`` or ``limit``
    trips are done; returns (state, trip count int64)."""

    def __init__(self, dim: int = 5):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, threshold, limit):
        from torch._higher_order_ops.while_loop import while_loop

        def keep_halving(i, state):
            return (state.abs().sum() > threshold.squeeze()) & (i < limit.squeeze())

        def halve(i, state):
            return i + 1, state * 0.5

        steps, state = while_loop(keep_halving, halve, (torch.zeros((), dtype=torch.int64), self.proj(x) * 8.0))
        return state, steps


def build_torch_while_loop(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = WhileLoopHalving().eval()
    x = rng.standard_normal((2, 5)).astype(np.float32)
    limit = np.array([20], np.int64)
    # several trips, zero trips (threshold already met), stopped by the limit
    return Built(model=model, inputs=[x, threshold(1.0), limit], input_names=["x", "threshold", "limit"],
                 output_names=["state", "steps"],
                 extra_inputs=[[x, threshold(1e4), limit], [x, threshold(1e-3), np.array([2], np.int64)]])


# ------------------------------------------------------------------------------ scripted loops
class ScriptedLoops(LoopEnergy, nn.Module):
    """A recurrence over the (dynamic) sequence axis in a ``for`` loop, then a ``while`` loop
    that halves the state until its norm is under a threshold (trip count from the data), and
    the trip count itself as an int64 output."""

    def __init__(self, dim: int = 4, hidden: int = 5):
        super().__init__()
        self.inp = nn.Linear(dim, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x, threshold):
        h = torch.zeros(x.size(0), self.rec.in_features, dtype=x.dtype)
        for t in range(x.size(1)):
            h = torch.tanh(self.inp(x[:, t]) + self.rec(h))
        state = h * 8.0
        steps = torch.zeros((), dtype=torch.int64)
        while bool(self.energy(state) > threshold) and int(steps) < 20:
            state = state * 0.5
            steps = steps + 1
        return state, steps, h


class ScriptedLoopsNorm(ScriptedLoops):
    """The same loops with the stopping test written ``state.norm()`` (no dim): the form users
    write, and one the TorchScript exporter's ``aten::norm`` symbolic does not take."""

    def energy(self, state):
        return state.norm()


def build_scripted_loops(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    module = ScriptedLoopsNorm() if params.get("norm") else ScriptedLoops()
    model = torch.jit.script(module.eval())
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    return Built(model=model, inputs=[x, threshold(1.0)], input_names=["x", "threshold"],
                 output_names=["state", "steps", "h"],
                 dynamic_axes={"x": {0: "batch", 1: "seq"}},
                 # other sequence length and batch (trip count of the for loop), and a threshold
                 # the state already meets (the while loop runs zero times)
                 extra_inputs=[[rng.standard_normal((3, 8, 4)).astype(np.float32), threshold(0.3)],
                               [x, threshold(100.0)]])


class ScriptedCollect(nn.Module):
    """A scripted ``for`` over the (dynamic) time axis with a data-dependent ``if`` inside the
    body (If nested in Loop) and the per-step states collected in a list and stacked (ONNX
    sequence ops as loop-carried values); returns (all states, last state)."""

    def __init__(self, dim: int = 4, hidden: int = 5):
        super().__init__()
        self.inp = nn.Linear(dim, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x):
        h = torch.zeros(x.size(0), self.rec.in_features, dtype=x.dtype)
        states: list[torch.Tensor] = []
        for t in range(x.size(1)):
            z = self.inp(x[:, t]) + self.rec(h)
            if bool(z.sum() > 0):
                h = torch.tanh(z)
            else:
                h = torch.sigmoid(z) - 0.5
            states.append(h)
        return torch.stack(states, dim=1), h


def build_scripted_collect(params, seed) -> Built:
    rng = np.random.default_rng(seed)
    model = torch.jit.script(ScriptedCollect().eval())
    return Built(model=model, inputs=[rng.standard_normal((2, 6, 4)).astype(np.float32)], input_names=["x"],
                 output_names=["states", "last"], dynamic_axes={"x": {0: "batch", 1: "seq"}},
                 extra_inputs=[[rng.standard_normal((3, 9, 4)).astype(np.float32)]])
