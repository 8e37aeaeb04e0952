"""Today's model families in Paddle (issue 19), run in the paddle worker. Imports paddle only.

Every builder is ``build_x(params, seed) -> Built``: weights from ``paddle.seed`` (never a
download), normalisation layers given non-trivial statistics, inputs from
``numpy.random.default_rng(seed)``. Models are NCHW / NCDHW and batch-first. Each is exported
once (``paddle.jit.save`` with ``None`` on the batch and spatial / sequence axes) and runs three
input sets: the traced sample at batch 2, then batch 1 at the same size and batch 4 at a size the
export never saw (``expected_shapes`` per set).

Sizes known only at run time are read with ``paddle.shape`` (a tensor), never ``Tensor.shape``
(-1 on a dynamic axis once ``paddle.jit.to_static`` traces the layer).
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from conformance.cases import Built
from suites.architectures.family_inputs import (DIFFUSION_SETS, SPEECH_SETS, diffusion_inputs, padded_bags, shape_sets,
                                               speech_inputs, subsampled_frames)
from suites.architectures.common import threshold
from suites.architectures.paddle_models import randomize_batchnorm, randomize_layernorm


def _randomize_norms(model: nn.Layer, seed: int) -> None:
    """GroupNorm affine parameters and BatchNorm3D statistics far from the identity (the shared
    ``randomize_batchnorm`` covers the 1D/2D batch norms only)."""
    rng = np.random.default_rng(seed ^ 0x6A0F)
    for layer in model.sublayers():
        if isinstance(layer, nn.BatchNorm3D):
            n = layer._mean.shape[0]
            layer._mean.set_value((rng.standard_normal(n) * 0.5).astype(np.float32))
            layer._variance.set_value(rng.uniform(0.5, 2.0, n).astype(np.float32))
            layer.weight.set_value(rng.uniform(0.5, 1.5, n).astype(np.float32))
            layer.bias.set_value((rng.standard_normal(n) * 0.2).astype(np.float32))
        if isinstance(layer, nn.GroupNorm):
            shape = tuple(layer.weight.shape)
            layer.weight.set_value(rng.uniform(0.5, 1.5, shape).astype(np.float32))
            layer.bias.set_value((rng.standard_normal(shape) * 0.2).astype(np.float32))


def _normal(std: float):
    return paddle.ParamAttr(initializer=nn.initializer.Normal(std=std))


# --------------------------------------------------------------------------------------------- ViT
class VisionTransformer(nn.Layer):
    """A small pre-norm ViT: patch-embedding Conv2D (kernel = stride = patch), class token, a
    positional table learnt on a ``grid`` x ``grid`` patch grid and resized bilinearly to the
    patch grid of the image at hand, ``nn.TransformerEncoder`` of pre-norm GELU layers with a
    final LayerNorm, a Linear head on the class token. Returns (logits, tokens)."""

    def __init__(self, patch: int, dim: int, heads: int, depth: int, mlp: int, classes: int, grid: int):
        super().__init__()
        self.dim = dim
        self.patch_embed = nn.Conv2D(3, dim, patch, stride=patch)
        self.cls = self.create_parameter([1, 1, dim], attr=_normal(0.5))
        self.cls_pos = self.create_parameter([1, 1, dim], attr=_normal(0.5))
        self.pos = self.create_parameter([1, dim, grid, grid], attr=_normal(0.5))
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation="gelu", attn_dropout=0.0,
                                           act_dropout=0.0, normalize_before=True)
        self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim))
        self.head = nn.Linear(dim, classes)

    def forward(self, image):
        x = self.patch_embed(image)                                     # (B, D, h, w)
        shape = paddle.shape(x)
        pos = F.interpolate(self.pos, size=shape[2:4], mode="bilinear", align_corners=False)
        tokens = (x + pos).flatten(2).transpose([0, 2, 1])              # (B, h*w, D)
        cls = paddle.expand(self.cls + self.cls_pos, [shape[0], 1, self.dim])
        tokens = self.encoder(paddle.concat([cls, tokens], axis=1))
        return self.head(tokens[:, 0]), tokens


def build_vit(params: dict, seed: int) -> Built:
    """params: image (traced size), patch, dim, heads, depth, mlp, classes, sets [[b, h, w]...]."""
    paddle.seed(seed)
    p = {"patch": 8, "dim": 32, "heads": 4, "depth": 2, "mlp": 64, "classes": 10, "image": 32, **params}
    model = VisionTransformer(p["patch"], p["dim"], p["heads"], p["depth"], p["mlp"], p["classes"],
                              p["image"] // p["patch"])
    randomize_layernorm(model, seed)
    model.eval()
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, [[2, p["image"], p["image"]], [1, p["image"], p["image"]], [4, 48, 40]])
    inputs = [[rng.uniform(-1.0, 1.0, (b, 3, h, w)).astype(np.float32)] for b, h, w in sets]
    shapes = [[(b, p["classes"]), (b, 1 + (h // p["patch"]) * (w // p["patch"]), p["dim"])] for b, h, w in sets]
    return Built(model=model, inputs=inputs[0], input_names=["image"], output_names=["logits", "tokens"],
                 dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}},
                 extra_inputs=inputs[1:], expected_shapes=shapes)


# --------------------------------------------------------------------------------------------- U-Net
class UNet(nn.Layer):
    """U-Net in 2D (Conv2D, BatchNorm2D, MaxPool2D, Conv2DTranspose) or 3D (Conv3D, GroupNorm,
    MaxPool3D, Conv3DTranspose): ``depth`` stages of two conv-norm-ReLU layers, a bottleneck,
    transposed-conv up-sampling concatenated with the skip of the same resolution, a 1x1 conv
    to ``classes`` logits."""

    def __init__(self, dims: int, base: int, depth: int, classes: int, in_channels: int, norm: str):
        super().__init__()
        three = dims == 3
        conv, up = (nn.Conv3D, nn.Conv3DTranspose) if three else (nn.Conv2D, nn.Conv2DTranspose)
        self.pool = nn.MaxPool3D(2) if three else nn.MaxPool2D(2)

        def block(cin, cout):
            layers = []
            for k in range(2):
                batch_norm = nn.BatchNorm3D(cout) if three else nn.BatchNorm2D(cout)
                layers += [conv(cin if k == 0 else cout, cout, 3, padding=1),
                           nn.GroupNorm(2, cout) if norm == "group" else batch_norm, nn.ReLU()]
            return nn.Sequential(*layers)

        widths = [base * 2 ** i for i in range(depth + 1)]
        self.down = nn.LayerList([block(in_channels if i == 0 else widths[i - 1], widths[i]) for i in range(depth)])
        self.bottleneck = block(widths[depth - 1], widths[depth])
        self.up = nn.LayerList([up(widths[i + 1], widths[i], 2, stride=2) for i in range(depth)])
        self.dec = nn.LayerList([block(2 * widths[i], widths[i]) for i in range(depth)])
        self.logits = conv(base, classes, 1)

    def forward(self, x):
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for i in reversed(range(len(self.up))):
            x = self.dec[i](paddle.concat([self.up[i](x), skips[i]], axis=1))
        return self.logits(x)


def build_unet(params: dict, seed: int) -> Built:
    """params: dims (2 | 3), norm (batch | group: GroupNorm with 2 groups, what 3D U-Nets use at
    batch 1-2), base, depth, classes, in_channels, sets [[batch, *spatial]...] (spatial sizes
    multiples of 2**depth)."""
    paddle.seed(seed)
    p = {"dims": 2, "norm": "batch", "base": 8, "depth": 2, "classes": 3, "in_channels": 3, **params}
    model = UNet(p["dims"], p["base"], p["depth"], p["classes"], p["in_channels"], p["norm"])
    randomize_batchnorm(model, seed)
    _randomize_norms(model, seed)
    model.eval()
    rng = np.random.default_rng(seed)
    default = ([[2, 16, 16, 16], [1, 16, 16, 16], [4, 8, 16, 24]] if p["dims"] == 3
               else [[2, 32, 32], [1, 32, 32], [4, 48, 40]])
    sets = shape_sets(p, default)
    inputs = [[rng.standard_normal((b, p["in_channels"], *spatial)).astype(np.float32)] for b, *spatial in sets]
    name = "volume" if p["dims"] == 3 else "image"
    axes = {0: "batch", **{2 + i: f"s{i}" for i in range(p["dims"])}}
    return Built(model=model, inputs=inputs[0], input_names=[name], output_names=["logits"],
                 dynamic_axes={name: axes}, extra_inputs=inputs[1:],
                 expected_shapes=[[(b, p["classes"], *spatial)] for b, *spatial in sets])


# --------------------------------------------------------------------------------------------- detection
class Detector(nn.Layer):
    """A single-stage detector: conv backbone (stride 8), a head giving per cell and anchor 4 box
    deltas and ``classes`` score logits, anchors over the run-time feature map (normalised
    (cx, cy, w, h), one per cell centre and anchor size), SSD-style decoding (variances 0.1 /
    0.2) to [x1, y1, x2, y2] clipped to [0, 1], then class-agnostic ``paddle.vision.ops.nms``
    on the best-class score.

    The batch is folded into one NMS call by shifting each image's boxes by 2 x its batch index
    (boxes of different images never overlap). ``nms`` takes no score threshold: the selected
    indices (sorted by descending score) whose score is not above ``score_threshold`` become -1,
    which equals thresholding first (a box under the threshold can only suppress lower-scored
    boxes, all under it too). The indices are padded with -1 to a fixed ``max_total`` (concat +
    slice) so every output has a fixed shape. Outputs: indices into the flattened (batch x
    anchors), boxes, scores (zeros in padded slots), valid count."""

    def __init__(self, width: int, anchors, classes: int, max_total: int, iou: float):
        super().__init__()
        self.sizes = [float(a) for a in anchors]
        self.classes, self.max_total, self.iou = classes, max_total, iou
        layers = []
        for cin, cout in zip([3, width // 2, width], [width // 2, width, width]):
            layers += [nn.Conv2D(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2D(cout), nn.ReLU()]
        self.backbone = nn.Sequential(*layers)
        self.box_head = nn.Conv2D(width, 4 * len(anchors), 3, padding=1)
        self.cls_head = nn.Conv2D(width, classes * len(anchors), 3, padding=1)

    def anchors(self, features):
        shape = paddle.shape(features)
        fh, fw = shape[2], shape[3]
        cy = (paddle.arange(fh).astype("float32") + 0.5) / fh.astype("float32")
        cx = (paddle.arange(fw).astype("float32") + 0.5) / fw.astype("float32")
        gy, gx = paddle.meshgrid(cy, cx)
        centres = paddle.stack([gx, gy], axis=-1).unsqueeze(2)                      # (fh, fw, 1, 2)
        centres = paddle.tile(centres, [1, 1, len(self.sizes), 1])
        wh = paddle.to_tensor(self.sizes, dtype="float32").unsqueeze(-1).tile([1, 2])  # (A, 2)
        wh = wh + paddle.zeros_like(centres)
        return paddle.concat([centres, wh], axis=-1).reshape([-1, 4])

    def scores_and_boxes(self, image):
        features = self.backbone(image)
        batch = paddle.shape(image)[0]
        anchors = self.anchors(features)
        deltas = self.box_head(features).transpose([0, 2, 3, 1]).reshape([batch, -1, 4])
        logits = self.cls_head(features).transpose([0, 2, 3, 1]).reshape([batch, -1, self.classes])
        cx = anchors[:, 0] + deltas[:, :, 0] * 0.1 * anchors[:, 2]
        cy = anchors[:, 1] + deltas[:, :, 1] * 0.1 * anchors[:, 3]
        w = anchors[:, 2] * paddle.exp(deltas[:, :, 2] * 0.2)
        h = anchors[:, 3] * paddle.exp(deltas[:, :, 3] * 0.2)
        boxes = paddle.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1).clip(0.0, 1.0)
        return F.sigmoid(logits), boxes

    def forward(self, image, score_threshold):
        scores, boxes = self.scores_and_boxes(image)
        batch = paddle.shape(image)[0]
        offsets = 2.0 * paddle.arange(batch).astype("float32").reshape([-1, 1, 1])
        flat_boxes = boxes.reshape([-1, 4])
        flat_scores = scores.max(axis=-1).reshape([-1])
        keep = paddle.vision.ops.nms((boxes + offsets).reshape([-1, 4]), self.iou, flat_scores)
        keep = paddle.where(paddle.gather(flat_scores, keep) > score_threshold, keep, paddle.full_like(keep, -1))
        padded = paddle.concat([keep, paddle.full([self.max_total], -1, dtype=keep.dtype)])[:self.max_total]
        safe = padded.clip(min=0)
        real = (padded >= 0).astype("float32")
        valid = real.sum().astype("int64")
        return padded, paddle.gather(flat_boxes, safe) * real.unsqueeze(-1), paddle.gather(flat_scores, safe) * real, \
            valid


class MulticlassDetector(Detector):
    """The same detector ending in PaddleDetection's post-processing, ``multiclass_nms3`` (the
    kernel ``ppdet.modeling.ops.multiclass_nms`` calls through ``paddle._C_ops``; paddle2onnx
    maps it, unlike ``paddle.vision.ops.nms``): per-class NMS, ``keep_top_k`` per image, rows
    [label, score, x1, y1, x2, y2] and a per-image count; ``nms_top_k`` candidates per class
    enter NMS (-1: all, Paddle's "no limit"). Its score threshold is an attribute,
    not a tensor. The rows (data-dependent count) are sorted by descending score, then padded with
    -1 rows to a fixed ``max_total`` (concat + slice)."""

    def forward(self, image):
        scores, boxes = self.scores_and_boxes(image)
        out, _, counts = paddle._C_ops.multiclass_nms3(boxes, scores.transpose([0, 2, 1]), None, self.score,
                                                      self.nms_top_k, self.keep_top_k, self.iou, True, 1.0, -1)
        out = paddle.gather(out, paddle.argsort(out[:, 1], descending=True))
        padded = paddle.concat([out, paddle.full([self.max_total, 6], -1.0, dtype=out.dtype)])[:self.max_total]
        return padded, counts


def build_detector(params: dict, seed: int) -> Built:
    """params: classes, anchors (sizes), width, max_total, iou, score_quantile, sets [[b, h, w]...].

    Inputs: the image and the score threshold (shape (1,)), calibrated on the traced sample (the
    ``score_quantile`` quantile of its best-class scores); a fourth set asks for 1.0, which no
    sigmoid score exceeds (nothing selected: all padding)."""
    paddle.seed(seed)
    p = {"nms": "nms", "classes": 3, "anchors": [0.15, 0.3], "width": 16, "max_total": 32, "iou": 0.5,
         "score_quantile": 0.9, "keep_top_k": 8, "nms_top_k": 64, **params}
    multiclass = p["nms"] == "multiclass_nms3"
    model = (MulticlassDetector if multiclass else Detector)(p["width"], p["anchors"], p["classes"], p["max_total"],
                                                             p["iou"])
    randomize_batchnorm(model, seed)
    model.eval()
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, [[2, 64, 64], [1, 64, 64], [4, 48, 80]])
    images = [rng.uniform(-1.0, 1.0, (b, 3, h, w)).astype(np.float32) for b, h, w in sets]
    with paddle.no_grad():
        scores, _ = model.scores_and_boxes(paddle.to_tensor(images[0]))
    level = threshold(round(float(np.quantile(scores.numpy().max(axis=-1), p["score_quantile"])), 4))
    k = p["max_total"]
    if multiclass:
        model.score, model.keep_top_k, model.nms_top_k = float(level[0]), p["keep_top_k"], p["nms_top_k"]
        return Built(model=model, inputs=[images[0]], input_names=["image"], output_names=["detections", "counts"],
                     dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}},
                     extra_inputs=[[im] for im in images[1:]],
                     expected_shapes=[[(k, 6), (b,)] for b, _, _ in sets])
    inputs = [[im, level] for im in images] + [[images[0], threshold(1.0)]]
    return Built(model=model, inputs=inputs[0], input_names=["image", "score_threshold"],
                 output_names=["indices", "boxes", "scores", "valid"],
                 dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}}, extra_inputs=inputs[1:],
                 expected_shapes=[[(k,), (k, 4), (k,), ()] for _ in inputs])


# --------------------------------------------------------------------------------------------- DLRM
class DLRM(nn.Layer):
    """DLRM-style recommender: a bottom MLP on dense features, embedding bags, the pairwise dot
    interaction (strict upper triangle of X X^T, row-major), a top MLP to one click logit.

    ``bags="padded"``: indices (batch, tables, length) padded, lengths (batch, tables); each
    table's rows past the bag's length are masked, then summed or averaged (an empty bag's mean
    is zero: the denominator is clamped at one).
    ``bags="segment"``: the ragged form, as TorchRec / FBGEMM batch them: all tables share one
    concatenated embedding (``offsets`` shift each table's ids), the indices are one flat vector
    with a sorted bag id per entry (bag = sample * tables + table), reduced with
    ``paddle.geometric.segment_sum`` / ``segment_mean``; bags missing at the end of the
    segments are padded with zeros to batch x tables."""

    def __init__(self, dense: int, dim: int, vocab, modes, bottom, top, bags: str):
        super().__init__()
        self.dim, self.tables, self.bags = dim, len(vocab), bags
        widths = [dense] + list(bottom) + [dim]
        self.bottom = nn.Sequential(*[m for a, b in zip(widths[:-1], widths[1:]) for m in (nn.Linear(a, b), nn.ReLU())])
        if bags == "padded":
            self.embeddings = nn.LayerList([nn.Embedding(v, dim, weight_attr=_normal(0.5)) for v in vocab])
        else:
            self.table = nn.Embedding(sum(vocab), dim, weight_attr=_normal(0.5))
        f = len(vocab) + 1
        rows, cols = np.triu_indices(f, k=1)
        self.pairs = (rows * f + cols).tolist()
        self.is_mean = [m == "mean" for m in modes]
        widths = [dim + len(self.pairs)] + list(top)
        self.top = nn.Sequential(*[m for a, b in zip(widths[:-1], widths[1:]) for m in (nn.Linear(a, b), nn.ReLU())],
                                 nn.Linear(widths[-1], 1))

    def padded_bags(self, indices, lengths):
        positions = paddle.arange(paddle.shape(indices)[2]).astype(lengths.dtype)
        mask = (positions.reshape([1, 1, -1]) < lengths.unsqueeze(-1)).astype("float32")   # (B, T, L)
        pooled = []
        for t, table in enumerate(self.embeddings):
            total = (table(indices[:, t, :]) * mask[:, t, :].unsqueeze(-1)).sum(axis=1)
            if self.is_mean[t]:
                total = total / lengths[:, t].astype("float32").clip(min=1.0).unsqueeze(-1)
            pooled.append(total)
        return pooled

    def segment_bags(self, indices, bag_ids, batch):
        rows = self.table(indices)
        count = batch * self.tables
        sums = paddle.geometric.segment_sum(rows, bag_ids)
        means = paddle.geometric.segment_mean(rows, bag_ids)
        missing = count - paddle.shape(sums)[0]
        zeros = paddle.zeros(paddle.concat([missing.reshape([1]), paddle.to_tensor([self.dim])]), dtype=rows.dtype)
        pooled = []
        for t in range(self.tables):
            table = paddle.concat([means if self.is_mean[t] else sums, zeros], axis=0).reshape([-1, self.tables,
                                                                                               self.dim])
            pooled.append(table[:, t, :])
        return pooled

    def forward(self, dense, indices, lengths_or_bags):
        h = self.bottom(dense)
        if self.bags == "padded":
            pooled = self.padded_bags(indices, lengths_or_bags)
        else:
            pooled = self.segment_bags(indices, lengths_or_bags, paddle.shape(dense)[0])
        x = paddle.stack([h] + pooled, axis=1)                                 # (B, F, D)
        z = paddle.matmul(x, x, transpose_y=True).flatten(1)
        pairs = paddle.gather(z, paddle.to_tensor(self.pairs, dtype="int64"), axis=1)
        return self.top(paddle.concat([h, pairs], axis=1))


def build_dlrm(params: dict, seed: int) -> Built:
    """params: bags (padded | segment), dense, dim, vocab [sizes], modes (sum | mean per table),
    bottom, top, sets [[batch, length]...] (the padded length; bag lengths run from 0 -- an empty
    bag in every set -- to it)."""
    paddle.seed(seed)
    p = {"bags": "padded", "dense": 8, "dim": 8, "vocab": [20, 30, 50], "modes": ["sum", "mean", "sum"],
         "bottom": [16], "top": [16], **params}
    model = DLRM(p["dense"], p["dim"], p["vocab"], p["modes"], p["bottom"], p["top"], p["bags"])
    model.eval()
    t = len(p["vocab"])
    offsets = np.cumsum([0] + p["vocab"][:-1])
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, [[2, 5], [1, 5], [4, 9]])
    inputs = []
    for b, length in sets:
        dense, idx, lengths = padded_bags(rng, p, b, length)      # an empty and a full bag in every set
        if p["bags"] == "padded":
            inputs.append([dense, idx, lengths])
            continue
        # ragged: the kept entries of every bag in (sample, table) order, ids shifted per table
        flat, bag_ids = [], []
        for i in range(b):
            for k in range(t):
                flat += list(idx[i, k, :lengths[i, k]] + offsets[k])
                bag_ids += [i * t + k] * int(lengths[i, k])
        inputs.append([dense, np.array(flat, np.int64), np.array(bag_ids, np.int64)])
    if p["bags"] == "padded":
        names, axes = ["dense", "indices", "lengths"], {"indices": {0: "batch", 2: "length"}, "lengths": {0: "batch"}}
    else:
        names, axes = ["dense", "indices", "bag_ids"], {"indices": {0: "entries"}, "bag_ids": {0: "entries"}}
    return Built(model=model, inputs=inputs[0], input_names=names, output_names=["click"],
                 dynamic_axes={"dense": {0: "batch"}, **axes}, extra_inputs=inputs[1:],
                 expected_shapes=[[(b, 1)] for b, _ in sets])


# --------------------------------------------------------------------------------------------- speech
def sinusoidal_table(length: int, dim: int) -> np.ndarray:
    """(length, dim) [sin | cos] position table, as torch's encoder builds it."""
    positions = np.arange(length, dtype=np.float64)[:, None]
    inv = np.exp(-np.log(10000.0) * np.arange(0, dim, 2) / dim)
    return np.concatenate([np.sin(positions * inv), np.cos(positions * inv)], 1).astype(np.float32)


class FeedForward(nn.Layer):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.Silu(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.net(x)


class ConvModule(nn.Layer):
    """Conformer convolution module on (B, T, D): pointwise conv to 2x channels, GLU, (padded
    frames zeroed), depthwise conv, BatchNorm1D, SiLU, pointwise conv."""

    def __init__(self, dim: int, kernel: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.pw1 = nn.Conv1D(dim, 2 * dim, 1)
        self.dw = nn.Conv1D(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.bn = nn.BatchNorm1D(dim)
        self.pw2 = nn.Conv1D(dim, dim, 1)

    def forward(self, x, frame_mask=None):
        y = F.glu(self.pw1(self.norm(x).transpose([0, 2, 1])), axis=1)
        if frame_mask is not None:
            y = y * frame_mask.unsqueeze(1).astype(y.dtype)
        return self.pw2(F.silu(self.bn(self.dw(y)))).transpose([0, 2, 1])


class ConformerBlock(nn.Layer):
    def __init__(self, dim: int, heads: int, ffn: int, kernel: int):
        super().__init__()
        self.ff1, self.ff2 = FeedForward(dim, ffn), FeedForward(dim, ffn)
        self.ln_attn = nn.LayerNorm(dim)
        self.attn = nn.MultiHeadAttention(dim, heads)
        self.conv = ConvModule(dim, kernel)
        self.ln_out = nn.LayerNorm(dim)

    def forward(self, x, frame_mask=None):
        x = x + 0.5 * self.ff1(x)
        h = self.ln_attn(x)
        key_mask = None if frame_mask is None else frame_mask.unsqueeze([1, 2])     # (B, 1, 1, T): True = keep
        x = x + self.attn(h, h, h, attn_mask=key_mask)
        x = x + self.conv(x, frame_mask)
        return self.ln_out(x + 0.5 * self.ff2(x))


class SpeechEncoder(nn.Layer):
    """Conformer / Whisper-style encoder on log-mel features (B, T, mels), as
    ``families_torch.SpeechEncoder``: two Conv1D with stride 2 (time subsampled 4x) and GELU, a
    sinusoidal position table sliced to the subsampled length in the graph, Conformer blocks
    (half-step feed-forwards, nn.MultiHeadAttention, depthwise-conv module with GLU), (B, T', D)
    out. ``lengths`` (B,) int64 frames per utterance mask attention keys, the conv module's
    input and the output."""

    def __init__(self, mels: int, dim: int, heads: int, ffn: int, kernel: int, blocks: int, max_len: int = 256):
        super().__init__()
        self.sub1 = nn.Conv1D(mels, dim, 3, stride=2, padding=1)
        self.sub2 = nn.Conv1D(dim, dim, 3, stride=2, padding=1)
        self.register_buffer("positions", paddle.to_tensor(sinusoidal_table(max_len, dim)))
        self.blocks = nn.LayerList([ConformerBlock(dim, heads, ffn, kernel) for _ in range(blocks)])

    def forward(self, features, lengths=None):
        x = F.gelu(self.sub2(F.gelu(self.sub1(features.transpose([0, 2, 1]))))).transpose([0, 2, 1])
        frames = paddle.shape(x)[1]
        x = x + self.positions[:frames]
        mask = None
        if lengths is not None:
            kept = (lengths - 1) // 2 // 2 + 1
            mask = paddle.arange(frames).astype(lengths.dtype).unsqueeze(0) < kept.unsqueeze(1)
        for block in self.blocks:
            x = block(x, mask)
        return x if mask is None else x * mask.unsqueeze(-1).astype(x.dtype)


def build_speech_encoder(params: dict, seed: int) -> Built:
    """params: mels, dim, heads, ffn, kernel, blocks, lengths (a second input of per-utterance
    frame counts), sets [[batch, frames]...]."""
    paddle.seed(seed)
    p = {"mels": 16, "dim": 32, "heads": 4, "ffn": 64, "kernel": 7, "blocks": 2, **params}
    model = SpeechEncoder(p["mels"], p["dim"], p["heads"], p["ffn"], p["kernel"], p["blocks"])
    randomize_batchnorm(model, seed)
    randomize_layernorm(model, seed)
    model.eval()
    sets = shape_sets(p, SPEECH_SETS)
    inputs = speech_inputs(np.random.default_rng(seed), sets, p["mels"], p.get("lengths", False))
    names = ["features", "lengths"][:len(inputs[0])]
    axes = {"features": {0: "batch", 1: "frames"}, "lengths": {0: "batch"}}
    return Built(model=model, inputs=inputs[0], input_names=names, output_names=["encoded"],
                 dynamic_axes={n: axes[n] for n in names}, extra_inputs=inputs[1:],
                 expected_shapes=[[(b, subsampled_frames(t), p["dim"])] for b, t in sets])


# --------------------------------------------------------------------------------------------- diffusion
def timestep_embedding(t, dim: int):
    """Sinusoidal embedding of float timesteps (B,) -> (B, dim) [cos | sin], in the graph."""
    half = dim // 2
    freqs = paddle.exp(paddle.arange(half, dtype="float32") * (-np.log(10000.0) / half))
    args = t.unsqueeze(1) * freqs.unsqueeze(0)
    return paddle.concat([paddle.cos(args), paddle.sin(args)], axis=-1)


class WrittenOutGroupNorm(nn.GroupNorm):
    """nn.GroupNorm's parameters and semantics (NCHW), its forward written out with reshape,
    mean and variance: paddle2onnx 2.1 maps group_norm to InstanceNormalization with an
    uninitialised epsilon (a known failure, see suites/known_failures.toml), so the diffusion
    block's other layers are tested with this one as well."""

    def forward(self, x):
        groups = x.reshape([0, self._num_groups, -1])
        centred = groups - groups.mean(axis=-1, keepdim=True)
        variance = (centred * centred).mean(axis=-1, keepdim=True)
        y = (centred / paddle.sqrt(variance + self._epsilon)).reshape(paddle.shape(x))
        return y * self.weight.reshape([1, -1, 1, 1]) + self.bias.reshape([1, -1, 1, 1])


GROUP_NORMS = {"nn": nn.GroupNorm, "written-out": WrittenOutGroupNorm}


class ResBlock(nn.Layer):
    def __init__(self, cin: int, cout: int, emb: int, groups: int, norm=nn.GroupNorm):
        super().__init__()
        self.norm1, self.conv1 = norm(groups, cin), nn.Conv2D(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, cout)
        self.norm2, self.conv2 = norm(groups, cout), nn.Conv2D(cout, cout, 3, padding=1)
        self.skip = nn.Identity() if cin == cout else nn.Conv2D(cin, cout, 1)

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb)).unsqueeze([2, 3])
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class SpatialTransformer(nn.Layer):
    """Stable-Diffusion-style: GroupNorm, 1x1 in, self-attention, cross-attention to the context
    (nn.MultiHeadAttention with kdim/vdim), GEGLU feed-forward (each pre-LayerNorm, residual),
    1x1 out, residual."""

    def __init__(self, channels: int, heads: int, context_dim: int, groups: int, norm=nn.GroupNorm):
        super().__init__()
        self.norm, self.proj_in = norm(groups, channels), nn.Conv2D(channels, channels, 1)
        self.ln1, self.self_attn = nn.LayerNorm(channels), nn.MultiHeadAttention(channels, heads)
        self.ln2 = nn.LayerNorm(channels)
        self.cross_attn = nn.MultiHeadAttention(channels, heads, kdim=context_dim, vdim=context_dim)
        self.ln3 = nn.LayerNorm(channels)
        self.ff_in, self.ff_out = nn.Linear(channels, 8 * channels), nn.Linear(4 * channels, channels)
        self.proj_out = nn.Conv2D(channels, channels, 1)

    def forward(self, x, context):
        t = self.proj_in(self.norm(x)).flatten(2).transpose([0, 2, 1])         # (B, HW, C)
        h = self.ln1(t)
        t = t + self.self_attn(h, h, h)
        t = t + self.cross_attn(self.ln2(t), context, context)
        value, gate = self.ff_in(self.ln3(t)).chunk(2, axis=-1)
        t = t + self.ff_out(value * F.gelu(gate))
        return x + self.proj_out(t.transpose([0, 2, 1]).reshape(paddle.shape(x)))


class DiffusionUNetBlock(nn.Layer):
    """A one-level diffusion U-Net, as ``families_torch.DiffusionUNetBlock``: in conv, ResBlock +
    SpatialTransformer, stride-2 conv down, ResBlock + SpatialTransformer in the middle, nearest
    2x up, skip concatenation, ResBlock, GroupNorm/SiLU/out conv; the timestep embedding
    (sinusoidal, then an MLP) feeds every ResBlock. Predicts noise of the input's shape.

    ``upsample``: "size" (F.interpolate to twice the run-time size) or "scale_factor"
    (F.interpolate(scale_factor=2.0), which paddle2onnx 2.1 cannot convert: a known failure).
    ``norm``: the GroupNorm class (``GROUP_NORMS``)."""

    def __init__(self, cin: int, ch: int, heads: int, context_dim: int, groups: int, upsample: str, norm):
        super().__init__()
        emb = 4 * ch
        self.ch, self.upsample = ch, upsample
        self.time_mlp = nn.Sequential(nn.Linear(ch, emb), nn.Silu(), nn.Linear(emb, emb))
        self.conv_in = nn.Conv2D(cin, ch, 3, padding=1)
        self.res1 = ResBlock(ch, ch, emb, groups, norm)
        self.attn1 = SpatialTransformer(ch, heads, context_dim, groups, norm)
        self.down = nn.Conv2D(ch, ch, 3, stride=2, padding=1)
        self.res_mid = ResBlock(ch, 2 * ch, emb, groups, norm)
        self.attn_mid = SpatialTransformer(2 * ch, heads, context_dim, groups, norm)
        self.up = nn.Conv2D(2 * ch, ch, 3, padding=1)
        self.res_out = ResBlock(2 * ch, ch, emb, groups, norm)
        self.norm_out, self.conv_out = norm(groups, ch), nn.Conv2D(ch, cin, 3, padding=1)

    def forward(self, sample, timestep, context):
        emb = self.time_mlp(timestep_embedding(timestep, self.ch))
        h1 = self.attn1(self.res1(self.conv_in(sample), emb), context)
        h = self.attn_mid(self.res_mid(self.down(h1), emb), context)
        if self.upsample == "scale_factor":
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        else:
            h = F.interpolate(h, size=paddle.shape(h)[2:4] * 2, mode="nearest")
        h = self.up(h)
        h = self.res_out(paddle.concat([h, h1], axis=1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))


def build_diffusion_block(params: dict, seed: int) -> Built:
    """params: cin, ch, heads, context_dim, groups, upsample (size | scale_factor), group_norm
    (nn | written-out), sets [[batch, h, w, context tokens]...] (h and w even)."""
    paddle.seed(seed)
    p = {"cin": 4, "ch": 16, "heads": 2, "context_dim": 24, "groups": 4, "upsample": "size", "group_norm": "nn",
         **params}
    model = DiffusionUNetBlock(p["cin"], p["ch"], p["heads"], p["context_dim"], p["groups"], p["upsample"],
                               GROUP_NORMS[p["group_norm"]])
    randomize_layernorm(model, seed)
    _randomize_norms(model, seed)
    model.eval()
    sets = shape_sets(p, DIFFUSION_SETS)
    inputs = diffusion_inputs(np.random.default_rng(seed), sets, p["cin"], p["context_dim"])
    return Built(model=model, inputs=inputs[0], input_names=["sample", "timestep", "context"], output_names=["noise"],
                 dynamic_axes={"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                               "context": {0: "batch", 1: "context_len"}},
                 extra_inputs=inputs[1:], expected_shapes=[[(b, p["cin"], h, w)] for b, h, w, _ in sets])
