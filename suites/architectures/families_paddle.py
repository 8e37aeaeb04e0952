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
from suites.architectures.family_inputs import padded_bags, shape_sets
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
