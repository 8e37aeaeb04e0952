"""MindSpore architecture builders: a small CNN, an LSTM and a transformer-style encoder block.
Imported only inside the MindSpore worker.

Classic ``mindspore.nn`` cells (``Conv2d``, ``BatchNorm2d``, ``Dense``, ``LSTM``): ``mint``'s
convolution has no CPU kernel in MindSpore 2.10 ("The kernel Conv2DExt unregistered"). Every
parameter and BatchNorm statistic is seeded and non-trivial (suites.operators.builder).
Shapes are static: one input set per case.
"""
from __future__ import annotations

import numpy as np
import mindspore
from mindspore import nn, ops

from conformance.cases import Built
from suites.operators.mindspore_ops import randomize


class SmallCNN(nn.Cell):
    """(Conv 3x3 + BatchNorm + ReLU + MaxPool 2x2) x 2, global average pool, Dense."""

    def __init__(self, channels=(3, 8, 16), classes=10):
        super().__init__()
        layers = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, pad_mode="pad", padding=1, has_bias=True), nn.BatchNorm2d(c_out),
                       nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2)]
        self.features = nn.SequentialCell(layers)
        self.mean = ops.ReduceMean(keep_dims=False)
        self.head = nn.Dense(channels[-1], classes)

    def construct(self, x):
        return self.head(self.mean(self.features(x), (2, 3)))


class LstmNet(nn.Cell):
    """A batch-first LSTM returning (output, h_n, c_n)."""

    def __init__(self, input_size, hidden, layers, bidirectional):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)

    def construct(self, x):
        out, (h, c) = self.lstm(x)
        return out, h, c


class EncoderBlock(nn.Cell):
    """Post-norm self-attention + GELU feed-forward block, attention written out in Dense,
    BatchMatMul and Softmax. GELU in its tanh form: mindspore.onnx.export has no mapping for
    Erf ("Exporting Erf operator is not yet supported"), the exact form's primitive."""

    def __init__(self, width, heads, ffn):
        super().__init__()
        self.heads, self.depth = heads, width // heads
        self.qkv = nn.Dense(width, 3 * width)
        self.out = nn.Dense(width, width)
        self.ffn = nn.SequentialCell([nn.Dense(width, ffn), nn.GELU(approximate=True), nn.Dense(ffn, width)])
        self.norm1, self.norm2 = nn.LayerNorm((width,)), nn.LayerNorm((width,))
        self.softmax = nn.Softmax(axis=-1)
        self.scale = float(self.depth) ** -0.5

    def _split(self, x, b, t):
        return ops.transpose(ops.reshape(x, (b, t, self.heads, self.depth)), (0, 2, 1, 3))

    def construct(self, x):
        b, t, w = x.shape
        q, k, v = ops.split(self.qkv(x), w, axis=-1)
        q, k, v = self._split(q, b, t), self._split(k, b, t), self._split(v, b, t)
        att = self.softmax(ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) * self.scale)
        y = ops.reshape(ops.transpose(ops.matmul(att, v), (0, 2, 1, 3)), (b, t, w))
        x = self.norm1(x + self.out(y))
        return self.norm2(x + self.ffn(x))


def _built(cell: nn.Cell, seed: int, shape: tuple, output_names: list[str]) -> Built:
    cell = randomize(cell, seed)
    cell.set_train(False)
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return Built(model=cell, inputs=[x], input_names=["x"], output_names=output_names)


def build_cnn(params: dict, seed: int) -> Built:
    """params: image, batch, classes."""
    p = {"image": 32, "batch": 2, "classes": 10, **params}
    return _built(SmallCNN(classes=p["classes"]), seed, (p["batch"], 3, p["image"], p["image"]), ["logits"])


def build_lstm(params: dict, seed: int) -> Built:
    """params: input_size, hidden, layers, bidirectional, batch, seq."""
    p = {"input_size": 16, "hidden": 32, "layers": 1, "bidirectional": False, "batch": 2, "seq": 12, **params}
    cell = LstmNet(p["input_size"], p["hidden"], p["layers"], p["bidirectional"])
    return _built(cell, seed, (p["batch"], p["seq"], p["input_size"]), ["output", "h_n", "c_n"])


def build_encoder_block(params: dict, seed: int) -> Built:
    """params: width, heads, ffn, batch, seq."""
    p = {"width": 32, "heads": 4, "ffn": 64, "batch": 2, "seq": 10, **params}
    mindspore.set_seed(seed)
    return _built(EncoderBlock(p["width"], p["heads"], p["ffn"]), seed, (p["batch"], p["seq"], p["width"]), ["y"])
