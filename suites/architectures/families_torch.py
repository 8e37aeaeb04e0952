"""Today's model families in PyTorch (issue 19), run in the torch worker. Imports torch only.

Every builder is ``build_x(params, seed) -> Built``: weights seeded in code (no downloads, no
torchvision), every norm layer given affine parameters / running statistics far from their
defaults (so a converter that drops or mis-folds one is visible), inputs from
``numpy.random.default_rng(seed)``. Widths are small so each case converts and runs in seconds
on a 2-core CPU, the numpy reference executor included.

Shapes: batch and the sequence / spatial axes are dynamic at export. Each case runs >= 3 input
sets from one conversion: the traced sample at batch 2 (torch.export specializes size-1 dims, so
the sample's batch is never 1), then batch 1 at the sample's size and batch 4 at a size the
exporters never saw, with the expected output shapes of every set asserted.

Attention: the models write attention out (``SelfAttention`` below: one qkv projection,
reshapes with -1 / the input's own sizes, softmax(QK^T/sqrt(d))V) or call
``F.scaled_dot_product_attention``; nn.MultiheadAttention appears in one ViT variant only,
because TorchScript tracing bakes the sample's sequence length into its reshapes (a known
converter failure, see suites/known_failures.toml) and would hide the rest of each model.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from conformance.cases import Built
from suites.architectures.family_inputs import (DIFFUSION_SETS, SPEECH_SETS, diffusion_inputs, speech_inputs,
                                               subsampled_frames)
from suites.architectures.torch_models import randomize_batchnorm


def randomize_norms(model: nn.Module, seed: int) -> None:
    """BatchNorm as ``randomize_batchnorm``; LayerNorm / GroupNorm / affine InstanceNorm get
    weights in [0.5, 1.5) and biases ~ N(0, 0.2) instead of (1, 0)."""
    randomize_batchnorm(model, seed)
    gen = torch.Generator().manual_seed(seed ^ 0x1A7E)
    kinds = (nn.LayerNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, kinds) and getattr(module, "weight", None) is not None:
                module.weight.copy_(torch.rand(module.weight.shape, generator=gen) + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.2)


def _sets(params: dict, main: tuple, extra: list) -> list[tuple]:
    """(batch, size...) per input set: the traced sample, then ``params["extra"]`` or ``extra``."""
    return [tuple(main)] + [tuple(e) for e in params.get("extra", extra)]


def _finish(model: nn.Module, seed: int) -> nn.Module:
    randomize_norms(model, seed)
    return model.eval()


class SelfAttention(nn.Module):
    """Multi-head attention written out, batch first: (B, N, D) -> (B, N, D). ``context``
    (B, M, Dc) makes it cross-attention. Reshapes use -1 for the sequence, so no traced length
    is baked in; ``sdpa`` uses F.scaled_dot_product_attention instead of matmul/softmax."""

    def __init__(self, dim: int, heads: int, context_dim: int | None = None, sdpa: bool = False):
        super().__init__()
        self.heads, self.head_dim, self.sdpa = heads, dim // heads, sdpa
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(context_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def _split(self, t):
        # (B, N, H*Dh) -> (B, H, N, Dh)
        return t.reshape(t.shape[0], -1, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, context=None, key_mask=None):
        """``key_mask`` (B, M) bool: True where a key may be attended to."""
        q = self._split(self.q(x))
        k, v = self.kv(x if context is None else context).chunk(2, dim=-1)
        k, v = self._split(k), self._split(v)
        mask = None if key_mask is None else key_mask[:, None, None, :]
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            scores = q @ k.transpose(-2, -1) * (self.head_dim ** -0.5)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            y = torch.softmax(scores, dim=-1) @ v
        return self.out(y.transpose(1, 2).reshape(x.shape[0], -1, self.heads * self.head_dim))


# --------------------------------------------------------------------------------------------- ViT
class ViTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp: int, attention: str):
        super().__init__()
        self.attention = attention
        self.ln1 = nn.LayerNorm(dim)
        if attention == "mha":
            self.attn = nn.MultiheadAttention(dim, heads, dropout=0.0, batch_first=True)
        else:
            self.attn = SelfAttention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        h = self.ln1(x)
        x = x + (self.attn(h, h, h, need_weights=False)[0] if self.attention == "mha" else self.attn(h))
        return x + self.mlp(self.ln2(x))


class VisionTransformer(nn.Module):
    """ViT: Conv2d patch embedding, class token, learned positional embedding for a base grid,
    resized (bicubic, as timm's dynamic image size does) to the input's grid in the graph,
    pre-norm blocks, LayerNorm and a linear head on the class token."""

    def __init__(self, image: int, patch: int, dim: int, depth: int, heads: int, mlp: int, classes: int,
                 attention: str):
        super().__init__()
        self.grid = image // patch
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.cls_pos = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, dim, self.grid, self.grid) * 0.5)
        self.blocks = nn.Sequential(*[ViTBlock(dim, heads, mlp, attention) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, image):
        x = self.patch_embed(image)                                     # (B, D, gh, gw)
        pos = F.interpolate(self.pos_embed, size=(x.shape[2], x.shape[3]), mode="bicubic", align_corners=False)
        x = (x + pos).flatten(2).transpose(1, 2)                        # (B, gh*gw, D)
        cls = (self.cls_token + self.cls_pos).expand(x.shape[0], -1, -1)
        x = self.blocks(torch.cat([cls, x], dim=1))
        return self.head(self.norm(x[:, 0]))


def build_vit(params: dict, seed: int) -> Built:
    """params: attention (manual | mha), image, patch, dim, depth, heads, mlp, classes,
    batch, extra [[batch, height, width], ...]."""
    torch.manual_seed(seed)
    p = {"attention": "manual", "image": 32, "patch": 8, "dim": 32, "depth": 2, "heads": 4, "mlp": 64,
         "classes": 10, **params}
    model = _finish(VisionTransformer(p["image"], p["patch"], p["dim"], p["depth"], p["heads"], p["mlp"],
                                      p["classes"], p["attention"]), seed)
    rng = np.random.default_rng(seed)
    # batch 4 at 48x40: a 6x5 patch grid, neither the sample's 4x4 nor square
    sets = _sets(p, (p.get("batch", 2), p["image"], p["image"]), [[1, 32, 32], [4, 48, 40]])
    inputs = [[rng.standard_normal((b, 3, h, w), dtype=np.float32)] for b, h, w in sets]
    return Built(model=model, inputs=inputs[0], input_names=["image"], output_names=["logits"],
                 dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}},
                 extra_inputs=inputs[1:], expected_shapes=[[(b, p["classes"])] for b, _, _ in sets])


# --------------------------------------------------------------------------------------- detection
def _conv_bn(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class SingleStageDetector(nn.Module):
    """A small single-stage (RetinaNet/SSD-like) detector: a stride-8 conv backbone, one
    feature level, per-anchor box regression (dx, dy, dw, dh) and class logits from 3x3 conv
    heads, anchors generated in the graph from the feature map's size (so they follow the
    dynamic image size), boxes decoded against them (dw/dh clamped as torchvision does), then
    the ``k`` best (anchor, class) scores per image by torch.topk and the matching boxes and
    labels by torch.gather.

    No NMS: torchvision's NMS (torchvision.ops.nms) is unavailable here (its wheel fails to
    install against this torch), so the post-processing stops at the top-k, which is what
    detectors feed into NMS anyway.
    """

    def __init__(self, width: int, classes: int, anchors: tuple, k: int):
        super().__init__()
        self.classes, self.k, self.stride = classes, k, 8
        self.backbone = nn.Sequential(_conv_bn(3, width, 2), _conv_bn(width, width, 2),
                                      _conv_bn(width, 2 * width, 2), _conv_bn(2 * width, 2 * width, 1))
        self.register_buffer("anchor_sizes", torch.tensor(anchors, dtype=torch.float32))   # (A, 2): w, h
        a = len(anchors)
        self.box_head = nn.Conv2d(2 * width, a * 4, 3, 1, 1)
        self.cls_head = nn.Conv2d(2 * width, a * classes, 3, 1, 1)

    def anchors(self, feat):
        """(gh*gw*A, 4) anchors (cx, cy, w, h), cell-major, anchor-minor, in pixels."""
        gh, gw = feat.shape[2], feat.shape[3]
        ys = (torch.arange(gh, dtype=torch.float32) + 0.5) * self.stride
        xs = (torch.arange(gw, dtype=torch.float32) + 0.5) * self.stride
        cy = ys.reshape(-1, 1, 1).expand(-1, gw, self.anchor_sizes.shape[0])
        cx = xs.reshape(1, -1, 1).expand(gh, -1, self.anchor_sizes.shape[0])
        wh = self.anchor_sizes.reshape(1, 1, -1, 2).expand(gh, gw, -1, -1)
        return torch.cat([cx.unsqueeze(-1), cy.unsqueeze(-1), wh], dim=-1).reshape(-1, 4)

    def forward(self, image):
        feat = self.backbone(image)
        b = feat.shape[0]
        # (B, A*4, gh, gw) -> (B, gh, gw, A*4) -> (B, gh*gw*A, 4): the anchors' order
        deltas = self.box_head(feat).permute(0, 2, 3, 1).reshape(b, -1, 4)
        logits = self.cls_head(feat).permute(0, 2, 3, 1).reshape(b, -1, self.classes)
        anchors = self.anchors(feat)
        ctr = deltas[..., :2] * anchors[:, 2:] + anchors[:, :2]
        size = torch.exp(deltas[..., 2:].clamp(max=math.log(1000.0 / 16))) * anchors[:, 2:]
        boxes = torch.cat([ctr - 0.5 * size, ctr + 0.5 * size], dim=-1)          # (B, N, 4) x1 y1 x2 y2
        scores = torch.sigmoid(logits).reshape(b, -1)                             # (B, N*classes)
        top_scores, top = torch.topk(scores, self.k, dim=1)
        anchor_index = torch.div(top, self.classes, rounding_mode="floor")
        labels = top - anchor_index * self.classes
        top_boxes = torch.gather(boxes, 1, anchor_index.unsqueeze(-1).expand(-1, -1, 4))
        return top_boxes, top_scores, labels


def build_detector(params: dict, seed: int) -> Built:
    """params: width, classes, anchors [[w, h], ...], k, batch, image, extra [[batch, h, w], ...]."""
    torch.manual_seed(seed)
    p = {"width": 16, "classes": 5, "anchors": [[16.0, 16.0], [24.0, 12.0], [12.0, 24.0]], "k": 12, **params}
    model = _finish(SingleStageDetector(p["width"], p["classes"], tuple(map(tuple, p["anchors"])), p["k"]), seed)
    rng = np.random.default_rng(seed)
    sets = _sets(p, (p.get("batch", 2), 48, 48), [[1, 48, 48], [4, 64, 40]])
    inputs = [[rng.standard_normal((b, 3, h, w), dtype=np.float32)] for b, h, w in sets]
    k = p["k"]
    return Built(model=model, inputs=inputs[0], input_names=["image"], output_names=["boxes", "scores", "labels"],
                 dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}},
                 extra_inputs=inputs[1:], expected_shapes=[[(b, k, 4), (b, k), (b, k)] for b, _, _ in sets])


# -------------------------------------------------------------------------------------------- U-Net
class DoubleConv(nn.Module):
    def __init__(self, cin: int, cout: int, dims: int, norm: str):
        super().__init__()
        conv = nn.Conv2d if dims == 2 else nn.Conv3d

        def make_norm(c):
            if norm == "batch":
                return nn.BatchNorm2d(c)
            if norm == "group":
                return nn.GroupNorm(4, c)
            return nn.InstanceNorm3d(c, affine=True)

        act = nn.ReLU if dims == 2 else (lambda: nn.LeakyReLU(0.01))
        self.body = nn.Sequential(conv(cin, cout, 3, 1, 1, bias=norm != "batch"), make_norm(cout), act(),
                                  conv(cout, cout, 3, 1, 1, bias=norm != "batch"), make_norm(cout), act())

    def forward(self, x):
        return self.body(x)


class UNet(nn.Module):
    """U-Net with ``len(widths) - 1`` levels: DoubleConv, max-pool down (2D) or a stride-2
    conv down (3D, as MLPerf's 3D-UNet), transposed-conv up, skip concatenation, 1x1 head."""

    def __init__(self, dims: int, cin: int, classes: int, widths: tuple, norm: str):
        super().__init__()
        self.dims = dims
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        up = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d
        self.downs = nn.ModuleList()
        self.pools = nn.ModuleList()
        c = cin
        for i, w in enumerate(widths):
            self.downs.append(DoubleConv(c, w, dims, norm))
            if i < len(widths) - 1:
                self.pools.append(nn.MaxPool2d(2) if dims == 2 else conv(w, w, 2, 2))
            c = w
        self.ups = nn.ModuleList()
        self.up_convs = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.ups.append(up(c, w, 2, 2))
            self.up_convs.append(DoubleConv(2 * w, w, dims, norm))
            c = w
        self.head = conv(c, classes, 1)

    def forward(self, x):
        skips = []
        for i, down in enumerate(self.downs):
            x = down(x)
            if i < len(self.pools):
                skips.append(x)
                x = self.pools[i](x)
        for up, block in zip(self.ups, self.up_convs):
            x = block(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)


def build_unet(params: dict, seed: int) -> Built:
    """params: dims (2 | 3), norm (batch | group | instance), cin, classes, widths, batch,
    extra [[batch, spatial...], ...]. Spatial sizes are multiples of 2**levels."""
    torch.manual_seed(seed)
    dims = params.get("dims", 2)
    p = {"norm": "batch" if dims == 2 else "instance", "cin": 3 if dims == 2 else 1, "classes": 3,
         "widths": [8, 16, 32] if dims == 2 else [4, 8, 16], **params}
    model = _finish(UNet(dims, p["cin"], p["classes"], tuple(p["widths"]), p["norm"]), seed)
    rng = np.random.default_rng(seed)
    if dims == 2:
        sets = _sets(p, (p.get("batch", 2), 32, 32), [[1, 32, 32], [4, 48, 24]])
    else:
        sets = _sets(p, (p.get("batch", 2), 16, 16, 16), [[1, 16, 16, 16], [4, 12, 20, 16]])
    inputs = [[rng.standard_normal((s[0], p["cin"], *s[1:]), dtype=np.float32)] for s in sets]
    axes = {0: "batch", 2: "depth", 3: "height", 4: "width"} if dims == 3 else {0: "batch", 2: "height", 3: "width"}
    return Built(model=model, inputs=inputs[0], input_names=["volume" if dims == 3 else "image"],
                 output_names=["segmentation"], dynamic_axes={"volume" if dims == 3 else "image": axes},
                 extra_inputs=inputs[1:], expected_shapes=[[(s[0], p["classes"], *s[1:])] for s in sets])


# ----------------------------------------------------------------------------------- recommendation
def _mlp(sizes: list, last_act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if last_act or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DLRM(nn.Module):
    """DLRM: a bottom MLP on the dense features, one nn.EmbeddingBag per sparse feature fed
    flat indices + per-sample offsets (ragged bags), the pairwise dot products of the stacked
    (dense, embeddings) vectors (bmm, strict upper triangle), a top MLP to a click probability.
    Three tables; ``modes`` gives each its reduction (sum | mean)."""

    def __init__(self, dense: int, dim: int, vocabs: tuple, modes: tuple, top: int):
        super().__init__()
        self.bottom = _mlp([dense, 16, dim])
        self.tables = nn.ModuleList(nn.EmbeddingBag(v, dim, mode=m) for v, m in zip(vocabs, modes))
        n = len(vocabs) + 1
        rows, cols = torch.triu_indices(n, n, offset=1)
        self.register_buffer("rows", rows)
        self.register_buffer("cols", cols)
        self.top = nn.Sequential(_mlp([dim + n * (n - 1) // 2, top, top]), nn.Linear(top, 1))

    def forward(self, dense, indices_0, offsets_0, indices_1, offsets_1, indices_2, offsets_2):
        d = self.bottom(dense)
        embs = [self.tables[0](indices_0, offsets_0), self.tables[1](indices_1, offsets_1),
                self.tables[2](indices_2, offsets_2)]
        feats = torch.stack([d] + embs, dim=1)                                   # (B, n, dim)
        z = torch.bmm(feats, feats.transpose(1, 2))                              # (B, n, n)
        inter = z[:, self.rows, self.cols]                                       # (B, n(n-1)/2)
        return torch.sigmoid(self.top(torch.cat([d, inter], dim=1)))


def _bags(rng, batch: int, vocab: int, min_len: int, max_len: int, min_total: int):
    """Flat indices and offsets of ``batch`` bags of min_len..max_len indices. With min_len 0
    the first bag is always empty (an empty bag at the start, between and at the end of the
    offsets across tables and sets); ``min_total`` bounds the flat length from below."""
    while True:
        lengths = rng.integers(min_len, max_len + 1, size=batch)
        if min_len == 0:
            lengths[0] = 0
        if lengths.sum() >= min_total:
            break
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    indices = rng.integers(0, vocab, size=int(lengths.sum())).astype(np.int64)
    return indices, offsets


def build_dlrm(params: dict, seed: int) -> Built:
    """params: modes (3 x sum|mean), dense, dim, vocabs, top, min_len / max_len (bag lengths;
    min_len 0 gives empty bags, whose sum and mean are 0 in torch, and at batch 1 an empty
    indices tensor), batch, extra [[batch], ...]."""
    torch.manual_seed(seed)
    p = {"modes": ["sum", "mean", "sum"], "dense": 8, "dim": 8, "vocabs": [20, 30, 50], "top": 16,
         "min_len": 1, "max_len": 5, **params}
    model = DLRM(p["dense"], p["dim"], tuple(p["vocabs"]), tuple(p["modes"]), p["top"]).eval()
    with torch.no_grad():
        for table in model.tables:   # N(0, 1) rows: dot products of O(dim), not of O(1e-3)
            table.weight.normal_(0.0, 0.7)
    rng = np.random.default_rng(seed)
    sets = _sets(p, (p.get("batch", 2),), [[1], [4]])
    inputs = []
    for i, (b,) in enumerate(sets):
        row = [rng.standard_normal((b, p["dense"]), dtype=np.float32)]
        for v in p["vocabs"]:
            # the traced sample's flat lengths are >= 3, never the batch (2), 0 or 1: torch.export
            # specializes 0/1-sized dims and may tie equal ones; other sets may be empty (batch 1)
            row.extend(_bags(rng, b, v, p["min_len"], p["max_len"], 3 if i == 0 else 0))
        inputs.append(row)
    names = ["dense"] + [f"{k}_{i}" for i in range(3) for k in ("indices", "offsets")]
    axes = {"dense": {0: "batch"}}
    for i in range(3):
        axes[f"indices_{i}"] = {0: f"nnz_{i}"}
        axes[f"offsets_{i}"] = {0: "batch"}
    return Built(model=model, inputs=inputs[0], input_names=names, output_names=["click"], dynamic_axes=axes,
                 extra_inputs=inputs[1:], expected_shapes=[[(b, 1)] for (b,) in sets])


# -------------------------------------------------------------------------------------------- speech
class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.net(x)


class ConvModule(nn.Module):
    """Conformer convolution module: pointwise conv to 2x channels, GLU, depthwise conv,
    BatchNorm, SiLU, pointwise conv; (B, T, D) in and out."""

    def __init__(self, dim: int, kernel: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.pw1 = nn.Conv1d(dim, 2 * dim, 1)
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.bn = nn.BatchNorm1d(dim)
        self.pw2 = nn.Conv1d(dim, dim, 1)

    def forward(self, x, frame_mask=None):
        y = F.glu(self.pw1(self.norm(x).transpose(1, 2)), dim=1)
        if frame_mask is not None:      # padded frames must not leak into the depthwise conv
            y = y * frame_mask[:, None, :].to(y.dtype)
        y = self.pw2(F.silu(self.bn(self.dw(y))))
        return y.transpose(1, 2)


class ConformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int, kernel: int):
        super().__init__()
        self.ff1 = FeedForward(dim, ffn)
        self.ln_attn = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, sdpa=True)
        self.conv = ConvModule(dim, kernel)
        self.ff2 = FeedForward(dim, ffn)
        self.ln_out = nn.LayerNorm(dim)

    def forward(self, x, frame_mask=None):
        x = x + 0.5 * self.ff1(x)
        x = x + self.attn(self.ln_attn(x), key_mask=frame_mask)
        x = x + self.conv(x, frame_mask)
        return self.ln_out(x + 0.5 * self.ff2(x))


class SpeechEncoder(nn.Module):
    """Conformer / Whisper-style encoder on log-mel features (B, T, mels): two Conv1d with
    stride 2 (time subsampled 4x) and GELU, a sinusoidal position table sliced to the
    subsampled length in the graph, Conformer blocks (half-step feed-forwards, self-attention
    via F.scaled_dot_product_attention, depthwise-conv module with GLU), (B, T', D) out."""

    def __init__(self, mels: int, dim: int, heads: int, ffn: int, kernel: int, blocks: int, max_len: int = 256):
        super().__init__()
        self.sub1 = nn.Conv1d(mels, dim, 3, 2, 1)
        self.sub2 = nn.Conv1d(dim, dim, 3, 2, 1)
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]
        inv = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2, dtype=torch.float32) / dim)
        table = torch.cat([torch.sin(pos * inv), torch.cos(pos * inv)], dim=1)
        self.register_buffer("positions", table)
        self.blocks = nn.ModuleList(ConformerBlock(dim, heads, ffn, kernel) for _ in range(blocks))

    def forward(self, features, lengths=None):
        """``lengths`` (B,) int64, frames per utterance (None: all ``T``): the subsampled lengths
        are computed in the graph and mask attention keys, the conv module's input and the
        output (zeros past each utterance's end)."""
        x = F.gelu(self.sub2(F.gelu(self.sub1(features.transpose(1, 2))))).transpose(1, 2)
        x = x + self.positions[: x.shape[1]]
        mask = None
        if lengths is not None:
            sub = torch.div(torch.div(lengths - 1, 2, rounding_mode="floor"), 2, rounding_mode="floor") + 1
            mask = torch.arange(x.shape[1], dtype=lengths.dtype)[None, :] < sub[:, None]
        for block in self.blocks:
            x = block(x, mask)
        return x if mask is None else x * mask[..., None].to(x.dtype)


def build_speech_encoder(params: dict, seed: int) -> Built:
    """params: mels, dim, heads, ffn, kernel, blocks, lengths (a second input of per-utterance
    frame counts, from frames/2 to frames, the longest = frames), batch, frames,
    extra [[batch, frames], ...]."""
    torch.manual_seed(seed)
    p = {"mels": 16, "dim": 32, "heads": 4, "ffn": 64, "kernel": 7, "blocks": 2, **params}
    model = _finish(SpeechEncoder(p["mels"], p["dim"], p["heads"], p["ffn"], p["kernel"], p["blocks"]), seed)
    sets = _sets(p, (p.get("batch", 2), p.get("frames", SPEECH_SETS[0][1])), SPEECH_SETS[1:])
    inputs = speech_inputs(np.random.default_rng(seed), sets, p["mels"], p.get("lengths", False))
    names, axes = ["features"], {"features": {0: "batch", 1: "frames"}}
    if p.get("lengths", False):
        names.append("lengths")
        axes["lengths"] = {0: "batch"}
    return Built(model=model, inputs=inputs[0], input_names=names, output_names=["encoded"],
                 dynamic_axes=axes, extra_inputs=inputs[1:],
                 expected_shapes=[[(b, subsampled_frames(t), p["dim"])] for b, t in sets])


# ----------------------------------------------------------------------------------------- diffusion
def timestep_embedding(t, dim: int):
    """Sinusoidal embedding of float timesteps (B,) -> (B, dim), computed in the graph."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / half))
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.emb = nn.Linear(emb, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class SpatialTransformer(nn.Module):
    """Stable-Diffusion-style: GroupNorm, 1x1 in, self-attention, cross-attention to the
    context, GEGLU feed-forward (each pre-LayerNorm, residual), 1x1 out, residual."""

    def __init__(self, channels: int, heads: int, context_dim: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.ln1, self.self_attn = nn.LayerNorm(channels), SelfAttention(channels, heads)
        self.ln2, self.cross_attn = nn.LayerNorm(channels), SelfAttention(channels, heads, context_dim)
        self.ln3 = nn.LayerNorm(channels)
        self.ff_in = nn.Linear(channels, 8 * channels)
        self.ff_out = nn.Linear(4 * channels, channels)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x)).flatten(2).transpose(1, 2)          # (B, HW, C)
        t = t + self.self_attn(self.ln1(t))
        t = t + self.cross_attn(self.ln2(t), context)
        value, gate = self.ff_in(self.ln3(t)).chunk(2, dim=-1)
        t = t + self.ff_out(value * F.gelu(gate))
        return x + self.proj_out(t.transpose(1, 2).reshape(b, c, h, w))


class DiffusionUNetBlock(nn.Module):
    """A one-level diffusion U-Net: in conv, ResBlock + SpatialTransformer, stride-2 conv down,
    ResBlock + SpatialTransformer in the middle, nearest 2x up, skip concatenation, ResBlock,
    GroupNorm/SiLU/out conv; the timestep embedding (sinusoidal, then an MLP) feeds every
    ResBlock. Predicts noise of the input's shape."""

    def __init__(self, cin: int, ch: int, heads: int, context_dim: int, groups: int):
        super().__init__()
        emb = 4 * ch
        self.ch = ch
        self.time_mlp = nn.Sequential(nn.Linear(ch, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.conv_in = nn.Conv2d(cin, ch, 3, 1, 1)
        self.res1, self.attn1 = ResBlock(ch, ch, emb, groups), SpatialTransformer(ch, heads, context_dim, groups)
        self.down = nn.Conv2d(ch, ch, 3, 2, 1)
        self.res_mid = ResBlock(ch, 2 * ch, emb, groups)
        self.attn_mid = SpatialTransformer(2 * ch, heads, context_dim, groups)
        self.up = nn.Conv2d(2 * ch, ch, 3, 1, 1)
        self.res_out = ResBlock(2 * ch, ch, emb, groups)
        self.norm_out = nn.GroupNorm(groups, ch)
        self.conv_out = nn.Conv2d(ch, cin, 3, 1, 1)

    def forward(self, sample, timestep, context):
        emb = self.time_mlp(timestep_embedding(timestep, self.ch))
        h1 = self.attn1(self.res1(self.conv_in(sample), emb), context)
        h = self.attn_mid(self.res_mid(self.down(h1), emb), context)
        h = self.up(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.res_out(torch.cat([h, h1], dim=1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))


def build_diffusion_block(params: dict, seed: int) -> Built:
    """params: cin, ch, heads, context_dim, groups, context_len, batch,
    extra [[batch, height, width, context_len], ...]. Spatial sizes even."""
    torch.manual_seed(seed)
    p = {"cin": 4, "ch": 16, "heads": 2, "context_dim": 24, "groups": 4, **params}
    model = _finish(DiffusionUNetBlock(p["cin"], p["ch"], p["heads"], p["context_dim"], p["groups"]), seed)
    sets = _sets(p, (p.get("batch", 2), 16, 16, p.get("context_len", 7)), DIFFUSION_SETS[1:])
    inputs = diffusion_inputs(np.random.default_rng(seed), sets, p["cin"], p["context_dim"])
    return Built(model=model, inputs=inputs[0], input_names=["sample", "timestep", "context"],
                 output_names=["noise"],
                 dynamic_axes={"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                               "context": {0: "batch", 1: "context_len"}},
                 extra_inputs=inputs[1:], expected_shapes=[[(b, p["cin"], h, w)] for b, h, w, _ in sets])
