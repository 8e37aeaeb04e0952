"""``conformance debug precision MODEL.onnx --mode fp16|int8 ...``: the nodes to keep in
float32 (``conformance.debug_precision``). Exit 0: a passing mixed model was found; 1: none
meets the goal (the best found is reported and written); 2: bad input.

``conformance debug attribution FLOAT.onnx REDUCED.onnx``: per-tensor SQNR and cosine of a
quantized or float16 model against its float model (``conformance.precision_attribution``)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .debug_precision import (DEFAULT_MAX_TRIALS, MODES, DebugPrecisionError, Goal, parse_metric, result_json,
                              result_text, search)
from .errors import InvalidModel
from .inputs import load_npz, random_inputs, validate_inputs
from .tolerance import Tolerance


def register(subparsers) -> None:
    debug = subparsers.add_parser("debug", help="debugging tools (precision, attribution)",
                                  description="Debugging tools for converted models.")
    tools = debug.add_subparsers(dest="debug_tool", metavar="TOOL", required=True)
    p = tools.add_parser("precision", help="find the ONNX nodes to keep in float32 for FP16 / INT8",
                         description="Find a small set of ONNX nodes to keep in float32 so that the float16 "
                                     "(or INT8) model meets a tolerance or a metric on a target.")
    p.add_argument("model", help="float32 model (.onnx)")
    p.add_argument("--mode", choices=sorted(MODES), default="fp16")
    p.add_argument("--target", default="onnxruntime", help="target to judge on (default onnxruntime)")
    p.add_argument("--inputs", help="inputs .npz (default: seeded N(0, 1) inputs); also INT8's calibration")
    p.add_argument("--rtol", type=float, help="element-wise rtol against the float model's outputs")
    p.add_argument("--atol", type=float, help="element-wise atol against the float model's outputs")
    p.add_argument("--metric", help="metric goal instead, e.g. cosine:0.999 (default: fp16 0.999, int8 0.97)")
    p.add_argument("--max-trials", type=int, default=DEFAULT_MAX_TRIALS, help="mixed models to try at most")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated inputs")
    p.add_argument("--out", help="where to write the mixed model (default MODEL.<mode>-mixed.onnx beside it)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_precision)
    register_attribution(tools)


def _goal(args) -> Goal | None:
    if args.metric and (args.rtol is not None or args.atol is not None):
        raise DebugPrecisionError("give either --rtol/--atol or --metric, not both")
    if args.metric:
        return Goal(cosine_min=parse_metric(args.metric))
    if args.rtol is not None or args.atol is not None:
        return Goal(tolerance=Tolerance(rtol=args.rtol or 0.0, atol=args.atol or 0.0))
    return None


def _load(path: str):
    import onnx
    try:
        return onnx.load(path)
    except Exception as exc:
        raise InvalidModel(f"cannot read {path}: {str(exc).splitlines()[0] if str(exc) else exc}",
                           fix="pass a valid .onnx file") from None


def run_precision(args: argparse.Namespace) -> int:
    if args.max_trials < 1:
        raise DebugPrecisionError("--max-trials must be at least 1")
    goal = _goal(args)
    model = _load(args.model)
    feeds = (validate_inputs(model, load_npz(args.inputs, "inputs")) if args.inputs
             else random_inputs(model, seed=args.seed, fill=1))
    result = search(model, feeds, args.mode, args.target, goal, max_trials=args.max_trials)
    out = args.out or str(Path(args.model).with_suffix(f".{args.mode}-mixed.onnx"))
    if result.model is not None:
        import onnx
        onnx.save(result.model, out)
    else:
        out = None
    print(json.dumps(result_json(result, out), indent=1) if args.json else result_text(result, out))
    return 0 if result.passed else 1


def register_attribution(tools) -> None:
    p = tools.add_parser("attribution", help="per-tensor SQNR and cosine of a reduced-precision model",
                         description="Compare every intermediate of a quantized (QDQ) or float16 model with its "
                                     "float model on the same inputs: SQNR and cosine, worst first.")
    p.add_argument("float_model", help="the float32 model (.onnx)")
    p.add_argument("reduced_model", help="its INT8 (QDQ) or float16 version (.onnx)")
    p.add_argument("--target", default="onnxruntime", help="target running the reduced model")
    p.add_argument("--inputs", help="inputs .npz (default: seeded N(0, 1) inputs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=10, help="rows to print (text)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_attribution)


def run_attribution(args: argparse.Namespace) -> int:
    from .precision_attribution import attribute_error, attribution_json, attribution_text
    float_model, reduced = _load(args.float_model), _load(args.reduced_model)
    feeds = (validate_inputs(float_model, load_npz(args.inputs, "inputs")) if args.inputs
             else random_inputs(float_model, seed=args.seed, fill=1))
    rows = attribute_error(float_model, reduced, feeds, args.target)
    if args.json:
        print(json.dumps({"float_model": args.float_model, "reduced_model": args.reduced_model,
                          "target": args.target, "tensors": attribution_json(rows)}, indent=1))
    else:
        print(f"{args.reduced_model} vs {args.float_model} on {args.target}: {len(rows)} tensors, worst first")
        print("\n".join(attribution_text(rows, args.top)))
    return 0
