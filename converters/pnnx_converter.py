"""torch eager -> TorchScript trace -> pnnx -> ncnn ``.param`` + ``.bin`` (format ``ncnn``).

pnnx (ncnn's PyTorch converter, a program shipped in the ``pnnx`` wheel) reads the traced
module, rewrites it into its own graph and then into ncnn layers. We run the program itself
rather than ``pnnx.export``, which drops its output and ignores its exit status.

* ``pnnx``: weights stored in float32 (``fp16=0``), the arithmetic the ``ncnn`` target computes
  in with its fp16/bf16 options off.
* ``pnnx-fp16``: pnnx's default, weights stored in float16 (held to float16's tolerance).

ncnn's blobs have no batch axis of their own: pnnx decides per input and output which axis is
the batch (or that none is) and writes that into the test script it generates next to the
model (``ncnn.Mat(..., batch_index=N)``, 233 for none). The package keeps those axes, the ncnn
blob names (``in0``, ``out0``...) and the source's names, so the target feeds and reads the
blobs as pnnx meant. An op pnnx has no ncnn layer for stays in the ``.param`` under its torch
name (``torch.argmax``, ``aten::erfinv``): ncnn cannot load it, so it is ``unsupported``, by name.
"""
from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import numpy as np

from conformance.cases import Built
from conformance.errors import UnsupportedOperator
from conformance.formats import Package

from . import register_converter
from ._common import conversion_failure, output_names
from .base import Converter
from .frameworks import flatten
from .torchscript_converter import TorchScriptTrace, eager_module, sample_tensors

#: pnnx's batch_index for a blob without a batch axis
NO_BATCH_AXIS = 233
_INPUT_BLOB = re.compile(r'ex\.input\("(\w+)", ncnn\.Mat\(\w+\.numpy\(\), batch_index=(\d+)\)')
_OUTPUT_BLOB = re.compile(r'(\w+)\.numpy\(batch_index=(\d+)\)')
_EXTRACT = re.compile(r'_, (\w+) = ex\.extract\("(\w+)"\)')
#: ncnn layer types are plain identifiers; what pnnx could not lower keeps its torch name
_NCNN_LAYER = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@register_converter("pnnx")
class PnnxConverter(Converter):
    framework = "torch"
    format = "ncnn"
    requires = ("torch", "pnnx")
    distribution = "pnnx"
    extra = "ncnn"
    fp16_weights = False

    def convert(self, built: Built, opset: int, workdir: Path):
        refused = sorted({str(x.dtype) for x in built.inputs if x.dtype.kind not in "fiu" or x.dtype == np.float64})
        if refused:
            raise UnsupportedOperator(f"ncnn has no {', '.join(refused)} tensors (its blobs hold float32, "
                                      "or int32 indices)")
        outputs = run_pnnx(built, workdir, self.fp16_weights)
        param = (workdir / "model.ncnn.param").read_text()
        left = sorted({line.split()[0] for line in param.splitlines()[2:]
                       if line.split() and not _NCNN_LAYER.fullmatch(line.split()[0])})
        if left:
            raise UnsupportedOperator(f"pnnx has no ncnn layer for {', '.join(left)} (left in the .param as is)")
        inputs, produced = blob_axes((workdir / "model_ncnn.py").read_text())
        files = {name: (workdir / name).read_bytes() for name in ("model.ncnn.param", "model.ncnn.bin")}
        return Package(self.format, files, built.names(), output_names(built, len(produced)),
                       {"fp16_weights": self.fp16_weights, "input_blobs": inputs, "output_blobs": produced,
                        "output_kinds": outputs})


@register_converter("pnnx-fp16")
class PnnxFloat16(PnnxConverter):
    precision = "fp16-weights"
    fp16_weights = True


def run_pnnx(built: Built, workdir: Path, fp16_weights: bool) -> list[list]:
    """Trace the model, run the pnnx program on it in ``workdir``: ``[dtype, rank]`` of each of
    the traced model's outputs, or the conversion's failure."""
    import pnnx
    import torch
    from pnnx.utils.utils import get_type_from_inputs

    def shapes(inputs) -> str:
        """pnnx's ``inputshape``: ``[2,3]f32,[]i64`` (pnnx's own helper fails on a 0-d input)."""
        return ",".join(f"[{','.join(str(d) for d in x.shape)}]{kind}"
                        for x, kind in zip(inputs, get_type_from_inputs(list(inputs))))

    args = sample_tensors(built)
    with torch.no_grad():
        try:
            traced = TorchScriptTrace().compile(eager_module(built), args)
            traced.save(str(workdir / "model.pt"))
            # ncnn hands every blob back as float32 and at least 1-d: the source's dtype and rank
            outputs = flatten(traced(*args), lambda t: [str(t.dtype).removeprefix("torch."), t.dim()])
        except Exception as exc:
            raise TorchScriptTrace().failure(exc) from exc
    command = [pnnx.EXEC_PATH, "model.pt", f"inputshape={shapes(args)}", "device=cpu", f"fp16={int(fp16_weights)}"]
    if built.extra_inputs:       # a second shape: pnnx keeps the axes that differ dynamic
        unseen = sample_tensors(dataclasses.replace(built, inputs=built.extra_inputs[0]))
        command.append(f"inputshape2={shapes(unseen)}")
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    said = f"{done.stdout}\n{done.stderr}".strip()
    if done.returncode != 0 or not (workdir / "model.ncnn.param").is_file():
        last = " | ".join(said.splitlines()[-6:])
        raise conversion_failure(f"pnnx exited with status {done.returncode}: {last}", said)
    return outputs


def blob_axes(script: str) -> tuple[list[list], list[list]]:
    """``[[blob, batch axis or None], ...]`` for the inputs and the outputs, in order, from the
    test script pnnx writes (``model_ncnn.py``): how pnnx means its blobs to be fed and read."""
    def axis(text: str):
        return None if int(text) == NO_BATCH_AXIS else int(text)

    inputs = [[blob, axis(index)] for blob, index in _INPUT_BLOB.findall(script)]
    extracted = dict((variable, blob) for variable, blob in _EXTRACT.findall(script))
    outputs = [[extracted[variable], axis(index)] for variable, index in _OUTPUT_BLOB.findall(script)]
    return inputs, outputs


def ncnn_as_onnx(built: Built, artifact: bytes) -> dict:
    """The second path for an ncnn model: pnnx run again on the same trace, its own ONNX export
    of the graph it lowered to ncnn (``model.pnnx.onnx``). It agreeing with the source while
    ncnn does not puts the fault in pnnx's ncnn pass or in ncnn."""
    import tempfile

    import onnx

    package = Package.from_bytes(artifact)
    with tempfile.TemporaryDirectory() as tmp:
        run_pnnx(built, Path(tmp), bool(package.details.get("fp16_weights")))
        proto = onnx.load(str(Path(tmp) / "model.pnnx.onnx"))
    return {"onnx": proto.SerializeToString(), "inputs": [i.name for i in proto.graph.input],
            "outputs": [o.name for o in proto.graph.output]}
