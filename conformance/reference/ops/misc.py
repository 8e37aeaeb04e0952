"""Ops that fit no family: Einsum, Dropout, NonMaxSuppression, Det, losses."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..registry import op


@op("Einsum", since=12)
def einsum(ctx, *inputs):
    equation = ctx.attr("equation").replace(" ", "")
    if inputs and dtypes.is_custom(inputs[0].dtype):  # bfloat16: numpy's einsum has no loop for it
        out = np.einsum(equation, *(dtypes.custom_to_float32(x) for x in inputs), optimize=len(inputs) > 2)
        return dtypes.cast(out, dtypes.elem_type_of(inputs[0].dtype))
    return np.asarray(np.einsum(equation, *inputs, optimize=len(inputs) > 2))


def _dropout(ctx, x, ratio, training, seed):
    want_mask = ctx.output_count > 1
    if not training or ratio == 0:
        mask = np.ones(x.shape, dtype=bool)
        return (x, mask) if want_mask else x
    # seeded like ONNX's own test generator: numpy's legacy RandomState(seed), seed 0 by default
    rng = np.random.RandomState(0 if seed is None else int(seed))
    mask = rng.uniform(0.0, 1.0, x.shape) >= ratio
    out = (x * mask / (1 - ratio)).astype(x.dtype)
    return (out, mask) if want_mask else out


@op("Dropout", since=7)
def dropout_attr(ctx, x):
    # opset 7-11: inference only, ratio is an attribute
    return _dropout(ctx, x, ctx.attr("ratio", 0.5), False, None)


@op("Dropout", since=12)
def dropout(ctx, x, ratio=None, training_mode=None):
    ratio = 0.5 if ratio is None else float(np.asarray(ratio).reshape(()))
    training = False if training_mode is None else bool(np.asarray(training_mode).reshape(()))
    return _dropout(ctx, x, ratio, training, ctx.attr("seed"))


def _iou(box, boxes, center):
    """IoU of one box against many; boxes as (y1, x1, y2, x2) corners or center format."""
    if center:
        def corners(b):
            xc, yc, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
            return np.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], axis=-1)
        box, boxes = corners(box), corners(boxes)
    y1 = np.minimum(box[0], box[2]), np.maximum(box[0], box[2])
    x1 = np.minimum(box[1], box[3]), np.maximum(box[1], box[3])
    ys = np.minimum(boxes[:, 0], boxes[:, 2]), np.maximum(boxes[:, 0], boxes[:, 2])
    xs = np.minimum(boxes[:, 1], boxes[:, 3]), np.maximum(boxes[:, 1], boxes[:, 3])
    inter_h = np.clip(np.minimum(y1[1], ys[1]) - np.maximum(y1[0], ys[0]), 0, None)
    inter_w = np.clip(np.minimum(x1[1], xs[1]) - np.maximum(x1[0], xs[0]), 0, None)
    inter = inter_h * inter_w
    area = (y1[1] - y1[0]) * (x1[1] - x1[0])
    areas = (ys[1] - ys[0]) * (xs[1] - xs[0])
    union = area + areas - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


@op("NonMaxSuppression", since=10)
def non_max_suppression(ctx, boxes, scores, max_output=None, iou_threshold=None, score_threshold=None):
    center = ctx.attr("center_point_box", 0) == 1
    max_output = 0 if max_output is None or max_output.size == 0 else int(max_output.reshape(-1)[0])
    iou_threshold = 0.0 if iou_threshold is None or iou_threshold.size == 0 else float(iou_threshold.reshape(-1)[0])
    has_score_threshold = score_threshold is not None and score_threshold.size > 0
    threshold = float(score_threshold.reshape(-1)[0]) if has_score_threshold else None
    selected = []
    for b in range(scores.shape[0]):
        for c in range(scores.shape[1]):
            s = scores[b, c]
            candidates = np.argsort(-s, kind="stable")
            if threshold is not None:
                candidates = candidates[s[candidates] > threshold]
            keep: list[int] = []
            # greedy by nature: one pass per kept box, suppression vectorized over the rest
            while candidates.size and len(keep) < max_output:
                best = candidates[0]
                keep.append(int(best))
                rest = candidates[1:]
                if rest.size:
                    rest = rest[_iou(boxes[b, best], boxes[b, rest], center) <= iou_threshold]
                candidates = rest
            selected.extend((b, c, k) for k in keep)
    return np.array(selected, dtype=np.int64).reshape(-1, 3)


@op("Det", since=11)
def det(ctx, x):
    # numpy's linalg has no float16 loop: half precision is computed in float32 and rounded once
    return np.linalg.det(x.astype(np.float32) if x.dtype == np.float16 else x).astype(x.dtype)


def _nll(log_prob, target, weight, reduction, ignore_index):
    """Negative log-likelihood over axis 1 of log_prob (N, C, d1, ...)."""
    target = target.astype(np.int64)
    ignored = target == ignore_index if ignore_index is not None else np.zeros(target.shape, dtype=bool)
    safe = np.where(ignored, 0, target)
    picked = np.take_along_axis(log_prob, np.expand_dims(safe, 1), axis=1)[:, 0]
    w = np.ones(target.shape, dtype=log_prob.dtype) if weight is None else weight[safe]
    w = np.where(ignored, 0, w).astype(log_prob.dtype)
    loss = -picked * w
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.array(loss.sum(), dtype=log_prob.dtype)
    total = w.sum()
    return np.array(loss.sum() / total if total else 0.0, dtype=log_prob.dtype)


@op("NegativeLogLikelihoodLoss", since=12)
def negative_log_likelihood_loss(ctx, log_prob, target, weight=None):
    return _nll(log_prob, target, weight, ctx.attr("reduction", "mean"), ctx.attr("ignore_index"))


@op("SoftmaxCrossEntropyLoss", since=12)
def softmax_cross_entropy_loss(ctx, scores, labels, weights=None):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_prob = (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))).astype(scores.dtype)
    loss = _nll(log_prob, labels, weights, ctx.attr("reduction", "mean"), ctx.attr("ignore_index"))
    return (loss, log_prob) if ctx.output_count > 1 else loss


@op("AffineGrid", since=20)
def affine_grid(ctx, theta, size):
    """Normalized sampling grid (N, *spatial, r) for GridSample from affine matrices theta."""
    spatial = [int(s) for s in size[2:]]
    align = ctx.attr("align_corners", 0)
    axes = []
    for n in spatial:
        if align:
            axes.append(np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1))
        else:
            axes.append((np.arange(n) * 2.0 + 1.0) / n - 1.0)
    # coordinates listed innermost first (x, y, z), then the homogeneous 1
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m for m in reversed(mesh)] + [np.ones_like(mesh[0])], axis=-1)
    grid = np.einsum("...k,nrk->n...r", base, theta.astype(np.float64))
    return grid.astype(theta.dtype)
