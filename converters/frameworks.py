"""Source-side execution per framework: run a Built model on numpy inputs, get numpy outputs.

Imported only inside a framework's worker process; each function imports its framework lazily.
"""
from __future__ import annotations

import re
from importlib import metadata

import numpy as np

from conformance.cases import Built
from conformance.errors import UnsupportedOperator

DISTRIBUTIONS = {"torch": "torch", "tensorflow": "tensorflow", "paddle": "paddlepaddle", "numpy": "numpy",
                 "onnx": "onnx", "mindspore": "mindspore"}


def framework_version(framework: str) -> str:
    try:
        return metadata.version(DISTRIBUTIONS.get(framework, framework))
    except metadata.PackageNotFoundError:
        return ""


def flatten(out, to_numpy, sort_keys: bool = False) -> list[np.ndarray]:
    """Nested outputs to a flat list. Dicts: insertion order (torch.onnx), or sorted keys
    where the framework's own flattening sorts them (tf.nest, paddle.utils.flatten), which is
    the order its converter emits the outputs in."""
    if isinstance(out, dict):
        keys = sorted(out) if sort_keys else list(out)
        return [a for k in keys for a in flatten(out[k], to_numpy, sort_keys)]
    if isinstance(out, (list, tuple)):
        return [a for item in out for a in flatten(item, to_numpy, sort_keys)]
    return [to_numpy(out)]


def _run_torch(model, inputs):
    import torch
    if hasattr(model, "eval"):
        model.eval()
    tensors = [torch.from_numpy(np.require(x, requirements="C")) for x in inputs]
    with torch.no_grad():
        out = model(*tensors)
    return flatten(out, lambda t: t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t))


def _run_tensorflow(model, inputs):
    import tensorflow as tf
    tensors = [tf.convert_to_tensor(x) for x in inputs]
    keras_model = getattr(tf.keras, "Model", None)
    if keras_model is not None and isinstance(model, keras_model):
        out = model(tensors if len(tensors) > 1 else tensors[0], training=False)
    else:
        out = model(*tensors)
    return flatten(out, lambda t: t.numpy() if hasattr(t, "numpy") else np.asarray(t), sort_keys=True)


def _run_paddle(model, inputs):
    import paddle
    if hasattr(model, "eval"):
        model.eval()
    tensors = [paddle.to_tensor(x) for x in inputs]
    with paddle.no_grad():
        out = model(*tensors)
    return flatten(out, lambda t: t.numpy() if hasattr(t, "numpy") else np.asarray(t), sort_keys=True)


#: MindSpore's words for an op with no kernel on this device (mint's ``Conv2DExt`` on CPU), in
#: the forms 2.10 says it: "The kernel X unregistered", "Not found op X on device CPU", "Create
#: kernelmod for op X failed", "X only supports Ascend"
_NO_KERNEL = re.compile(r"The kernel (\w+) unregistered|Not found op (\w+) on device CPU"
                        r"|Create kernelmod for op (\w+) failed|(\w+) only supports Ascend")


def _run_mindspore(model, inputs):
    """A ``mindspore.nn.Cell`` in PyNative mode (eager, MindSpore's default): the golden. An op
    MindSpore has no CPU kernel for is ``unsupported``, by the kernel's name."""
    import mindspore
    if hasattr(model, "set_train"):
        model.set_train(False)
    try:
        out = model(*[mindspore.Tensor(np.require(x, requirements="C")) for x in inputs])
        return flatten(out, lambda t: t.asnumpy() if hasattr(t, "asnumpy") else np.asarray(t))
    except (RuntimeError, NotImplementedError) as exc:
        missing = _NO_KERNEL.search(str(exc))
        if missing is None:
            raise
        kernel = next(g for g in missing.groups() if g)
        raise UnsupportedOperator(f"MindSpore {framework_version('mindspore')} has no CPU kernel {kernel}") from exc


def _run_numpy(model, inputs):
    return flatten(model(*inputs), np.asarray)


# "onnx" (the backend corner suite): its builders always bring their own ``run`` (the reference executor)
RUNNERS = {"torch": _run_torch, "tensorflow": _run_tensorflow, "paddle": _run_paddle, "mindspore": _run_mindspore,
           "numpy": _run_numpy}


def run_source(framework: str, built: Built, inputs: list[np.ndarray] | None = None) -> list[np.ndarray]:
    inputs = built.inputs if inputs is None else inputs
    if built.run is not None:
        return [np.asarray(a) for a in built.run(built.model, inputs)]
    return RUNNERS[framework](built.model, inputs)


def seed_framework(framework: str, seed: int) -> None:
    """Seed the framework's global generators so weight init is deterministic per case."""
    np.random.seed(seed % (2**32))
    if framework == "torch":
        import torch
        torch.manual_seed(seed)
    elif framework == "tensorflow":
        import keras
        keras.utils.set_random_seed(seed)
    elif framework == "paddle":
        import paddle
        paddle.seed(seed)
    elif framework == "mindspore":
        import mindspore
        mindspore.set_seed(seed)
