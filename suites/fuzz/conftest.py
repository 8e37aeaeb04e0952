"""``pytest suites/fuzz -m fuzz --fuzz-budget 5m``: a fuzz campaign as a test, off by default (the
``fuzz`` marker: without ``-m fuzz`` it is skipped). ``--framework``, ``--converter``,
``--target`` and ``--results`` are the plugin's options."""
from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("fuzz", "generated-graph campaigns (suites/fuzz)")
    group.addoption("--fuzz-budget", default="1m", metavar="TIME|N", help="per framework: 30s, 5m ... or N graphs")
    group.addoption("--fuzz-seed", type=int, default=0, metavar="S")
    group.addoption("--fuzz-out", default=None, metavar="DIR", help="keep each framework's campaign folder here")


def pytest_collection_modifyitems(config, items):
    if "fuzz" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="fuzz campaigns run with -m fuzz")
    for item in items:
        if item.get_closest_marker("fuzz") is not None:
            item.add_marker(skip)
