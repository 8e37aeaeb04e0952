"""Numpy-only helpers shared by the per-framework builders (no framework import)."""
from __future__ import annotations

import numpy as np

from conformance.cases import Built


def classifier_built(model, inputs, sets, classes: int, dynamic: bool, channels_last: bool = False) -> Built:
    """An image classifier case: ``inputs[i]`` is the input set of ``sets[i] = (batch, size)``;
    the first is the traced sample, the rest run through the same conversion. Output shapes
    (batch, classes) are asserted; batch and image size are dynamic when ``dynamic``."""
    height, width = (1, 2) if channels_last else (2, 3)
    return Built(model=model, inputs=inputs[0], input_names=["image"], output_names=["logits"],
                 dynamic_axes={"image": {0: "batch", height: "height", width: "width"}} if dynamic else None,
                 extra_inputs=inputs[1:], expected_shapes=[[(b, classes)] for b, _ in sets])


def shape_sets(params: dict, main: tuple, extra: list) -> list[tuple]:
    """The input sets' (batch, size) pairs: the traced sample ``main``, then (dynamic models
    only) ``params["extra"]`` or the default ``extra``."""
    return [main] + ([tuple(e) for e in params.get("extra", extra)] if params.get("dynamic", True) else [])


def sequence_built(model, inputs, sets, width: int, dynamic: bool, input_name: str, output_name: str) -> Built:
    """A batch-first sequence model of one input and one output ``(batch, seq, width)``; batch
    and sequence length are dynamic when ``dynamic``."""
    return Built(model=model, inputs=inputs[0], input_names=[input_name], output_names=[output_name],
                 dynamic_axes={input_name: {0: "batch", 1: "seq"}} if dynamic else None,
                 extra_inputs=inputs[1:], expected_shapes=[[(b, t, width)] for b, t in sets])


def recurrent_built(model, p: dict, sets, draw, dirs: int, time_major: bool) -> Built:
    """An LSTM / GRU returning (output, h_n[, c_n]), input ``x`` and (``p["initial_state"]``)
    initial states of shape (layers * dirs, batch, hidden); ``draw(shape)`` gives float32 values."""
    names = ["x"] + ((["h0", "c0"] if p["cell"] == "lstm" else ["h0"]) if p["initial_state"] else [])
    input_sets, shapes = [], []
    for b, t in sets:
        x = draw((t, b, p["input_size"]) if time_major else (b, t, p["input_size"]))
        input_sets.append([x, *[draw((p["layers"] * dirs, b, p["hidden"])) * 0.5 for _ in names[1:]]])
        out = (t, b, dirs * p["hidden"]) if time_major else (b, t, dirs * p["hidden"])
        hn = (p["layers"] * dirs, b, p["hidden"])
        shapes.append([out, hn, hn] if p["cell"] == "lstm" else [out, hn])
    dynamic = None
    if p.get("dynamic", True):
        dynamic = {"x": {0: "seq", 1: "batch"} if time_major else {0: "batch", 1: "seq"}}
        dynamic.update({n: {1: "batch"} for n in names[1:]})
    return Built(model=model, inputs=input_sets[0], input_names=names,
                 output_names=["output", "h_n", "c_n"] if p["cell"] == "lstm" else ["output", "h_n"],
                 dynamic_axes=dynamic, extra_inputs=input_sets[1:], expected_shapes=shapes)


# --------------------------------------------------------------------------------------------- multi-IO
VOCAB = 16      # file checks draw int inputs from [0, 8): a vocabulary >= 8 keeps them in range


def token_inputs(rng, batch: int, seq: int) -> list:
    """int64 tokens and a float mask keeping ~70% of the positions, at least the first per row."""
    tokens = rng.integers(0, VOCAB, size=(batch, seq)).astype(np.int64)
    mask = (rng.random((batch, seq)) < 0.7).astype(np.float32)
    mask[:, 0] = 1.0
    return [tokens, mask]


def threshold(value: float) -> np.ndarray:
    # shape (1,), not a 0-d scalar: the harness hands torch its inputs through
    # np.ascontiguousarray, which turns 0-d arrays into (1,) -- the ONNX model would declare
    # rank 1 while the targets are fed rank 0 (a harness bug, reported; not the converter's)
    return np.array([value], np.float32)


# --------------------------------------------------------------------------------------------- model mixins
# Framework-free methods the torch and paddle models share. They are plain methods written with
# tensor methods and operators only (no framework name, no closure), so torch's tracers and
# torch.jit.script compile them like the class's own, and paddle's dy2static converts them.
class RecurrentForward:
    """A wrapper of the framework's LSTM / GRU module ``rnn`` (of kind ``cell``) returning a flat
    tuple (output, h_n[, c_n]); list it before the framework's base class."""

    def __init__(self, rnn, cell: str, initial_state: bool):
        super().__init__()
        self.rnn = rnn
        self.cell = cell
        self.initial_state = initial_state

    # explicit optional arguments, not *state: torch.export maps dynamic shapes onto the
    # signature (a varargs tuple breaks the dynamic_axes -> dynamic_shapes translation), and
    # paddle.jit.save cannot trace *args against an InputSpec list
    def forward(self, x, h0=None, c0=None):
        if self.cell == "lstm":
            out, (h, c) = self.rnn(x, (h0, c0) if self.initial_state else None)
            return out, h, c
        out, h = self.rnn(x, h0 if self.initial_state else None)
        return out, h


class TokenMaskLayers:
    """``__init__`` of the token/mask encoders: an embedding of ``VOCAB`` tokens and a linear
    head, made with the class's ``framework_nn`` (torch.nn / paddle.nn)."""

    framework_nn = None

    def __init__(self, outputs: str = "dict", dim: int = 8, classes: int = 5):
        super().__init__()
        self.outputs = outputs
        self.embed = self.framework_nn.Embedding(VOCAB, dim)
        self.head = self.framework_nn.Linear(dim, classes)


class LoopEnergy:
    """The halving loops' stopping measure: the L2 norm of all of ``state``, written out."""

    def energy(self, state):
        return (state * state).sum().sqrt()
