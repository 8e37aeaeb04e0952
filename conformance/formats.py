"""Artifact formats: what a converter writes and a target runs.

ONNX is one format among several (``tflite``, ``openvino``, ...). A converter declares the
format it writes (``Converter.format``) and a target the formats it runs (``Target.formats``);
a case runs on a converter x target pair only when the target takes the converter's format.

An ONNX artifact travels as the model's bytes, as always. Any other artifact travels as one
``Package``: the converter's files (a ``.tflite``, an OpenVINO ``.xml`` + ``.bin``) and the
model's declared input and output names in order, zipped into bytes. The declared names are
what ONNX's graph inputs and outputs are for ONNX: the names the feeds arrive under and the
order the outputs come back in, whatever names the runtime gives its own ports.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

ONNX = "onnx"


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str                     # the file suffix a user's file of this format has
    description: str
    #: "module:function" run in the source framework's worker as ``function(built, artifact=...)``
    #: that translates an artifact of this format to ONNX (``{"onnx", "inputs", "outputs"}``):
    #: the second path a failure is attributed with when no other runtime of the format is here
    as_onnx: str | None = None


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format(ONNX, "onnx", "ONNX model"),
    Format("tflite", "tflite", "TensorFlow Lite / LiteRT flatbuffer", "converters.tflite_converter:tflite_as_onnx"),
    Format("openvino", "xml", "OpenVINO IR (.xml graph + .bin weights)"),
    Format("torchscript", "pt", "TorchScript module (torch.jit.save)", "converters.torchscript_converter:torchscript_as_onnx"),
    Format("torch-export", "pt2", "torch.export ExportedProgram (torch.export.save)",
           "converters.torch_export_converter:torch_export_as_onnx"),
    Format("pte", "pte", "ExecuTorch program (.pte; XNNPACK delegate + portable kernels)",
           "converters.executorch_converter:executorch_as_onnx"),
    Format("ncnn", "param", "ncnn model (.param graph + .bin weights)", "converters.pnnx_converter:ncnn_as_onnx"),
    Format("mindir", "mindir", "MindSpore MINDIR graph (mindspore.export, file_format='MINDIR')",
           "converters.mindspore_converter:mindir_as_onnx"),
)}


def describe(name: str) -> str:
    fmt = FORMATS.get(name)
    return fmt.description if fmt else name


@dataclass
class Package:
    """A non-ONNX artifact: its files by name, and the declared input and output names."""

    format: str
    files: dict[str, bytes]
    inputs: list[str]
    outputs: list[str]
    details: dict = field(default_factory=dict)       # the converter's own notes (quantization, ...)

    def to_bytes(self) -> bytes:
        """Deterministic zip (fixed timestamps, sorted names): equal packages, equal bytes."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
            header = {"format": self.format, "inputs": self.inputs, "outputs": self.outputs,
                      "details": self.details}
            entries = {"package.json": json.dumps(header, sort_keys=True).encode(), **self.files}
            for name in sorted(entries):
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), entries[name])
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Package":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            header = json.loads(archive.read("package.json"))
            files = {n: archive.read(n) for n in archive.namelist() if n != "package.json"}
        return cls(header["format"], files, list(header["inputs"]), list(header["outputs"]),
                   header.get("details", {}))

    def only_file(self) -> bytes:
        """The one file of a single-file format (``.tflite``, ``.pt``)."""
        if len(self.files) != 1:
            raise ValueError(f"a {self.format} package should hold one file, it holds {sorted(self.files)}")
        return next(iter(self.files.values()))
