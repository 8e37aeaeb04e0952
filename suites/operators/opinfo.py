"""torch cases from PyTorch's OpInfo database, collection side: no torch import.

``opinfo_manifest.json`` (written by ``python -m suites.operators.opinfo_manifest`` in an
environment with torch, committed) lists the chosen samples; each becomes one case per torch
converter: ``op/<OpInfo name>[.<variant>]/torch/<converter>/opset<N>/<target>/<dtype>-s<sample>``.
The builder (``opinfo_torch.build``) regenerates the sample in the torch worker.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from conformance.cases import CaseSpec

MANIFEST = Path(__file__).resolve().parent / "opinfo_manifest.json"
BUILDER = "suites.operators.opinfo_torch:build"
CONVERTERS = ("torch-script", "torch-dynamo")


@functools.lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def op_name(entry: dict) -> str:
    return f"{entry['opinfo']}.{entry['variant']}" if entry["variant"] else entry["opinfo"]


def opinfo_specs() -> list[CaseSpec]:
    """One case per manifest entry. The first float32 sample of each OpInfo is marked ``opinfo``
    only and runs by default; the others (a second float32 sample, float16, int64, int32, bool)
    are also ``opinfo_extended``: the breadth run, ``pytest suites/operators -m opinfo``."""
    specs, first = [], set()
    for entry in manifest()["cases"]:
        name = op_name(entry)
        params = {k: entry[k] for k in ("opinfo", "variant", "dtype", "sample", "sample_seed", "signature")}
        main = entry["dtype"] == "float32" and name not in first
        if main:
            first.add(name)
        specs.append(CaseSpec(kind="op", name=name, op=name, framework="torch", builder=BUILDER, params=params,
                              variant=f"{entry['dtype']}-s{entry['sample']}", converters=CONVERTERS,
                              marks=("opinfo",) if main else ("opinfo", "opinfo_extended")))
    return specs
