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
from .linalg import blas_threads


def _sigmoid(x):
    # The tanh form never overflows (exp(-x) does for x < -88 in float32).
    return np.tanh(x * 0.5) * 0.5 + 0.5


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
    """Attributes, layouts and the time loop shared by the three cells.

    Both directions advance together: the reverse direction's inputs are re-indexed so that
    step t reads each batch entry's (length - 1 - t)-th element, which turns a bidirectional
    layer into one loop over time on arrays stacked as (directions, batch, ...), one batched
    matmul per step. Outputs are scattered back through the same index at the end.
    """

    def __init__(self, ctx, x, w, r, b, seq_lens, init_h, gates: int, defaults):
        direction = ctx.attr("direction", "forward")
        self.direction = direction.decode() if isinstance(direction, bytes) else direction
        self.dirs = 2 if self.direction == "bidirectional" else 1
        self.layout = int(ctx.attr("layout", 0))
        clip = ctx.attr("clip")
        self.clip = None if clip is None else float(clip)
        self.ctx = ctx
        self.x = x if self.layout == 0 else np.swapaxes(x, 0, 1)      # (S, B, I)
        self.seq, self.batch = self.x.shape[:2]
        self.hidden = int(ctx.attr("hidden_size") or r.shape[-1])
        self.gates = gates
        self.dtype = x.dtype
        self.w, self.r = w, r
        self.b = b if b is not None else np.zeros((self.dirs, 2 * gates * self.hidden), x.dtype)
        acts = _activations(ctx, defaults, self.dirs)
        # One activation call on the stacked directions when both use the same functions.
        same = self.dirs == 1 or all(a.name.lower() == b_.name.lower() and a.alpha == b_.alpha
                                     and a.beta == b_.beta for a, b_ in zip(acts[0], acts[1]))
        self.acts = [self._stacked(fs) for fs in zip(*acts)] if not same else list(acts[0])
        self.lens = None
        if seq_lens is not None:
            lens = np.asarray(seq_lens, dtype=np.int64).reshape(-1)
            if np.any(lens < self.seq):
                self.lens = lens
        self.reversed = [self.direction == "reverse" or d == 1 for d in range(self.dirs)]
        self.h0 = self._state_in(init_h)

    def _stacked(self, per_dir):
        def apply(v):
            return np.stack([f(v[d]) for d, f in enumerate(per_dir)])
        return apply

    def _state_in(self, state):
        if state is None:
            return np.zeros((self.dirs, self.batch, self.hidden), self.dtype)
        return np.array(state if self.layout == 0 else np.swapaxes(state, 0, 1), dtype=self.dtype)

    def clipped(self, v):
        if self.clip is None:
            return v
        return np.clip(v, -self.clip, self.clip)

    def time_index(self):
        """(S, B) source time step read at loop step t by a reversed direction."""
        t = np.arange(self.seq)[:, None]
        if self.lens is None:
            return np.broadcast_to(self.seq - 1 - t, (self.seq, self.batch))
        lens = self.lens[None, :]
        return np.where(t < lens, lens - 1 - t, t)

    def projections(self, bias, scale=None):
        """X @ W^T + bias for all time steps and directions: (S, D, B, gates*H), with each
        reversed direction already re-indexed into its processing order. ``scale`` (one
        factor per gate column, powers of two only, so exact) is folded into W and bias."""
        s, bsz, i = self.x.shape
        key = "W^T" if scale is None else ("W^T", tuple(scale[::self.hidden].tolist()))

        def build(w):
            wt = np.concatenate(list(w), axis=0).T
            if scale is not None:
                wt = wt * np.tile(scale, self.dirs).astype(w.dtype)
            return np.ascontiguousarray(wt)
        wt = prepared(self.ctx, key, self.w, build)
        if scale is not None:
            bias = bias * scale.astype(bias.dtype)
        # explicit width, not -1: numpy cannot infer -1 for an empty sequence or batch
        proj = (self.x.reshape(s * bsz, i) @ wt).reshape(s, bsz, self.dirs, wt.shape[1] // self.dirs)
        proj += bias.reshape(1, 1, self.dirs, -1)
        proj = proj.transpose(0, 2, 1, 3)
        if any(self.reversed):
            proj = proj.copy()
            idx = self.time_index()
            cols = np.arange(bsz)[None, :]
            for d in range(self.dirs):
                if self.reversed[d]:
                    proj[:, d] = proj[idx, d, cols]
        return np.ascontiguousarray(proj)

    def recurrent_weight(self, scale=None):
        """R^T stacked by direction: (D, H, gates*H), optionally with ``scale`` folded in."""
        if scale is None:
            return prepared(self.ctx, "R^T", self.r,
                            lambda r: np.ascontiguousarray(np.swapaxes(r, 1, 2)))
        return prepared(self.ctx, ("R^T", tuple(scale[::self.hidden].tolist())), self.r,
                        lambda r: np.ascontiguousarray(np.swapaxes(r, 1, 2) * scale.astype(r.dtype)))

    def default_activations(self, names) -> bool:
        """True when every direction uses exactly ``names`` with no clip: the fast loops
        then fold sigmoid(x) = 0.5 * tanh(x / 2) + 0.5 into the weights."""
        if self.clip is not None or self.lens is not None:
            return False
        acts = self.acts
        return len(acts) == len(names) and all(
            isinstance(a, Activation) and a.name.lower() == n for a, n in zip(acts, names))

    def masks(self):
        if self.lens is None:
            return None
        return (np.arange(self.seq)[:, None] < self.lens[None, :])[:, None, :, None]   # (S,1,B,1)

    def finish_y(self, y):
        """y: (S, D, B, H) in processing order -> time order per direction."""
        if any(self.reversed):
            idx = self.time_index()
            cols = np.arange(self.batch)[None, :]
            for d in range(self.dirs):
                if self.reversed[d]:
                    out = np.zeros_like(y[:, d])
                    out[idx, cols] = y[:, d]
                    y[:, d] = out
        return y

    def outputs(self, y, states):
        """y: (S, D, B, H) in processing order; states: (D, B, H) arrays."""
        y = self.finish_y(y)
        if self.layout == 1:
            y = y.transpose(2, 0, 1, 3)
            states = [np.swapaxes(s, 0, 1) for s in states]
        outs = (y, *states)
        return tuple(o.astype(self.dtype, copy=False) for o in outs)[:max(1, self.ctx.output_count)]


def _fast_sigmoid(acts, k):
    """The k-th activation, with Sigmoid computed as 0.5 * tanh(0.5 x) + 0.5 in place."""
    f = acts[k]
    if isinstance(f, Activation) and f.name.lower() == "sigmoid":
        def sigmoid_inplace(v):
            v *= 0.5
            np.tanh(v, out=v)
            v *= 0.5
            v += 0.5
            return v
        return sigmoid_inplace
    return f


def _rnn(ctx, x, w, r, b=None, seq_lens=None, init_h=None):
    c = _Common(ctx, x, w, r, b, seq_lens, init_h, 1, ["Tanh"])
    hsz = c.hidden
    f = c.acts[0]
    proj = c.projections(c.b[:, :hsz] + c.b[:, hsz:])
    rt = c.recurrent_weight()
    masks = c.masks()
    h = c.h0
    y = np.zeros((c.seq, c.dirs, c.batch, hsz), c.dtype)
    for t in range(c.seq):
        h_new = f(c.clipped(proj[t] + np.matmul(h, rt)))
        h = _step(y, t, masks, h_new, h)
    return c.outputs(y, [h])


def _gru(ctx, x, w, r, b=None, seq_lens=None, init_h=None):
    c = _Common(ctx, x, w, r, b, seq_lens, init_h, 3, ["Sigmoid", "Tanh"])
    hsz = c.hidden
    lbr = bool(ctx.attr("linear_before_reset", 0))
    if c.default_activations(["sigmoid", "tanh"]):
        return _gru_fast(c, lbr)
    f, g = _fast_sigmoid(c.acts, 0), c.acts[1]
    wb, rb = c.b[:, :3 * hsz], c.b[:, 3 * hsz:]
    # z and r take both biases up front; the candidate's recurrent bias depends on
    # linear_before_reset, so only Wbh goes into the projection for it.
    proj = c.projections(np.concatenate([wb[:, :2 * hsz] + rb[:, :2 * hsz], wb[:, 2 * hsz:]], axis=1))
    rt = c.recurrent_weight()                                   # (D, H, 3H)
    rbh = rb[:, None, 2 * hsz:]                                 # (D, 1, H)
    r_zr, r_h = np.ascontiguousarray(rt[:, :, :2 * hsz]), np.ascontiguousarray(rt[:, :, 2 * hsz:])
    masks = c.masks()
    h = c.h0
    y = np.zeros((c.seq, c.dirs, c.batch, hsz), c.dtype)
    two = 2 * hsz
    for t in range(c.seq):
        p = proj[t]
        if lbr:
            rec = np.matmul(h, rt)
            zr = rec[..., :two]
            zr += p[..., :two]
            zr = f(c.clipped(zr))
            cand = rec[..., two:]
            cand += rbh
            cand *= zr[..., hsz:]
            cand += p[..., two:]
        else:
            zr = f(c.clipped(p[..., :two] + np.matmul(h, r_zr)))
            cand = np.matmul(zr[..., hsz:] * h, r_h)
            cand += rbh
            cand += p[..., two:]
        hh = g(c.clipped(cand))
        # (1 - z) * hh + z * h  ==  hh + z * (h - hh)
        h_new = h - hh
        h_new *= zr[..., :hsz]
        h_new += hh
        h = _step(y, t, masks, h_new, h)
    return c.outputs(y, [h])


def _lstm(ctx, x, w, r, b=None, seq_lens=None, init_h=None, init_c=None, p=None):
    c = _Common(ctx, x, w, r, b, seq_lens, init_h, 4, ["Sigmoid", "Tanh", "Tanh"])
    hsz = c.hidden
    input_forget = bool(ctx.attr("input_forget", 0))
    if p is None and not input_forget and c.default_activations(["sigmoid", "tanh", "tanh"]):
        return _lstm_fast(c, init_c)
    cell = c._state_in(init_c)
    f, g, hact = _fast_sigmoid(c.acts, 0), c.acts[1], c.acts[2]
    proj = c.projections(c.b[:, :4 * hsz] + c.b[:, 4 * hsz:])      # gates i, o, f, c
    rt = c.recurrent_weight()
    if p is not None:
        pi, po, pf = (p[:, None, k * hsz:(k + 1) * hsz] for k in range(3))
    # Without peepholes or coupling, i, o and f share one activation call on 3H columns.
    fused = p is None and not input_forget and c.clip is None
    masks = c.masks()
    h = c.h0
    y = np.zeros((c.seq, c.dirs, c.batch, hsz), c.dtype)
    for t in range(c.seq):
        gates = np.matmul(h, rt)
        gates += proj[t]
        if fused:
            iof = f(gates[..., :3 * hsz])
            i, o, fg = iof[..., :hsz], iof[..., hsz:2 * hsz], iof[..., 2 * hsz:]
            cell_new = fg * cell
            cell_new += i * g(gates[..., 3 * hsz:])
        else:
            gi, go, gf, gc = (gates[..., k * hsz:(k + 1) * hsz] for k in range(4))
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
        if masks is not None:
            cell_new = np.where(masks[t], cell_new, cell)
        h, cell = _step(y, t, masks, h_new, h), cell_new
    return c.outputs(y, [h, cell])


def _sigmoid_from_half_tanh(values: np.ndarray) -> None:
    """tanh(x / 2) -> sigmoid(x) in place: sigmoid(x) = 0.5 * tanh(x / 2) + 0.5 (the fast loops
    fold the halving of x into their weights)."""
    values *= 0.5
    values += 0.5


def _gru_fast(c: _Common, lbr: bool):
    """GRU with the default activations and no clip or sequence_lens: sigmoid is computed as
    0.5 * tanh(x / 2) + 0.5 with the halving folded into the z and r weights (exact: a power
    of two), so a step is one matmul and a dozen in-place ufuncs on (directions, batch, 3H)."""
    hsz, two = c.hidden, 2 * c.hidden
    scale = np.concatenate([np.full(two, 0.5), np.ones(hsz)])
    wb, rb = c.b[:, :3 * hsz], c.b[:, 3 * hsz:]
    proj = c.projections(np.concatenate([wb[:, :two] + rb[:, :two], wb[:, two:]], axis=1), scale)
    rt = c.recurrent_weight(scale)                              # (D, H, 3H)
    rbh = np.ascontiguousarray(rb[:, None, two:])
    h = c.h0
    y = np.empty((c.seq, c.dirs, c.batch, hsz), c.dtype)
    # Views made once: the step loop only indexes [t] and calls ufuncs with out=.
    p_zr, p_h = proj[:, :, :, :two], proj[:, :, :, two:]
    if lbr:      # one matmul for all three gates: r scales (R h + Rb) afterwards
        rec = np.empty((c.dirs, c.batch, 3 * hsz), c.dtype)
        r_first, first = rt, rec
        zr, z, rr, cand = rec[:, :, :two], rec[:, :, :hsz], rec[:, :, hsz:two], rec[:, :, two:]
    else:        # z and r first; r scales h before its own matmul
        r_first, r_h = np.ascontiguousarray(rt[:, :, :two]), np.ascontiguousarray(rt[:, :, two:])
        zr = first = np.empty((c.dirs, c.batch, two), c.dtype)
        cand = np.empty((c.dirs, c.batch, hsz), c.dtype)
        z, rr = zr[:, :, :hsz], zr[:, :, hsz:]
    for t in range(c.seq):
        np.matmul(h, r_first, out=first)
        zr += p_zr[t]
        np.tanh(zr, out=zr)
        _sigmoid_from_half_tanh(zr)
        if lbr:
            cand += rbh
            cand *= rr
        else:
            np.matmul(rr * h, r_h, out=cand)
            cand += rbh
        cand += p_h[t]
        np.tanh(cand, out=cand)
        h_new = y[t]
        np.subtract(h, cand, out=h_new)         # (1 - z) * hh + z * h == hh + z * (h - hh)
        h_new *= z
        h_new += cand
        h = h_new
    return c.outputs(y, [h.copy()])


def _lstm_fast(c: _Common, init_c):
    """LSTM with the default activations and no peepholes, clip, input_forget or
    sequence_lens: one tanh over all four gates per step, the i/o/f halving folded into the
    weights (sigmoid(x) = 0.5 * tanh(x / 2) + 0.5, exact scaling by a power of two)."""
    hsz, three = c.hidden, 3 * c.hidden
    scale = np.concatenate([np.full(three, 0.5), np.ones(hsz)])
    proj = c.projections(c.b[:, :4 * hsz] + c.b[:, 4 * hsz:], scale)   # gates i, o, f, c
    rt = c.recurrent_weight(scale)
    cell = c._state_in(init_c)
    h = c.h0
    y = np.empty((c.seq, c.dirs, c.batch, hsz), c.dtype)
    gates = np.empty((c.dirs, c.batch, 4 * hsz), c.dtype)
    tanh_cell = np.empty_like(cell)
    iof, g = gates[:, :, :three], gates[:, :, three:]
    gi, go, gf = gates[:, :, :hsz], gates[:, :, hsz:2 * hsz], gates[:, :, 2 * hsz:three]
    for t in range(c.seq):
        np.matmul(h, rt, out=gates)
        gates += proj[t]
        np.tanh(gates, out=gates)
        _sigmoid_from_half_tanh(iof)
        g *= gi                                     # i * g
        cell *= gf                                  # f * c
        cell += g
        np.tanh(cell, out=tanh_cell)
        h = y[t]
        np.multiply(go, tanh_cell, out=h)
    return c.outputs(y, [h.copy(), cell])


# Per-step matmuls are tiny and latency-bound: BLAS worker threads only add hand-off costs.
def _step(y, t, masks, h_new, h):
    """Store step t's output and return the new state; past a sequence's length (sequence_lens)
    the state is carried unchanged and the output is zero."""
    if masks is None:
        y[t] = h_new
        return h_new
    h_new = np.where(masks[t], h_new, h)
    y[t] = np.where(masks[t], h_new, 0)
    return h_new


@op("RNN", since=1)
def rnn(ctx, *inputs):
    with blas_threads():
        return _rnn(ctx, *inputs)


@op("GRU", since=1)
def gru(ctx, *inputs):
    with blas_threads():
        return _gru(ctx, *inputs)


@op("LSTM", since=1)
def lstm(ctx, *inputs):
    with blas_threads():
        return _lstm(ctx, *inputs)
