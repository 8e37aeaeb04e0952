"""PyTorch architecture builders (run in the torch worker). Imports torch only.

Every builder is ``build_x(params, seed) -> Built``: seeded weights (``torch.manual_seed``),
batch norm in eval mode with non-trivial running statistics and affine parameters, inputs drawn
from ``numpy.random.default_rng(seed)``, and for dynamic models extra input sets at other batch
sizes and spatial sizes / sequence lengths with their expected output shapes.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from conformance.cases import Built
from suites.architectures.common import (RecurrentForward, classifier_built, recurrent_built, sequence_built,
                                         shape_sets)


def randomize_batchnorm(model: nn.Module, seed: int) -> None:
    """Give every BatchNorm running statistics and affine parameters far from (0, 1, 1, 0).

    With freshly initialised BN (mean 0, var 1, gamma 1, beta 0) a converter that drops or
    mis-folds BN produces nearly the same numbers; these values make such bugs visible.
    """
    gen = torch.Generator().manual_seed(seed ^ 0x5EED)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
                module.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                if module.affine:
                    module.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                    module.bias.copy_(torch.randn(n, generator=gen) * 0.2)


# --------------------------------------------------------------------------------------------- CNN
class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18 (2-2-2-2 basic blocks); ``width`` scales the channels (64 is the original)."""

    def __init__(self, classes: int = 10, width: int = 64):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        chans = [w, 2 * w, 4 * w, 8 * w]
        cin = w
        for i, c in enumerate(chans):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, c, stride), BasicBlock(c, c, 1)))
            cin = c
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
                   nn.ReLU6(inplace=True), nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.use_res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 inverted residuals (t, c, n, s table); ``width`` multiplies the channels."""

    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, classes: int = 10, width: float = 1.0):
        super().__init__()
        def ch(c):
            return max(8, int(c * width + 4) // 8 * 8)
        cin = ch(32)
        feats: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, cin, 3, 2, 1, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(inplace=True))]
        for t, c, n, s in self.SETTINGS:
            cout = ch(c)
            for i in range(n):
                feats.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        last = ch(1280) if width > 1.0 else 1280
        feats.append(nn.Sequential(nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6(inplace=True)))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Linear(last, classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def build_cnn(params: dict, seed: int) -> Built:
    """params: model (resnet18 | mobilenetv2), classes, width, batch, image, extra [[batch, image], ...]."""
    torch.manual_seed(seed)
    classes = params.get("classes", 10)
    if params["model"] == "resnet18":
        model = ResNet18(classes, params.get("width", 64))
    elif params["model"] == "mobilenetv2":
        model = MobileNetV2(classes, params.get("width", 1.0))
    else:
        raise ValueError(f"unknown torch CNN {params['model']!r}")
    randomize_batchnorm(model, seed)
    model.eval()
    rng = np.random.default_rng(seed)
    sets = shape_sets(params, (params.get("batch", 2), params.get("image", 64)), [[1, 64], [4, 96]])
    inputs = [[rng.standard_normal((b, 3, s, s), dtype=np.float32)] for b, s in sets]
    dynamic = params.get("dynamic", True)
    return classifier_built(model, inputs, sets, classes, dynamic)


# --------------------------------------------------------------------------------------------- RNN
class RecurrentNet(RecurrentForward, nn.Module):
    """nn.LSTM / nn.GRU returning a flat tuple (output, h_n[, c_n])."""


def build_rnn(params: dict, seed: int) -> Built:
    """params: cell (lstm|gru), input_size, hidden, layers, bidirectional, batch_first, initial_state,
    batch, seq, extra [[batch, seq], ...], dynamic."""
    torch.manual_seed(seed)
    p = {"input_size": 16, "hidden": 32, "layers": 1, "bidirectional": False, "batch_first": True,
         "initial_state": False, **params}
    rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[p["cell"]](p["input_size"], p["hidden"], num_layers=p["layers"],
                                                      bidirectional=p["bidirectional"], batch_first=p["batch_first"])
    model = RecurrentNet(rnn, p["cell"], p["initial_state"]).eval()
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, (p.get("batch", 2), p.get("seq", 12)), [[1, 12], [4, 20]])
    return recurrent_built(model, p, sets, lambda shape: rng.standard_normal(shape, dtype=np.float32),
                           2 if p["bidirectional"] else 1, time_major=not p["batch_first"])


# ------------------------------------------------------------------------------------- transformer
def build_transformer_encoder(params: dict, seed: int) -> Built:
    """nn.TransformerEncoder, batch first. params: d_model, heads, layers, ffn, norm_first,
    activation (relu|gelu), batch, seq, extra, dynamic."""
    torch.manual_seed(seed)
    p = {"d_model": 32, "heads": 4, "layers": 2, "ffn": 64, "norm_first": False, "activation": "relu", **params}
    layer = nn.TransformerEncoderLayer(p["d_model"], p["heads"], p["ffn"], dropout=0.0,
                                       activation=p["activation"], batch_first=True, norm_first=p["norm_first"])
    # enable_nested_tensor=False: the nested-tensor fast path is an inference-time shortcut
    # the exporters do not trace; the plain path is what gets converted.
    model = nn.TransformerEncoder(layer, p["layers"], enable_nested_tensor=False).eval()
    _randomize_layernorm(model, seed)
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, (p.get("batch", 2), p.get("seq", 10)), [[1, 10], [4, 17]])
    inputs = [[rng.standard_normal((b, t, p["d_model"]), dtype=np.float32)] for b, t in sets]
    return sequence_built(model, inputs, sets, p["d_model"], p.get("dynamic", True), "src", "encoded")


def _randomize_layernorm(model: nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed ^ 0x1A7E)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm) and module.elementwise_affine:
                module.weight.copy_(torch.rand(module.weight.shape, generator=gen) + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.2)


class DecoderBlock(nn.Module):
    """Decoder-only (GPT-style) block: causal self-attention with a key padding mask, then an MLP."""

    def __init__(self, d_model: int, heads: int, ffn: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, heads, dropout=0.0, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, ffn), nn.GELU(), nn.Linear(ffn, d_model))

    def forward(self, x, key_padding):
        seq = x.shape[1]
        causal = torch.triu(torch.ones(seq, seq, dtype=torch.bool, device=x.device), diagonal=1)
        h = self.ln1(x)
        # key_padding: 1.0 where the token is padding (a float input keeps every converter and
        # target on the same dtype path; the boolean mask is derived in-graph)
        attn, _ = self.attn(h, h, h, attn_mask=causal, key_padding_mask=key_padding > 0.5, need_weights=False)
        x = x + attn
        return x + self.mlp(self.ln2(x))


def build_decoder_block(params: dict, seed: int) -> Built:
    torch.manual_seed(seed)
    p = {"d_model": 32, "heads": 4, "ffn": 64, **params}
    model = DecoderBlock(p["d_model"], p["heads"], p["ffn"]).eval()
    _randomize_layernorm(model, seed)
    rng = np.random.default_rng(seed)
    sets = shape_sets(p, (p.get("batch", 2), p.get("seq", 10)), [[1, 10], [4, 17]])
    input_sets = []
    for b, t in sets:
        x = rng.standard_normal((b, t, p["d_model"]), dtype=np.float32)
        # right padding of 0..t/2 tokens per row; the first token is never padding, so no query
        # row is fully masked (a fully masked softmax row is NaN by definition)
        pad = np.zeros((b, t), dtype=np.float32)
        for i, n in enumerate(rng.integers(0, t // 2 + 1, size=b)):
            if n:
                pad[i, t - n:] = 1.0
        input_sets.append([x, pad])
    return Built(model=model, inputs=input_sets[0], input_names=["x", "key_padding"], output_names=["y"],
                 dynamic_axes={"x": {0: "batch", 1: "seq"}, "key_padding": {0: "batch", 1: "seq"}}
                 if p.get("dynamic", True) else None,
                 extra_inputs=input_sets[1:], expected_shapes=[[(b, t, p["d_model"])] for b, t in sets])
