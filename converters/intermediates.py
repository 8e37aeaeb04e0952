"""Source-framework intermediate outputs, for localizing a converter's failure (worker side).

``source_intermediates(built, **kwargs)`` runs ``built.model`` on ``built.inputs`` (the sample
input set, the same feeds the main process gives the ONNX model) and returns
``{module or layer name: [output arrays]}`` in execution order:

* torch: forward hooks on every named submodule (``model.named_modules()`` names, e.g.
  ``layer1.0.conv1``); a module called several times contributes the outputs of every call.
* keras: one sub-model ``keras.Model(model.inputs, [layer.output ...])`` over the functional
  graph's layers (layer names, e.g. ``conv1_conv``).
* paddle: forward post-hooks on every named sublayer (``model.named_sublayers()`` names), plus
  the reserved entry ``"__calls__"``: the (layer name, layer class) of every call in order.

The framework is detected from the model's type; only frameworks already imported in this
worker are looked at (this module imports none at module level). Outputs are copied at hook
time: in-place modules (``nn.ReLU(inplace=True)``) would otherwise rewrite a captured tensor.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from conformance.cases import Built

#: reserved key: an (n, 2) string array of (layer name, layer class) per call, in call order
CALLS_KEY = "__calls__"


def detect_framework(model: Any) -> str:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    paddle = sys.modules.get("paddle")
    if paddle is not None and isinstance(model, paddle.nn.Layer):
        return "paddle"
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Model):
        return "tensorflow"
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(model, tf.keras.Model):
        return "tensorflow"
    raise TypeError(f"cannot collect intermediates of a {type(model).__module__}.{type(model).__name__}: "
                    "expected a torch.nn.Module, a keras.Model or a paddle.nn.Layer")


def source_intermediates(built: Built, **kwargs) -> dict[str, list[np.ndarray]]:
    """Intermediate outputs of every named submodule/layer on the sample inputs.

    kwargs: ``input_set`` (int, default 0: ``built.inputs``; k > 0: ``built.extra_inputs[k-1]``).
    """
    index = int(kwargs.get("input_set", 0))
    inputs = built.inputs if index == 0 else built.extra_inputs[index - 1]
    framework = kwargs.get("framework") or detect_framework(built.model)
    return _COLLECTORS[framework](built, inputs)


def _flatten(out, to_numpy) -> list[np.ndarray]:
    if out is None:
        return []
    if isinstance(out, dict):
        return [a for k in out for a in _flatten(out[k], to_numpy)]
    if isinstance(out, (list, tuple)):
        return [a for item in out for a in _flatten(item, to_numpy)]
    try:
        return [to_numpy(out)]
    except Exception:   # a non-tensor output (None, a python scalar, a nested object): not comparable
        return []


def _run_hooked(built: Built, inputs, handles, no_grad, to_tensor) -> None:
    """Run the model (eval mode, no gradients) with its capture hooks, then remove them."""
    model = built.model
    try:
        model.eval()
        with no_grad():
            if built.run is not None:
                built.run(model, inputs)
            else:
                model(*[to_tensor(x) for x in inputs])
    finally:
        for h in handles:
            h.remove()


def _torch(built: Built, inputs) -> dict[str, list[np.ndarray]]:
    import torch

    captured: dict[str, list[np.ndarray]] = {}

    def to_numpy(t):
        if not isinstance(t, torch.Tensor):
            raise TypeError
        return t.detach().cpu().numpy().copy()

    def hook_for(name):
        def hook(module, args, output):
            captured.setdefault(name, []).extend(_flatten(output, to_numpy))
        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in built.model.named_modules() if name]
    _run_hooked(built, inputs, handles, torch.no_grad, lambda x: torch.from_numpy(np.ascontiguousarray(x)))
    return captured


def _paddle(built: Built, inputs) -> dict[str, list[np.ndarray]]:
    import paddle

    captured: dict[str, list[np.ndarray]] = {}
    calls: list[tuple[str, str]] = []

    def to_numpy(t):
        if not isinstance(t, paddle.Tensor):
            raise TypeError
        return np.array(t.numpy(), copy=True)

    def hook_for(name):
        def hook(layer, args, output):
            captured.setdefault(name, []).extend(_flatten(output, to_numpy))
            calls.append((name, type(layer).__name__))
        return hook

    handles = [layer.register_forward_post_hook(hook_for(name)) for name, layer in built.model.named_sublayers()]
    _run_hooked(built, inputs, handles, paddle.no_grad, paddle.to_tensor)
    if calls:
        # paddle2onnx keeps no layer names; the main side maps layers to ONNX values by call
        # order per op type, which needs every call's layer and class (see
        # Paddle2OnnxConverter.layer_groups)
        captured[CALLS_KEY] = [np.array(calls, dtype=str).reshape(-1, 2)]
    return captured


def _keras(built: Built, inputs) -> dict[str, list[np.ndarray]]:
    import keras

    model = built.model
    layers, outputs, counts = [], [], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            out = layer.output          # only defined for layers of a functional graph
        except (AttributeError, ValueError):
            continue
        flat = keras.tree.flatten(out)
        layers.append(layer.name)
        outputs.extend(flat)
        counts.append(len(flat))
    if not outputs:
        return {}
    probe = keras.Model(model.inputs, outputs)
    values = probe(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
    values = values if isinstance(values, (list, tuple)) else [values]
    captured, pos = {}, 0
    for name, n in zip(layers, counts):
        captured[name] = [np.array(keras.ops.convert_to_numpy(v), copy=True) for v in values[pos:pos + n]]
        pos += n
    return captured


_COLLECTORS = {"torch": _torch, "tensorflow": _keras, "paddle": _paddle}
