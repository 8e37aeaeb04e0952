"""Users' own model files: recognise the format from the file itself (magic bytes, archive
members), never by name alone, and refuse in one line what cannot be loaded safely.

Nothing here imports a framework; loading happens in the framework's worker process
(``converters/loaders.py``).
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import onnx

from .cases import CaseSpec
from .errors import ConformanceError
from .inputs import parse_shapes as parse_shape_specs


class SourceRefused(ConformanceError):
    """A model file we will not or cannot load (exit 2, one line)."""


@dataclass(frozen=True)
class SourceFormat:
    name: str          # torchscript | torch-export | keras | keras-h5 | savedmodel | tflite | paddle | onnx
    framework: str     # torch | tensorflow | paddle | onnx
    converter: str     # the default converter for it
    path: str          # the file, folder or (paddle) path prefix
    description: str


HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
TFLITE_IDENTIFIER = b"TFL3"          # a .tflite flatbuffer's file identifier, bytes 4-8


def _zip_names(path: Path) -> list[str] | None:
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError):
        return None


def _is_onnx(path: Path) -> bool:
    try:
        model = onnx.load(str(path), load_external_data=False)
        return len(model.graph.node) > 0 or len(model.graph.output) > 0
    except Exception:
        return False


def _paddle_pair(path: Path) -> Path | None:
    """The path prefix of a Paddle inference model (``x.json``/``x.pdmodel`` + ``x.pdiparams``)."""
    prefix = path.with_suffix("")
    if path.suffix in (".pdmodel", ".json", ".pdiparams"):
        for suffix in (".json", ".pdmodel"):
            if prefix.with_suffix(suffix).exists():
                if suffix == ".json" and not _is_paddle_json(prefix.with_suffix(".json")):
                    continue
                return prefix
    return None


def _is_paddle_json(path: Path) -> bool:
    try:
        with open(path) as fh:
            head = fh.read(4096)
        return '"program"' in head or '"base_code"' in head or '"regions"' in head
    except (OSError, UnicodeDecodeError):
        return False


def detect(path: str | os.PathLike) -> SourceFormat:
    p = Path(path)
    if not p.exists():
        raise SourceRefused(f"{p}: no such file or folder")
    if p.is_dir():
        if (p / "saved_model.pb").exists() or (p / "saved_model.pbtxt").exists():
            return SourceFormat("savedmodel", "tensorflow", "tf2onnx", str(p), "TensorFlow SavedModel (serving signature)")
        for child in sorted(p.iterdir()):
            prefix = _paddle_pair(child)
            if prefix is not None:
                return SourceFormat("paddle", "paddle", "paddle2onnx", str(prefix), "Paddle inference model")
        raise SourceRefused(f"{p}: folder is not a TensorFlow SavedModel (no saved_model.pb) nor a Paddle inference "
                            f"model (no .json/.pdmodel with .pdiparams)",
                            fix="pass a SavedModel written by tf.saved_model.save / model.export")
    with open(p, "rb") as fh:
        head = fh.read(16)
    if not head:
        raise SourceRefused(f"{p}: empty file")
    if head[4:8] == TFLITE_IDENTIFIER:
        return SourceFormat("tflite", "tensorflow", "tflite2onnx", str(p), "TensorFlow Lite / LiteRT flatbuffer")
    if head.startswith(HDF5_MAGIC):
        return SourceFormat("keras-h5", "tensorflow", "tf2onnx", str(p), "Keras legacy HDF5 model")
    prefix = _paddle_pair(p)
    if prefix is not None:
        return SourceFormat("paddle", "paddle", "paddle2onnx", str(prefix), "Paddle inference model")
    if head.startswith(b"PK"):
        names = _zip_names(p)
        if names is None:
            raise SourceRefused(f"{p}: corrupt or truncated archive (not a readable zip)",
                                fix="re-save the model; the file is damaged")
        base = {n.split("/", 1)[1] if "/" in n else n for n in names}
        if "config.json" in names and any(n.endswith(".weights.h5") for n in names):
            return SourceFormat("keras", "tensorflow", "tf2onnx", str(p), "Keras 3 .keras archive")
        if "archive_format" in base:
            return SourceFormat("torch-export", "torch", "torch-dynamo", str(p), "torch.export ExportedProgram (.pt2)")
        if "constants.pkl" in base or any("/code/" in n for n in names):
            return SourceFormat("torchscript", "torch", "torch-script", str(p), "TorchScript archive (torch.jit.save)")
        if "data.pkl" in base:
            raise SourceRefused(
                f"{p}: a torch checkpoint of pickled objects (a state dict of weights or a pickled module), not a "
                f"model we can run: it needs its Python class and unrestricted unpickling",
                fix="save the model with torch.jit.save(torch.jit.script(m)) or torch.export.save(torch.export.export(m, args))")
        raise SourceRefused(f"{p}: a zip archive of an unknown kind ({', '.join(sorted(base)[:5])} ...)")
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise SourceRefused(f"{p}: a plain pickle; loading it would run arbitrary code",
                            fix="save the model with torch.jit.save or torch.export.save")
    if p.suffix == ".ckpt":              # (a zip .ckpt, PyTorch Lightning's, was answered above)
        raise SourceRefused(f"{p}: a MindSpore checkpoint (.ckpt): weights without the network, not a model "
                            f"we can run", fix="export the network with mindspore.onnx.export and check the .onnx")
    if _is_onnx(p):
        return SourceFormat("onnx", "onnx", "", str(p), "ONNX model")
    raise SourceRefused(f"{p}: not a model format this tool reads (TorchScript .pt, torch.export .pt2, .keras, .h5, "
                        f"SavedModel folder, .tflite, Paddle .json/.pdmodel + .pdiparams, or ONNX)")


def is_framework_source(path: str) -> bool:
    """True for a file or folder that ``conformance check`` should treat as a framework model."""
    try:
        return detect(path).framework != "onnx"
    except ConformanceError:
        p = Path(path)
        return p.is_dir() or p.suffix in (".pt", ".pth", ".pt2", ".keras", ".h5", ".tflite", ".pdmodel", ".json",
                                          ".ckpt")


def content_hash(fmt: SourceFormat) -> str:
    """Hash of everything the model is loaded from, so the conversion cache sees edits."""
    digest = hashlib.sha256()
    p = Path(fmt.path)
    if fmt.name == "paddle":
        files = sorted(f for f in p.parent.iterdir() if f.name.startswith(p.name + "."))
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
    else:
        files = [p]
    for f in files:
        digest.update(str(f.relative_to(p.parent)).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def parse_shapes(items) -> dict[str, list[int]]:
    """``--shape name=1x3x224x224`` (repeatable) -> {name: [1, 3, 224, 224]} (JSON-able)."""
    return {name: list(dims) for name, dims in parse_shape_specs(items).items()}


def source_spec(path: str | os.PathLike, *, shapes=None, inputs_npz: str | None = None, converter: str | None = None):
    """A CaseSpec of kind ``model`` whose builder loads the file in its framework's worker."""
    fmt = detect(path)
    if fmt.framework == "onnx":
        raise SourceRefused(f"{path}: already ONNX; use `conformance check MODEL.onnx`")
    params = {"path": str(Path(fmt.path).resolve()), "format": fmt.name, "sha256": content_hash(fmt),
              "shapes": shapes or {}, "inputs": str(Path(inputs_npz).resolve()) if inputs_npz else None,
              "inputs_sha256": hashlib.sha256(Path(inputs_npz).read_bytes()).hexdigest() if inputs_npz else None}
    name = Path(fmt.path).name.replace(".", "_") or "model"
    return fmt, CaseSpec(kind="model", name=name, framework=fmt.framework, builder="converters.loaders:load_source",
                         params=params, variant=fmt.name, converters=(converter or fmt.converter,))


def describe(fmt: SourceFormat) -> str:
    return json.dumps({"format": fmt.name, "framework": fmt.framework, "converter": fmt.converter})
