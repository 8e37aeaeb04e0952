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

# Tolerances: an architecture case converted to ONNX in float32 is judged against the float32
# noise floor measured on its own model and inputs (16 x the floor, conformance.tolerance.
# case_noise_multiple; README "Tolerances"), which replaces the rtol/atol below. They judge only
# where no floor can be measured: an artifact in another format (--converter tflite, openvino,
# ...), a model the float64 reference cannot run. Otherwise the runner's float32 default (rtol
# 1e-5, atol 1e-5) unless a model needs more, with the measurement that says why (cold run on
# onnxruntime and reference, opset 17).
#
# CNNs: the converters fold BatchNorm into the preceding conv's weights (a different summation
# order) and the logits of these random-weight nets reach |x| ~ 90 (Paddle ResNet-18 at 64x64,
# max_abs 7.2e-5; Keras ResNet50 2.9e-6, torch ResNet-18 7e-7): the default atol leaves no
# margin on the large logits, so rtol/atol 1e-4. Still strict enough for BN bugs: an epsilon
# of 1e-3 instead of 1e-5, or one wrong running statistic, moves logits by > 1e-3 relative.
CNN_TOL = {"rtol": 1e-4, "atol": 1e-4}
# Zoo RNNs only (50 steps, hidden 128, 2 stacked layers): float32 drift grows with the number of
# recurrent steps; the suite's short sequences (12/20 steps) pass the default (max_abs 1.8e-7).
RNN_TOL = {"rtol": 1e-4, "atol": 1e-5}


# ---------------------------------------------------------------------------------------------
# The six "zoo" models benchmarked by other suites: exact, fixed sizes, batch as given, no
# dynamic axes (a benchmark times one shape). Not part of the pytest suite at full size.
ZOO: list[CaseSpec] = [
    CaseSpec(kind="arch", name="cnn", framework="tensorflow", builder=f"{KERAS}:build_application",
             params={"app": "ResNet50", "image": 224, "batch": 1, "classes": 1000, "dynamic": False},
             variant="zoo-resnet50-224-b1", arch="resnet50", converters=("tf2onnx",), min_opset=17,
             tolerance=CNN_TOL, marks=("zoo",)),
    CaseSpec(kind="arch", name="cnn", framework="tensorflow", builder=f"{KERAS}:build_application",
             params={"app": "MobileNetV2", "image": 224, "batch": 1, "classes": 1000, "dynamic": False},
             variant="zoo-mobilenetv2-224-b1", arch="mobilenetv2", converters=("tf2onnx",), min_opset=17,
             tolerance=CNN_TOL, marks=("zoo",)),
    CaseSpec(kind="arch", name="cnn", framework="paddle", builder=f"{PADDLE}:build_vision",
             params={"model": "resnet18", "image": 224, "batch": 1, "classes": 1000, "dynamic": False},
             variant="zoo-resnet18-224-b1", arch="resnet18", converters=("paddle2onnx",),
             tolerance=CNN_TOL, marks=("zoo",)),
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


# ---------------------------------------------------------------------------------------------
# The pytest suite. Sizes are cut down to keep a cold run of the whole suite inside its budget
# on a 2-core machine (the numpy reference executor runs every case too): CNN images 64x64 and
# 96x96 (Keras ResNet50/MobileNetV2/EfficientNetB0 and the Paddle models at 64/96 instead of
# 224, which the applications allow with weights=None), torch ResNet-18 at half width and
# MobileNetV2 at width 0.5, recurrent hidden size 32, transformers d_model 32.
# Every dynamic model runs 3 input sets from one conversion: (batch 2, size A) as the sample the
# converters trace, then (batch 1, size A) and (batch 4, size B) -- image sizes 64/96, sequence
# lengths 12/20 (RNN) or 10/17 (transformers). The sample's batch is 2, not 1, because
# torch.export specializes every size-1 dimension (0/1 specialization) whatever the dynamic
# axes say; a batch-1 sample makes the dynamo exporter fail or bake batch 1 in, which is
# documented behaviour rather than a converter bug.

def _spec(family, framework, builder, params, variant, arch, tolerance=None, converters=None):
    return CaseSpec(kind="arch", name=family, framework=framework, builder=builder, params=params,
                    variant=variant, arch=arch, tolerance=tolerance or {}, converters=converters)


def _rnn(framework, builder, cell, layers, bidirectional, order, initial_state, axes, suffix="", **extra):
    """An RNN case ``<cell>-l<layers>-<bi|uni>-<order>-<init|noinit><suffix>``; params cell,
    layers, the framework's own ``axes`` keywords, initial_state, then ``extra``."""
    variant = f"{cell}-l{layers}-{'bi' if bidirectional else 'uni'}-{order}-{'init' if initial_state else 'noinit'}"
    return _spec("rnn", framework, builder,
                 {"cell": cell, "layers": layers, **axes, "initial_state": initial_state, **extra},
                 variant + suffix, cell)


def _torch_rnn(cell, layers, bidirectional, batch_first, initial_state):
    return _rnn("torch", f"{TORCH}:build_rnn", cell, layers, bidirectional, "bf" if batch_first else "tm",
                initial_state, {"bidirectional": bidirectional, "batch_first": batch_first})


def _keras_rnn(cell, layers, bidirectional, return_sequences, initial_state, reset_after=True):
    return _rnn("tensorflow", f"{KERAS}:build_rnn", cell, layers, bidirectional,
                "seq" if return_sequences else "last", initial_state,
                {"bidirectional": bidirectional, "return_sequences": return_sequences},
                "" if cell == "lstm" else f"-{'resetafter' if reset_after else 'resetbefore'}", reset_after=reset_after)


def _paddle_rnn(cell, layers, direction, time_major, initial_state):
    return _rnn("paddle", f"{PADDLE}:build_rnn", cell, layers, direction == "bidirect", "tm" if time_major else "bf",
                initial_state, {"direction": direction, "time_major": time_major})


TORCH_CASES = [
    _spec("cnn", "torch", f"{TORCH}:build_cnn", {"model": "resnet18", "width": 32}, "resnet18-w32", "resnet18",
          CNN_TOL),
    _spec("cnn", "torch", f"{TORCH}:build_cnn", {"model": "mobilenetv2", "width": 0.5}, "mobilenetv2-w0.5",
          "mobilenetv2", CNN_TOL),
    # axes covered: 1/2 layers, uni/bi, batch-first/time-major, with/without initial states
    _torch_rnn("lstm", 1, False, True, False),
    _torch_rnn("lstm", 2, True, False, True),
    _torch_rnn("gru", 1, True, True, True),
    _torch_rnn("gru", 2, False, False, False),
    _spec("transformer", "torch", f"{TORCH}:build_transformer_encoder", {"norm_first": False, "activation": "relu"},
          "encoder-postnorm-relu", "transformer_encoder"),
    _spec("transformer", "torch", f"{TORCH}:build_transformer_encoder", {"norm_first": True, "activation": "gelu"},
          "encoder-prenorm-gelu", "transformer_encoder"),
    _spec("transformer", "torch", f"{TORCH}:build_decoder_block", {}, "decoder-causal-keypadding", "decoder_block"),
]

KERAS_CASES = [
    _spec("cnn", "tensorflow", f"{KERAS}:build_application", {"app": "ResNet50"}, "resnet50-64", "resnet50",
          CNN_TOL),
    _spec("cnn", "tensorflow", f"{KERAS}:build_application", {"app": "MobileNetV2"}, "mobilenetv2-64",
          "mobilenetv2", CNN_TOL),
    _spec("cnn", "tensorflow", f"{KERAS}:build_application", {"app": "EfficientNetB0"}, "efficientnetb0-64",
          "efficientnetb0", CNN_TOL),
    # axes covered: 1/2 layers, uni/bi, return_sequences on/off, initial states on/off,
    # GRU reset_after on/off (Keras 3 has no time-major mode)
    _keras_rnn("lstm", 1, False, True, True),
    _keras_rnn("lstm", 2, True, False, False),
    _keras_rnn("gru", 1, True, False, True, reset_after=True),
    _keras_rnn("gru", 2, False, True, False, reset_after=False),
    _spec("transformer", "tensorflow", f"{KERAS}:build_attention_block", {"causal": False, "activation": "relu"},
          "mha-block-relu", "mha_block"),
    _spec("transformer", "tensorflow", f"{KERAS}:build_attention_block", {"causal": True, "activation": "gelu"},
          "mha-block-causal-gelu", "mha_block"),
]

PADDLE_CASES = [
    _spec("cnn", "paddle", f"{PADDLE}:build_vision", {"model": "resnet18"}, "resnet18-64", "resnet18", CNN_TOL),
    _spec("cnn", "paddle", f"{PADDLE}:build_vision", {"model": "mobilenet_v2"}, "mobilenetv2-64", "mobilenetv2",
          CNN_TOL),
    _paddle_rnn("lstm", 1, "forward", False, True),
    _paddle_rnn("lstm", 2, "bidirect", True, False),
    _paddle_rnn("gru", 1, "bidirect", False, True),
    _paddle_rnn("gru", 2, "forward", True, False),
    _spec("transformer", "paddle", f"{PADDLE}:build_transformer_encoder",
          {"normalize_before": False, "activation": "relu"}, "encoder-postnorm-relu", "transformer_encoder"),
    _spec("transformer", "paddle", f"{PADDLE}:build_transformer_encoder",
          {"normalize_before": True, "activation": "gelu"}, "encoder-prenorm-gelu", "transformer_encoder"),
]

ARCH_CASES: list[CaseSpec] = TORCH_CASES + KERAS_CASES + PADDLE_CASES
