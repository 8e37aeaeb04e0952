"""suites/benchmarks is off by default and refuses xdist (pytest-benchmark disables itself there)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "suites" / "benchmarks"


def _pytest(*args, timeout=120):
    env = dict(os.environ, CONFORMANCE_BENCH_MODELS="gru")
    proc = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def test_benchmarks_are_skipped_unless_selected():
    code, out = _pytest("--target", "onnxruntime")
    assert code == 0, out
    assert "2 skipped" in out          # gru x {unoptimized, optimize} x onnxruntime
    assert "benchmarks are off by default: select them with -m benchmark or --benchmark-only" in out
    assert " passed" not in out


def test_benchmarks_skip_under_xdist_with_the_reason():
    pytest.importorskip("xdist")
    code, out = _pytest("-m", "benchmark", "-n", "2", "--target", "onnxruntime", timeout=180)
    assert code == 0, out
    assert "pytest-benchmark disables itself under xdist" in out and " passed" not in out
