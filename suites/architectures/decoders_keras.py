"""The GPT-2-style decoder of ``decoders_torch`` in Keras 3 (run in the tensorflow worker):
prefill and decode models with the same input / output names (the contract of
``conformance.generation``) and a greedy generation on the source side. Imports keras only.

Weights come from ``keras.utils.set_random_seed`` with a seed derived from the decoder's name
and configuration, and the layers are built in one fixed order, so the prefill, decode and
generation cases hold the same weights.
"""
from __future__ import annotations

import math

import numpy as np
import keras
from keras import ops

from conformance.cases import Built, seed_for
from suites.architectures.decoder_inputs import decode_built, generation_built, prefill_built
from suites.architectures.specs_generation import CONFIGS

CONFIG = CONFIGS["gpt2"]


class GPT2Block(keras.layers.Layer):
    def __init__(self, c: dict, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.head_dim, self.d = c["heads"], c["d_model"] // c["heads"], c["d_model"]
        self.ln_1 = keras.layers.LayerNormalization(epsilon=c["eps"])
        self.c_attn = keras.layers.Dense(3 * c["d_model"])
        self.c_proj = keras.layers.Dense(c["d_model"])
        self.ln_2 = keras.layers.LayerNormalization(epsilon=c["eps"])
        self.fc = keras.layers.Dense(c["ffn"])
        self.proj = keras.layers.Dense(c["d_model"])

    def _heads(self, t):
        b, s = ops.shape(t)[0], ops.shape(t)[1]
        return ops.transpose(ops.reshape(t, (b, s, self.heads, self.head_dim)), (0, 2, 1, 3))

    def call(self, x, past_key=None, past_value=None):
        b, s = ops.shape(x)[0], ops.shape(x)[1]
        qkv = self.c_attn(self.ln_1(x))
        q, k, v = (self._heads(t) for t in ops.split(qkv, 3, axis=-1))
        if past_key is not None:
            k = ops.concatenate([past_key, k], axis=2)
            v = ops.concatenate([past_value, v], axis=2)
        total = ops.shape(k)[2]
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(self.head_dim)
        query_pos = ops.arange(s)[:, None] + (total - s)
        hidden = ops.arange(total)[None, :] > query_pos
        scores = ops.where(hidden, ops.full_like(scores, -3.4028234663852886e38), scores)
        out = ops.matmul(ops.softmax(scores, axis=-1), v)
        out = ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (b, s, self.d))
        x = x + self.c_proj(out)
        h = self.proj(keras.activations.gelu(self.fc(self.ln_2(x)), approximate=True))
        return x + h, k, v


class GPT2Keras(keras.Model):
    """``call([tokens, positions, *past])`` with an empty past for the prefill."""

    def __init__(self, c: dict, **kwargs):
        super().__init__(**kwargs)
        # N(0, 1) embeddings as torch's nn.Embedding (Keras' default uniform(-0.05, 0.05) leaves
        # the logits nearly flat and the greedy tokens repetitive)
        self.wte = keras.layers.Embedding(c["vocab"], c["d_model"], embeddings_initializer="random_normal")
        self.wpe = keras.layers.Embedding(c["max_positions"], c["d_model"], embeddings_initializer="random_normal")
        self.blocks = [GPT2Block(c) for _ in range(c["layers"])]
        self.ln_f = keras.layers.LayerNormalization(epsilon=c["eps"])
        self.lm_head = keras.layers.Dense(c["vocab"], use_bias=False)

    def decode(self, tokens, positions, past):
        x = self.wte(tokens) + self.wpe(positions)
        present = []
        for i, block in enumerate(self.blocks):
            pk, pv = (past[2 * i], past[2 * i + 1]) if past else (None, None)
            x, k, v = block(x, pk, pv)
            present += [k, v]
        return [self.lm_head(self.ln_f(x)), *present]


class Prefill(keras.Model):
    def __init__(self, core, **kwargs):
        super().__init__(**kwargs)
        self.core = core

    def call(self, tokens):
        positions = ops.broadcast_to(ops.arange(ops.shape(tokens)[1])[None, :], ops.shape(tokens))
        return self.core.decode(tokens, positions, [])


class DecodeStep(keras.Model):
    def __init__(self, core, **kwargs):
        super().__init__(**kwargs)
        self.core = core

    def call(self, inputs):
        token, position, *past = inputs
        return self.core.decode(token, position, past)


def decoder(params: dict) -> GPT2Keras:
    c = {**CONFIG, **params.get("config", {})}
    keras.utils.set_random_seed(seed_for(f"decoder/keras-gpt2/{sorted(c.items())}"))
    core = GPT2Keras(c)
    core.decode(np.zeros((1, 2), np.int64), np.zeros((1, 2), np.int64), [])       # builds the weights
    rng = np.random.default_rng(seed_for("keras-gpt2-norms"))
    for layer in [*core.blocks, core]:
        for norm in (getattr(layer, n) for n in ("ln_1", "ln_2", "ln_f") if hasattr(layer, n)):
            gamma, beta = norm.get_weights()
            norm.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                              (rng.standard_normal(beta.shape) * 0.2).astype(np.float32)])
    return core


def _kv(c, b, t):
    return (b, c["heads"], t, c["d_model"] // c["heads"])


def build_prefill(params: dict, seed: int) -> Built:
    return prefill_built(Prefill(decoder(params)), {**CONFIG, **params.get("config", {})}, params, seed, _kv)


def build_decode(params: dict, seed: int) -> Built:
    return decode_built(DecodeStep(decoder(params)), {**CONFIG, **params.get("config", {})}, params, seed, _kv)


def greedy(core: GPT2Keras, prompt: np.ndarray, new_tokens: int):
    """Same loop as ``conformance.generation.greedy``, in Keras."""
    positions = np.broadcast_to(np.arange(prompt.shape[1])[None, :], prompt.shape).astype(np.int64)
    out = [np.asarray(a) for a in core.decode(prompt, positions, [])]
    logits, cache = out[0][:, -1], out[1:]
    tokens, picked = [], []
    for i in range(new_tokens):
        token = np.argmax(logits, -1).astype(np.int64)[:, None]
        tokens.append(token)
        picked.append(logits)
        if i + 1 == new_tokens:
            break
        out = [np.asarray(a) for a in core.decode(token, np.full_like(token, prompt.shape[1] + i), cache)]
        logits, cache = out[0][:, -1], out[1:]
    return np.concatenate(tokens, 1), np.stack(picked, 1).astype(np.float32)


def build_generation(params: dict, seed: int) -> Built:
    core = decoder(params)
    return generation_built(core, {**CONFIG, **params.get("config", {})}, params, seed,
                            lambda prompt, new_tokens: greedy(core, prompt, new_tokens))
