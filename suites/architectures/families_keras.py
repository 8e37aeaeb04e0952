"""Today's model families in TF/Keras 3 (issue 19), run in the tensorflow worker. Imports keras
and tensorflow only.

Every builder is ``build_x(params, seed) -> Built``: weights from ``keras.utils.set_random_seed``
(never a download), normalisation layers given non-trivial statistics, inputs from
``numpy.random.default_rng(seed)``. Models are channels-last (NHWC / NDHWC) and batch-first.
Each is converted once with its batch and spatial / sequence axes dynamic and runs three input
sets: the traced sample at batch 2, then batch 1 at the same size and batch 4 at a size the
export never saw (``expected_shapes`` per set).

Custom layers call TensorFlow directly (the Keras backend here is TensorFlow) where a size is
only known at run time (an interpolated positional table, anchors over the feature map, a bag
mask over the padded length).
"""
from __future__ import annotations

import numpy as np
import keras
import tensorflow as tf

from conformance.cases import Built
from suites.architectures.family_inputs import (DIFFUSION_SETS, SPEECH_SETS, diffusion_inputs, padded_bags, shape_sets,
                                               speech_inputs, subsampled_frames)
from suites.architectures.keras_models import _all_layers, randomize_batchnorm, randomize_layernorm


def _randomize_groupnorm(model, seed: int) -> None:
    rng = np.random.default_rng(seed ^ 0x6A0F)
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.GroupNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, tuple(w.shape)).astype(np.float32) if "gamma" in w.path
                               else (rng.standard_normal(tuple(w.shape)) * 0.2).astype(np.float32)
                               for w in layer.weights])


# --------------------------------------------------------------------------------------------- ViT
class ClassTokenPositions(keras.layers.Layer):
    """Adds a positional table learnt on a ``grid`` x ``grid`` patch grid, resized bilinearly to
    the patch grid of the image at hand (as ViTs run at other resolutions), flattens the grid to
    a token sequence and prepends the class token (with its own position)."""

    def __init__(self, grid: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.grid, self.dim = grid, dim

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=0.5)
        self.cls = self.add_weight(shape=(1, 1, self.dim), initializer=init, name="cls")
        self.cls_pos = self.add_weight(shape=(1, 1, self.dim), initializer=init, name="cls_pos")
        self.pos = self.add_weight(shape=(1, self.grid, self.grid, self.dim), initializer=init, name="pos")

    def call(self, patches):
        shape = tf.shape(patches)
        pos = tf.image.resize(self.pos, shape[1:3], method="bilinear")
        tokens = tf.reshape(patches + pos, [shape[0], shape[1] * shape[2], self.dim])
        cls = tf.tile(self.cls + self.cls_pos, [shape[0], 1, 1])
        return tf.concat([cls, tokens], axis=1)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


def build_vit(params: dict, seed: int) -> Built:
    """A small pre-norm vision transformer: a patch-embedding Conv2D (kernel = stride = patch),
    the class token and an interpolated positional embedding, ``depth`` blocks of
    LayerNormalization -> MultiHeadAttention -> residual, LayerNormalization -> GELU MLP ->
    residual, a final LayerNormalization and a Dense head on the class token.

    params: image (traced size), patch, dim, heads, depth, mlp, classes, sets [[batch, h, w]...].
    Outputs: logits (batch, classes) and the tokens (batch, 1 + h/patch * w/patch, dim)."""
    keras.utils.set_random_seed(seed)
    p = {"patch": 8, "dim": 32, "heads": 4, "depth": 2, "mlp": 64, "classes": 10, "image": 32, **params}
    image = keras.Input((None, None, 3), name="image")
    patches = keras.layers.Conv2D(p["dim"], p["patch"], strides=p["patch"], name="patch_embed")(image)
    x = ClassTokenPositions(p["image"] // p["patch"], p["dim"], name="cls_pos")(patches)
    for i in range(p["depth"]):
        h = keras.layers.LayerNormalization(epsilon=1e-6, name=f"ln{i}a")(x)
        h = keras.layers.MultiHeadAttention(p["heads"], p["dim"] // p["heads"], name=f"mha{i}")(h, h)
        x = keras.layers.Add(name=f"res{i}a")([x, h])
        h = keras.layers.LayerNormalization(epsilon=1e-6, name=f"ln{i}b")(x)
        # tanh-approximate GELU: the exact one lowers to TF Erfc, which tf2onnx 1.17 cannot
        # convert (known: arch/transformer/tensorflow/*gelu*); this case tests everything else
        h = keras.layers.Dense(p["mlp"], activation=_gelu_tanh, name=f"mlp{i}a")(h)
        h = keras.layers.Dense(p["dim"], name=f"mlp{i}b")(h)
        x = keras.layers.Add(name=f"res{i}b")([x, h])
    tokens = keras.layers.LayerNormalization(epsilon=1e-6, name="ln_final")(x)
    logits = keras.layers.Dense(p["classes"], name="head")(tokens[:, 0])
    model = keras.Model(image, [logits, tokens], name="vit")
    randomize_layernorm(model, seed)
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, [[2, p["image"], p["image"]], [1, p["image"], p["image"]], [4, 48, 40]])
    inputs = [[rng.uniform(-1.0, 1.0, (b, hh, ww, 3)).astype(np.float32)] for b, hh, ww in sets]
    shapes = [[(b, p["classes"]), (b, 1 + (hh // p["patch"]) * (ww // p["patch"]), p["dim"])] for b, hh, ww in sets]
    return Built(model=model, inputs=inputs[0], input_names=["image"], output_names=["logits", "tokens"],
                 dynamic_axes={"image": {0: "batch", 1: "height", 2: "width"}},
                 extra_inputs=inputs[1:], expected_shapes=shapes)


# --------------------------------------------------------------------------------------------- U-Net
def build_unet(params: dict, seed: int) -> Built:
    """A U-Net in 2D (Conv2D, BatchNormalization, MaxPooling2D, Conv2DTranspose) or 3D (Conv3D,
    GroupNormalization, MaxPooling3D, Conv3DTranspose): ``depth`` down-sampling stages of two
    conv-norm-ReLU layers, a bottleneck, transposed-conv up-sampling concatenated with the skip of
    the same resolution, and a 1x1 conv to ``classes`` logits per pixel / voxel.

    params: dims (2 | 3), base (channels of the first stage), depth, classes, in_channels,
    sets [[batch, *spatial]...] (spatial sizes multiples of 2**depth)."""
    keras.utils.set_random_seed(seed)
    p = {"dims": 2, "base": 8, "depth": 2, "classes": 3, "in_channels": 3, **params}
    three = p["dims"] == 3
    conv = keras.layers.Conv3D if three else keras.layers.Conv2D
    up = keras.layers.Conv3DTranspose if three else keras.layers.Conv2DTranspose
    pool = keras.layers.MaxPooling3D if three else keras.layers.MaxPooling2D

    def norm(name):
        # 3D U-Nets train at batch 1-2, hence GroupNorm there; the 2D one keeps BatchNorm
        return keras.layers.GroupNormalization(groups=2, epsilon=1e-5, name=name) if three \
            else keras.layers.BatchNormalization(epsilon=1e-5, name=name)

    def block(x, channels, name):
        for k in range(2):
            x = conv(channels, 3, padding="same", name=f"{name}_conv{k}")(x)
            x = norm(f"{name}_norm{k}")(x)
            x = keras.layers.ReLU(name=f"{name}_relu{k}")(x)
        return x

    x = inp = keras.Input((None,) * p["dims"] + (p["in_channels"],), name="volume" if three else "image")
    skips = []
    for level in range(p["depth"]):
        x = block(x, p["base"] * 2 ** level, f"down{level}")
        skips.append(x)
        x = pool(2, name=f"pool{level}")(x)
    x = block(x, p["base"] * 2 ** p["depth"], "bottleneck")
    for level in reversed(range(p["depth"])):
        x = up(p["base"] * 2 ** level, 2, strides=2, name=f"up{level}")(x)
        x = keras.layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = block(x, p["base"] * 2 ** level, f"dec{level}")
    out = conv(p["classes"], 1, name="logits")(x)
    model = keras.Model(inp, out, name=f"unet{p['dims']}d")
    randomize_batchnorm(model, seed)
    _randomize_groupnorm(model, seed)
    rng = np.random.default_rng(seed)
    default = ([[2, 16, 16, 16], [1, 16, 16, 16], [4, 8, 16, 24]] if three
               else [[2, 32, 32], [1, 32, 32], [4, 48, 40]])
    sets = shape_sets(p, default)
    inputs = [[rng.standard_normal((b, *spatial, p["in_channels"])).astype(np.float32)] for b, *spatial in sets]
    name = inp.name
    axes = {0: "batch", **{1 + i: f"s{i}" for i in range(p["dims"])}}
    return Built(model=model, inputs=inputs[0], input_names=[name], output_names=["logits"],
                 dynamic_axes={name: axes}, extra_inputs=inputs[1:],
                 expected_shapes=[[(b, *spatial, p["classes"])] for b, *spatial in sets])


# --------------------------------------------------------------------------------------------- detection
class GridAnchors(keras.layers.Layer):
    """Anchors over the (run-time sized) feature map, in normalised (cy, cx, h, w): one per
    cell centre and per anchor size. Returns (feature cells * anchors, 4)."""

    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = list(sizes)

    def call(self, features):
        shape = tf.shape(features)
        fh, fw = shape[1], shape[2]
        cy = (tf.cast(tf.range(fh), tf.float32) + 0.5) / tf.cast(fh, tf.float32)
        cx = (tf.cast(tf.range(fw), tf.float32) + 0.5) / tf.cast(fw, tf.float32)
        cy, cx = tf.meshgrid(cy, cx, indexing="ij")
        centres = tf.stack([cy, cx], axis=-1)[:, :, None, :]                       # (fh, fw, 1, 2)
        sizes = tf.constant(self.sizes, tf.float32)[:, None] * tf.ones([1, 2])     # (A, 2) square
        centres = tf.tile(centres, [1, 1, len(self.sizes), 1])
        wh = tf.broadcast_to(sizes, tf.shape(centres))
        return tf.reshape(tf.concat([centres, wh], axis=-1), [-1, 4])


class Detector(tf.Module):
    """A single-stage detector: a Keras conv backbone and head (per cell and anchor: 4 box
    deltas and ``classes`` score logits), SSD-style box decoding against the grid anchors (with
    the usual 0.1 / 0.2 variances), boxes clipped to [0, 1], then non-maximum suppression.

    ``nms="combined"``: ``tf.image.combined_non_max_suppression`` over the batch and classes
    (fixed-size outputs, padded by TensorFlow to ``max_total``): boxes, scores, classes, valid.
    ``nms="single"``: class-agnostic ``tf.image.non_max_suppression`` (one image's boxes, an
    index vector of data-dependent length). The batch is folded into one call by shifting each
    image's boxes by 2 x its batch index (boxes of different images never overlap: the
    "batched NMS by offsets" trick), and the selected flat indices are padded with -1 to a
    fixed ``max_total`` in-graph (concat with -1s, slice), so every output has a fixed shape and
    the comparison is exact on the indices; boxes and scores of padded slots are zeros. Outputs:
    indices (max_total,) into the flattened (batch x anchors), boxes, scores, valid count."""

    def __init__(self, net, anchors, nms: str, max_per_class: int, max_total: int, iou: float):
        super().__init__()
        self.net, self.anchors, self.nms = net, anchors, nms
        self.max_per_class, self.max_total, self.iou = max_per_class, max_total, iou

    def decode(self, deltas, anchors):
        cy = anchors[:, 0] + deltas[..., 0] * 0.1 * anchors[:, 2]
        cx = anchors[:, 1] + deltas[..., 1] * 0.1 * anchors[:, 3]
        h = anchors[:, 2] * tf.exp(deltas[..., 2] * 0.2)
        w = anchors[:, 3] * tf.exp(deltas[..., 3] * 0.2)
        boxes = tf.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], axis=-1)
        return tf.clip_by_value(boxes, 0.0, 1.0)

    def scores_and_boxes(self, image):
        features, deltas, logits = self.net(image, training=False)
        batch = tf.shape(image)[0]
        anchors = self.anchors(features)
        boxes = self.decode(tf.reshape(deltas, [batch, -1, 4]), anchors)          # (B, N, 4)
        scores = tf.sigmoid(tf.reshape(logits, [batch, tf.shape(boxes)[1], -1]))  # (B, N, C)
        return scores, boxes

    def __call__(self, image, score_threshold):
        scores, boxes = self.scores_and_boxes(image)
        batch = tf.shape(image)[0]
        if self.nms == "combined":
            out = tf.image.combined_non_max_suppression(
                boxes[:, :, None, :], scores, self.max_per_class, self.max_total, self.iou, score_threshold,
                clip_boxes=False)
            return out.nmsed_boxes, out.nmsed_scores, out.nmsed_classes, out.valid_detections
        offsets = 2.0 * tf.cast(tf.range(batch), tf.float32)[:, None, None]
        flat_scores = tf.reshape(tf.reduce_max(scores, axis=-1), [-1])      # class-agnostic: best class
        keep = tf.image.non_max_suppression(tf.reshape(boxes + offsets, [-1, 4]), flat_scores, self.max_total,
                                            self.iou, score_threshold)
        valid = tf.shape(keep)[0]
        padded = tf.concat([keep, -tf.ones([self.max_total], keep.dtype)], axis=0)[:self.max_total]
        safe = tf.maximum(padded, 0)
        real = tf.cast(padded >= 0, tf.float32)
        sel_boxes = tf.gather(tf.reshape(boxes, [-1, 4]), safe) * real[:, None]
        sel_scores = tf.gather(flat_scores, safe) * real
        return padded, sel_boxes, sel_scores, valid


def build_detector(params: dict, seed: int) -> Built:
    """params: nms (combined | single), classes, anchors (sizes), width, max_per_class,
    max_total, iou, score_quantile, sets [[batch, h, w]...] (multiples of 8: the head's stride).

    Inputs: the image and the score threshold (a 0-d float32, as deployments pass it). The
    threshold is calibrated on the traced sample: the ``score_quantile`` quantile of its
    (best-class) scores, so a fraction of the anchors pass whatever the seeded weights give.
    A fourth input set asks for threshold 1.0, which no sigmoid score exceeds: a detector that
    finds nothing (NonMaxSuppression selects zero boxes; the outputs are all padding)."""
    keras.utils.set_random_seed(seed)
    p = {"nms": "combined", "classes": 3, "anchors": [0.15, 0.3], "width": 16, "max_per_class": 8,
         "max_total": 16, "iou": 0.5, "score_quantile": 0.9, **params}
    a, c = len(p["anchors"]), p["classes"]
    image = keras.Input((None, None, 3), name="image")
    x = image
    for i, ch in enumerate([p["width"] // 2, p["width"], p["width"]]):
        x = keras.layers.Conv2D(ch, 3, strides=2, padding="same", name=f"backbone{i}")(x)
        x = keras.layers.BatchNormalization(epsilon=1e-5, name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
    deltas = keras.layers.Conv2D(a * 4, 3, padding="same", name="box_head")(x)
    logits = keras.layers.Conv2D(a * c, 3, padding="same", name="cls_head")(x)
    net = keras.Model(image, [x, deltas, logits], name="ssd_head")
    randomize_batchnorm(net, seed)
    model = Detector(net, GridAnchors(p["anchors"]), p["nms"], p["max_per_class"], p["max_total"], p["iou"])
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, [[2, 64, 64], [1, 64, 64], [4, 48, 80]])
    images = [rng.uniform(-1.0, 1.0, (b, h, w, 3)).astype(np.float32) for b, h, w in sets]
    scores, _ = model.scores_and_boxes(tf.convert_to_tensor(images[0]))
    best = scores.numpy().max(axis=-1) if p["nms"] == "single" else scores.numpy()
    threshold = np.array(round(float(np.quantile(best, p["score_quantile"])), 4), np.float32)
    inputs = [[im, threshold] for im in images] + [[images[0], np.array(1.0, np.float32)]]
    sets = sets + [sets[0]]
    k = p["max_total"]
    if p["nms"] == "combined":
        names = ["boxes", "scores", "classes", "valid"]
        shapes = [[(b, k, 4), (b, k), (b, k), (b,)] for b, _, _ in sets]
    else:
        names = ["indices", "boxes", "scores", "valid"]
        shapes = [[(k,), (k, 4), (k,), ()] for _ in sets]
    return Built(model=model, inputs=inputs[0], input_names=["image", "score_threshold"], output_names=names,
                 dynamic_axes={"image": {0: "batch", 1: "height", 2: "width"}},
                 extra_inputs=inputs[1:], expected_shapes=shapes)
# --------------------------------------------------------------------------------------------- DLRM
class EmbeddingBag(keras.layers.Layer):
    """An embedding bag over a padded index matrix (batch, length) and a lengths vector: the
    rows past each bag's length are masked out, then summed or averaged ("mean" of an empty bag
    is zero: the sum over a denominator clamped at one)."""

    def __init__(self, vocab: int, dim: int, mode: str, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.table = keras.layers.Embedding(vocab, dim, embeddings_initializer=keras.initializers.RandomNormal(
            stddev=0.5), name="table")

    def call(self, indices, lengths):
        rows = self.table(indices)                                                   # (B, L, D)
        positions = tf.range(tf.shape(indices)[1], dtype=lengths.dtype)
        mask = tf.cast(positions[None, :] < lengths[:, None], rows.dtype)            # (B, L)
        total = tf.reduce_sum(rows * mask[:, :, None], axis=1)
        if self.mode == "sum":
            return total
        return total / tf.maximum(tf.cast(lengths, rows.dtype), 1.0)[:, None]


class PairwiseDot(keras.layers.Layer):
    """DLRM's interaction: the dot products of every pair of feature vectors (the strict upper
    triangle of X X^T, in row-major order), concatenated after the dense features."""

    def call(self, dense, embedded):
        x = tf.stack([dense] + embedded, axis=1)                                     # (B, F, D)
        z = tf.matmul(x, x, transpose_b=True)
        f = len(embedded) + 1
        rows, cols = np.triu_indices(f, k=1)
        pairs = tf.gather(tf.reshape(z, [-1, f * f]), (rows * f + cols).astype(np.int32), axis=1)
        return tf.concat([dense, pairs], axis=1)


def build_dlrm(params: dict, seed: int) -> Built:
    """DLRM-style recommender: dense features through a bottom MLP; ``len(vocab)`` sparse
    features as embedding bags of padded indices (batch, tables, length) with per-bag lengths
    (batch, tables) pooled by ``modes`` (sum | mean per table); the pairwise dot interaction;
    a top MLP to one click logit.

    params: dense, dim, vocab [sizes], modes, bottom [widths], top [widths], sets
    [[batch, length]...]. Lengths run from 0 (an empty bag) to the padded length."""
    keras.utils.set_random_seed(seed)
    p = {"dense": 8, "dim": 8, "vocab": [20, 30, 50], "modes": ["sum", "mean", "sum"], "bottom": [16],
         "top": [16], **params}
    t = len(p["vocab"])
    dense_in = keras.Input((p["dense"],), name="dense")
    idx_in = keras.Input((t, None), dtype="int64", name="indices")
    len_in = keras.Input((t,), dtype="int64", name="lengths")
    h = dense_in
    for i, width in enumerate(p["bottom"] + [p["dim"]]):
        h = keras.layers.Dense(width, activation="relu", name=f"bottom{i}")(h)
    bags = [EmbeddingBag(v, p["dim"], m, name=f"bag{k}")(idx_in[:, k, :], len_in[:, k])
            for k, (v, m) in enumerate(zip(p["vocab"], p["modes"]))]
    z = PairwiseDot(name="interaction")(h, bags)
    for i, width in enumerate(p["top"]):
        z = keras.layers.Dense(width, activation="relu", name=f"top{i}")(z)
    logit = keras.layers.Dense(1, name="click")(z)
    model = keras.Model([dense_in, idx_in, len_in], logit, name="dlrm")
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, [[2, 5], [1, 5], [4, 9]])
    inputs = []
    for b, length in sets:
        dense, idx, lengths = padded_bags(rng, p, b, length)      # an empty and a full bag in every set
        inputs.append([dense, idx, lengths])
    return Built(model=model, inputs=inputs[0], input_names=["dense", "indices", "lengths"], output_names=["click"],
                 dynamic_axes={"dense": {0: "batch"}, "indices": {0: "batch", 2: "length"}, "lengths": {0: "batch"}},
                 extra_inputs=inputs[1:], expected_shapes=[[(b, 1)] for b, _ in sets])


# --------------------------------------------------------------------------------------------- speech
class SinusoidalPositions(keras.layers.Layer):
    """Adds a fixed sinusoidal table ([sin | cos] per position, as torch's encoder), sliced in the
    graph to the length of the sequence at hand."""

    def __init__(self, dim: int, max_len: int = 256, **kwargs):
        super().__init__(**kwargs)
        positions = np.arange(max_len, dtype=np.float64)[:, None]
        inv = np.exp(-np.log(10000.0) * np.arange(0, dim, 2) / dim)
        self.table = np.concatenate([np.sin(positions * inv), np.cos(positions * inv)], 1).astype(np.float32)

    def call(self, x):
        return x + tf.constant(self.table)[:tf.shape(x)[1]]


class FrameMask(keras.layers.Layer):
    """(batch, frames') float mask of the frames each utterance keeps after two stride-2
    subsampling convolutions: its ``lengths`` (batch,) become ((lengths - 1) // 2) // 2 + 1."""

    def call(self, lengths, x):
        kept = (lengths - 1) // 2 // 2 + 1
        return tf.cast(tf.range(tf.shape(x)[1], dtype=lengths.dtype)[None, :] < kept[:, None], x.dtype)


class KeyMask(keras.layers.Layer):
    """A frame mask (batch, keys) as MultiHeadAttention's boolean attention mask (batch,
    queries, keys): every query may attend to the kept keys only."""

    def call(self, mask):
        return tf.tile(mask[:, None, :] > 0.5, [1, tf.shape(mask)[1], 1])


def _feed_forward(x, p: dict, name: str):
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln")(x)
    h = keras.layers.Dense(p["ffn"], activation="silu", name=f"{name}_in")(h)
    return keras.layers.Dense(p["dim"], name=f"{name}_out")(h)


def _conv_module(x, mask, p: dict, name: str):
    """Conformer convolution module: pointwise conv to 2x channels, GLU, (padded frames zeroed),
    depthwise conv, BatchNormalization, SiLU, pointwise conv."""
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln")(x)
    h = keras.layers.Conv1D(2 * p["dim"], 1, name=f"{name}_pw1")(h)
    h = h[..., :p["dim"]] * keras.ops.sigmoid(h[..., p["dim"]:])
    if mask is not None:
        h = h * keras.ops.expand_dims(mask, -1)
    h = keras.layers.DepthwiseConv1D(p["kernel"], padding="same", name=f"{name}_dw")(h)
    h = keras.layers.BatchNormalization(epsilon=1e-5, name=f"{name}_bn")(h)
    return keras.layers.Conv1D(p["dim"], 1, name=f"{name}_pw2")(keras.ops.silu(h))


def _conformer_block(x, mask, p: dict, name: str):
    x = x + 0.5 * _feed_forward(x, p, f"{name}_ff1")
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln_attn")(x)
    attention_mask = None if mask is None else KeyMask(name=f"{name}_keys")(mask)
    x = x + keras.layers.MultiHeadAttention(p["heads"], p["dim"] // p["heads"], name=f"{name}_mha")(
        h, h, attention_mask=attention_mask)
    x = x + _conv_module(x, mask, p, f"{name}_conv")
    x = x + 0.5 * _feed_forward(x, p, f"{name}_ff2")
    return keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln_out")(x)


def build_speech_encoder(params: dict, seed: int) -> Built:
    """A Conformer / Whisper-style encoder on log-mel features (batch, frames, mels), as
    ``families_torch.SpeechEncoder``: two stride-2 Conv1D ("same" padding, time subsampled 4x)
    with GELU, a sinusoidal position table sliced to the subsampled length in the graph,
    Conformer blocks (half-step SiLU feed-forwards, MultiHeadAttention, a depthwise-conv module
    with GLU and BatchNormalization), (batch, frames', dim) out.

    params: mels, dim, heads, ffn, kernel, blocks, lengths (a second input, frames per
    utterance: masks the attention keys, the conv module's input and the output), sets
    [[batch, frames]...]. GELU is tanh-approximate (see ``build_vit``)."""
    keras.utils.set_random_seed(seed)
    p = {"mels": 16, "dim": 32, "heads": 4, "ffn": 64, "kernel": 7, "blocks": 2, **params}
    features = keras.Input((None, p["mels"]), name="features")
    inputs = [features]
    x = keras.layers.Conv1D(p["dim"], 3, strides=2, padding="same", activation=_gelu_tanh, name="sub1")(features)
    x = keras.layers.Conv1D(p["dim"], 3, strides=2, padding="same", activation=_gelu_tanh, name="sub2")(x)
    x = SinusoidalPositions(p["dim"], name="positions")(x)
    mask = None
    if p.get("lengths", False):
        inputs.append(keras.Input((), dtype="int64", name="lengths"))
        mask = FrameMask(name="frame_mask")(inputs[1], x)
    for i in range(p["blocks"]):
        x = _conformer_block(x, mask, p, f"block{i}")
    if mask is not None:
        x = x * keras.ops.expand_dims(mask, -1)
    model = keras.Model(inputs if mask is not None else features, x, name="conformer")
    randomize_batchnorm(model, seed)
    randomize_layernorm(model, seed)
    sets = shape_sets(p, SPEECH_SETS)
    data = speech_inputs(np.random.default_rng(seed), sets, p["mels"], mask is not None)
    axes = {"features": {0: "batch", 1: "frames"}, "lengths": {0: "batch"}}
    names = [t.name for t in inputs]
    return Built(model=model, inputs=data[0], input_names=names, output_names=["encoded"],
                 dynamic_axes={n: axes[n] for n in names}, extra_inputs=data[1:],
                 expected_shapes=[[(b, subsampled_frames(t), p["dim"])] for b, t in sets])


# --------------------------------------------------------------------------------------------- diffusion
class TimestepEmbedding(keras.layers.Layer):
    """Sinusoidal embedding of float timesteps (batch,) -> (batch, dim) [cos | sin], in the graph."""

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        half = dim // 2
        self.freqs = np.exp(np.arange(half) * (-np.log(10000.0) / half)).astype(np.float32)

    def call(self, t):
        args = t[:, None] * tf.constant(self.freqs)[None, :]
        return tf.concat([tf.cos(args), tf.sin(args)], axis=-1)


class Tokens(keras.layers.Layer):
    """(batch, h, w, c) feature map <-> (batch, h*w, c) tokens; ``like`` gives the map's shape back."""

    def call(self, x, like=None):
        if like is None:
            shape = tf.shape(x)
            return tf.reshape(x, [shape[0], shape[1] * shape[2], shape[3]])
        return tf.reshape(x, tf.shape(like))


def _group_norm(x, p: dict, name: str):
    return keras.layers.GroupNormalization(groups=p["groups"], epsilon=1e-5, name=name)(x)


def _norm_silu_conv(x, channels: int, p: dict, name: str):
    """GroupNorm, SiLU, 3x3 conv: the pre-activation step of the diffusion U-Net's blocks."""
    return keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv")(
        keras.ops.silu(_group_norm(x, p, f"{name}_gn")))


def _res_block(x, emb, channels: int, p: dict, name: str):
    """GroupNorm, SiLU, conv, + the projected timestep embedding, GroupNorm, SiLU, conv; a 1x1
    conv on the skip when the channel count changes."""
    step = keras.layers.Dense(channels, name=f"{name}_emb")(keras.ops.silu(emb))            # (batch, channels)
    h = _norm_silu_conv(x, channels, p, f"{name}_1") + keras.ops.expand_dims(keras.ops.expand_dims(step, 1), 1)
    h = _norm_silu_conv(h, channels, p, f"{name}_2")
    skip = x if x.shape[-1] == channels else keras.layers.Conv2D(channels, 1, name=f"{name}_skip")(x)
    return skip + h


def _spatial_transformer(x, context, p: dict, name: str):
    """Stable-Diffusion-style: GroupNorm, 1x1 in, self-attention, cross-attention to the
    context, GEGLU feed-forward (each pre-LayerNorm, residual), 1x1 out, residual."""
    c = x.shape[-1]
    t = Tokens(name=f"{name}_tokens")(keras.layers.Conv2D(c, 1, name=f"{name}_in")(_group_norm(x, p, f"{name}_gn")))
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln1")(t)
    t = t + keras.layers.MultiHeadAttention(p["heads"], c // p["heads"], name=f"{name}_self")(h, h)
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln2")(t)
    t = t + keras.layers.MultiHeadAttention(p["heads"], c // p["heads"], name=f"{name}_cross")(h, context)
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln3")(t)
    h = keras.layers.Dense(8 * c, name=f"{name}_ff_in")(h)
    t = t + keras.layers.Dense(c, name=f"{name}_ff_out")(h[..., :4 * c] * _gelu_tanh(h[..., 4 * c:]))
    return x + keras.layers.Conv2D(c, 1, name=f"{name}_out")(Tokens(name=f"{name}_map")(t, x))


def build_diffusion_block(params: dict, seed: int) -> Built:
    """A one-level diffusion U-Net, as ``families_torch.DiffusionUNetBlock`` but channels-last:
    in conv, ResBlock + SpatialTransformer, stride-2 conv down, ResBlock + SpatialTransformer in
    the middle, nearest 2x up, skip concatenation, ResBlock, GroupNorm/SiLU/out conv; the
    timestep embedding (sinusoidal in the graph, then a SiLU MLP) feeds every ResBlock.

    params: cin, ch, heads, context_dim, groups, sets [[batch, h, w, context tokens]...] (h and
    w even). Inputs sample (batch, h, w, cin), timestep (batch,), context (batch, tokens,
    context_dim); output the predicted noise (batch, h, w, cin)."""
    keras.utils.set_random_seed(seed)
    p = {"cin": 4, "ch": 16, "heads": 2, "context_dim": 24, "groups": 4, **params}
    ch = p["ch"]
    sample = keras.Input((None, None, p["cin"]), name="sample")
    timestep = keras.Input((), name="timestep")
    context = keras.Input((None, p["context_dim"]), name="context")
    emb = keras.layers.Dense(4 * ch, activation="silu", name="time_mlp0")(TimestepEmbedding(ch, name="time")(timestep))
    emb = keras.layers.Dense(4 * ch, name="time_mlp1")(emb)
    h1 = keras.layers.Conv2D(ch, 3, padding="same", name="conv_in")(sample)
    h1 = _spatial_transformer(_res_block(h1, emb, ch, p, "res1"), context, p, "attn1")
    h = keras.layers.Conv2D(ch, 3, strides=2, padding="same", name="down")(h1)
    h = _spatial_transformer(_res_block(h, emb, 2 * ch, p, "res_mid"), context, p, "attn_mid")
    h = keras.layers.Conv2D(ch, 3, padding="same", name="up")(keras.layers.UpSampling2D(2, name="upsample")(h))
    h = _res_block(keras.layers.Concatenate(name="skip")([h, h1]), emb, ch, p, "res_out")
    noise = _norm_silu_conv(h, p["cin"], p, "out")
    model = keras.Model([sample, timestep, context], noise, name="diffusion_block")
    randomize_layernorm(model, seed)
    _randomize_groupnorm(model, seed)
    sets = shape_sets(p, DIFFUSION_SETS)
    data = diffusion_inputs(np.random.default_rng(seed), sets, p["cin"], p["context_dim"], channels_last=True)
    return Built(model=model, inputs=data[0], input_names=["sample", "timestep", "context"], output_names=["noise"],
                 dynamic_axes={"sample": {0: "batch", 1: "height", 2: "width"}, "timestep": {0: "batch"},
                               "context": {0: "batch", 1: "context_len"}},
                 extra_inputs=data[1:], expected_shapes=[[(b, h, w, p["cin"])] for b, h, w, _ in sets])
