"""Sampling ops on images: GridSample (N-d), DeformConv (2-d), Col2Im (N-d).

GridSample follows the sampling rules ONNX adopted from PyTorch's grid_sampler: linear and
nearest sample at a coordinate already mapped by the padding mode; cubic maps each of its 4^r
taps through the padding mode instead. All taps are gathered for every output point at once.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..registry import op


def _unnormalize(g, size, align_corners):
    if align_corners:
        return (g + 1) / 2 * (size - 1)
    return ((g + 1) * size - 1) / 2


def _reflect(coord, size, align_corners):
    low2, high2 = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
    if low2 == high2:
        return np.zeros_like(coord)
    low, span = low2 / 2, (high2 - low2) / 2
    distance = np.abs(coord - low)
    extra = np.fmod(distance, span)
    flips = np.floor(distance / span)
    return np.where(flips % 2 == 0, extra + low, span - extra + low)


def _pad_coordinate(coord, size, padding, align_corners):
    if padding == "border":
        return np.clip(coord, 0, size - 1)
    if padding == "reflection":
        return np.clip(_reflect(coord, size, align_corners), 0, size - 1)
    return coord


def _gather(x, indices):
    """x (N, C, *spatial), integer index arrays (N, *out) per spatial dim -> (N, C, *out), 0 outside."""
    spatial = x.shape[2:]
    valid = np.ones(indices[0].shape, dtype=bool)
    clipped = []
    for idx, size in zip(indices, spatial):
        valid &= (idx >= 0) & (idx < size)
        clipped.append(np.clip(idx, 0, size - 1))
    batch = np.arange(x.shape[0]).reshape((-1,) + (1,) * (indices[0].ndim - 1))
    values = x[(batch, slice(None)) + tuple(clipped)]  # advanced dims first: (N, *out, C)
    values = np.moveaxis(values, -1, 1)
    return values * np.expand_dims(valid, 1)


def _cubic_weights(t, a=-0.75):
    """Weights of the taps at offsets -1, 0, 1, 2 for fractional position t."""
    def near(d):
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


@op("GridSample", since=16)
def grid_sample(ctx, x, grid):
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(ctx.attr("mode", "linear"), ctx.attr("mode", "linear"))
    padding = ctx.attr("padding_mode", "zeros")
    align = bool(ctx.attr("align_corners", 0))
    spatial = x.shape[2:]
    rank = len(spatial)
    work = x.astype(np.float64)
    # grid's last axis lists coordinates innermost dimension first (x, y, z)
    coords = [_unnormalize(grid[..., rank - 1 - d].astype(np.float64), spatial[d], align) for d in range(rank)]
    if mode == "nearest":
        coords = [_pad_coordinate(c, s, padding, align) for c, s in zip(coords, spatial)]
        out = _gather(work, [np.rint(c).astype(np.int64) for c in coords])
    elif mode == "linear":
        coords = [_pad_coordinate(c, s, padding, align) for c, s in zip(coords, spatial)]
        base = [np.floor(c) for c in coords]
        frac = [c - b for c, b in zip(coords, base)]
        out = 0
        for corner in itertools.product((0, 1), repeat=rank):
            weight = 1
            for d, k in enumerate(corner):
                weight = weight * (frac[d] if k else 1 - frac[d])
            out = out + _gather(work, [(b + k).astype(np.int64) for b, k in zip(base, corner)]) * np.expand_dims(weight, 1)
    else:
        base = [np.floor(c) for c in coords]
        weights = [_cubic_weights(c - b) for c, b in zip(coords, base)]
        out = 0
        for taps in itertools.product(range(4), repeat=rank):
            weight = 1
            indices = []
            for d, k in enumerate(taps):
                weight = weight * weights[d][k]
                tap = base[d] + (k - 1)
                if padding != "zeros":
                    tap = _pad_coordinate(tap, spatial[d], padding, align)
                indices.append(tap.astype(np.int64))
            out = out + _gather(work, indices) * np.expand_dims(weight, 1)
    return np.asarray(out).astype(x.dtype)


@op("Col2Im", since=18)
def col2im(ctx, columns, image_shape, block_shape):
    image = [int(v) for v in image_shape]
    block = [int(v) for v in block_shape]
    rank = len(image)
    dilations = ctx.attr("dilations") or [1] * rank
    pads = ctx.attr("pads") or [0] * (2 * rank)
    strides = ctx.attr("strides") or [1] * rank
    n, cb, length = columns.shape
    channels = cb // int(np.prod(block))
    padded = [image[d] + pads[d] + pads[d + rank] for d in range(rank)]
    counts = [(padded[d] - (dilations[d] * (block[d] - 1) + 1)) // strides[d] + 1 for d in range(rank)]
    out = np.zeros((n, channels) + tuple(padded), dtype=columns.dtype)
    cols = columns.reshape((n, channels) + tuple(block) + tuple(counts))
    # target position of (block offset k, window w) along each dim: w * stride + k * dilation
    index = []
    for d in range(rank):
        k = np.arange(block[d]).reshape([-1 if i == d else 1 for i in range(rank)] + [1] * rank)
        w = np.arange(counts[d]).reshape([1] * rank + [-1 if i == d else 1 for i in range(rank)])
        index.append(np.broadcast_to(w * strides[d] + k * dilations[d], tuple(block) + tuple(counts)))
    for b in range(n):  # one scatter-add per image of the batch, all channels at once
        target = out[b]
        np.add.at(target, (slice(None),) + tuple(index), cols[b])
    crop = tuple(slice(pads[d], pads[d] + image[d]) for d in range(rank))
    return out[(slice(None), slice(None)) + crop]


@op("DeformConv", since=19)
def deform_conv(ctx, x, w, offset, bias=None, mask=None):
    n, c, h, wd = x.shape
    m, c_per_group, kh, kw = w.shape
    group = ctx.attr("group", 1)
    offset_group = ctx.attr("offset_group", 1)
    dil = ctx.attr("dilations") or [1, 1]
    strides = ctx.attr("strides") or [1, 1]
    pads = ctx.attr("pads") or [0, 0, 0, 0]
    oh, ow = offset.shape[2], offset.shape[3]
    taps = kh * kw
    off = offset.reshape(n, offset_group, taps, 2, oh, ow).astype(np.float64)
    msk = np.ones((n, offset_group, taps, oh, ow)) if mask is None else mask.reshape(n, offset_group, taps, oh, ow)
    ky, kx = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
    ky, kx = ky.reshape(-1), kx.reshape(-1)
    base_y = (np.arange(oh) * strides[0] - pads[0])[None, :, None] + (ky * dil[0])[:, None, None]  # (taps, oh, 1)
    base_x = (np.arange(ow) * strides[1] - pads[1])[None, None, :] + (kx * dil[1])[:, None, None]  # (taps, 1, ow)
    work = x.astype(np.float64)
    channels_per_offset = c // offset_group
    sampled = np.empty((n, c, taps, oh, ow))
    for g in range(offset_group):
        py = base_y[None] + off[:, g, :, 0]  # (n, taps, oh, ow)
        px = base_x[None] + off[:, g, :, 1]
        chans = work[:, g * channels_per_offset:(g + 1) * channels_per_offset]
        y0, x0 = np.floor(py), np.floor(px)
        acc = 0
        for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
            wy = (py - y0) if dy else (1 - (py - y0))
            wx = (px - x0) if dx else (1 - (px - x0))
            flat_y = (y0 + dy).astype(np.int64).reshape(n, -1)
            flat_x = (x0 + dx).astype(np.int64).reshape(n, -1)
            values = _gather(chans, [flat_y, flat_x]).reshape(n, channels_per_offset, taps, oh, ow)
            acc = acc + values * (wy * wx)[:, None]
        sampled[:, g * channels_per_offset:(g + 1) * channels_per_offset] = acc * msk[:, g][:, None]
    columns = sampled.reshape(n, group, c_per_group * taps, oh * ow)
    weights = w.astype(np.float64).reshape(group, m // group, c_per_group * taps)
    out = np.einsum("gmk,ngkp->ngmp", weights, columns).reshape(n, m, oh, ow)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.astype(x.dtype)
