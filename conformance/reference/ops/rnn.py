"""Recurrent layers: RNN, GRU and LSTM, forward / reverse / bidirectional.

The input projection X @ W^T (+ both biases where they commute) is one matmul over all time
steps; only the recurrent H @ R^T and the gate arithmetic run per step, vectorised over the
batch. ``sequence_lens`` is a per-step mask: a batch entry past its length keeps its state and
emits zeros, so the reverse direction starts at each sequence's own last element.
Activations follow the spec's list (Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu,
ScaledTanh, HardSigmoid, Elu, Softsign, Softplus); ``activation_alpha``/``activation_beta`` are
consumed in order by the activations that take them (as onnxruntime does), defaults otherwise.
"""
from __future__ import annotations

import numpy as np

from ..registry import op
from .conv import prepared


def _sigmoid(x):
    # exp of a non-positive number only: no overflow warnings for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _softplus(x):
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


# name -> (function of (x, alpha, beta), default alpha, default beta, takes alpha, takes beta)
_ACTIVATIONS = {
    "relu": (lambda x, a, b: np.maximum(x, 0), None, None),
    "tanh": (lambda x, a, b: np.tanh(x), None, None),
    "sigmoid": (lambda x, a, b: _sigmoid(x), None, None),
    "affine": (lambda x, a, b: x * a + b, 1.0, 0.0),
    "leakyrelu": (lambda x, a, b: np.where(x >= 0, x, x * a), 0.01, None),
    "thresholdedrelu": (lambda x, a, b: np.where(x > a, x, 0).astype(x.dtype), 1.0, None),
    "scaledtanh": (lambda x, a, b: a * np.tanh(b * x), 1.0, 1.0),
    "hardsigmoid": (lambda x, a, b: np.clip(x * a + b, 0, 1), 0.2, 0.5),
    "elu": (lambda x, a, b: np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0))), 1.0, None),
    "softsign": (lambda x, a, b: x / (1 + np.abs(x)), None, None),
    "softplus": (lambda x, a, b: _softplus(x), None, None),
}


class Activation:
    def __init__(self, name: str, alphas: list, betas: list):
        key = name.decode() if isinstance(name, bytes) else name
        try:
            self.fn, da, db = _ACTIVATIONS[key.lower()]
        except KeyError:
            raise ValueError(f"unknown RNN activation {name!r}") from None
        self.alpha = alphas.pop(0) if da is not None and alphas else da
        self.beta = betas.pop(0) if db is not None and betas else db
        self.name = key

    def __call__(self, x):
        return self.fn(x, self.alpha, self.beta)


def _activations(ctx, defaults: list[str], num_directions: int) -> list[list[Activation]]:
    names = ctx.attr("activations") or []
    names = list(names) if names else defaults * num_directions
    if len(names) == len(defaults) and num_directions == 2:
        names = names * 2
    alphas = [float(v) for v in (ctx.attr("activation_alpha") or [])]
    betas = [float(v) for v in (ctx.attr("activation_beta") or [])]
    acts = [Activation(n, alphas, betas) for n in names]
    per = len(defaults)
    return [acts[d * per:(d + 1) * per] for d in range(num_directions)]


class _Common:
    """Attributes, layouts and the time loop shared by the three cells."""

    def __init__(self, ctx, x, w, r, b, seq_lens, init_h, gates: int, defaults):
        direction = ctx.attr("direction", "forward")
        self.direction = direction.decode() if isinstance(direction, bytes) else direction
        self.dirs = 2 if self.direction == "bidirectional" else 1
        self.layout = int(ctx.attr("layout", 0))
        self.clip = ctx.attr("clip")
        self.ctx = ctx
        self.x = x if self.layout == 0 else np.swapaxes(x, 0, 1)      # (S, B, I)
        self.seq, self.batch = self.x.shape[:2]
        self.hidden = int(ctx.attr("hidden_size") or r.shape[-1])
        self.dtype = x.dtype
        self.w, self.r = w, r
        self.b = b if b is not None else np.zeros((self.dirs, 2 * gates * self.hidden), x.dtype)
        self.acts = _activations(ctx, defaults, self.dirs)
        if seq_lens is not None and np.any(np.asarray(seq_lens) < self.seq):
            self.lens = np.asarray(seq_lens, dtype=np.int64).reshape(-1)
        else:
            self.lens = None
        self.h0 = self._state_in(init_h)

    def _state_in(self, state):
        if state is None:
            return np.zeros((self.dirs, self.batch, self.hidden), self.dtype)
        return state if self.layout == 0 else np.swapaxes(state, 0, 1)

    def clipped(self, v):
        if self.clip is None:
            return v
        return np.clip(v, -float(self.clip), float(self.clip))

    def projection(self, d, bias):
        """X @ W[d]^T + bias for every time step at once: (S, B, gates*H)."""
        s, bsz, i = self.x.shape
        wt = prepared(self.ctx, ("W^T", d), self.w, lambda w: np.ascontiguousarray(w[d].T))
        proj = self.x.reshape(s * bsz, i) @ wt
        proj += bias
        return proj.reshape(s, bsz, -1)

    def recurrent_weight(self, d):
        return prepared(self.ctx, ("R^T", d), self.r, lambda r: np.ascontiguousarray(r[d].T))

    def steps(self, d):
        reverse = self.direction == "reverse" or d == 1
        return range(self.seq - 1, -1, -1) if reverse else range(self.seq)

    def mask(self, t):
        if self.lens is None:
            return None
        return (t < self.lens)[:, None]

    def outputs(self, ys, finals):
        """ys: per direction (S, B, H); finals: lists of per-direction (B, H) states."""
        y = np.stack(ys, axis=1)                               # (S, D, B, H)
        states = [np.stack(f, axis=0) for f in finals]         # (D, B, H)
        if self.layout == 1:
            y = y.transpose(2, 0, 1, 3)
            states = [np.swapaxes(s, 0, 1) for s in states]
        outs = (y, *states)
        return tuple(o.astype(self.dtype, copy=False) for o in outs)[:max(1, self.ctx.output_count)]


@op("RNN", since=1)
def rnn(ctx, x, w, r, b=None, seq_lens=None, init_h=None):
    c = _Common(ctx, x, w, r, b, seq_lens, init_h, 1, ["Tanh"])
    hsz = c.hidden
    ys, finals = [], []
    for d in range(c.dirs):
        f = c.acts[d][0]
        proj = c.projection(d, c.b[d, :hsz] + c.b[d, hsz:])
        rt = c.recurrent_weight(d)
        h = c.h0[d]
        y = np.zeros((c.seq, c.batch, hsz), c.dtype)
        for t in c.steps(d):
            h_new = f(c.clipped(proj[t] + h @ rt))
            m = c.mask(t)
            if m is not None:
                h_new = np.where(m, h_new, h)
                y[t] = np.where(m, h_new, 0)
            else:
                y[t] = h_new
            h = h_new
        ys.append(y)
        finals.append(h)
    return c.outputs(ys, [finals])


@op("GRU", since=1)
def gru(ctx, x, w, r, b=None, seq_lens=None, init_h=None):
    c = _Common(ctx, x, w, r, b, seq_lens, init_h, 3, ["Sigmoid", "Tanh"])
    hsz = c.hidden
    lbr = bool(ctx.attr("linear_before_reset", 0))
    ys, finals = [], []
    for d in range(c.dirs):
        f, g = c.acts[d]
        wb, rb = c.b[d, :3 * hsz], c.b[d, 3 * hsz:]
        # z and r take both biases up front; the candidate's recurrent bias depends on
        # linear_before_reset, so only Wbh goes into the projection for it.
        proj = c.projection(d, np.concatenate([wb[:2 * hsz] + rb[:2 * hsz], wb[2 * hsz:]]))
        rt = c.recurrent_weight(d)                   # (H, 3H)
        r_zr, r_h = rt[:, :2 * hsz], rt[:, 2 * hsz:]
        rbh = rb[2 * hsz:]
        h = c.h0[d]
        y = np.zeros((c.seq, c.batch, hsz), c.dtype)
        for t in c.steps(d):
            p = proj[t]
            zr = f(c.clipped(p[:, :2 * hsz] + h @ r_zr))
            z, rr = zr[:, :hsz], zr[:, hsz:]
            if lbr:
                cand = p[:, 2 * hsz:] + rr * (h @ r_h + rbh)
            else:
                cand = p[:, 2 * hsz:] + (rr * h) @ r_h + rbh
            hh = g(c.clipped(cand))
            h_new = (1 - z) * hh + z * h
            m = c.mask(t)
            if m is not None:
                h_new = np.where(m, h_new, h)
                y[t] = np.where(m, h_new, 0)
            else:
                y[t] = h_new
            h = h_new
        ys.append(y)
        finals.append(h)
    return c.outputs(ys, [finals])


@op("LSTM", since=1)
def lstm(ctx, x, w, r, b=None, seq_lens=None, init_h=None, init_c=None, p=None):
    c = _Common(ctx, x, w, r, b, seq_lens, init_h, 4, ["Sigmoid", "Tanh", "Tanh"])
    hsz = c.hidden
    input_forget = bool(ctx.attr("input_forget", 0))
    c0 = c._state_in(init_c)
    ys, final_h, final_c = [], [], []
    for d in range(c.dirs):
        f, g, hact = c.acts[d]
        proj = c.projection(d, c.b[d, :4 * hsz] + c.b[d, 4 * hsz:])   # gates i, o, f, c
        rt = c.recurrent_weight(d)
        if p is not None:
            pi, po, pf = p[d, :hsz], p[d, hsz:2 * hsz], p[d, 2 * hsz:]
        h, cell = c.h0[d], c0[d]
        y = np.zeros((c.seq, c.batch, hsz), c.dtype)
        for t in c.steps(d):
            gates = proj[t] + h @ rt
            gi, go, gf, gc = (gates[:, k * hsz:(k + 1) * hsz] for k in range(4))
            if p is not None:
                gi = gi + pi * cell
                gf = gf + pf * cell
            i = f(c.clipped(gi))
            fg = 1 - i if input_forget else f(c.clipped(gf))
            cell_new = fg * cell + i * g(c.clipped(gc))
            if p is not None:
                go = go + po * cell_new
            o = f(c.clipped(go))
            h_new = o * hact(cell_new)
            m = c.mask(t)
            if m is not None:
                h_new = np.where(m, h_new, h)
                cell_new = np.where(m, cell_new, cell)
                y[t] = np.where(m, h_new, 0)
            else:
                y[t] = h_new
            h, cell = h_new, cell_new
        ys.append(y)
        final_h.append(h)
        final_c.append(cell)
    return c.outputs(ys, [final_h, final_c])
