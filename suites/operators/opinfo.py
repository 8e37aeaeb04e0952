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
    specs = []
    for entry in manifest()["cases"]:
        name = op_name(entry)
        params = {k: entry[k] for k in ("opinfo", "variant", "dtype", "sample", "sample_seed", "signature")}
        specs.append(CaseSpec(kind="op", name=name, op=name, framework="torch", builder=BUILDER, params=params,
                              variant=f"{entry['dtype']}-s{entry['sample']}", converters=CONVERTERS,
                              marks=("opinfo",)))
    return specs
