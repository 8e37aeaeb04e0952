"""The measure of the reference executor: ONNX's own node test corpus.

``python -m conformance.bench.corpus [--compare] [-k PATTERN] [--failures] [--markdown]``

Runs every case of ``onnx.backend.test.case.node.collect_testcases`` (one data set each) through
our executor and compares each output by ``np.testing.assert_allclose``'s rule through
``conformance.comparator`` (``|a - e| <= atol + rtol * |e|`` with the case's own rtol/atol, NaN
equals NaN, dtypes and shapes must match, strings compare equal). ``--compare`` runs
``onnx.reference.ReferenceEvaluator`` and onnxruntime on the same cases and prints the three
side by side (onnxruntime is imported only then). It lives outside ``conformance/reference/``,
which imports numpy and onnx only; the failures it finds are listed in
``conformance/reference/KNOWN_FAILURES.md``.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case.node import collect_testcases
from onnx.reference import ReferenceEvaluator

from .. import reference
from ..comparator import compare as compare_arrays
from ..reference import ReferenceExecutor, dtypes
from ..tolerance import Tolerance

KNOWN_FAILURES = Path(reference.__file__).with_name("KNOWN_FAILURES.md")


@dataclass
class CaseResult:
    name: str
    passed: bool
    reason: str
    seconds: float


def load_cases(pattern: str | None = None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            cases = collect_testcases(None)
    if pattern:
        rx = re.compile(pattern)
        cases = [c for c in cases if rx.search(c.name)]
    return cases


def _normalize(value):
    if isinstance(value, onnx.TensorProto):
        value = numpy_helper.to_array(value)
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    if value is None or isinstance(value, np.ndarray):
        if isinstance(value, np.ndarray) and value.dtype == object:
            return np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else s, otypes=[object])(value) \
                if value.size else value
        return value
    return np.asarray(value)


def compare(expected, actual, rtol: float, atol: float) -> str | None:
    """None when equal under the corpus rules, else a short reason."""
    expected = _normalize(expected)
    actual = _normalize(actual)
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"expected a sequence, got {type(actual).__name__}"
        if len(expected) != len(actual):
            return f"sequence length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            reason = compare(e, a, rtol, atol)
            if reason:
                return f"[{i}] {reason}"
        return None
    if expected is None:
        return None if actual is None else "expected an empty optional"
    if not isinstance(actual, np.ndarray):
        return f"expected a tensor, got {type(actual).__name__}"
    if dtypes.is_custom(actual.dtype) and not dtypes.is_custom(expected.dtype) \
            and expected.dtype == dtypes.raw_storage(actual.dtype):
        # the corpus stores some bfloat16 data as its raw uint16 bits: compare bits
        actual = dtypes.raw_view(actual)
    if expected.dtype != actual.dtype:
        return f"dtype {actual.dtype} != {expected.dtype}"
    if expected.shape != actual.shape:
        return f"shape {actual.shape} != {expected.shape}"
    if expected.dtype == object:
        return None if expected.tolist() == actual.tolist() else "strings differ"
    if dtypes.is_custom(expected.dtype):
        expected, actual = dtypes.custom_to_float32(expected), dtypes.custom_to_float32(actual)
    result = compare_arrays(actual, expected, Tolerance(rtol=rtol, atol=atol, exact=False, check_dtype=False))
    if not result.passed:
        return "values differ: " + "; ".join(line.strip() for line in result.message.splitlines()[:2])
    return None


def _feeds(case, inputs):
    names = [i.name for i in case.model.graph.input]
    init = {t.name for t in case.model.graph.initializer}
    names = [n for n in names if n not in init]
    return {name: _normalize(value) for name, value in zip(names, inputs)}


def _run_one(case, make_runner) -> CaseResult:
    start = time.perf_counter()
    try:
        inputs, outputs = case.data_sets[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                runner = make_runner(case.model)
                got = runner(_feeds(case, inputs))
        seconds = time.perf_counter() - start
        if len(got) != len(outputs):
            return CaseResult(case.name, False, f"{len(got)} outputs != {len(outputs)}", seconds)
        for i, (expected, actual) in enumerate(zip(outputs, got)):
            reason = compare(expected, actual, case.rtol, case.atol)
            if reason:
                return CaseResult(case.name, False, f"output {i}: {reason}", seconds)
        return CaseResult(case.name, True, "", seconds)
    except Exception as exc:  # a failing case is a result, not a crash of the measure
        message = str(exc).splitlines()[0] if str(exc) else ""
        return CaseResult(case.name, False, f"{type(exc).__name__}: {message}"[:300], time.perf_counter() - start)


def ours(precision: str = "float32"):
    def make(model):
        executor = ReferenceExecutor(model, precision=precision)
        return lambda feeds: executor.run(None, feeds)
    return make


def onnx_reference():
    def make(model):
        evaluator = ReferenceEvaluator(model)
        return lambda feeds: evaluator.run(None, feeds)
    return make


def onnxruntime_runner():
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4

    def make(model):
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return lambda feeds: session.run(None, feeds)
    return make


def run_corpus(make_runner, cases) -> list[CaseResult]:
    return [_run_one(case, make_runner) for case in cases]


def _summary(label: str, results: list[CaseResult]) -> str:
    passed = sum(r.passed for r in results)
    seconds = sum(r.seconds for r in results)
    return f"{label:<16} passed {passed:>5} / {len(results):<5} failed {len(results) - passed:>4}   time {seconds:7.2f} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.bench.corpus", description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="pattern", help="regex on case names")
    parser.add_argument("--compare", action="store_true", help="also run onnx.reference and onnxruntime")
    parser.add_argument("--failures", action="store_true", help="list our failing cases with the reason")
    parser.add_argument("--markdown", action="store_true", help="print our failures as a Markdown table")
    parser.add_argument("--precision", default="float32", choices=("float32", "float64"))
    args = parser.parse_args(argv)

    cases = load_cases(args.pattern)
    results = {"ours": run_corpus(ours(args.precision), cases)}
    if args.compare:
        results["onnx.reference"] = run_corpus(onnx_reference(), cases)
        results["onnxruntime"] = run_corpus(onnxruntime_runner(), cases)
    failing = [r for r in results["ours"] if not r.passed]
    if args.failures:
        for r in failing:
            print(f"FAIL {r.name}: {r.reason}")
    if args.markdown:
        print("| data set | reason |\n|---|---|")
        for r in failing:
            print(f"| {r.name} | {r.reason.replace('|', '/')} |")
    print(f"{len(cases)} cases")
    for label, res in results.items():
        print(_summary(label, res))
    if args.compare:
        mine = {r.name for r in results["ours"] if r.passed}
        for label in ("onnx.reference", "onnxruntime"):
            theirs = {r.name for r in results[label] if r.passed}
            print(f"  passed by {label} but not ours: {sorted(theirs - mine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
