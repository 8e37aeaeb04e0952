"""Small digit classifiers trained in seconds, one per framework, for bench's accuracy mode.

Each builder runs in its framework's worker: it trains a 64-32-10 perceptron on the training
rows of scikit-learn's digits (``conformance.bench.digits``: the file's path comes in
``params["csv"]``, since the paddle environment has no scikit-learn) with full-batch Adam and a
fixed seed, and returns it with the held-out rows as the sample input, so the source outputs
the runner records are the FP32 logits of the whole test split. The framework is imported
inside each builder: importing this module costs none.
"""
from __future__ import annotations

import numpy as np

from conformance.bench.digits import load_digits_split
from conformance.cases import Built

HIDDEN, CLASSES, STEPS, LEARNING_RATE = 32, 10, 300, 0.01


def _built(model, split) -> Built:
    return Built(model=model, inputs=[split.test_x], input_names=["digits"], output_names=["logits"],
                 dynamic_axes={"digits": {0: "batch"}}, expected_shapes=[[(len(split.test_y), CLASSES)]])


def build_torch(params: dict, seed: int) -> Built:
    import torch
    from torch import nn
    torch.manual_seed(seed)
    split = load_digits_split(params.get("csv"))
    model = nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    x, y = torch.from_numpy(split.train_x), torch.from_numpy(split.train_y)
    for _ in range(STEPS):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return _built(model.eval(), split)


def build_keras(params: dict, seed: int) -> Built:
    import keras
    keras.utils.set_random_seed(seed)
    split = load_digits_split(params.get("csv"))
    model = keras.Sequential([keras.Input((64,), name="digits"), keras.layers.Dense(HIDDEN, activation="relu"),
                              keras.layers.Dense(CLASSES)])
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(split.train_x, split.train_y, batch_size=len(split.train_y), epochs=STEPS, verbose=0, shuffle=False)
    return _built(model, split)


def build_paddle(params: dict, seed: int) -> Built:
    import paddle
    from paddle import nn
    paddle.seed(seed)
    split = load_digits_split(params.get("csv"))
    model = nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    optimizer = paddle.optimizer.Adam(learning_rate=LEARNING_RATE, parameters=model.parameters())
    x, y = paddle.to_tensor(split.train_x), paddle.to_tensor(split.train_y)
    for _ in range(STEPS):
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
    model.eval()
    return _built(model, split)


def top1(logits, labels) -> float:
    return float(np.mean(np.argmax(np.asarray(logits), axis=1) == labels))
