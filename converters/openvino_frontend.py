"""OpenVINO's own frontends (``openvino.convert_model``) reading the source model directly.

* ``ov-torch``: an ``nn.Module`` with the case's sample inputs as ``example_input``.
* ``ov-tensorflow``: a concrete ``tf.function`` of the model over the case's input signature
  (Keras models are called through it, outputs flattened as ``tf.nest`` flattens them).
* ``ov-paddle``: the model saved by ``paddle.jit.save`` in the legacy ``.pdmodel`` program
  format (``FLAGS_enable_pir_api=0``): OpenVINO's Paddle frontend refuses the PIR ``.json``.

Each writes format ``openvino``: a formats.Package of ``model.xml`` + ``model.bin``
(``openvino.save_model`` with ``compress_to_fp16=False``: its default stores weights in fp16),
with the source's input names and output names in the source's order. The IR's ports are
renamed to those names, so the ``openvino`` target finds them whatever the frontend called them.
Dynamic axes (``Built.dynamic_axes``) are passed as dynamic dimensions, so the case's input sets
of other shapes run on the one model.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from conformance.cases import Built
from conformance.errors import ConversionError, UnsupportedOperator
from conformance.formats import Package

from . import register_converter
from ._common import conversion_failure, declared_inputs, output_names, short
from .base import Converter

#: the frontends' words for an op they have no translator for
_NO_TRANSLATOR = re.compile(r"(No translator found for|No conversion rule found for|No creator found for|"
                            r"Cannot create \S+ layer|Unsupported operation|not supported:?|only supports)"
                            r"\s*([^\n|]*)", re.I)


#: Paddle 3's words when an op has only a PIR kernel binding: tracing it into a legacy program
#: hands it a static Variable ("abs(): argument (position 1) must be Value, but got Variable";
#: measured on Paddle 3.3.1, FLAGS_enable_pir_api=0 at import or not)
_NO_LEGACY_KERNEL = re.compile(r"(\w+)\(\): argument \(position \d+\) must be Value, but got (?:Variable|None)")

#: what Paddle's legacy saver says when it cannot write the model as a .pdmodel program, and what
#: that means (formatted with the match's groups and ``version``; _legacy_refusal adds that no
#: .pdmodel is written for OpenVINO's Paddle frontend); each measured on Paddle 3.3.1
_LEGACY_REFUSALS = (
    (_NO_LEGACY_KERNEL, "Paddle {version} cannot write {1}() in the legacy program format"),
    # an identity (dropout in eval, nn.Identity): nothing to save
    (re.compile(r"program must not be empty"),
     "Paddle {version}'s legacy program saver refuses a model with no operator (an identity)"),
    # the legacy op's dtype list is narrower than the eager kernel's (square_error_cost on int64, t on bool)
    (re.compile(r"The data type of '\w+' in (\w+) must be \[[^\]]*\], but received \w+"),
     "Paddle {version}'s legacy {1} op refuses a dtype its eager kernel takes"),
    # the legacy batch_norm op checks epsilon <= 1e-3 (batch_norm_op.cc); the eager kernel does not
    (re.compile(r"'epsilon' should be less or equal than \S+"),
     "Paddle {version}'s legacy batch_norm op refuses an epsilon its eager kernel takes"),
    # paddle.concat of paddle.shape(x) with an int64 tensor: the PIR program saves it, the legacy one refuses
    # (repro: paddle.concat([paddle.shape(x)[0].reshape([1]), paddle.to_tensor([4])]) in a to_static forward)
    (re.compile(r"All the Tensors in the input must have the same data type"),
     "Paddle {version}'s legacy program refuses a concat its PIR program saves (the tensors' dtypes differ there)"),
    # nn.SimpleRNN / LSTM / GRU: to_static cannot place a tensor of the layer (tensor_patch_methods._to_static_var)
    (re.compile(r"Unknown place type: Place\(undefined:0\)"),
     "Paddle {version}'s legacy saver cannot turn a tensor of the layer into a program variable"),
)


def partial_shapes(built: Built) -> list:
    """An ``ov.PartialShape`` per input: static, with a dynamic dimension on each dynamic axis."""
    import openvino as ov
    return [ov.PartialShape([ov.Dimension() if d is None else d for d in shape])
            for _, shape, _ in declared_inputs(built)]


def require_outputs(model, count: int, made_by: str) -> None:
    """Refuse a converted ``ov.Model`` with fewer or more outputs than the source's ``count``:
    OpenVINO's TensorFlow frontend drops an output that is a constant of the graph (tf.shape of a
    static input, zeros_like ...), and the rest would be named and compared out of place."""
    if len(model.outputs) != count:
        raise ConversionError(f"{made_by} made {len(model.outputs)} outputs of the source's {count}")


def package_model(model, built: Built, workdir: Path, fmt: str = "openvino") -> Package:
    """The converted ``ov.Model`` as a package, its ports renamed to the source's input and
    output names, saved in f32. An input port is matched by the source name it carries (the
    Paddle frontend orders parameters its own way, named after the input specs), else by its
    position (the torch and TF frontends keep the source's order, under their own names); a
    frontend that dropped an input the model never reads keeps the ones its ports name."""
    import openvino as ov
    names = built.names()
    carried = [next((n for n in names if n in port.get_names()), None) for port in model.inputs]
    if None not in carried and len(set(carried)) == len(carried):
        matched = carried
    elif len(model.inputs) == len(names):
        matched = list(names)
    else:
        raise ConversionError(f"OpenVINO's frontend made {len(model.inputs)} inputs of the source's {len(names)} "
                              f"({[sorted(p.get_names()) for p in model.inputs]} for {names})")
    inputs = [n for n in names if n in matched]            # declared in the source's order
    outputs = output_names(built, len(model.outputs))
    for port, name in zip(model.inputs, matched):
        port.get_tensor().set_names({name})
    for port, name in zip(model.outputs, outputs):
        port.get_tensor().set_names({name})
    xml = Path(workdir) / "model.xml"
    ov.save_model(model, str(xml), compress_to_fp16=False)
    return Package(fmt, {"model.xml": xml.read_bytes(), "model.bin": xml.with_suffix(".bin").read_bytes()},
                   inputs, outputs)


class OpenVinoFrontend(Converter):
    format = "openvino"
    distribution = "openvino"
    extra = "openvino"

    def convert(self, built: Built, opset: int, workdir: Path):
        try:
            model = self.read(built, Path(workdir))
        except (ConversionError, UnsupportedOperator):
            raise
        except Exception as exc:
            said = short(exc, 1200)
            found = _NO_TRANSLATOR.search(said)
            if found:
                raise UnsupportedOperator(f"OpenVINO's {self.framework} frontend: {found.group(0).strip()[:300]}") from exc
            raise conversion_failure(f"openvino.convert_model ({self.framework}): {said}") from exc
        return package_model(model, built, Path(workdir))

    def read(self, built: Built, workdir: Path):
        raise NotImplementedError


@register_converter("ov-torch")
class OpenVinoTorch(OpenVinoFrontend):
    framework = "torch"
    requires = ("torch", "openvino")

    def read(self, built: Built, workdir: Path):
        import openvino as ov
        import torch
        model = built.model
        if isinstance(model, torch.export.ExportedProgram):
            return ov.convert_model(model)
        if hasattr(model, "eval"):
            model.eval()
        example = tuple(torch.from_numpy(np.require(x, requirements="C")) for x in built.inputs)
        kwargs = {"input": partial_shapes(built)} if built.dynamic_axes else {}
        with torch.no_grad():
            return ov.convert_model(model, example_input=example, **kwargs)


@register_converter("ov-tensorflow")
class OpenVinoTensorFlow(OpenVinoFrontend):
    framework = "tensorflow"
    requires = ("tensorflow", "openvino")

    def read(self, built: Built, workdir: Path):
        import openvino as ov

        from .tf2onnx_converter import as_tf_function, input_signature
        from .tflite_converter import flat_outputs
        function = flat_outputs(as_tf_function(built)).get_concrete_function(*input_signature(built))
        model = ov.convert_model(function)
        require_outputs(model, len(function.outputs), "OpenVINO's TensorFlow frontend")
        return model


@register_converter("ov-paddle")
class OpenVinoPaddle(OpenVinoFrontend):
    framework = "paddle"
    requires = ("paddle", "openvino")

    def read(self, built: Built, workdir: Path):
        import openvino as ov
        import paddle

        from .paddle2onnx_converter import input_spec
        if hasattr(built.model, "eval"):
            built.model.eval()
        prefix = workdir / "model"
        # the legacy program IR (.pdmodel) OpenVINO reads, as FLAGS_enable_pir_api=0 would give:
        # the flag is read at import, so the worker switches IR for this save only
        with legacy_program_ir(paddle):
            try:
                paddle.jit.save(built.model, str(prefix), input_spec=input_spec(built))
            except (TypeError, ValueError) as exc:
                refusal = _legacy_refusal(exc, paddle.__version__)
                if refusal is None:
                    raise
                raise refusal from exc
        program = prefix.with_suffix(".pdmodel")
        if not program.exists():
            raise ConversionError(f"paddle.jit.save wrote no .pdmodel (FLAGS_enable_pir_api=0 not honoured): "
                                  f"{sorted(p.name for p in workdir.iterdir())}")
        return ov.convert_model(str(program))


def _legacy_refusal(exc: Exception, version: str) -> UnsupportedOperator | None:
    """What Paddle's legacy saver refusing the model means for this path: a refusal it names
    (``_LEGACY_REFUSALS``) is ``unsupported`` with Paddle's words; anything else is None."""
    said = str(exc)
    for words, meaning in _LEGACY_REFUSALS:
        found = words.search(said)
        if found is not None:
            return UnsupportedOperator(f"{meaning.format(found.group(0), *found.groups(), version=version)}, so no "
                                       f".pdmodel is written for OpenVINO's Paddle frontend to read: {found.group(0)}")
    return None


def legacy_program_ir(paddle):
    """A context in which ``paddle.jit.save`` writes the legacy ``.pdmodel`` program (Paddle 3
    writes PIR ``.json`` by default); a Paddle without PIR writes ``.pdmodel`` anyway."""
    import contextlib
    guards = getattr(paddle, "pir_utils", None)
    guard = getattr(guards, "DygraphOldIrGuard", None)
    return guard() if guard is not None else contextlib.nullcontext()
