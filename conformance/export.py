"""``conformance export-cases DIR -k PATTERN``: write generated cases in ONNX's backend-test
layout (model.onnx, test_data_set_N/input_K.pb, output_K.pb), so another backend's own
runner can consume our cases. Expected outputs are the source framework's."""
from __future__ import annotations

import sys
from pathlib import Path

from .repro import safe_name, write_backend_test_layout
from .runner import Runner, RunnerOptions
from .selection import Asked, expand, split_values, suite_specs


def cmd_export_cases(args) -> int:
    sys.path.insert(0, str(Path.cwd()))
    specs = suite_specs(split_values(args.suite, ("operators", "padding", "architectures", "multio-control")),
                        Asked.of(args.framework, args.converter, tuple(split_values(args.k))))
    runs = expand(specs, targets=["onnx"], frameworks=set(split_values(args.framework)),
                  converters=split_values(args.converter),
                  opsets=[int(o) for o in split_values(args.opset)] or None,
                  include=split_values(args.k))
    out = Path(args.dir)
    runner = Runner(RunnerOptions(timeout=args.timeout, cache_dir=args.cache_dir))
    written = skipped = 0
    try:
        for run in runs:
            conv, _ = runner.conversion(run.spec, run.converter, run.opset)
            name = safe_name(run.case_id.replace("/onnx/", "/"))
            if conv.status != "ok":
                print(f"skip {name}: {conv.status}: {conv.message.splitlines()[0] if conv.message else ''}")
                skipped += 1
                continue
            folder = write_backend_test_layout(out / f"test_{name}", conv.onnx_bytes, conv.input_sets[0],
                                               conv.input_names, conv.golden_sets[0], conv.output_names)
            for i, (inputs, golden) in enumerate(zip(conv.input_sets[1:], conv.golden_sets[1:]), 1):
                write_backend_test_layout(folder, None, inputs, conv.input_names, golden, conv.output_names, i)
            written += 1
    finally:
        runner.close()
    print(f"wrote {written} cases to {out} ({skipped} skipped)")
    return 0 if written or not runs else 1


def register(sub) -> None:
    p = sub.add_parser("export-cases", help="write generated cases in ONNX backend-test layout")
    p.add_argument("dir")
    p.add_argument("-k", action="append", metavar="GLOB",
                   help="case-id glob (the target part of the id is 'onnx'), e.g. 'op/conv2d/torch/*'")
    p.add_argument("--suite", action="append")
    p.add_argument("--framework", action="append")
    p.add_argument("--converter", action="append")
    p.add_argument("--opset", action="append")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--cache-dir")
    p.set_defaults(func=cmd_export_cases)
