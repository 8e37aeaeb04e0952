"""The measure: ONNX's node test corpus through the reference executor (about 5 s).

Asserts a floor on passed data sets and that every failing data set is listed, with its
reason, in conformance/reference/KNOWN_FAILURES.md. Writes nothing.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference import corpus

FLOOR = 1264  # 1270 reached; a small margin for ref-kernels' work in progress
KNOWN_FAILURES = Path(corpus.__file__).with_name("KNOWN_FAILURES.md")


def _known_failures() -> set[str]:
    """Data set names of the first table (the float32 one; later sections are float64 notes)."""
    names = set()
    for line in KNOWN_FAILURES.read_text().split("\n## ")[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| test_") and cells:
            names.add(cells[0])
    return names


@pytest.fixture(scope="module")
def results():
    cases = corpus.load_cases()
    assert len(cases) == 1288, "the corpus of onnx 1.17.0 has 1288 node cases"
    return corpus.run_corpus(corpus.ours(), cases)


def test_corpus_pass_count_reaches_floor(results):
    passed = sum(r.passed for r in results)
    assert passed >= FLOOR, f"{passed} passed, floor {FLOOR}"


def test_every_failure_is_known(results):
    unexpected = {r.name: r.reason for r in results if not r.passed and r.name not in _known_failures()}
    assert not unexpected, f"failing and not in KNOWN_FAILURES.md: {unexpected}"


def test_compare_rules_catch_dtype_shape_and_value_differences():
    import numpy as np

    assert corpus.compare(np.float32([1, 2]), np.float32([1, 2.0001]), 1e-3, 0) is None
    assert "values" in corpus.compare(np.float32([1, 2]), np.float32([1, 2.1]), 1e-3, 0)
    assert "dtype" in corpus.compare(np.float32([1]), np.float64([1]), 1e-3, 0)
    assert "shape" in corpus.compare(np.float32([1, 2]), np.float32([[1, 2]]), 1e-3, 0)
    assert corpus.compare(np.float32([np.nan]), np.float32([np.nan]), 0, 0) is None
    assert corpus.compare(np.array(["a"], object), np.array(["b"], object), 0, 0) == "strings differ"
    assert corpus.compare([np.int64([1])], [np.int64([1])], 0, 0) is None
    assert corpus.compare(None, np.int64([1]), 0, 0) is not None
