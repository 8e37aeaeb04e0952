"""Repro bundles: a failed case's model, inputs and expected outputs in ONNX's backend-test
layout, with the one ``conformance check`` command that reproduces it."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from onnx import numpy_helper

from .cases import Conversion
from .formats import Package
from .results import CaseResult


def safe_name(case_id: str) -> str:
    """A case id as one file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", case_id).strip("_")


def write_backend_test_layout(folder: Path, onnx_bytes: bytes | None, inputs, input_names, outputs, output_names,
                              data_set: int = 0) -> Path:
    """ONNX backend-test layout: model.onnx and test_data_set_N/{input,output}_K.pb."""
    data = folder / f"test_data_set_{data_set}"
    data.mkdir(parents=True, exist_ok=True)
    if onnx_bytes is not None:
        (folder / "model.onnx").write_bytes(onnx_bytes)
    for i, (name, arr) in enumerate(zip(input_names, inputs)):
        (data / f"input_{i}.pb").write_bytes(numpy_helper.from_array(np.asarray(arr), name).SerializeToString())
    for i, (name, arr) in enumerate(zip(output_names, outputs)):
        (data / f"output_{i}.pb").write_bytes(numpy_helper.from_array(np.asarray(arr), name).SerializeToString())
    return folder


def write_repro(root: Path, record: CaseResult, conv: Conversion) -> Path:
    """A failed case's reproduction bundle, and the one command that reproduces it."""
    folder = root / safe_name(record.case_id)
    write_backend_test_layout(folder, conv.onnx_bytes, conv.input_sets[0], conv.input_names,
                              conv.golden_sets[0], conv.output_names)
    model = folder / "model.onnx"
    if conv.onnx_bytes is None and conv.artifact is not None:      # another format: its own files
        package = Package.from_bytes(conv.artifact)
        for name, data in package.files.items():
            (folder / name).write_bytes(data)
        model = folder / sorted(package.files)[0]
    np.savez(folder / "inputs.npz", **dict(zip(conv.input_names, conv.input_sets[0])))
    np.savez(folder / "expected.npz", **dict(zip(conv.output_names, conv.golden_sets[0])))
    tol = f" --rtol {record.rtol:g} --atol {record.atol:g}" if record.rtol is not None else ""
    command = (f"conformance check {model} --inputs {folder / 'inputs.npz'} "
               f"--expected {folder / 'expected.npz'} --target {record.target}{tol}")
    (folder / "README.txt").write_text(
        f"case: {record.case_id}\nstatus: {record.status}\n\nreproduce:\n  {command}\n\n{record.message}\n")
    (folder / "command.sh").write_text(command + "\n")
    return folder
