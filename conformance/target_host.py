"""Targets served from a worker process: how a target runs in a named environment
(``--target onnxruntime@ort131``).

Two halves, plain data between them: ``TargetHost`` lives in the worker and holds the
prepared sessions; ``EnvTarget`` is the ``Target`` the session sees, and forwards ``prepare``
and ``run`` to that worker as ONNX bytes and numpy arrays. A target that dies or hangs in its
environment costs one case, as a converter does.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from .targets.base import Target, TargetOptions, model_bytes, prepare_converted

TARGET_REQUESTS = ("target_info", "target_prepare", "target_run", "target_release")
_SESSIONS_KEPT = 16      # more than the session's own LRU of prepared sessions (8)


class TargetHost:
    """The worker's half: targets of its environment, and the sessions prepared on them."""

    def __init__(self):
        self.sessions: OrderedDict[str, tuple] = OrderedDict()

    def handle(self, op: str, *args):
        return getattr(self, op[len("target_"):])(*args)

    def info(self, name: str) -> dict:
        from .targets import get_target, target_status

        ok, why = target_status(name)
        if not ok:
            return {"available": False, "reason": why}
        target = get_target(name)
        return {"available": True, "reason": "", "version": target.version(), "precision": target.precision,
                "description": target.description, "formats": list(target.formats)}

    def prepare(self, name: str, data: bytes, options: dict | None, fmt: str = "onnx") -> str:
        from .targets import get_target

        target = get_target(name)
        handle = f"{name}:{hashlib.sha256(data).hexdigest()[:16]}:{sorted((options or {}).items())}"
        if handle not in self.sessions:
            session = prepare_converted(target, data, fmt, TargetOptions(**options) if options else None)
            self.sessions[handle] = (target, session)
            while len(self.sessions) > _SESSIONS_KEPT:
                self.sessions.popitem(last=False)
        self.sessions.move_to_end(handle)
        return handle

    def run(self, handle: str, feeds: dict) -> list[np.ndarray]:
        if handle not in self.sessions:
            raise KeyError(f"no prepared session {handle!r} in this worker (it was restarted)")
        target, session = self.sessions[handle]
        return [np.asarray(o) for o in target.run(session, feeds)]

    def release(self, handle: str) -> bool:
        return self.sessions.pop(handle, None) is not None


class EnvTarget(Target):
    """The session's half: ``NAME@ENV`` served by a worker of environment ENV.

    ``worker`` is a ``conformance.workers.Worker`` started in that environment; ``info`` is
    what its ``target_info`` answered (availability, version, precision)."""

    def __init__(self, name: str, bare: str, env: str, worker, info: dict, timeout: float):
        self.name, self.bare, self.env = name, bare, env
        self.worker, self.info, self.timeout = worker, info, timeout
        self.precision = info.get("precision", "fp32")
        self.formats = tuple(info.get("formats", ("onnx",)))
        where = f"in environment {env!r}" if env else "in a worker process of its own"
        self.description = f"{info.get('description', bare)} ({where})"

    def available(self) -> tuple[bool, str]:
        if self.info.get("available"):
            return True, ""
        reason = self.info.get("reason", "unavailable")
        return False, f"in environment {self.env!r}: {reason}" if self.env else reason

    def version(self) -> str:
        return self.info.get("version", "")

    def prepare(self, model, options: TargetOptions | None = None) -> str:
        return self.prepare_artifact(model_bytes(model), "onnx", options)

    def prepare_artifact(self, artifact: bytes, fmt: str, options: TargetOptions | None = None) -> str:
        opts = {k: v for k, v in vars(options).items() if v is not None} if options is not None else None
        return self.worker.request("target_prepare", self.bare, artifact, opts, fmt, timeout=self.timeout)

    def run(self, session: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.worker.request("target_run", session, dict(feeds), timeout=self.timeout)
