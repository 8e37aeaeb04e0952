"""The GPT-2-style decoder of ``decoders_torch`` in Paddle (run in the paddle worker): prefill
and decode models with the input / output names of ``conformance.generation``'s contract, and
a greedy generation on the source side. Imports paddle only. Weights are seeded from the
decoder's name and configuration (``paddle.seed``), the same for prefill, decode and generation.
"""
from __future__ import annotations

import math

import numpy as np
import paddle
from paddle import nn

from conformance.cases import Built, seed_for
from suites.architectures.decoder_inputs import decode_built, generation_built, prefill_built
from suites.architectures.specs_generation import CONFIGS

CONFIG = CONFIGS["gpt2"]


class GPT2Block(nn.Layer):
    def __init__(self, c: dict):
        super().__init__()
        self.heads, self.head_dim, self.d = c["heads"], c["d_model"] // c["heads"], c["d_model"]
        self.ln_1 = nn.LayerNorm(c["d_model"], epsilon=c["eps"])
        self.c_attn = nn.Linear(c["d_model"], 3 * c["d_model"])
        self.c_proj = nn.Linear(c["d_model"], c["d_model"])
        self.ln_2 = nn.LayerNorm(c["d_model"], epsilon=c["eps"])
        self.fc = nn.Linear(c["d_model"], c["ffn"])
        self.proj = nn.Linear(c["ffn"], c["d_model"])

    # dynamic sizes through paddle.shape() and reshape's 0 (keep that dimension): under
    # paddle.jit.to_static, Tensor.shape holds -1 for a dynamic axis
    def forward(self, x, past_key=None, past_value=None):
        s = paddle.shape(x)[1]
        q, k, v = paddle.split(self.c_attn(self.ln_1(x)), 3, axis=-1)
        q, k, v = (t.reshape([0, 0, self.heads, self.head_dim]).transpose([0, 2, 1, 3]) for t in (q, k, v))
        if past_key is not None:
            k = paddle.concat([past_key, k], axis=2)
            v = paddle.concat([past_value, v], axis=2)
        total = paddle.shape(k)[2]
        scores = paddle.matmul(q, k, transpose_y=True) / math.sqrt(self.head_dim)
        query_pos = paddle.arange(s).unsqueeze(1) + (total - s)
        hidden = paddle.arange(total).unsqueeze(0) > query_pos
        scores = paddle.where(hidden, paddle.full_like(scores, -3.4028234663852886e38), scores)
        out = paddle.matmul(nn.functional.softmax(scores, axis=-1), v)
        x = x + self.c_proj(out.transpose([0, 2, 1, 3]).reshape([0, 0, self.d]))
        return x + self.proj(nn.functional.gelu(self.fc(self.ln_2(x)), approximate=True)), k, v


class GPT2Paddle(nn.Layer):
    def __init__(self, c: dict):
        super().__init__()
        normal = paddle.ParamAttr(initializer=nn.initializer.Normal(0.0, 1.0))
        self.wte = nn.Embedding(c["vocab"], c["d_model"], weight_attr=normal)
        self.wpe = nn.Embedding(c["max_positions"], c["d_model"], weight_attr=normal)
        self.blocks = nn.LayerList([GPT2Block(c) for _ in range(c["layers"])])
        self.ln_f = nn.LayerNorm(c["d_model"], epsilon=c["eps"])
        self.lm_head = nn.Linear(c["d_model"], c["vocab"], bias_attr=False)

    def forward(self, tokens, positions, past_key_0=None, past_value_0=None, past_key_1=None, past_value_1=None):
        x = self.wte(tokens) + self.wpe(positions)
        past = [(past_key_0, past_value_0), (past_key_1, past_value_1)]
        present = []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, past[i][0], past[i][1])
            present += [k, v]
        return [self.lm_head(self.ln_f(x)), *present]


class Prefill(nn.Layer):
    def __init__(self, core):
        super().__init__()
        self.core = core

    def forward(self, tokens):
        positions = paddle.zeros_like(tokens) + paddle.arange(paddle.shape(tokens)[1], dtype=tokens.dtype).unsqueeze(0)
        return self.core(tokens, positions)


class DecodeStep(nn.Layer):
    def __init__(self, core):
        super().__init__()
        self.core = core

    def forward(self, token, position, past_key_0, past_value_0, past_key_1, past_value_1):
        return self.core(token, position, past_key_0, past_value_0, past_key_1, past_value_1)


def decoder(params: dict) -> GPT2Paddle:
    c = {**CONFIG, **params.get("config", {})}
    paddle.seed(seed_for(f"decoder/paddle-gpt2/{sorted(c.items())}"))
    core = GPT2Paddle(c)
    rng = np.random.default_rng(seed_for("paddle-gpt2-norms"))
    for layer in core.sublayers():
        if isinstance(layer, nn.LayerNorm):
            n = layer.weight.shape[0]
            layer.weight.set_value(rng.uniform(0.5, 1.5, n).astype(np.float32))
            layer.bias.set_value((rng.standard_normal(n) * 0.2).astype(np.float32))
    core.eval()
    return core


def _kv(c, b, t):
    return (b, c["heads"], t, c["d_model"] // c["heads"])


def build_prefill(params: dict, seed: int) -> Built:
    model = Prefill(decoder(params))
    model.eval()
    return prefill_built(model, {**CONFIG, **params.get("config", {})}, params, seed, _kv)


def build_decode(params: dict, seed: int) -> Built:
    model = DecodeStep(decoder(params))
    model.eval()
    return decode_built(model, {**CONFIG, **params.get("config", {})}, params, seed, _kv)


@paddle.no_grad()
def greedy(core: GPT2Paddle, prompt: np.ndarray, new_tokens: int):
    """Same loop as ``conformance.generation.greedy``, in Paddle."""
    tokens_in = paddle.to_tensor(prompt)
    positions = paddle.arange(prompt.shape[1]).unsqueeze(0).expand_as(tokens_in)
    out = core(tokens_in, positions)
    logits, cache = out[0][:, -1].numpy(), out[1:]
    tokens, picked = [], []
    for i in range(new_tokens):
        token = np.argmax(logits, -1).astype(np.int64)[:, None]
        tokens.append(token)
        picked.append(logits)
        if i + 1 == new_tokens:
            break
        out = core(paddle.to_tensor(token), paddle.to_tensor(np.full_like(token, prompt.shape[1] + i)), *cache)
        logits, cache = out[0][:, -1].numpy(), out[1:]
    return np.concatenate(tokens, 1), np.stack(picked, 1).astype(np.float32)


def build_generation(params: dict, seed: int) -> Built:
    core = decoder(params)
    return generation_built(core, {**CONFIG, **params.get("config", {})}, params, seed,
                            lambda prompt, new_tokens: greedy(core, prompt, new_tokens))
