"""Paddle architecture builders (run in the paddle worker). Imports paddle only.

Weights come from ``paddle.seed(seed)``; ``paddle.vision.models`` are built with
``pretrained=False`` (never a download). Batch norm gets non-trivial running statistics and
scale/bias from a seeded numpy generator.
"""
from __future__ import annotations

import numpy as np
import paddle
from paddle import nn

from conformance.cases import Built
from suites.architectures.common import (RecurrentForward, classifier_built, recurrent_built, sequence_built,
                                         shape_sets)


def randomize_batchnorm(model: nn.Layer, seed: int) -> None:
    rng = np.random.default_rng(seed ^ 0x5EED)
    for layer in model.sublayers():
        if isinstance(layer, (nn.BatchNorm2D, nn.BatchNorm1D, nn.BatchNorm)):
            n = layer._mean.shape[0]
            layer._mean.set_value((rng.standard_normal(n) * 0.5).astype(np.float32))
            layer._variance.set_value(rng.uniform(0.5, 2.0, n).astype(np.float32))
            if getattr(layer, "weight", None) is not None:
                layer.weight.set_value(rng.uniform(0.5, 1.5, n).astype(np.float32))
            if getattr(layer, "bias", None) is not None:
                layer.bias.set_value((rng.standard_normal(n) * 0.2).astype(np.float32))


def randomize_layernorm(model: nn.Layer, seed: int) -> None:
    rng = np.random.default_rng(seed ^ 0x1A7E)
    for layer in model.sublayers():
        if isinstance(layer, nn.LayerNorm):
            shape = tuple(layer.weight.shape)
            layer.weight.set_value(rng.uniform(0.5, 1.5, shape).astype(np.float32))
            layer.bias.set_value((rng.standard_normal(shape) * 0.2).astype(np.float32))


# --------------------------------------------------------------------------------------------- CNN
def build_vision(params: dict, seed: int) -> Built:
    """paddle.vision.models resnet18 / mobilenet_v2 (pretrained=False), NCHW.

    params: model, image, batch, classes, dynamic, extra [[batch, image], ...]."""
    paddle.seed(seed)
    from paddle.vision import models

    classes = params.get("classes", 10)
    factory = {"resnet18": models.resnet18, "mobilenet_v2": models.mobilenet_v2}[params["model"]]
    model = factory(pretrained=False, num_classes=classes)
    randomize_batchnorm(model, seed)
    model.eval()
    rng = np.random.default_rng(seed)
    image = params.get("image", 64)
    dynamic = params.get("dynamic", True)
    sets = shape_sets(params, (params.get("batch", 2), image), [[1, image], [4, image + 32]])
    inputs = [[rng.standard_normal((b, 3, s, s)).astype(np.float32)] for b, s in sets]
    return classifier_built(model, inputs, sets, classes, dynamic)


# --------------------------------------------------------------------------------------------- RNN
class RecurrentNet(RecurrentForward, nn.Layer):
    """paddle.nn.LSTM / GRU returning a flat tuple (output, h_n[, c_n])."""


def build_rnn(params: dict, seed: int) -> Built:
    """params: cell (lstm|gru), input_size, hidden, layers, direction (forward|bidirect),
    time_major, initial_state, batch, seq, extra, dynamic."""
    paddle.seed(seed)
    p = {"input_size": 16, "hidden": 32, "layers": 1, "direction": "forward", "time_major": False,
         "initial_state": False, **params}
    rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[p["cell"]](p["input_size"], p["hidden"], num_layers=p["layers"],
                                                      direction=p["direction"], time_major=p["time_major"])
    model = RecurrentNet(rnn, p["cell"], p["initial_state"])
    model.eval()
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, (p.get("batch", 2), p.get("seq", 12)), [[1, 12], [4, 20]])
    return recurrent_built(model, p, sets, lambda shape: rng.standard_normal(shape).astype(np.float32),
                           2 if p["direction"] in ("bidirect", "bidirectional") else 1, p["time_major"])


# ------------------------------------------------------------------------------------- transformer
def build_transformer_encoder(params: dict, seed: int) -> Built:
    """paddle.nn.TransformerEncoder of TransformerEncoderLayer (batch first).

    params: d_model, heads, layers, ffn, normalize_before, activation, batch, seq, extra, dynamic."""
    paddle.seed(seed)
    p = {"d_model": 32, "heads": 4, "layers": 2, "ffn": 64, "normalize_before": False, "activation": "relu", **params}
    layer = nn.TransformerEncoderLayer(p["d_model"], p["heads"], p["ffn"], dropout=0.0, activation=p["activation"],
                                       attn_dropout=0.0, act_dropout=0.0, normalize_before=p["normalize_before"])
    model = nn.TransformerEncoder(layer, p["layers"])
    randomize_layernorm(model, seed)
    model.eval()
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, (p.get("batch", 2), p.get("seq", 10)), [[1, 10], [4, 17]])
    inputs = [[rng.standard_normal((b, t, p["d_model"])).astype(np.float32)] for b, t in sets]
    return sequence_built(model, inputs, sets, p["d_model"], p.get("dynamic", True), "src", "encoded")
