"""Paddle digit classifiers trained in the paddle worker (imports paddle). NCHW, as the data.
See ``torch_models`` for the contract."""
from __future__ import annotations

import numpy as np
import paddle
from paddle import nn

from conformance.cases import Built
from suites.accuracy.digits import CLASSES, batches, digits_split


class RowReader(nn.Layer):
    """A GRU reading the image's 8 rows as a sequence of 8 features; the last state classifies."""

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.gru = nn.GRU(8, hidden)
        self.head = nn.Linear(hidden, CLASSES)

    def forward(self, image):
        out, _ = self.gru(paddle.reshape(image, [-1, 8, 8]))
        return self.head(out[:, -1])


def _mlp() -> nn.Layer:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, CLASSES))


def _cnn() -> nn.Layer:
    return nn.Sequential(nn.Conv2D(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2D(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2D(2), nn.Flatten(), nn.Linear(32 * 4 * 4, CLASSES))


ARCHS = {"mlp": _mlp, "cnn": _cnn, "rnn": RowReader}


def train(model: nn.Layer, x: np.ndarray, y: np.ndarray, epochs: int, seed: int, lr: float = 1e-2) -> nn.Layer:
    """Adam on cross-entropy, mini-batches of 64 in a seeded order."""
    rng = np.random.default_rng(seed)
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    model.train()
    for _ in range(epochs):
        for idx in batches(len(y), 64, rng):
            loss = nn.functional.cross_entropy(model(paddle.to_tensor(x[idx])), paddle.to_tensor(y[idx]))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
    model.eval()
    return model


def build_digits(params: dict, seed: int) -> Built:
    split = digits_split(params["data"])
    paddle.seed(seed)
    model = train(ARCHS[params["arch"]](), split.x_train, split.y_train, params.get("epochs", 10), seed)
    return Built(model=model, inputs=[split.x_test], input_names=["image"], output_names=["logits"],
                 expected=[split.y_test])
