"""Test module the plugin collects for ``pytest --model PATH`` (repeatable): one test per
model file x converter x target, checked like any other case (results, matrix, gate)."""
from __future__ import annotations

import dataclasses

from .sources import parse_shapes, source_spec


def conformance_cases(asked):
    config = asked.config         # the pytest run's options
    shapes = parse_shapes(config.getoption("--model-shape"))
    specs = []
    for path in config.getoption("--model") or ():
        _, spec = source_spec(path, shapes=shapes, inputs_npz=config.getoption("--model-inputs"))
        if asked.converters:
            spec = dataclasses.replace(spec, converters=None)   # the user's --converter decides
        specs.append(spec)
    return specs


def test_model(case, conformance_runner):
    conformance_runner.check(case)
