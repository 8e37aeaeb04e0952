"""Decoder-only LLM blocks with a KV cache in torch (run in the torch worker). Imports torch only.

Two decoders, seeded random weights built in code at small widths (vocabulary 64, d_model 32,
2 layers):

* ``llama``: RMSNorm, rotary position embedding, grouped-query attention (4 query heads, 2 key/
  value heads) through ``F.scaled_dot_product_attention``, SwiGLU MLP, causal mask;
* ``gpt2``: learned position embeddings, LayerNorm, one fused q/k/v projection, attention written
  out (matmul, masked_fill, softmax), GELU (tanh approximation).

Each is exported as two models that share one set of weights (``decoder(params)`` seeds them
from the decoder's name, not from the case id, so the prefill, decode and generation cases of one
decoder hold the same weights):

* prefill: ``tokens (batch, seq) int64 -> logits (batch, seq, vocab), present_key_0,
  present_value_0, ...`` of shape (batch, kv_heads, seq, head_dim);
* decode: ``token (batch, 1) int64, position (batch, 1) int64, past_key_0, past_value_0, ...
  (batch, kv_heads, past, head_dim) -> logits (batch, 1, vocab), present_key_0, ...`` with
  past + 1 positions.

These names are the contract ``conformance.generation`` feeds the converted models by.
``build_generation`` is the source framework's side of the generation check: a prompt and the
greedy tokens and per-step logits of the same two modules in torch.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from conformance.cases import Built, seed_for
from suites.architectures.decoder_inputs import decode_built, generation_built, prefill_built
from suites.architectures.specs_generation import CONFIGS

def config(params: dict) -> dict:
    return {**CONFIGS[params["decoder"]], **params.get("config", {})}



# --------------------------------------------------------------------------------------------- llama
class RotaryEmbedding(nn.Module):
    def __init__(self, head_dim: int, theta: float):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, positions):
        """(batch, seq) int64 positions -> cos, sin of shape (batch, 1, seq, head_dim)."""
        freqs = positions.to(torch.float32)[:, :, None] * self.inv_freq[None, None, :]
        emb = torch.cat([freqs, freqs], dim=-1)[:, None, :, :]
        return emb.cos(), emb.sin()


class WrittenRMSNorm(nn.Module):
    """RMSNorm written out in tensor operations, as Hugging Face's ``LlamaRMSNorm`` is (the
    TorchScript exporter has no symbolic for ``aten::rms_norm``, which ``nn.RMSNorm`` calls)."""

    def __init__(self, width: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rms_norm(c: dict) -> nn.Module:
    """``nn.RMSNorm`` (``rms_norm: module``; the dynamo exporter's opset-23 RMSNormalization) or
    the written-out form (``rms_norm: written``)."""
    if c["rms_norm"] == "module":
        return nn.RMSNorm(c["d_model"], eps=c["eps"])
    return WrittenRMSNorm(c["d_model"], c["eps"])


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.heads, self.kv_heads = c["heads"], c["kv_heads"]
        self.head_dim = c["d_model"] // c["heads"]
        self.gqa = c["gqa"]
        self.q_proj = nn.Linear(c["d_model"], self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c["d_model"], self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c["d_model"], self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c["d_model"], bias=False)

    def forward(self, x, cos, sin, past_key, past_value, causal: bool):
        b, s = x.shape[0], x.shape[1]
        q = self.q_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)
        # the cache keeps kv_heads heads; each is shared by heads // kv_heads query heads: by
        # sdpa's enable_gqa (gqa: sdpa; the dynamo exporter's opset-23 Attention takes it as is)
        # or repeated before sdpa as Hugging Face's repeat_kv does (gqa: repeat; the TorchScript
        # exporter has no enable_gqa). The prefill is causal over its own tokens (no past); one
        # decode token sees every key.
        if self.gqa == "sdpa":
            out = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=self.kv_heads != self.heads)
        else:
            out = F.scaled_dot_product_attention(q, self.repeat_kv(k), self.repeat_kv(v), is_causal=causal)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, self.heads * self.head_dim)), k, v

    def repeat_kv(self, x):
        b, h, t, d = x.shape
        groups = self.heads // self.kv_heads
        return x[:, :, None, :, :].expand(b, h, groups, t, d).reshape(b, h * groups, t, d)


class LlamaLayer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.input_norm = rms_norm(c)
        self.attn = LlamaAttention(c)
        self.post_norm = rms_norm(c)
        self.gate = nn.Linear(c["d_model"], c["ffn"], bias=False)
        self.up = nn.Linear(c["d_model"], c["ffn"], bias=False)
        self.down = nn.Linear(c["ffn"], c["d_model"], bias=False)

    def forward(self, x, cos, sin, past_key, past_value, causal: bool):
        h, k, v = self.attn(self.input_norm(x), cos, sin, past_key, past_value, causal)
        x = x + h
        h = self.post_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h)), k, v


class Llama(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.embed = nn.Embedding(c["vocab"], c["d_model"])
        self.rotary = RotaryEmbedding(c["d_model"] // c["heads"], c["rope_theta"])
        self.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c["layers"]))
        self.norm = rms_norm(c)
        self.lm_head = nn.Linear(c["d_model"], c["vocab"], bias=False)

    def forward(self, tokens, positions, past):
        """past: None (prefill: causal over ``tokens``) or a list of (key, value) per layer."""
        x = self.embed(tokens)
        cos, sin = self.rotary(positions)
        present = []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, k, v = layer(x, cos, sin, pk, pv, past is None)
            present += [k, v]
        return self.lm_head(self.norm(x)), present


# --------------------------------------------------------------------------------------------- gpt2
class GPT2Attention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.heads, self.head_dim = c["heads"], c["d_model"] // c["heads"]
        self.c_attn = nn.Linear(c["d_model"], 3 * c["d_model"])
        self.c_proj = nn.Linear(c["d_model"], c["d_model"])

    def forward(self, x, past_key, past_value):
        b, s, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (t.view(b, s, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)
        total = k.shape[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        # query i sits at position total - s + i and sees keys 0 .. that position
        query_pos = torch.arange(s, device=x.device)[:, None] + (total - s)
        hidden = torch.arange(total, device=x.device)[None, :] > query_pos
        scores = scores.masked_fill(hidden, torch.finfo(scores.dtype).min)
        out = torch.matmul(scores.softmax(dim=-1), v)
        return self.c_proj(out.transpose(1, 2).reshape(b, s, d)), k, v


class GPT2Layer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["d_model"], eps=c["eps"])
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(c["d_model"], eps=c["eps"])
        self.mlp = nn.Sequential(nn.Linear(c["d_model"], c["ffn"]), nn.GELU(approximate="tanh"),
                                 nn.Linear(c["ffn"], c["d_model"]))

    def forward(self, x, past_key, past_value):
        h, k, v = self.attn(self.ln_1(x), past_key, past_value)
        x = x + h
        return x + self.mlp(self.ln_2(x)), k, v


class GPT2(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.wte = nn.Embedding(c["vocab"], c["d_model"])
        self.wpe = nn.Embedding(c["max_positions"], c["d_model"])
        self.layers = nn.ModuleList(GPT2Layer(c) for _ in range(c["layers"]))
        self.ln_f = nn.LayerNorm(c["d_model"], eps=c["eps"])
        self.lm_head = nn.Linear(c["d_model"], c["vocab"], bias=False)

    def forward(self, tokens, positions, past):
        x = self.wte(tokens) + self.wpe(positions)
        present = []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, k, v = layer(x, pk, pv)
            present += [k, v]
        return self.lm_head(self.ln_f(x)), present


DECODERS = {"llama": Llama, "gpt2": GPT2}


def decoder(params: dict) -> nn.Module:
    """The decoder ``params["decoder"]`` with weights seeded from its name and configuration:
    every case of one decoder (prefill, decode, generation) holds the same weights."""
    c = config(params)
    seed = seed_for(f"decoder/{params['decoder']}/{sorted(c.items())}")
    torch.manual_seed(seed)
    model = DECODERS[params["decoder"]](c)
    gen = torch.Generator().manual_seed(seed ^ 0x7E57)
    with torch.no_grad():
        for module in model.modules():
            # norms away from (1, 0): a converter that drops a norm's scale or shift shows
            if isinstance(module, (nn.LayerNorm, nn.RMSNorm, WrittenRMSNorm)) and module.weight is not None:
                module.weight.copy_(torch.rand(module.weight.shape, generator=gen) + 0.5)
                if getattr(module, "bias", None) is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.2)
    return model.eval()


class Prefill(nn.Module):
    """tokens -> logits and the KV cache of every layer."""

    def __init__(self, core: nn.Module):
        super().__init__()
        self.core = core

    def forward(self, tokens):
        positions = torch.arange(tokens.shape[1], device=tokens.device)[None, :].expand(tokens.shape[0], -1)
        logits, present = self.core(tokens, positions, None)
        return (logits, *present)


class DecodeStep(nn.Module):
    """One token, its position and the past KV cache -> logits and the cache one longer.
    Explicit past arguments (no *args): torch.export maps dynamic shapes onto the signature."""

    def __init__(self, core: nn.Module):
        super().__init__()
        self.core = core

    def forward(self, token, position, past_key_0, past_value_0, past_key_1, past_value_1):
        past = [(past_key_0, past_value_0), (past_key_1, past_value_1)]
        logits, present = self.core(token, position, past)
        return (logits, *present)


def _kv_shape(c: dict, batch: int, length: int) -> tuple:
    return (batch, c["kv_heads"], length, c["d_model"] // c["heads"])


def _check_layers(c: dict) -> None:
    if c["layers"] != 2:
        raise ValueError("DecodeStep spells out two layers' past arguments; layers must be 2")


def build_prefill(params: dict, seed: int) -> Built:
    """params: decoder (llama | gpt2), config overrides, sets [[batch, seq], ...] (the first is
    the traced sample)."""
    c = config(params)
    _check_layers(c)
    return prefill_built(Prefill(decoder(params)).eval(), c, params, seed, _kv_shape)


def build_decode(params: dict, seed: int) -> Built:
    """params: decoder, config overrides, sets [[batch, past], ...] (decoder_inputs.decode_built)."""
    c = config(params)
    _check_layers(c)
    return decode_built(DecodeStep(decoder(params)).eval(), c, params, seed, _kv_shape)


@torch.no_grad()
def greedy(prefill: Prefill, step: DecodeStep, prompt: np.ndarray, new_tokens: int):
    """The source framework's greedy generation: (tokens (batch, new_tokens) int64, the logits
    each token was picked from (batch, new_tokens, vocab) float32). Same loop as
    ``conformance.generation.greedy``: the first token from the prefill's last logits, then one
    decode step per further token, fed its own cache."""
    out = prefill(torch.from_numpy(prompt))
    logits, cache = out[0][:, -1], list(out[1:])
    tokens, picked = [], []
    for i in range(new_tokens):
        token = logits.argmax(-1, keepdim=True)
        tokens.append(token)
        picked.append(logits)
        if i + 1 == new_tokens:
            break
        position = torch.full_like(token, prompt.shape[1] + i)
        out = step(token, position, *cache)
        logits, cache = out[0][:, -1], list(out[1:])
    return torch.cat(tokens, 1).numpy().astype(np.int64), torch.stack(picked, 1).numpy()


def build_generation(params: dict, seed: int) -> Built:
    """The source side of a generation case: ``inputs`` is the prompt (batch, prompt) int64,
    ``run`` the greedy generation (tokens, logits) of ``new_tokens`` tokens in torch."""
    c = config(params)
    _check_layers(c)
    core = decoder(params)
    prefill, step = Prefill(core).eval(), DecodeStep(core).eval()
    return generation_built(core, c, params, seed,
                            lambda prompt, new_tokens: greedy(prefill, step, prompt, new_tokens))
