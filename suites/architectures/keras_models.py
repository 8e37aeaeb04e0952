"""Keras architecture builders (run in the tensorflow worker). Imports keras/tensorflow only.

Weights come from ``keras.utils.set_random_seed(seed)``; applications are built with
``weights=None`` (never a download). Batch norm gets non-trivial moving statistics and
gamma/beta from a seeded numpy generator. Keras models are channels-last (NHWC) and batch-first.
"""
from __future__ import annotations

import numpy as np
import keras

from conformance.cases import Built
from suites.architectures.common import classifier_built, sequence_built, shape_sets


def randomize_batchnorm(model, seed: int) -> None:
    """Moving mean/variance and gamma/beta far from (0, 1, 1, 0), so BN folding bugs show."""
    rng = np.random.default_rng(seed ^ 0x5EED)
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            new = []
            for w in layer.weights:
                shape = tuple(w.shape)
                name = w.path.rsplit("/", 1)[-1]
                if name == "gamma":
                    new.append(rng.uniform(0.5, 1.5, shape).astype(np.float32))
                elif name == "beta":
                    new.append((rng.standard_normal(shape) * 0.2).astype(np.float32))
                elif name == "moving_mean":
                    new.append((rng.standard_normal(shape) * 0.5).astype(np.float32))
                elif name == "moving_variance":
                    new.append(rng.uniform(0.5, 2.0, shape).astype(np.float32))
                else:
                    new.append(np.asarray(w.numpy()))
            layer.set_weights(new)


def randomize_layernorm(model, seed: int) -> None:
    rng = np.random.default_rng(seed ^ 0x1A7E)
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.LayerNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, tuple(w.shape)).astype(np.float32) if "gamma" in w.path
                               else (rng.standard_normal(tuple(w.shape)) * 0.2).astype(np.float32)
                               for w in layer.weights])


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


# --------------------------------------------------------------------------------------------- CNN
_APPS = {"ResNet50": 32, "MobileNetV2": 32, "EfficientNetB0": 32}   # name -> minimum image size


def build_application(params: dict, seed: int) -> Built:
    """keras.applications backbone, weights=None.

    params: app (ResNet50 | MobileNetV2 | EfficientNetB0), image, batch, classes, dynamic,
    extra [[batch, image], ...]. Dynamic models are built with an (None, None, 3) input and
    global average pooling plus our own Dense head, because the applications refuse
    ``include_top=True`` without a static input shape (the head is the same computation).
    Static models (the zoo) use the application's own top at the given size.
    """
    keras.utils.set_random_seed(seed)
    app = getattr(keras.applications, params["app"])
    classes = params.get("classes", 10)
    dynamic = params.get("dynamic", True)
    image = params.get("image", 64)
    if dynamic:
        base = app(include_top=False, weights=None, input_shape=(None, None, 3), pooling="avg")
        logits = keras.layers.Dense(classes, name="head")(base.output)
        model = keras.Model(base.input, logits, name=params["app"].lower())
    else:
        model = app(include_top=True, weights=None, input_shape=(image, image, 3), classes=classes,
                    classifier_activation=None)
    randomize_batchnorm(model, seed)
    rng = np.random.default_rng(seed)
    sets = shape_sets(params, (params.get("batch", 2), image), [[1, image], [4, image + 32]])
    # images in [0, 255]-ish scale would overflow nothing here; EfficientNet rescales internally
    inputs = [[rng.uniform(-1.0, 1.0, (b, s, s, 3)).astype(np.float32)] for b, s in sets]
    return classifier_built(model, inputs, sets, classes, dynamic, channels_last=True)


# --------------------------------------------------------------------------------------------- RNN
def build_rnn(params: dict, seed: int) -> Built:
    """Stacked keras LSTM/GRU layers (batch first; Keras 3 has no time-major mode).

    params: cell (lstm|gru), input_size, hidden, layers, bidirectional, return_sequences (of the
    last layer; inner layers always return sequences), reset_after (GRU), initial_state (the
    first layer's state comes from model inputs), batch, seq, extra, dynamic.
    """
    keras.utils.set_random_seed(seed)
    p = {"input_size": 16, "hidden": 32, "layers": 1, "bidirectional": False, "return_sequences": True,
         "reset_after": True, "initial_state": False, **params}
    lstm = p["cell"] == "lstm"
    dirs = 2 if p["bidirectional"] else 1
    x_in = keras.Input((None, p["input_size"]), name="x")
    inputs = [x_in]
    state_inputs = []
    if p["initial_state"]:
        per_dir = ["h0", "c0"] if lstm else ["h0"]
        names = [f"{n}_{d}" for d in (("fw", "bw") if dirs == 2 else ("fw",)) for n in per_dir]
        state_inputs = [keras.Input((p["hidden"],), name=n) for n in names]
        inputs += state_inputs
    h = x_in
    for i in range(p["layers"]):
        last = i == p["layers"] - 1
        kwargs = {"return_sequences": (not last) or p["return_sequences"], "name": f"{p['cell']}{i}"}
        if lstm:
            cell = keras.layers.LSTM(p["hidden"], **kwargs)
        else:
            cell = keras.layers.GRU(p["hidden"], reset_after=p["reset_after"], **kwargs)
        if p["bidirectional"]:
            cell = keras.layers.Bidirectional(cell, name=f"bi{i}")
        h = cell(h, initial_state=state_inputs if (i == 0 and state_inputs) else None)
    model = keras.Model(inputs, h, name=f"{p['cell']}_net")
    # recurrent weights from glorot/orthogonal initialisers are fine, but the biases start at
    # zero (LSTM forget gate at one): give them values so a bias-layout bug shows
    rng = np.random.default_rng(seed ^ 0xB1A5)
    for layer in _all_layers(model):
        for w in layer.weights:
            if w.path.endswith("bias"):
                w.assign((rng.standard_normal(tuple(w.shape)) * 0.3).astype(np.float32))
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, (p.get("batch", 2), p.get("seq", 12)), [[1, 12], [4, 20]])
    input_sets, shapes = [], []
    for b, t in sets:
        x = rng.standard_normal((b, t, p["input_size"])).astype(np.float32)
        states = [(rng.standard_normal((b, p["hidden"])) * 0.5).astype(np.float32) for _ in state_inputs]
        input_sets.append([x, *states])
        shapes.append([(b, t, dirs * p["hidden"]) if p["return_sequences"] else (b, dirs * p["hidden"])])
    names = [t.name for t in inputs]
    dynamic = None
    if p.get("dynamic", True):
        dynamic = {"x": {0: "batch", 1: "seq"}, **{n: {0: "batch"} for n in names[1:]}}
    return Built(model=model, inputs=input_sets[0], input_names=names, output_names=["output"],
                 dynamic_axes=dynamic, extra_inputs=input_sets[1:], expected_shapes=shapes)


# ------------------------------------------------------------------------------------- transformer
def build_attention_block(params: dict, seed: int) -> Built:
    """Post-norm transformer block: MultiHeadAttention + residual + LayerNormalization, then a
    GELU/ReLU MLP + residual + LayerNormalization. params: d_model, heads, ffn, causal,
    activation, batch, seq, extra, dynamic."""
    keras.utils.set_random_seed(seed)
    p = {"d_model": 32, "heads": 4, "ffn": 64, "causal": False, "activation": "gelu", **params}
    x = keras.Input((None, p["d_model"]), name="x")
    attn = keras.layers.MultiHeadAttention(p["heads"], p["d_model"] // p["heads"], name="mha")(
        x, x, use_causal_mask=p["causal"])
    h = keras.layers.LayerNormalization(epsilon=1e-5, name="ln1")(keras.layers.Add(name="res1")([x, attn]))
    f = keras.layers.Dense(p["ffn"], activation=p["activation"], name="ffn1")(h)
    f = keras.layers.Dense(p["d_model"], name="ffn2")(f)
    y = keras.layers.LayerNormalization(epsilon=1e-5, name="ln2")(keras.layers.Add(name="res2")([h, f]))
    model = keras.Model(x, y, name="attention_block")
    randomize_layernorm(model, seed)
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, (p.get("batch", 2), p.get("seq", 10)), [[1, 10], [4, 17]])
    inputs = [[rng.standard_normal((b, t, p["d_model"])).astype(np.float32)] for b, t in sets]
    return sequence_built(model, inputs, sets, p["d_model"], p.get("dynamic", True), "x", "y")
