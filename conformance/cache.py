"""On-disk conversion cache, content-addressed.

Key: the case spec's fingerprint (builder, params, seed), the converter name and version, the
framework version and the opset. An entry holds the converted model (``model.onnx``, or the
package of another format, conformance.formats), the input sets and the source
framework's outputs, so a warm run needs no framework process at all. Each file's sha256 is
stored in the entry's meta.json and verified on read: a corrupt entry is deleted and rebuilt,
never used.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .cases import CaseSpec, Conversion

FORMAT = 1


def default_cache_dir() -> Path:
    env = os.environ.get("CONFORMANCE_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "onnx-conformance"


def _source_hash(paths) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def builder_code_hash(builder: str) -> str:
    """Hash of the sources beside the builder's module (its package folder: sample generators
    and tables too), read without importing them (they may import a framework): an edited
    builder must not reuse old models, inputs or golden outputs."""
    module = builder.partition(":")[0]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or not os.path.exists(spec.origin):
        return "unknown"
    return _source_hash(Path(spec.origin).parent.glob("*.py"))


@functools.lru_cache(maxsize=1)
def pipeline_code_hash() -> str:
    """Hash of the code every conversion shares between a builder and the artifact: the
    framework runners (golden outputs), the converter registry and base class, the worker and
    the case model. Each converter's own adapter code (its module and the helpers it imports)
    is in its ``fingerprint``, so editing one converter leaves the others' cached conversions."""
    from converters.base import PACKAGE, local_sources
    here = Path(__file__).parent
    files = local_sources(PACKAGE / "__init__.py", PACKAGE / "frameworks.py")
    return _source_hash(files + [here / "workers.py", here / "cases.py"])


@functools.lru_cache(maxsize=None)
def _versions(*names) -> dict:
    from importlib import metadata
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def cache_key(spec: CaseSpec, converter: str, converter_version: str, framework_version: str, opset: int) -> str:
    payload = json.dumps({"format": FORMAT, "spec": spec.fingerprint(), "builder_code": builder_code_hash(spec.builder),
                          "pipeline_code": pipeline_code_hash(), "converter": converter,
                          "converter_version": converter_version, "framework_version": framework_version,
                          "packages": dict(_versions("onnx", "onnxscript", "numpy")), "opset": opset}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pack_arrays(conv: Conversion) -> bytes:
    arrays = {}
    for i, inputs in enumerate(conv.input_sets):
        for j, a in enumerate(inputs):
            arrays[f"in_{i}_{j}"] = a
    for i, outputs in enumerate(conv.golden_sets):
        for j, a in enumerate(outputs):
            arrays[f"out_{i}_{j}"] = a
    for j, a in enumerate(conv.expected or []):
        arrays[f"exp_{j}"] = a
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _unpack_arrays(data: bytes, meta: dict):
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        inputs = [[z[f"in_{i}_{j}"] for j in range(n)] for i, n in enumerate(meta["input_counts"])]
        golden = [[z[f"out_{i}_{j}"] for j in range(n)] for i, n in enumerate(meta["output_counts"])]
        expected = [z[f"exp_{j}"] for j in range(meta["expected_count"])] if meta["expected_count"] is not None else None
    return inputs, golden, expected


def _artifact_file(fmt: str) -> str:
    """An entry's model file: ``model.onnx``, or the package of another format."""
    return "model.onnx" if fmt == "onnx" else f"model.{fmt}.zip"


class ConversionCache:
    def __init__(self, root: str | os.PathLike | None = None, enabled: bool = True):
        self.root = Path(root) if root else default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.rebuilt = 0

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Conversion | None:
        if not self.enabled:
            return None
        entry = self._dir(key)
        meta_path = entry / "meta.json"
        if not meta_path.exists():
            self.misses += 1
            return None
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("format") != FORMAT:
                raise ValueError("old format")
            fmt = meta.get("artifact_format", "onnx")
            model = (entry / _artifact_file(fmt)).read_bytes() if meta["status"] == "ok" else None
            data = (entry / "arrays.npz").read_bytes() if meta["status"] == "ok" else b""
            if meta["status"] == "ok" and (_sha(model) != meta["model_sha256"] or _sha(data) != meta["arrays_sha256"]):
                raise ValueError("checksum mismatch")
            inputs, golden, expected = _unpack_arrays(data, meta) if meta["status"] == "ok" else ([], [], None)
        except (OSError, ValueError, KeyError, json.JSONDecodeError, EOFError) as exc:
            self.rebuilt += 1
            self.misses += 1
            shutil.rmtree(entry, ignore_errors=True)
            return None
        self.hits += 1
        return Conversion(
            status=meta["status"], message=meta.get("message", ""), artifact=model,
            input_names=meta.get("input_names", []), output_names=meta.get("output_names", []),
            input_sets=inputs, golden_sets=golden, expected=expected,
            expected_shapes=[[tuple(s) for s in shapes] for shapes in meta["expected_shapes"]]
            if meta.get("expected_shapes") is not None else None,
            seconds=meta.get("seconds", {}), versions=meta.get("versions", {}), cached=True,
            format=fmt, precision=meta.get("precision", "fp32"))

    def put(self, key: str, conv: Conversion) -> None:
        """Only deterministic outcomes are stored: a model, or an unsupported op."""
        if not self.enabled or conv.status not in ("ok", "unsupported"):
            return
        entry = self._dir(key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
        meta = {"format": FORMAT, "status": conv.status, "message": conv.message,
                "input_names": conv.input_names, "output_names": conv.output_names,
                "seconds": conv.seconds, "versions": conv.versions,
                "artifact_format": conv.format, "precision": conv.precision,
                "input_counts": [len(s) for s in conv.input_sets],
                "output_counts": [len(s) for s in conv.golden_sets],
                "expected_count": len(conv.expected) if conv.expected is not None else None,
                "expected_shapes": [[list(s) for s in shapes] for shapes in conv.expected_shapes]
                if conv.expected_shapes is not None else None}
        if conv.status == "ok":
            data = _pack_arrays(conv)
            (tmp / _artifact_file(conv.format)).write_bytes(conv.artifact)
            (tmp / "arrays.npz").write_bytes(data)
            meta["model_sha256"] = _sha(conv.artifact)
            meta["arrays_sha256"] = _sha(data)
        (tmp / "meta.json").write_text(json.dumps(meta))   # written last: its presence marks a whole entry
        try:
            os.replace(tmp, entry)
        except OSError:   # another process stored the same entry first
            shutil.rmtree(tmp, ignore_errors=True)
