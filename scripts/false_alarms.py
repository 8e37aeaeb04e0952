"""False alarms and sensitivity of ``conformance check``'s noise-floor tolerance, on the zoo.

    python -m suites.models.export --out /tmp/zoo          # the six models, inputs, source outputs
    python scripts/false_alarms.py /tmp/zoo [--multiple 16] [--only resnet18,gru] [--skip-mutations]

1. No false alarm: every model, unchanged, is checked (``conformance.check.check_model``, what
   ``conformance check MODEL --inputs --expected`` runs) on the reference and onnxruntime
   targets with expected outputs from each source: the source framework (expected.npz),
   onnxruntime at 1 thread and at its default threads, OpenVINO at f32. Every cell must PASS;
   each shows the worst margin = max_abs / noise floor over the outputs.
2. No loss of sensitivity: each planted bug of ``planted_bugs.MUTATIONS`` applied to each
   model, checked on onnxruntime against the source framework's outputs, must FAIL; each cell
   shows the margin (a margin above the multiple is a catch) and the bug's own effect: how far
   it moves the exact (float64 reference) outputs, over the noise floor. A bug whose effect is
   below the multiple is invisible on these inputs to any tolerance that passes float32 noise
   (an equivalent mutant): it is shown as such, not counted as missed.

Exit 1 when a false alarm or a missed bug is found.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conformance.check import check_model                      # noqa: E402
from conformance.reference import ReferenceExecutor              # noqa: E402
from conformance.targets import get_target, target_status        # noqa: E402
from conformance.targets.base import TargetOptions, prepare_target  # noqa: E402
from conformance.tolerance import NOISE_MULTIPLE                 # noqa: E402
from planted_bugs import MUTATIONS                               # noqa: E402

TARGETS = ("reference", "onnxruntime")


def _runtime_outputs(target: str, threads: int | None):
    def run(model: onnx.ModelProto, feeds: dict) -> dict:
        if not target_status(target)[0]:
            return None
        t = get_target(target)
        session, _ = prepare_target(t, model, TargetOptions(intra_op_threads=threads) if threads else None)
        return dict(zip([o.name for o in model.graph.output], t.run(session, dict(feeds))))
    return run


# where the expected outputs come from: name -> (model, feeds, folder) -> outputs by name
EXPECTED_SOURCES = {
    "source framework": lambda model, feeds, folder: dict(np.load(folder / "expected.npz")),
    "onnxruntime 1 thread": lambda model, feeds, folder: _runtime_outputs("onnxruntime", 1)(model, feeds),
    "onnxruntime default threads": lambda model, feeds, folder: _runtime_outputs("onnxruntime", None)(model, feeds),
    "openvino f32": lambda model, feeds, folder: _runtime_outputs("openvino", None)(model, feeds),
}


def margin(report, target: str) -> float:
    """The worst max_abs / noise floor over the target's float outputs (nan: no floor)."""
    checks = [t for t in report.targets if t.target == target][0].outputs
    ratios = [o.max_abs / o.noise_floor for o in checks if o.noise_floor and o.max_abs is not None]
    return max(ratios) if ratios else float("nan")


def _cell(report, target: str) -> str:
    status = [t for t in report.targets if t.target == target][0].status
    return f"{'PASS' if status == 'passed' else status.upper()} {margin(report, target):.3g}"


def false_alarm_grid(models: list[Path], multiple: float) -> int:
    print(f"\n## unchanged models: cell = verdict and worst error/floor (allowed: {multiple:g})")
    print("| model | expected from | " + " | ".join(TARGETS) + " |\n|---|---|" + "---|" * len(TARGETS))
    alarms = 0
    for folder in models:
        model = onnx.load(str(folder / "model.onnx"))
        feeds = dict(np.load(folder / "inputs.npz"))
        for source, expected_from in EXPECTED_SOURCES.items():
            expected = expected_from(model, feeds, folder)
            if expected is None:
                print(f"| {folder.name} | {source} | " + " | ".join("unavailable" for _ in TARGETS) + " |")
                continue
            report = check_model(model, list(TARGETS), inputs=feeds, expected=expected, localize=False,
                                 noise_multiple=multiple)
            alarms += sum(t.status != "passed" for t in report.targets)
            print(f"| {folder.name} | {source} | " + " | ".join(_cell(report, t) for t in TARGETS) + " |")
    print(f"false alarms: {alarms}")
    return alarms


def bug_effect(mutant: onnx.ModelProto, feeds: dict, exact: list, report) -> float:
    """How far the bug moves the exact outputs: max |mutant - model| in float64, over the floor."""
    try:
        moved = ReferenceExecutor(mutant, "float64", cast_outputs=False).run(None, feeds)
    except Exception:
        return float("inf")             # the model no longer runs: a bug no check can miss
    floors = {o.name: o.noise_floor for o in report.targets[0].outputs}
    ratios = [float(np.max(np.abs(np.asarray(a, np.float64) - b))) / floors[o.name]
              for a, b, o in zip(moved, exact, report.targets[0].outputs) if floors.get(o.name)]
    return max(ratios) if ratios else float("inf")


def mutation_grid(models: list[Path], multiple: float) -> int:
    print(f"\n## planted bugs on onnxruntime vs the source framework: cell = verdict and error/floor "
          f"(caught above {multiple:g})")
    print("| model | " + " | ".join(MUTATIONS) + " |\n|---|" + "---|" * len(MUTATIONS))
    missed = 0
    for folder in models:
        model = onnx.load(str(folder / "model.onnx"))
        feeds = dict(np.load(folder / "inputs.npz"))
        expected = dict(np.load(folder / "expected.npz"))
        values = ReferenceExecutor(model).run_all(feeds)
        exact = ReferenceExecutor(model, "float64", cast_outputs=False).run(None, feeds)
        cells = []
        for mutate in MUTATIONS.values():
            mutant = mutate(model, values)
            if mutant is None:
                cells.append("n/a")
                continue
            report = check_model(mutant, ["onnxruntime"], inputs=feeds, expected=expected, localize=False,
                                 noise_multiple=multiple)
            status = report.targets[0].status
            effect = bug_effect(mutant, feeds, exact, report)
            verdict = "caught" if status != "passed" else "invisible" if effect < multiple else "MISSED"
            missed += verdict == "MISSED"
            cells.append(f"{verdict} {margin(report, 'onnxruntime'):.3g} (effect {effect:.3g})"
                         + ("" if status in ("passed", "failed") else f" ({status})"))
        print(f"| {folder.name} | " + " | ".join(cells) + " |")
    print(f"missed bugs: {missed}")
    return missed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("zoo", type=Path, help="the folder `python -m suites.models.export --out` wrote")
    ap.add_argument("--multiple", type=float, default=NOISE_MULTIPLE)
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--skip-mutations", action="store_true")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    models = sorted(p.parent for p in args.zoo.glob("*/model.onnx") if only is None or p.parent.name in only)
    if not models:
        print(f"no */model.onnx under {args.zoo}: run python -m suites.models.export --out {args.zoo}")
        return 2
    bad = false_alarm_grid(models, args.multiple)
    if not args.skip_mutations:
        bad += mutation_grid(models, args.multiple)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
