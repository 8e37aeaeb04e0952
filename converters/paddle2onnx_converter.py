"""paddle.jit.save, then paddle2onnx on the saved inference model."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import onnx

from conformance.cases import Built
from conformance.errors import ConversionError

from . import register_converter
from ._common import check_standard_ops, conversion_failure, declared_inputs, short
from .base import Converter
from .intermediates import CALLS_KEY

# Paddle layer class -> the Paddle op it lowers to (its value names: p2o.pd_op.<op>.<k>.<out>)
PADDLE_LAYER_OPS = {
    "Conv2D": "conv2d", "Conv2DTranspose": "conv2d_transpose", "BatchNorm2D": "batch_norm",
    "BatchNorm1D": "batch_norm", "BatchNorm": "batch_norm", "LayerNorm": "layer_norm", "ReLU": "relu",
    "ReLU6": "relu6", "GELU": "gelu", "Sigmoid": "sigmoid", "Hardswish": "hardswish", "Softmax": "softmax",
    "MaxPool2D": "pool2d", "AvgPool2D": "pool2d", "AdaptiveAvgPool2D": "pool2d", "LSTM": "rnn", "GRU": "rnn",
    "SimpleRNN": "rnn",
}
_P2O_VALUE = re.compile(r"^p2o\.pd_op\.(?P<op>[A-Za-z0-9_]+?)_?\.(?P<k>\d+)\.")


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
    import paddle2onnx
    out = out or model_file.with_name("model.onnx")
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            paddle2onnx.export(str(model_file), str(params_file) if params_file.exists() else "",
                               save_file=str(out), opset_version=opset, auto_upgrade_opset=False,
                               enable_onnx_checker=True, verbose=False)
    except (Exception, SystemExit) as exc:     # paddle2onnx logs its error, then sys.exit(-1)
        raise conversion_failure(short(exc), log.getvalue()[-2000:]) from exc
    if not out.exists():
        raise conversion_failure("paddle2onnx wrote no model: " + " | ".join(log.getvalue().strip().splitlines()[-4:]))
    return onnx.load(str(out))


@register_converter("paddle2onnx")
class Paddle2OnnxConverter(Converter):
    framework = "paddle"
    requires = ("paddle", "paddle2onnx", "onnx")
    distribution = "paddle2onnx"

    def layer_groups(self, graph, intermediates) -> dict[str, list]:
        """paddle2onnx (2.x) keeps no source names on nodes (``Conv.0``), but names values after
        the Paddle op and its ordinal in the program, ``p2o.pd_op.conv2d.3.0`` (4th conv2d,
        output 0). With the worker's call log (``intermediates["__calls__"]``: layer name and
        class per call, in order) the k-th call of a layer class that lowers to one op is
        matched to ordinal k of that op."""
        if CALLS_KEY not in intermediates:
            return {}
        return paddle_ordinal_groups(graph, intermediates[CALLS_KEY][0])

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


def _producers_by_ordinal(graph) -> dict[tuple[str, int], list]:
    """(paddle op, ordinal) -> the ONNX nodes whose first p2o-named output is that op's value."""
    producers: dict[tuple[str, int], list] = {}
    for node in graph.node:
        for out in node.output:
            m = _P2O_VALUE.match(out)
            if m:
                producers.setdefault((m["op"], int(m["k"])), []).append(node)
                break
    return producers


def paddle_ordinal_groups(graph, calls) -> dict[str, list]:
    """layer name -> nodes producing the ONNX values of that layer's calls. Only where the number
    of calls of an op's layers equals the number of ONNX ordinals of that op, so a functional
    call of the same op cannot shift the pairing silently."""
    producers = _producers_by_ordinal(graph)
    per_op: dict[str, list[str]] = {}
    for name, cls in np.asarray(calls).reshape(-1, 2):
        op = PADDLE_LAYER_OPS.get(str(cls))
        if op is not None:
            per_op.setdefault(op, []).append(str(name))
    groups: dict[str, list] = {}
    for op, names in per_op.items():
        ordinals = sorted(k for o, k in producers if o == op)
        if ordinals != list(range(len(names))):
            continue                      # functional calls of this op too: pairing unsafe
        for k, name in enumerate(names):
            groups.setdefault(name, []).extend(producers[(op, k)])
    return groups
