"""Architecture cases as data: CNN, RNN and transformer families per source framework.

Imported by pytest collection and by the benchmark exporter, so it imports NO framework: the
builders named here (``suites.architectures.<framework>_models:<function>``) run inside their
framework's worker process.

Ids read ``arch/<family>/<framework>/<converter>/opset<N>/<target>/<model>-<config>``: the
family (cnn | rnn | transformer) is the case name, the model and its configuration the variant.

Tolerances are the runner's defaults unless a spec sets one, and every loosening carries its
reason next to it.
"""
from __future__ import annotations

from conformance.cases import CaseSpec

TORCH = "suites.architectures.torch_models"
KERAS = "suites.architectures.keras_models"
PADDLE = "suites.architectures.paddle_models"

# Deep random-weight CNNs accumulate float32 rounding over 20-50 conv+BN layers, and the
# converters fold BN into the conv weights (a different summation order): relative error of
# ~1e-4 on logits is expected, not a bug. An epsilon or running-stat mistake moves logits by
# 1e-2 and more, so these bounds still catch BN folding bugs.
DEEP_CNN_TOL = {"rtol": 1e-3, "atol": 1e-4}
# Sequences of 2 stacked recurrent layers repeat a matmul per step; float32 drift grows with
# the sequence length (up to 24 steps here).
RNN_TOL = {"rtol": 1e-4, "atol": 1e-5}


# ---------------------------------------------------------------------------------------------
# The six "zoo" models benchmarked by other suites: exact, fixed sizes, batch as given, no
# dynamic axes (a benchmark times one shape). Not part of the pytest suite at full size.
ZOO: list[CaseSpec] = [
    CaseSpec(kind="arch", name="cnn", framework="tensorflow", builder=f"{KERAS}:build_application",
             params={"app": "ResNet50", "image": 224, "batch": 1, "classes": 1000, "dynamic": False},
             variant="zoo-resnet50-224-b1", arch="resnet50", converters=("tf2onnx",), min_opset=17,
             tolerance=DEEP_CNN_TOL, marks=("zoo",)),
    CaseSpec(kind="arch", name="cnn", framework="tensorflow", builder=f"{KERAS}:build_application",
             params={"app": "MobileNetV2", "image": 224, "batch": 1, "classes": 1000, "dynamic": False},
             variant="zoo-mobilenetv2-224-b1", arch="mobilenetv2", converters=("tf2onnx",), min_opset=17,
             tolerance=DEEP_CNN_TOL, marks=("zoo",)),
    CaseSpec(kind="arch", name="cnn", framework="paddle", builder=f"{PADDLE}:build_vision",
             params={"model": "resnet18", "image": 224, "batch": 1, "classes": 1000, "dynamic": False},
             variant="zoo-resnet18-224-b1", arch="resnet18", converters=("paddle2onnx",),
             tolerance=DEEP_CNN_TOL, marks=("zoo",)),
    CaseSpec(kind="arch", name="transformer", framework="torch", builder=f"{TORCH}:build_transformer_encoder",
             params={"d_model": 256, "heads": 8, "layers": 4, "ffn": 1024, "batch": 2, "seq": 128,
                     "norm_first": False, "activation": "relu", "dynamic": False},
             variant="zoo-encoder-d256-h8-l4-b2-s128", arch="transformer_encoder",
             converters=("torch-script",), marks=("zoo",)),
    CaseSpec(kind="arch", name="rnn", framework="torch", builder=f"{TORCH}:build_rnn",
             params={"cell": "lstm", "input_size": 64, "hidden": 128, "layers": 2, "bidirectional": True,
                     "batch_first": True, "initial_state": False, "batch": 1, "seq": 50, "dynamic": False},
             variant="zoo-lstm-h128-l2-bi-s50", arch="lstm", converters=("torch-script",),
             tolerance=RNN_TOL, marks=("zoo",)),
    CaseSpec(kind="arch", name="rnn", framework="torch", builder=f"{TORCH}:build_rnn",
             params={"cell": "gru", "input_size": 64, "hidden": 128, "layers": 2, "bidirectional": False,
                     "batch_first": True, "initial_state": False, "batch": 1, "seq": 50, "dynamic": False},
             variant="zoo-gru-h128-l2-s50", arch="gru", converters=("torch-script",),
             tolerance=RNN_TOL, marks=("zoo",)),
]
