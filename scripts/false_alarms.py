"""False alarms and sensitivity of the noise-floor tolerance, on the zoo and the architecture suite.

    python -m suites.models.export --out /tmp/zoo          # the six models, inputs, source outputs
    conformance export-cases /tmp/arch --suite architectures   # every architecture case, every converter
    python scripts/false_alarms.py /tmp/zoo /tmp/arch [--multiple 16] [--only resnet18,gru] [--skip-mutations]

A folder holds models in either layout: ``NAME/model.onnx`` with ``inputs.npz`` and
``expected.npz`` (the zoo export), or ``NAME/model.onnx`` with ``test_data_set_N/input_K.pb`` and
``output_K.pb`` (ONNX's backend-test layout that ``export-cases`` writes: every input set of the
case, the source framework's outputs). Every input set of a model is checked; a cell shows the
worst of them.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conformance.check import check_model                      # noqa: E402
from conformance.errors import ConformanceError                  # noqa: E402
from conformance.inputs import graph_inputs                      # noqa: E402
from conformance.reference import ReferenceExecutor              # noqa: E402
from conformance.targets import get_target, target_status        # noqa: E402
from conformance.targets.base import TargetOptions, prepare_target  # noqa: E402
from conformance.tolerance import NOISE_MULTIPLE                 # noqa: E402
from planted_bugs import MUTATIONS                               # noqa: E402

TARGETS = ("reference", "onnxruntime")


@dataclass
class CheckedModel:
    """A model and its input sets, each with the source framework's outputs (in output order)."""

    name: str
    model: onnx.ModelProto
    sets: list[tuple[dict, list]]          # (feeds by input name, source outputs)


def _zoo_layout(folder: Path, model: onnx.ModelProto) -> list[tuple[dict, list]]:
    return [(dict(np.load(folder / "inputs.npz")), list(np.load(folder / "expected.npz").values()))]


def _backend_test_layout(folder: Path, model: onnx.ModelProto) -> list[tuple[dict, list]]:
    names = [i.name for i in graph_inputs(model)]
    read = lambda files: [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in files]   # noqa: E731
    sets = []
    for data in sorted(folder.glob("test_data_set_*"), key=lambda d: int(d.name.rsplit("_", 1)[1])):
        inputs = read(sorted(data.glob("input_*.pb"), key=lambda f: int(f.stem.split("_")[1])))
        outputs = read(sorted(data.glob("output_*.pb"), key=lambda f: int(f.stem.split("_")[1])))
        sets.append((dict(zip(names, inputs)), outputs))
    return sets


def load_models(roots: list[Path], only: list[str] | None) -> list[CheckedModel]:
    """Every ``*/model.onnx`` under the roots whose folder name contains one of ``only``."""
    found = []
    for root in roots:
        for path in sorted(root.glob("*/model.onnx")):
            folder = path.parent
            if only and not any(part in folder.name for part in only):
                continue
            model = onnx.load(str(path))
            layout = _zoo_layout if (folder / "expected.npz").exists() else _backend_test_layout
            found.append(CheckedModel(folder.name, model, layout(folder, model)))
    return found


def _runtime_outputs(target: str, threads: int | None):
    def run(model: onnx.ModelProto, feeds: dict) -> list | None:
        if not target_status(target)[0]:
            return None
        t = get_target(target)
        session, _ = prepare_target(t, model, TargetOptions(intra_op_threads=threads) if threads else None)
        return list(t.run(session, dict(feeds)))
    return run


# where the expected outputs come from: name -> (model, feeds, source outputs) -> outputs in order
EXPECTED_SOURCES = {
    "source framework": lambda model, feeds, source: source,
    "onnxruntime 1 thread": lambda model, feeds, source: _runtime_outputs("onnxruntime", 1)(model, feeds),
    "onnxruntime default threads": lambda model, feeds, source: _runtime_outputs("onnxruntime", None)(model, feeds),
    "openvino f32": lambda model, feeds, source: _runtime_outputs("openvino", None)(model, feeds),
}


def margin(report, target: str) -> float:
    """The worst max_abs / noise floor over the target's float outputs (nan: no floor)."""
    checks = [t for t in report.targets if t.target == target][0].outputs
    ratios = [over_floor(o.max_abs, o.noise_floor) for o in checks if o.noise_floor is not None and o.max_abs is not None]
    return max(ratios) if ratios else float("nan")


def over_floor(error: float, floor: float) -> float:
    """error / floor; a floor of 0 (every float32 engine exact on the output): inf for any error."""
    return error / floor if floor else (float("inf") if error else 0.0)


def _cell(reports, target: str) -> str:
    """The worst verdict and margin of a target over the input sets' reports."""
    statuses = [[t for t in r.targets if t.target == target][0].status for r in reports]
    worst = next((s for s in statuses if s != "passed"), "passed")
    margins = [m for m in (margin(r, target) for r in reports) if not np.isnan(m)]
    return f"{'PASS' if worst == 'passed' else worst.upper()} {max(margins) if margins else float('nan'):.3g}"


def _check_sets(entry: CheckedModel, expected_from, multiple: float) -> list | None:
    """check_model's report on every input set, expected outputs from ``expected_from`` (None:
    that source is not installed)."""
    reports = []
    for feeds, source in entry.sets:
        expected = expected_from(entry.model, feeds, source)
        if expected is None:
            return None
        reports.append(check_model(entry.model, list(TARGETS), inputs=feeds, expected=expected, localize=False,
                                   noise_multiple=multiple))
    return reports


def false_alarm_grid(models: list[CheckedModel], multiple: float) -> int:
    print(f"\n## unchanged models: cell = verdict and worst error/floor (allowed: {multiple:g})")
    print("| model | expected from | " + " | ".join(TARGETS) + " |\n|---|---|" + "---|" * len(TARGETS))
    alarms = 0
    for entry in models:
        for source, expected_from in EXPECTED_SOURCES.items():
            try:
                reports = _check_sets(entry, expected_from, multiple)
            except Exception as exc:    # a source that cannot run this model or set (onnxruntime's Fail, ...)
                print(f"| {entry.name} | {source} | not checked: {type(exc).__name__}: {str(exc)[:100]} |")
                continue
            if reports is None:
                print(f"| {entry.name} | {source} | " + " | ".join("unavailable" for _ in TARGETS) + " |")
                continue
            # a model a target cannot run (error, unsupported) is no verdict of the floor's
            alarms += sum(t.status == "failed" for r in reports for t in r.targets)
            print(f"| {entry.name} | {source} | " + " | ".join(_cell(reports, t) for t in TARGETS) + " |",
                  flush=True)
    print(f"false alarms: {alarms}")
    return alarms


def bug_effect(mutant: onnx.ModelProto, feeds: dict, exact: list, report) -> float:
    """How far the bug moves the exact outputs: max |mutant - model| in float64, over the floor."""
    try:
        moved = ReferenceExecutor(mutant, "float64", cast_outputs=False).run(None, feeds)
    except Exception:
        return float("inf")             # the model no longer runs: a bug no check can miss
    floors = {o.name: o.noise_floor for o in report.targets[0].outputs}
    ratios = [over_floor(float(np.max(np.abs(np.asarray(a, np.float64) - b))), floors[o.name])
              for a, b, o in zip(moved, exact, report.targets[0].outputs) if floors.get(o.name) is not None]
    return max(ratios) if ratios else float("inf")


def _mutation_cell(mutant: onnx.ModelProto, feeds: dict, source: list, exact: list, multiple: float) -> tuple[str, bool]:
    """(the cell, whether the bug was missed) of one planted bug checked on onnxruntime."""
    try:
        report = check_model(mutant, ["onnxruntime"], inputs=feeds, expected=source, localize=False,
                             noise_multiple=multiple)
    except ConformanceError as exc:          # the checker or the oracle refuses the mutant: caught
        return f"caught ({type(exc).__name__})", False
    status = report.targets[0].status
    effect = bug_effect(mutant, feeds, exact, report)
    verdict = "caught" if status != "passed" else "invisible" if effect < multiple else "MISSED"
    return (f"{verdict} {margin(report, 'onnxruntime'):.3g} (effect {effect:.3g})"
            + ("" if status in ("passed", "failed") else f" ({status})")), verdict == "MISSED"


def mutation_grid(models: list[CheckedModel], multiple: float) -> int:
    print(f"\n## planted bugs on onnxruntime vs the source framework (first input set): cell = verdict and "
          f"error/floor (caught above {multiple:g})")
    print("| model | " + " | ".join(MUTATIONS) + " |\n|---|" + "---|" * len(MUTATIONS))
    missed = 0
    for entry in models:
        feeds, source = entry.sets[0]
        try:
            values = ReferenceExecutor(entry.model).run_all(feeds)
            exact = ReferenceExecutor(entry.model, "float64", cast_outputs=False).run(None, feeds)
        except Exception as exc:             # the reference cannot run the model: no exact outputs to move
            print(f"| {entry.name} | not checked: {type(exc).__name__}: {str(exc)[:100]} |")
            continue
        cells = []
        for mutate in MUTATIONS.values():
            mutant = mutate(entry.model, values)
            if mutant is None:
                cells.append("n/a")
                continue
            cell, lost = _mutation_cell(mutant, feeds, source, exact, multiple)
            cells.append(cell)
            missed += lost
        print(f"| {entry.name} | " + " | ".join(cells) + " |", flush=True)
    print(f"missed bugs: {missed}")
    return missed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", type=Path, nargs="+",
                    help="folders `python -m suites.models.export --out` or `conformance export-cases` wrote")
    ap.add_argument("--multiple", type=float, default=NOISE_MULTIPLE)
    ap.add_argument("--only", help="comma-separated parts of model folder names (a model is checked when "
                                   "its name contains one)")
    ap.add_argument("--skip-mutations", action="store_true")
    ap.add_argument("--skip-grid", action="store_true", help="only the planted bugs")
    ap.add_argument("--sets", type=int, default=None, help="check at most this many input sets per model")
    args = ap.parse_args(argv)
    models = load_models(args.folders, args.only.split(",") if args.only else None)
    for entry in models:
        entry.sets = entry.sets[:args.sets] if args.sets else entry.sets
    if not models:
        print(f"no */model.onnx under {', '.join(map(str, args.folders))}: run python -m suites.models.export "
              f"--out DIR or conformance export-cases DIR --suite architectures")
        return 2
    bad = 0 if args.skip_grid else false_alarm_grid(models, args.multiple)
    if not args.skip_mutations:
        bad += mutation_grid(models, args.multiple)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
