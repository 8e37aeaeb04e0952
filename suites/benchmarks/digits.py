"""Train and convert one digit classifier per framework, for ``conformance bench --mode accuracy``.

    python -m suites.benchmarks.digits [--out reports/models/digits] [--only torch,tensorflow,paddle]
    conformance bench reports/models/digits/digits_torch/model.onnx --mode accuracy --dataset digits

Each classifier (``digits_models``) is trained with a fixed seed in its framework's worker and
converted at opset 17 through the suites' runner (and cache). Writes per framework
``DIR/digits_FRAMEWORK/model.onnx`` and ``source.json``: the source framework's FP32 top-1 on the
held-out digits, the figure to pass as ``--fp32-accuracy``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conformance.bench.digits import digits_csv, load_digits_split
from conformance.cases import CaseSpec
from conformance.runner import Runner, RunnerOptions
from suites.benchmarks.digits_models import top1

OPSET = 17
MODULE = "suites.benchmarks.digits_models"
# framework -> (builder, converter)
CLASSIFIERS = {"torch": ("build_torch", "torch-script"), "tensorflow": ("build_keras", "tf2onnx"),
               "paddle": ("build_paddle", "paddle2onnx")}


def classifier_spec(framework: str) -> CaseSpec:
    builder, converter = CLASSIFIERS[framework]
    return CaseSpec(kind="model", name="digits-mlp", framework=framework, builder=f"{MODULE}:{builder}",
                    params={"csv": digits_csv()}, variant="digits-64-32-10", converters=(converter,))


def export(out: Path, frameworks, runner: Runner) -> dict[str, dict]:
    """Convert each framework's classifier; returns framework -> what source.json holds."""
    labels = load_digits_split().test_y
    written = {}
    for framework in frameworks:
        spec = classifier_spec(framework)
        converter = spec.converters[0]
        conversion, _ = runner.conversion(spec, converter, OPSET)
        if conversion.status != "ok":
            print(f"{framework}: {conversion.status}: {conversion.message}", file=sys.stderr)
            continue
        folder = out / f"digits_{framework}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.onnx").write_bytes(conversion.onnx_bytes)
        info = {"framework": framework, "converter": converter, "opset": OPSET, "versions": conversion.versions,
                "fp32_top1": top1(conversion.golden_sets[0][0], labels), "test_samples": len(labels)}
        (folder / "source.json").write_text(json.dumps(info, indent=1) + "\n")
        print(f"{framework:<10} {converter:<12} source FP32 top-1 {info['fp32_top1']:.4f} -> {folder}")
        written[framework] = info
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="reports/models/digits")
    ap.add_argument("--only", default=",".join(CLASSIFIERS), help="comma-separated frameworks")
    args = ap.parse_args(argv)
    frameworks = [f for f in args.only.split(",") if f]
    unknown = set(frameworks) - set(CLASSIFIERS)
    if unknown:
        ap.error(f"unknown framework(s) {sorted(unknown)}; choose from {sorted(CLASSIFIERS)}")
    runner = Runner(RunnerOptions(timeout=900))
    try:
        written = export(Path(args.out), frameworks, runner)
    finally:
        runner.close()
    return 0 if len(written) == len(frameworks) else 1


if __name__ == "__main__":
    sys.exit(main())
