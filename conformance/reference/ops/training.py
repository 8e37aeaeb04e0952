"""ai.onnx.preview.training optimizers: Adagrad, Momentum, Adam (one update step, any number of tensors)."""
from __future__ import annotations

import numpy as np

from ..registry import op

TRAINING = "ai.onnx.preview.training"


def _groups(tensors, count):
    n = len(tensors) // count
    return [tensors[i * n:(i + 1) * n] for i in range(count)]


@op("Adagrad", domain=TRAINING)
def adagrad(ctx, rate, step, *tensors):
    xs, gs, hs = _groups(tensors, 3)
    decay, epsilon = ctx.attr("decay_factor", 0.0), ctx.attr("epsilon", 1e-6)
    norm = ctx.attr("norm_coefficient", 0.0)
    r = rate / (1 + step * decay)
    new_x, new_h = [], []
    for x, g, h in zip(xs, gs, hs):
        g_reg = norm * x + g
        h_new = h + g_reg * g_reg
        new_x.append((x - r * g_reg / (np.sqrt(h_new) + epsilon)).astype(x.dtype))
        new_h.append(h_new.astype(h.dtype))
    return tuple(new_x + new_h)


@op("Momentum", domain=TRAINING)
def momentum(ctx, rate, step, *tensors):
    xs, gs, vs = _groups(tensors, 3)
    alpha, beta = ctx.attr("alpha"), ctx.attr("beta")
    norm, mode = ctx.attr("norm_coefficient"), ctx.attr("mode")
    beta_adjusted = beta if step > 0 else 1
    new_x, new_v = [], []
    for x, g, v in zip(xs, gs, vs):
        g_reg = norm * x + g
        v_new = alpha * v + beta_adjusted * g_reg
        if mode == "nesterov":
            x_new = x - rate * (g_reg + alpha * v_new)
        else:
            x_new = x - rate * v_new
        new_x.append(x_new.astype(x.dtype))
        new_v.append(v_new.astype(v.dtype))
    return tuple(new_x + new_v)


@op("Adam", domain=TRAINING)
def adam(ctx, rate, step, *tensors):
    xs, gs, vs, hs = _groups(tensors, 4)
    alpha, beta = ctx.attr("alpha", 0.9), ctx.attr("beta", 0.999)
    epsilon = ctx.attr("epsilon", 1e-6)
    norm, norm_post = ctx.attr("norm_coefficient", 0.0), ctx.attr("norm_coefficient_post", 0.0)
    if step > 0:
        rate = rate * np.sqrt(1 - beta ** step) / (1 - alpha ** step)
    new_x, new_v, new_h = [], [], []
    for x, g, v, h in zip(xs, gs, vs, hs):
        g_reg = norm * x + g
        v_new = alpha * v + (1 - alpha) * g_reg
        h_new = beta * h + (1 - beta) * g_reg * g_reg
        x_new = x - rate * (v_new / (np.sqrt(h_new) + epsilon))
        new_x.append(((1 - norm_post) * x_new).astype(x.dtype))
        new_v.append(v_new.astype(v.dtype))
        new_h.append(h_new.astype(h.dtype))
    return tuple(new_x + new_v + new_h)
