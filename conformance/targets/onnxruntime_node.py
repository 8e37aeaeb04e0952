"""onnxruntime for Node.js (npm ``onnxruntime-node``, CPU): ONNX as JavaScript applications run it.

One long-lived ``node`` child process (``ort_node_host.js``) per target, fed JSON lines through a
pipe: the model's bytes once per ``prepare``, then each run's tensors as type + dims + base64 of
their raw little-endian bytes; outputs come back by the model's declared names, in that order.
Install: ``ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix .node onnxruntime-node@1.31.1``
in the repository root (the post-install download from another host is skipped; the bundled
CPU library works), and ``node`` >= 18 from the machine's package manager."""
from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import threading

import numpy as np

from . import register_target
from .base import Target, TargetAdapterError, TargetOptions, declared_io, feeds_in_order, model_bytes
from ..errors import ConformanceError

_HERE = os.path.dirname(os.path.abspath(__file__))
HOST_SCRIPT = os.path.join(_HERE, "ort_node_host.js")
NODE_PREFIX = os.environ.get("CONFORMANCE_NODE_PREFIX",
                             os.path.join(os.path.dirname(os.path.dirname(_HERE)), ".node"))
INSTALL = ("ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix .node onnxruntime-node@1.31.1 "
           "(in the repository root; node >= 18 from the package manager)")

_TYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64", np.dtype(np.int32): "int32",
          np.dtype(np.int64): "int64", np.dtype(np.bool_): "bool", np.dtype(np.uint8): "uint8",
          np.dtype(np.int8): "int8", np.dtype(np.int16): "int16", np.dtype(np.uint16): "uint16",
          np.dtype(np.float16): "float16", np.dtype(np.uint32): "uint32", np.dtype(np.uint64): "uint64"}
_DTYPES = {v: k for k, v in _TYPES.items()}


class NodeRuntimeError(ConformanceError):
    """onnxruntime-node refused or failed a model or a run (the runtime's verdict)."""


def _package_dir() -> str:
    return os.path.join(NODE_PREFIX, "node_modules", "onnxruntime-node")


class _NodeSession:
    def __init__(self, host: "_Host", sid: int, inputs, outputs):
        self.host, self.id, self.inputs, self.outputs = host, sid, inputs, outputs

    def __del__(self):
        try:
            self.host.request({"op": "release", "id": self.id})
        except Exception:
            pass


class _Host:
    """The node child process; one request at a time."""

    def __init__(self, node: str):
        env = dict(os.environ, NODE_PATH=os.path.join(NODE_PREFIX, "node_modules"))
        self.proc = subprocess.Popen([node, HOST_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, message: dict) -> dict:
        with self.lock:
            if not self.alive():
                raise NodeRuntimeError(f"the node host exited ({self.proc.returncode}): "
                                       f"{self.proc.stderr.read().decode(errors='replace')[-2000:]}")
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise NodeRuntimeError(f"the node host died ({self.proc.returncode}): "
                                   f"{self.proc.stderr.read().decode(errors='replace')[-2000:]}")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise NodeRuntimeError(f"onnxruntime-node: {answer.get('error')}")
        return answer

    def close(self):
        if self.alive():
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@register_target("onnxruntime-node")
class OnnxRuntimeNodeTarget(Target):
    precision = "fp32"
    description = "onnxruntime for Node.js (npm onnxruntime-node, CPU), driven through a pipe"
    install = INSTALL

    def __init__(self):
        self._host: _Host | None = None
        self._ids = itertools.count(1)

    def available(self):
        node = shutil.which("node")
        if node is None:
            return False, f"node is not on PATH ({INSTALL})"
        if not os.path.isdir(_package_dir()):
            return False, f"npm package onnxruntime-node is not installed under {NODE_PREFIX} ({INSTALL})"
        return True, ""

    def version(self) -> str:
        try:
            with open(os.path.join(_package_dir(), "package.json")) as fh:
                return json.load(fh).get("version", "")
        except OSError:
            return ""

    def host(self) -> _Host:
        if self._host is None or not self._host.alive():
            ok, why = self.available()
            if not ok:
                raise ConformanceError(f"target 'onnxruntime-node' is unavailable: {why}")
            self._host = _Host(shutil.which("node"))
        return self._host

    def prepare(self, model, options: TargetOptions | None = None):
        self.check_precision(options, {"fp32": "fp32"})
        data = model_bytes(model)
        io = declared_io(data)
        host, sid = self.host(), next(self._ids)
        host.request({"op": "prepare", "id": sid, "model": base64.b64encode(data).decode()})
        return _NodeSession(host, sid, io.inputs, io.outputs)

    def run(self, session: _NodeSession, feeds):
        values = feeds_in_order(session.inputs, feeds)
        encoded = {}
        for name, value in zip(session.inputs, values):
            array = np.asarray(value, order="C")   # not ascontiguousarray: it makes a scalar 1-d
            kind = _TYPES.get(array.dtype)
            if kind is None:
                raise NodeRuntimeError(f"input {name!r}: dtype {array.dtype} is not handled by this target")
            encoded[name] = {"type": kind, "dims": list(array.shape),
                             "data": base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode()}
        answer = session.host.request({"op": "run", "id": session.id, "feeds": encoded,
                                       "outputs": list(session.outputs)})
        outputs = answer["outputs"]
        if len(outputs) != len(session.outputs):
            raise TargetAdapterError(f"onnxruntime-node returned {len(outputs)} outputs, the model declares "
                                     f"{len(session.outputs)}")
        result = []
        for out in outputs:
            dtype = _DTYPES.get(out["type"])
            if dtype is None:
                raise NodeRuntimeError(f"output type {out['type']!r} is not handled by this target")
            raw = base64.b64decode(out["data"])
            array = np.frombuffer(raw, dtype=np.uint8 if dtype == np.bool_ else dtype.newbyteorder("<"))
            result.append(array.astype(dtype).reshape([int(d) for d in out["dims"]]))
        return result
