"""The measure: ONNX's node test corpus through the reference executor (about 5 s).

Asserts a floor on passed data sets and that every failing data set is listed, with its
reason, in conformance/reference/KNOWN_FAILURES.md. Writes nothing.
"""
from __future__ import annotations

import onnx
import pytest

from conformance.bench import corpus

KNOWN_FAILURES = corpus.KNOWN_FAILURES
# per onnx version: (node cases in its corpus, floor on passed data sets; a small margin below what is reached)
CORPORA = {"1.17.0": (1288, 1264), "1.23.2": (1884, 1860)}


def _corpus_of_installed_onnx() -> tuple[int, int]:
    if onnx.__version__ not in CORPORA:
        pytest.skip(f"no measured corpus for onnx {onnx.__version__} (known: {sorted(CORPORA)})")
    return CORPORA[onnx.__version__]


def _section(text: str, version: str) -> str:
    """The `## onnx VERSION` section, up to the next heading (its float64 notes excluded)."""
    parts = text.split(f"\n## onnx {version}\n")
    assert len(parts) == 2, f"KNOWN_FAILURES.md has no single '## onnx {version}' section"
    return parts[1].split("\n#")[0]


def _known_failures(version: str | None = None) -> set[str]:
    """Data set names of the first (float32) table of the installed onnx's section."""
    names = set()
    for line in _section(KNOWN_FAILURES.read_text(), version or onnx.__version__).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| test_") and cells:
            names.add(cells[0])
    return names


@pytest.fixture(scope="module")
def results():
    count, _ = _corpus_of_installed_onnx()
    cases = corpus.load_cases()
    assert len(cases) == count, f"the corpus of onnx {onnx.__version__} has {count} node cases"
    return corpus.run_corpus(corpus.ours(), cases)


def test_corpus_pass_count_reaches_floor(results):
    passed = sum(r.passed for r in results)
    _, floor = _corpus_of_installed_onnx()
    assert passed >= floor, f"{passed} passed, floor {floor}"


def test_every_failure_is_known(results):
    unexpected = {r.name: r.reason for r in results if not r.passed and r.name not in _known_failures()}
    assert not unexpected, f"failing and not in KNOWN_FAILURES.md: {unexpected}"


def test_every_measured_onnx_version_has_a_known_failures_table():
    for version in CORPORA:
        assert _known_failures(version), f"no failure rows for onnx {version}"
    assert "test_qlinearmatmul_2D_int8_float32" in _known_failures("1.17.0")
    assert "test_qlinearmatmul_2D_int8_float32" not in _known_failures("1.23.2")


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
