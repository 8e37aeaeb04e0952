"""Export the six benchmark ("zoo") models to ONNX with their inputs and source outputs.

    python -m suites.models.export [--out reports/models] [--only resnet50,gru]

Each model is built with seeded random weights in its own framework's worker process and
converted by its converter at opset 17 through the same runner (and cache) as the suites.
Writes per model: DIR/NAME/model.onnx, inputs.npz, expected.npz (the source framework's
outputs), and test_data_set_0/ in ONNX's backend-test layout.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from conformance.repro import write_backend_test_layout
from conformance.runner import Runner, RunnerOptions

OPSET = 17


def zoo_specs():
    from suites.architectures.specs import ZOO
    return ZOO


def export(out: Path, only: set[str] | None = None, runner: Runner | None = None) -> list[Path]:
    own = runner is None
    runner = runner or Runner(RunnerOptions(timeout=900))
    written = []
    try:
        for spec in zoo_specs():
            if only and spec.arch not in only:
                continue
            converter = spec.converters[0]
            t0 = time.perf_counter()
            conv, _ = runner.conversion(spec, converter, OPSET)
            if conv.status != "ok":
                print(f"{spec.arch}: {conv.status}: {conv.message}", file=sys.stderr)
                continue
            folder = out / spec.arch
            write_backend_test_layout(folder, conv.onnx_bytes, conv.input_sets[0], conv.input_names,
                                      conv.golden_sets[0], conv.output_names)
            np.savez(folder / "inputs.npz", **dict(zip(conv.input_names, conv.input_sets[0])))
            np.savez(folder / "expected.npz", **dict(zip(conv.output_names, conv.golden_sets[0])))
            (folder / "SOURCE.txt").write_text(
                f"{spec.base_id}/{converter}/opset{OPSET}/{spec.variant}\nparams: {spec.params}\n"
                f"versions: {conv.versions}\n")
            print(f"{spec.arch:<22} {spec.framework:<10} {converter:<12} -> {folder} ({time.perf_counter() - t0:.1f} s)")
            written.append(folder)
    finally:
        if own:
            runner.close()
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="reports/models")
    ap.add_argument("--only", default="", help="comma-separated arch names (resnet50, mobilenetv2, resnet18, "
                                               "transformer_encoder, lstm, gru)")
    args = ap.parse_args(argv)
    only = {s for s in args.only.split(",") if s} or None
    written = export(Path(args.out), only)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
