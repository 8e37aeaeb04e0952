"""Multi-input / multi-output models and control flow (If / Loop) in torch, TF/Keras and Paddle.

Ids read ``arch/<multio|control>/<framework>/<converter>/opset<N>/<target>/<config>``.

Multi-IO: an int64 token input next to a float mask (embedding lookup, masked mean) with dict
and tuple/list outputs of several dtypes, every axis batch/sequence dynamic (2 input sets).
Where a framework flattens a dict by sorted key (TensorFlow's ``tf.nest``, Paddle's
``paddle.utils.flatten``) the converter's outputs follow that order, and the builder's
``Built.run`` returns the source outputs in it (see the builders); torch keeps insertion order.

Control flow: each case runs extra input sets through the same conversion so that every branch
of an If and zero / several / limit-stopped trip counts of a Loop are compared, not only the one
the sample takes.

    pytest suites/architectures/test_multio_control.py --target reference --target onnxruntime
"""
from __future__ import annotations

from conformance.cases import CaseSpec

TORCH = "suites.architectures.multio_torch"
KERAS = "suites.architectures.multio_keras"
PADDLE = "suites.architectures.multio_paddle"


def _spec(family, framework, builder, params, variant, arch, converters=None):
    return CaseSpec(kind="arch", name=family, framework=framework, builder=builder, params=params,
                    variant=variant, arch=arch, converters=converters)


MULTIO_CASES = [
    # int64 tokens + float mask -> {"logits", "pooled", "count" (int64)}
    _spec("multio", "torch", f"{TORCH}:build_token_mask", {"outputs": "dict"}, "token-mask-dict-out", "token_mask"),
    # -> (pooled, label (int64 argmax), logits)
    _spec("multio", "torch", f"{TORCH}:build_token_mask", {"outputs": "tuple"}, "token-mask-tuple-out", "token_mask"),
    # -> (logits, mask, logits, tokens): inputs passed through as outputs, one tensor returned twice
    _spec("multio", "torch", f"{TORCH}:build_token_mask", {"outputs": "passthrough"}, "token-mask-passthrough-dup-out",
          "token_mask"),
    # Keras functional model, outputs {"pooled", "logits"} (insertion order is not sorted order)
    _spec("multio", "tensorflow", f"{KERAS}:build_token_mask", {"outputs": "dict"}, "token-mask-dict-out",
          "token_mask"),
    _spec("multio", "tensorflow", f"{KERAS}:build_token_mask", {"outputs": "list"}, "token-mask-list-out",
          "token_mask"),
    _spec("multio", "tensorflow", f"{KERAS}:build_token_mask", {"outputs": "passthrough"},
          "token-mask-passthrough-dup-out", "token_mask"),
    _spec("multio", "paddle", f"{PADDLE}:build_token_mask", {"outputs": "dict"}, "token-mask-dict-out", "token_mask"),
    _spec("multio", "paddle", f"{PADDLE}:build_token_mask", {"outputs": "tuple"}, "token-mask-tuple-out",
          "token_mask"),
    _spec("multio", "paddle", f"{PADDLE}:build_token_mask", {"outputs": "passthrough"},
          "token-mask-passthrough-dup-out", "token_mask"),
]

CONTROL_CASES = [
    # torch.cond is a torch.export construct: the dynamo exporter's If (TorchScript tracing refuses it)
    _spec("control", "torch", f"{TORCH}:build_torch_cond", {}, "torch-cond-2out", "cond", ("torch-dynamo",)),
    # torch._higher_order_ops.while_loop: the dynamo exporter's Loop
    _spec("control", "torch", f"{TORCH}:build_torch_while_loop", {}, "torch-while-loop", "while_loop",
          ("torch-dynamo",)),
    # torch.jit.script-ed for + while loops: the TorchScript exporter's Loop (torch.export refuses
    # ScriptModules)
    _spec("control", "torch", f"{TORCH}:build_scripted_loops", {}, "script-for-while", "scripted_loops",
          ("torch-script",)),
    _spec("control", "torch", f"{TORCH}:build_scripted_loops", {"norm": True}, "script-for-while-norm",
          "scripted_loops", ("torch-script",)),
    # an if inside the for body (If nested in Loop), states collected in a list and stacked
    _spec("control", "torch", f"{TORCH}:build_scripted_collect", {}, "script-for-if-stack", "scripted_collect",
          ("torch-script",)),
    _spec("control", "tensorflow", f"{KERAS}:build_tf_cond", {}, "tf-cond-2out", "cond"),
    _spec("control", "tensorflow", f"{KERAS}:build_tf_while", {}, "tf-while-dict-out", "while_loop"),
    # tf.cond inside the while body, states written to a TensorArray
    _spec("control", "tensorflow", f"{KERAS}:build_tf_collect", {"kind": "tensorarray"}, "tf-while-cond-tensorarray",
          "while_loop"),
    _spec("control", "tensorflow", f"{KERAS}:build_tf_collect", {"kind": "map_fn"}, "tf-map-fn", "map_fn"),
    _spec("control", "tensorflow", f"{KERAS}:build_tf_collect", {"kind": "scan"}, "tf-scan", "scan"),
    # Python if / for / while on tensors, turned into control-flow ops by paddle.jit.to_static
    _spec("control", "paddle", f"{PADDLE}:build_cond", {}, "python-if-2out", "cond"),
    _spec("control", "paddle", f"{PADDLE}:build_loops", {}, "python-for-while", "while_loop"),
    _spec("control", "paddle", f"{PADDLE}:build_loops", {"api": "python-norm"}, "python-for-while-norm",
          "while_loop"),
    # an if inside the for body (If nested in Loop); a list appended to in the loop and stacked
    _spec("control", "paddle", f"{PADDLE}:build_collect", {"collect": False}, "python-for-if", "collect"),
    _spec("control", "paddle", f"{PADDLE}:build_collect", {"branch": False}, "python-for-append-stack", "collect"),
    # the explicit static API: paddle.static.nn.cond / paddle.static.nn.while_loop
    _spec("control", "paddle", f"{PADDLE}:build_cond", {"api": "static"}, "static-cond-2out", "cond"),
    _spec("control", "paddle", f"{PADDLE}:build_loops", {"api": "static"}, "static-while-loop", "while_loop"),
]


def conformance_cases():
    return MULTIO_CASES + CONTROL_CASES


def test_multio_control(case, conformance_runner):
    conformance_runner.check(case)
