"""``conformance accuracy --dataset digits`` (the accuracy suite through the library: train in
each framework's worker, convert by every converter and chain, judge top-1 accuracy by MLPerf's
rule, records of ``kind: accuracy``) and ``conformance compare TEACHER STUDENT`` (two ONNX
models on a data set's test split: each one's accuracy, their top-1 agreement, the KL divergence
of their outputs)."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import numpy as np

from . import accuracy
from .errors import ConformanceError

#: data set name -> the module giving its cases (``accuracy_cases(chains, high_accuracy)``) and
#: its labelled test split (``test_split() -> (images NCHW, labels)``)
DATASETS = {"digits": "suites.accuracy.specs"}


def _dataset(name: str):
    if name not in DATASETS:
        raise ConformanceError(f"unknown data set {name!r}", fix=f"choose one of: {', '.join(DATASETS)}")
    sys.path.insert(0, str(Path.cwd()))
    return importlib.import_module(DATASETS[name])


def register(subparsers) -> None:
    p = subparsers.add_parser("accuracy", help="top-1 accuracy of converted classifiers on a labelled data set",
                              description="Train small classifiers in each framework, convert them by every "
                                          "converter and precision chain, and judge top-1 accuracy: fp32 must agree "
                                          "with the source on every prediction, reduced precision keep >= 99%%.")
    p.add_argument("--dataset", default="digits", choices=sorted(DATASETS))
    p.add_argument("--target", action="append", help="target(s), comma-separated (default reference,onnxruntime)")
    p.add_argument("--framework", action="append")
    p.add_argument("--converter", action="append", help="converter chains (default: each converter plain, "
                                                        "+optimize, +fp16, +int8)")
    p.add_argument("--high-accuracy", action="store_true", help="reduced precision must keep >= 99.9%%")
    p.add_argument("--results", default="reports/accuracy/results.jsonl")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--cache-dir")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--json", action="store_true", help="print the records' accuracy figures as JSON")
    p.set_defaults(func=run_accuracy)
    c = subparsers.add_parser("compare", help="accuracy, top-1 agreement and KL divergence of two models",
                              description="Run two ONNX classifiers (teacher/student, original/pruned, "
                                          "float/quantized) on a data set's test split.")
    c.add_argument("teacher", help="first model (.onnx): the reference of the agreement and the KL")
    c.add_argument("student", help="second model (.onnx)")
    c.add_argument("--dataset", default="digits", choices=sorted(DATASETS))
    c.add_argument("--target", default="onnxruntime")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=run_compare)


def run_accuracy(args: argparse.Namespace) -> int:
    from .selection import select_runs
    from .session import ConformanceSession, SessionOptions, conclude
    module = _dataset(args.dataset)
    specs = module.accuracy_cases(chains=None if args.converter else module.CHAINS, high_accuracy=args.high_accuracy)
    runs = select_runs(specs, target=args.target, framework=args.framework, converter=args.converter)
    if not runs:
        raise ConformanceError("no accuracy cases selected", fix="check --framework and --converter "
                                                                 "(and that scikit-learn is installed)")
    session = ConformanceSession(SessionOptions(results=args.results, timeout=args.timeout, cache_dir=args.cache_dir,
                                                use_cache=not args.no_cache), parts=False)
    try:
        records = [session.run(run) for run in runs]
    finally:
        session.close()
    conclude(args.results, records)
    rows = [accuracy_row(r) for r in records]
    print(json.dumps(rows, indent=1) if args.json else "\n".join(accuracy_table(rows)))
    if not args.json:
        print(f"results: {args.results}")
    return 1 if any(r.status in ("failed", "error") for r in records) else 0


def accuracy_row(record) -> dict:
    e = record.extra or {}
    return {"case_id": record.case_id, "framework": record.framework, "arch": record.arch,
            "converter": record.converter, "target": record.target, "status": record.status,
            "accuracy": e.get("accuracy"), "source_accuracy": e.get("source_accuracy"),
            "agreement": e.get("agreement"), "lossy": e.get("lossy"), "rule": e.get("rule"),
            "message": record.message.splitlines()[0] if record.message else ""}


def _pct(x) -> str:
    return f"{100 * x:7.2f}" if isinstance(x, (int, float)) else f"{'-':>7s}"


def accuracy_table(rows: list[dict]) -> list[str]:
    lines = [f"{'framework':10s} {'arch':5s} {'converter':24s} {'target':12s} {'acc %':>7s} {'src %':>7s} "
             f"{'agree %':>7s} {'kept %':>7s}  verdict"]
    for r in rows:
        kept = r["accuracy"] / r["source_accuracy"] if r["accuracy"] is not None and r["source_accuracy"] else None
        verdict = r["status"] if r["accuracy"] is not None else f"{r['status']}: {r['message'][:60]}"
        lines.append(f"{r['framework']:10s} {str(r['arch']):5s} {r['converter']:24s} {r['target']:12s} "
                     f"{_pct(r['accuracy'])} {_pct(r['source_accuracy'])} {_pct(r['agreement'])} {_pct(kept)}  "
                     f"{verdict} ({r['rule'] or '-'})")
    return lines


# ----------------------------------------------------------------------------- compare
def model_images(model, images: np.ndarray) -> np.ndarray:
    """NCHW images laid out as the model's (only) input wants them: NHWC when its last static
    dimension is the channel count and the second is not."""
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) == 4 and dims[3] == images.shape[1] and dims[1] != images.shape[1]:
        return np.ascontiguousarray(np.transpose(images, (0, 2, 3, 1)))
    return images


def logits_of(path: str, images: np.ndarray, target_name: str) -> np.ndarray:
    import onnx

    from .targets import get_target
    try:
        model = onnx.load(path)
    except Exception as exc:
        raise ConformanceError(f"cannot read {path}: {exc}", fix="pass an .onnx file") from None
    target = get_target(target_name)
    feeds = {model.graph.input[0].name: model_images(model, images)}
    return np.asarray(target.run(target.prepare(model), feeds)[0])


def compare_models(teacher: np.ndarray, student: np.ndarray, labels: np.ndarray) -> dict:
    """Each model's top-1 accuracy, their top-1 agreement, KL(teacher || student)."""
    t, s = accuracy.top1(teacher), accuracy.top1(student)
    return {"teacher_accuracy": float(np.mean(t == labels)), "student_accuracy": float(np.mean(s == labels)),
            "agreement": float(np.mean(t == s)), "kl_divergence": accuracy.kl_divergence(teacher, student),
            "samples": int(len(labels))}


def run_compare(args: argparse.Namespace) -> int:
    images, labels = _dataset(args.dataset).test_split()
    found = compare_models(logits_of(args.teacher, images, args.target),
                           logits_of(args.student, images, args.target), labels)
    found.update(teacher=args.teacher, student=args.student, dataset=args.dataset, target=args.target)
    if args.json:
        print(json.dumps(found, indent=1))
    else:
        print(f"{args.dataset} test split ({found['samples']} samples) on {args.target}")
        print(f"  teacher {args.teacher}: accuracy {found['teacher_accuracy']:.4f}")
        print(f"  student {args.student}: accuracy {found['student_accuracy']:.4f}")
        print(f"  top-1 agreement {found['agreement']:.4f}; KL(teacher || student) {found['kl_divergence']:.4g} nats")
    return 0
