"""ncnn (Tencent's mobile inference runtime, its ``ncnn`` Python bindings) running ``ncnn``
packages: a ``.param`` graph and a ``.bin`` of weights, as pnnx writes them.

Precision: ncnn's defaults compute in float16 where the CPU can (``use_fp16_packed``,
``use_fp16_storage``, ``use_fp16_arithmetic`` are on); this target turns them off, and bf16
storage with them, and states ``fp32``. ``TargetOptions(precision="fp16")`` or ``"bf16"``
turns the matching ones back on. ``intra_op_threads`` sets ncnn's ``num_threads``.

ncnn's blobs carry no batch axis of their own: each input is given as a ``Mat`` with the batch
axis the converter declared (``batch_index``), and each output read back the same way. ncnn
holds float32 (and int32 index) blobs only: float inputs go in as float32, integer ones as
int32, as pnnx declares them (an int64 array makes ``ncnn.Mat`` crash the process, measured),
and each output, which ncnn hands back as a float32 Mat of at least one dimension, is given
the dtype (and a 0-d output its rank) the converter recorded for it: an integer output's bits
are read as the int32 they were fed as. A native crash costs one case: the session serves ncnn from a worker process of its
own (``isolated``).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np

from ..errors import ConformanceError
from ..formats import Package
from . import register_target
from .base import Target, TargetOptions, feeds_in_order

#: the fp16 / bf16 switches of ncnn.Option, on for each precision
_SWITCHES = {"fp16": ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic"),
             "bf16": ("use_bf16_packed", "use_bf16_storage")}
_PRECISIONS = {"fp32": "fp32", "fp16": "fp16", "bf16": "bf16"}


@dataclass
class NcnnSession:
    net: object
    inputs: list[str]                  # the declared (source) input names, in order
    input_blobs: list[list]            # [ncnn blob, batch axis or None] per input
    output_blobs: list[list]           # [ncnn blob, batch axis or None] per output
    output_kinds: list                 # the source's [dtype, rank] per output (ncnn: float32, >= 1-d)
    precision: str


@register_target("ncnn")
class NcnnTarget(Target):
    precision = "fp32"
    formats = ("ncnn",)
    description = "ncnn (Python bindings), CPU, float32 (fp16/bf16 options off)"
    requires = "ncnn"
    distribution = "ncnn"
    install = "pip install -c constraints.txt -e '.[ncnn]'"
    isolated = True

    def prepare(self, model, options: TargetOptions | None = None):
        raise ConformanceError("the ncnn target runs ncnn models (a .param and a .bin), not ONNX",
                               fix="convert with --converter pnnx")

    def prepare_package(self, package: Package, options: TargetOptions | None = None):
        import ncnn

        precision = self.check_precision(options, _PRECISIONS) or "fp32"
        net = ncnn.Net()
        for name in _SWITCHES["fp16"] + _SWITCHES["bf16"]:
            setattr(net.opt, name, name in _SWITCHES.get(precision, ()))
        if options is not None and options.intra_op_threads:
            net.opt.num_threads = options.intra_op_threads
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in package.files.items():
                with open(os.path.join(tmp, name), "wb") as fh:
                    fh.write(data)
            if net.load_param(os.path.join(tmp, "model.ncnn.param")) != 0:
                raise ConformanceError("ncnn could not load the .param graph (a layer type it does not know?)")
            net.load_model(os.path.join(tmp, "model.ncnn.bin"))
        details = package.details
        return NcnnSession(net, list(package.inputs), details["input_blobs"], details["output_blobs"],
                           details.get("output_kinds") or [None] * len(details["output_blobs"]), precision)

    def applied_options(self, session: NcnnSession, options: TargetOptions) -> dict:
        return {"applied": {"precision": session.precision, "num_threads": session.net.opt.num_threads}}

    def run(self, session: NcnnSession, feeds):
        import ncnn

        values = feeds_in_order(session.inputs, feeds)
        with session.net.create_extractor() as extractor:
            for (blob, axis), value in zip(session.input_blobs, values):
                extractor.input(blob, _mat(ncnn, value, axis))
            outputs = []
            for (blob, axis), kind in zip(session.output_blobs, session.output_kinds):
                status, mat = extractor.extract(blob)
                if status != 0:
                    raise RuntimeError(f"ncnn could not compute output blob {blob!r} (status {status})")
                outputs.append(_as_source(np.array(mat.numpy() if axis is None else mat.numpy(batch_index=axis)), kind))
        return outputs


def _as_source(array: np.ndarray, kind) -> np.ndarray:
    """An output as the source gives it: its dtype, and 0-d where it is (ncnn's Mats are >= 1-d)."""
    if not kind:
        return array
    dtype, rank = kind
    if rank == 0 and array.size == 1:
        array = array.reshape(())
    if np.dtype(dtype).kind in "iub":    # integers travel as int32 bits in a float32 Mat, as fed
        array = array.view(np.int32)
    return array.astype(dtype)


def _mat(ncnn, value, axis):
    """An ncnn Mat owning a copy of ``value`` (float32, or int32 for integers), with its batch axis."""
    array = np.ascontiguousarray(value, dtype=np.int32 if np.asarray(value).dtype.kind in "iub" else np.float32)
    mat = ncnn.Mat(array) if axis is None else ncnn.Mat(array, batch_index=axis)
    return mat.clone()
