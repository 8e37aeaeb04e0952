"""One fuzz campaign per selected framework (``--framework``, default torch): it fails when the
campaign finds a bug the known-failures table does not explain, naming each with its repro
folder, or when fewer than 95% of the graphs are valid."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main

pytestmark = pytest.mark.fuzz


def _selected(config, name: str) -> list[str]:
    return [v for item in config.getoption(name) or [] for v in item.split(",") if v]


def pytest_generate_tests(metafunc):
    if "framework" in metafunc.fixturenames:
        metafunc.parametrize("framework", _selected(metafunc.config, "--framework") or ["torch"])


def test_campaign_finds_no_new_bug(framework, request, tmp_path):
    config = request.config
    out = Path(config.getoption("--fuzz-out", None) or tmp_path) / framework
    argv = ["fuzz", "--framework", framework, "--budget", config.getoption("--fuzz-budget", "1m"),
            "--seed", str(config.getoption("--fuzz-seed", 0)), "--out", str(out)]
    for option, flag in (("--converter", "--converter"), ("--target", "--target")):
        if _selected(config, option):
            argv += [flag, ",".join(_selected(config, option))]
    if config.getoption("--results"):
        argv += ["--results", config.getoption("--results")]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    new = [f"{r['symptom']} in {r['component']} ({r['nodes']} nodes): {r['repro']}" for r in rows if not r["known"]]
    assert summary["valid_rate"] >= 0.95, summary
    assert not new, f"{len(new)} new finding(s):\n" + "\n".join(new)
