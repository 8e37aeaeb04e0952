"""``conformance check MODEL``: run an ONNX file on targets and hold it to an oracle.

    conformance check model.onnx [--target T ...] [--inputs INPUTS.npz] [--shape x=1x3x224x224]
                     [--expected EXPECTED.npz] [--rtol R] [--atol A] [--json] [--out DIR]

The oracle is EXPECTED.npz when given, else the reference executor computing in float64
(outputs cast back to the model's declared types): every target, the float32 ``reference``
target included, is then held to the same higher-precision answer rather than to a copy of
itself; ``--oracle-precision float32`` gives the executor's float32 arithmetic instead.
Per target and output it prints the error statistics and PASS/FAIL; on a failure it names the first divergent node (``conformance.divergent_node``: every
intermediate compared between the reference executor and the target) and, with ``--out``,
writes that node as a one-node model with its captured inputs (ONNX backend-test layout).

MODEL may also be a framework's own file (.pt, .pt2, .keras, .h5, SavedModel folder, Paddle
.json/.pdmodel): it is run in its framework for the expected outputs, converted, and the
conversion checked (``conformance.source_check``).

Exit 0 when every target passes, 1 when one fails (or cannot run the model), 2 when the
model is not valid ONNX, no target knows one of its ops, or the inputs do not match it.
The library behind it is ``conformance.check.check_model``.
"""
from __future__ import annotations

import argparse

from .check import check_model
from .check_report import CheckReport, render
from .divergent_node import load_model
from .inputs import DEFAULT_SEED, InvalidInputs, load_npz, parse_shapes, random_inputs
from .precision_attribution import attribute_error, attribution_json
from .source_check import OPSET_HELP, check_source
from .sources import is_framework_source
from .tolerance import NOISE_MULTIPLE


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="run an ONNX file on targets, compare, and localize the first divergent node",
        description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("--target", action="append", default=None, metavar="NAME[,NAME]",
                   help="target(s); repeatable, comma-separated (default: reference,onnxruntime)")
    p.add_argument("--inputs", metavar="INPUTS.npz", help="input arrays by input name (default: seeded random)")
    p.add_argument("--shape", action="append", default=None, metavar="NAME=1x3x224x224",
                   help="shape of a random input with dynamic dimensions; repeatable")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the random inputs (default 0)")
    p.add_argument("--expected", metavar="EXPECTED.npz",
                   help="expected outputs by output name (default: the reference executor is the oracle)")
    p.add_argument("--rtol", type=float, default=None,
                   help="relative tolerance (default: per dtype); with --atol, replaces the noise-floor tolerance")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance (default: per dtype, widened to "
                   "--noise-multiple x the measured float32 noise floor of each float32 output)")
    p.add_argument("--noise-multiple", type=float, default=NOISE_MULTIPLE, metavar="M",
                   help=f"float32 outputs may be off by M x their measured noise floor (default {NOISE_MULTIPLE:g}; "
                        "0: the dtype's plain tolerance)")
    p.add_argument("--oracle-precision", choices=("float32", "float64"), default="float64",
                   help="arithmetic of the reference executor when it is the oracle (default float64)")
    p.add_argument("--no-localize", action="store_true", help="skip the divergent-node search")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--float-model", metavar="FLOAT.onnx",
                   help="MODEL is a quantized (QDQ) version of this float model: add each intermediate's SQNR and "
                        "cosine against it, worst first (on the first target)")
    p.add_argument("--out", metavar="DIR", help="write inputs, expected outputs and one-node repros here")
    framework = p.add_argument_group(
        "framework model files (.pt, .pt2, .keras, .h5, SavedModel folder, Paddle .json/.pdmodel)",
        "MODEL may be a framework's own file: it is run in that framework for the expected outputs, "
        "converted, and the conversion checked")
    framework.add_argument("--converter", help="override the converter chosen for the format")
    framework.add_argument("--opset", type=int, default=None, help=OPSET_HELP)
    framework.add_argument("--onnx", metavar="OUT.onnx", help="check this existing conversion instead of converting")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    targets = [t.strip() for spec in (args.target or []) for t in spec.split(",") if t.strip()] or None
    if is_framework_source(args.model):
        report, problem = check_source(args.model, targets, converter=args.converter, opset=args.opset,
                                       inputs=args.inputs, shapes=args.shape, onnx_path=args.onnx,
                                       rtol=args.rtol, atol=args.atol, out_dir=args.out,
                                       localize=not args.no_localize)
        if report is None:
            print(problem)
            return 1
    else:
        report = _check_onnx(args, targets)
    print(render(report, args.json))
    return report.exit_code


def _check_onnx(args: argparse.Namespace, targets: list[str] | None) -> CheckReport:
    inputs = load_npz(args.inputs, "inputs") if args.inputs else None
    expected = load_npz(args.expected, "expected") if args.expected else None
    for key in ("rtol", "atol", "noise_multiple"):
        value = getattr(args, key)
        if value is not None and not value >= 0:
            raise InvalidInputs(f"--{key} must be >= 0, got {value}")
    report = check_model(args.model, targets, inputs=inputs, expected=expected, rtol=args.rtol, atol=args.atol,
                         shapes=args.shape, seed=args.seed, out_dir=args.out, localize=not args.no_localize,
                         oracle_precision=args.oracle_precision, noise_multiple=args.noise_multiple)
    if args.float_model:
        # the check's own feeds: the given inputs, or the same seeded draw
        feeds = inputs if inputs is not None else random_inputs(load_model(args.model), parse_shapes(args.shape), args.seed)
        rows = attribute_error(args.float_model, args.model, feeds, target=(targets or ["onnxruntime"])[0])
        report.attribution = attribution_json(rows)
    return report
