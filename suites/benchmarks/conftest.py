"""Benchmarks are off by default: they run only when selected with ``-m benchmark`` or
``--benchmark-only``, serially (pytest-benchmark disables itself under xdist, so under ``-n``
every benchmark is skipped with that reason rather than reporting fake numbers).

Options (also as environment variables, for runs where this conftest is not an initial one):
``--bench-rounds N`` (``CONFORMANCE_BENCH_ROUNDS``, default 20), ``--bench-models a,b``
(``CONFORMANCE_BENCH_MODELS``, default all six zoo models), ``--models-dir PATH``
(``CONFORMANCE_MODELS_DIR``, default ``reports/models``: the exporter's output, exported on
first use when missing). Targets come from the conformance plugin's ``--target``.
"""
from __future__ import annotations

import os

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("conformance-bench", "conformance benchmarks (suites/benchmarks)")
    group.addoption("--bench-rounds", type=int, default=None, help="timed rounds per benchmark (default 20)")
    group.addoption("--bench-models", default=None, help="comma-separated zoo models (default: all six)")
    group.addoption("--models-dir", default=None, help="exported models folder (default reports/models)")


def pytest_configure(config):
    config.addinivalue_line("markers", "benchmark: model benchmarks (off by default; -m benchmark or --benchmark-only)")


def _option(config, name, env, default):
    value = config.getoption(name, default=None)
    return value if value is not None else os.environ.get(env, default)


def bench_rounds(config) -> int:
    return int(_option(config, "--bench-rounds", "CONFORMANCE_BENCH_ROUNDS", 20))


def bench_models(config) -> list[str] | None:
    value = _option(config, "--bench-models", "CONFORMANCE_BENCH_MODELS", "")
    return [m for m in value.split(",") if m] or None


def models_dir(config) -> str:
    return _option(config, "--models-dir", "CONFORMANCE_MODELS_DIR", "reports/models")


def _selected(config) -> bool:
    if config.getoption("benchmark_only", default=False):
        return True
    markexpr = config.getoption("markexpr", default="") or ""
    return "benchmark" in markexpr and "not benchmark" not in markexpr


def _under_xdist(config) -> bool:
    return bool(getattr(config, "workerinput", None)) or bool(config.getoption("numprocesses", default=None))


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    ours = [item for item in items if str(item.fspath).startswith(here)]
    if not ours:
        return
    if not _selected(config):
        skip = pytest.mark.skip(reason="benchmarks are off by default: select them with -m benchmark or --benchmark-only")
    elif _under_xdist(config):
        skip = pytest.mark.skip(reason="pytest-benchmark disables itself under xdist (-n): "
                                       "run the benchmarks serially, without -n")
    else:
        return
    for item in ours:
        item.add_marker(skip)
