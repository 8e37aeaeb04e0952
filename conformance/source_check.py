"""Framework model files: ``check_source`` (behind ``conformance check SOURCE``, see
``conformance.check_cli``) and the ``conformance convert SOURCE`` command.

The file is loaded and run in its own framework's worker (the expected outputs), converted
by the converter for its format (or ``--converter``), and the ONNX model is checked on the
targets by ``conformance.check.check_model`` against those outputs: statistics per output and
target, and the first divergent node on a failure. ``--onnx OUT.onnx`` checks an existing
conversion against the file instead of converting again (the file and the ONNX out of step
fail).
"""
from __future__ import annotations

import sys
from pathlib import Path

import onnx

from .check import check_model
from .inputs import graph_inputs
from converters import get_converter

from .placement import base_converter
from .runner import Runner, RunnerOptions
from .sources import SourceRefused, parse_shapes, source_spec
from .tolerance import QUANTIZED_SOURCE_TOLERANCE

OPSET_HELP = "opset to convert at (default: the converter's own, 17; torch-dynamo 18)"


def _converted(path, *, converter=None, opset=None, inputs=None, shapes=None, timeout=600.0):
    """(format, spec, Conversion) for a model file; raises SourceRefused for what cannot be read.
    ``opset`` None: the converter's ``default_opset``."""
    fmt, spec = source_spec(path, shapes=parse_shapes(shapes), inputs_npz=inputs, converter=converter)
    opset = opset or get_converter(base_converter(spec.converters[0])).default_opset
    runner = Runner(RunnerOptions(timeout=timeout))
    try:
        conv, _ = runner.conversion(spec, spec.converters[0], opset)
    finally:
        runner.close()
    if conv.status == "error" and conv.error_type == "SourceRefused":
        raise SourceRefused(conv.message.split("SourceRefused: ", 1)[-1].splitlines()[0])
    if conv.status == "error" and conv.error_type == "ModuleNotFoundError":      # the framework is not installed
        raise SourceRefused(f"{path}: {conv.message.splitlines()[0]}", fix="install the framework: bash scripts/setup.sh")
    return fmt, spec, conv


def _not_converted(source, fmt, spec, conv) -> str:
    return (f"{spec.converters[0]} could not convert {source} ({fmt.description}): {conv.status}: "
            f"{conv.message.splitlines()[0] if conv.message else ''}")


def check_source(source, targets=None, *, converter=None, opset=None, inputs=None, shapes=None, onnx_path=None,
                 rtol=None, atol=None, out_dir=None, localize=True, timeout=600.0):
    """Check a framework model file end to end; returns (CheckReport or None, one-line problem)."""
    fmt, spec, conv = _converted(source, converter=converter, opset=opset, inputs=inputs, shapes=shapes,
                                 timeout=timeout)
    if conv.status != "ok":
        return None, _not_converted(source, fmt, spec, conv)
    model_bytes = Path(onnx_path).read_bytes() if onnx_path else conv.onnx_bytes
    if onnx_path:
        try:
            proto = onnx.load_from_string(model_bytes)
        except Exception as exc:
            raise SourceRefused(f"{onnx_path}: not a valid ONNX model ({type(exc).__name__})") from None
        names = [i.name for i in graph_inputs(proto)]
        if len(names) != len(conv.input_names):
            raise SourceRefused(f"{onnx_path} takes {len(names)} inputs, {source} takes {len(conv.input_names)}")
    else:
        names = conv.input_names
    feeds = dict(zip(names, conv.input_sets[0]))
    if conv.precision in QUANTIZED_SOURCE_TOLERANCE and rtol is None and atol is None:
        rtol, atol = QUANTIZED_SOURCE_TOLERANCE[conv.precision]
        print(f"{source}: a {conv.precision} quantized model checked against its float translation at "
              f"rtol={rtol:g} atol={atol:g} (conformance.tolerance.QUANTIZED_SOURCE_TOLERANCE)")
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        if not onnx_path:
            (Path(out_dir) / "model.onnx").write_bytes(conv.onnx_bytes)
    report = check_model(model_bytes, targets, inputs=feeds, expected=list(conv.golden_sets[0]), rtol=rtol, atol=atol,
                         out_dir=out_dir, localize=localize)
    return report, ""


def cmd_convert(args) -> int:
    fmt, spec, conv = _converted(args.source, converter=args.converter, opset=args.opset, inputs=args.inputs,
                                 shapes=args.shape, timeout=args.timeout)
    if conv.status != "ok":
        print(_not_converted(args.source, fmt, spec, conv), file=sys.stderr)
        return 1
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(conv.onnx_bytes)
    opset = next((i.version for i in onnx.load_from_string(conv.onnx_bytes).opset_import if i.domain in ("", "ai.onnx")), "?")
    print(f"{fmt.description} -> {out} ({spec.converters[0]}, opset {opset}, "
          f"inputs {', '.join(f'{n}{list(a.shape)}' for n, a in zip(conv.input_names, conv.input_sets[0]))})")
    return 0


def register(sub) -> None:
    p = sub.add_parser("convert", help="convert a torch/keras/SavedModel/paddle model file to ONNX")
    p.add_argument("source", help=".pt (TorchScript), .pt2 (torch.export), .keras, .h5, SavedModel folder, "
                                  "Paddle .json/.pdmodel (+ .pdiparams)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.onnx")
    p.add_argument("--converter", help="override the converter chosen for the format")
    p.add_argument("--opset", type=int, default=None, help=OPSET_HELP)
    p.add_argument("--shape", action="append", metavar="NAME=1x3x224x224", help="dims of dynamic inputs")
    p.add_argument("--inputs", metavar="INPUTS.npz", help="sample inputs by name (else seeded random)")
    p.add_argument("--timeout", type=float, default=600.0)
    p.set_defaults(func=cmd_convert)
