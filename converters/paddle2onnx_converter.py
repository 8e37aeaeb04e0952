"""paddle.jit.save, then paddle2onnx on the saved inference model."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

from conformance.cases import Built
from conformance.errors import ConversionError

from . import register_converter
from ._common import check_standard_ops, conversion_failure, declared_inputs, short
from .base import Converter


def input_spec(built: Built):
    import paddle
    return [paddle.static.InputSpec(shape=shape, dtype=str(dtype), name=name)
            for name, shape, dtype in declared_inputs(built)]


def saved_model_files(prefix: Path) -> tuple[Path, Path]:
    """Paddle 3 saves ``.json`` (PIR) where older versions save ``.pdmodel``."""
    for suffix in (".json", ".pdmodel"):
        model_file = prefix.with_suffix(suffix)
        if model_file.exists():
            return model_file, prefix.with_suffix(".pdiparams")
    raise ConversionError(f"paddle.jit.save wrote no model file next to {prefix}")


def paddle_to_onnx(model_file: Path, params_file: Path, opset: int, out: Path | None = None):
    import onnx
    import paddle2onnx
    out = out or model_file.with_name("model.onnx")
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            paddle2onnx.export(str(model_file), str(params_file) if params_file.exists() else "",
                               save_file=str(out), opset_version=opset, auto_upgrade_opset=False,
                               enable_onnx_checker=True, verbose=False)
    except Exception as exc:
        raise conversion_failure(short(exc), log.getvalue()[-2000:]) from exc
    if not out.exists():
        raise conversion_failure("paddle2onnx wrote no model: " + " | ".join(log.getvalue().strip().splitlines()[-4:]))
    return onnx.load(str(out))


@register_converter("paddle2onnx")
class Paddle2OnnxConverter(Converter):
    framework = "paddle"
    requires = ("paddle", "paddle2onnx", "onnx")
    distribution = "paddle2onnx"

    def convert(self, built: Built, opset: int, workdir: Path):
        import paddle
        if built.options.get("paddle_files"):       # a saved inference model: convert its files as they are
            model_file, params_file = (Path(f) for f in built.options["paddle_files"])
            proto = paddle_to_onnx(model_file, params_file, opset, out=Path(workdir) / "model.onnx")
            check_standard_ops(proto, self.name)
            return proto
        model = built.model
        if hasattr(model, "eval"):
            model.eval()
        prefix = Path(workdir) / "model"
        try:
            paddle.jit.save(model, str(prefix), input_spec=input_spec(built))
        except Exception as exc:
            raise conversion_failure("paddle.jit.save failed: " + short(exc)) from exc
        proto = paddle_to_onnx(*saved_model_files(prefix), opset)
        check_standard_ops(proto, self.name)
        return proto
