"""Keras digit classifiers trained in the tensorflow worker (imports keras). Channels-last:
the images are fed as (batch, 8, 8, 1). See ``torch_models`` for the contract."""
from __future__ import annotations

import keras
import numpy as np

from conformance.cases import Built
from suites.accuracy.digits import CLASSES, digits_split


def _mlp():
    return [keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(CLASSES)]


def _cnn():
    return [keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(CLASSES)]


def _rnn():
    # the image's 8 rows as a sequence of 8 features; the last state classifies
    return [keras.layers.Reshape((8, 8)), keras.layers.GRU(32), keras.layers.Dense(CLASSES)]


ARCHS = {"mlp": _mlp, "cnn": _cnn, "rnn": _rnn}


def build_digits(params: dict, seed: int) -> Built:
    split = digits_split(params["data"])
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((8, 8, 1), name="image"), *ARCHS[params["arch"]]()],
                             name=f"digits_{params['arch']}")
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_train = np.transpose(split.x_train, (0, 2, 3, 1))
    model.fit(x_train, split.y_train, batch_size=64, epochs=params.get("epochs", 10), shuffle=True, verbose=0)
    return Built(model=model, inputs=[np.ascontiguousarray(np.transpose(split.x_test, (0, 2, 3, 1)))],
                 input_names=["image"], output_names=["logits"], expected=[split.y_test])
