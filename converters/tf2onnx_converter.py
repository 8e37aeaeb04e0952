"""tf2onnx from a tf.function. Keras models are wrapped in one, since tf2onnx 1.17's
``from_keras`` fails on Keras 3 (KeyError on a keras_tensor)."""
from __future__ import annotations

from pathlib import Path

from conformance.cases import Built

from . import register_converter
from ._common import check_standard_ops, conversion_failure, declared_inputs, short
from .base import Converter, scope_path_candidates


def input_signature(built: Built):
    import tensorflow as tf
    return [tf.TensorSpec(shape, tf.as_dtype(dtype), name=name) for name, shape, dtype in declared_inputs(built)]


def as_tf_function(built: Built):
    import tensorflow as tf
    model = built.model
    if isinstance(model, tf.types.experimental.GenericFunction):
        return model
    is_keras = isinstance(model, tf.keras.Model)
    multi = len(built.inputs) > 1

    def call(*args):
        if is_keras:
            return model(list(args) if multi else args[0], training=False)
        return model(*args)

    return tf.function(call)


@register_converter("tf2onnx")
class Tf2OnnxConverter(Converter):
    framework = "tensorflow"
    requires = ("tensorflow", "tf2onnx", "onnx")
    distribution = "tf2onnx"

    def source_scopes(self, node) -> list[str]:
        """TF op names, ``model_1/conv1_conv_1/convolution`` (Keras 3 appends ``_<n>`` to the
        layer scopes; the core strips it); nodes tf2onnx rewrote are renamed ``Conv__547`` and
        belong to no layer."""
        return scope_path_candidates(node.name)

    def convert(self, built: Built, opset: int, workdir: Path):
        import tf2onnx

        try:
            proto, _ = tf2onnx.convert.from_function(
                as_tf_function(built), input_signature=input_signature(built), opset=opset,
                output_path=None)
        except Exception as exc:
            raise conversion_failure(short(exc)) from exc
        check_standard_ops(proto, self.name)
        return proto
