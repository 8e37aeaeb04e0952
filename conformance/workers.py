"""One worker process per source framework.

Building a case, running it in its framework and converting it happen in the worker, so one
framework's import or crash never touches another (TensorFlow then Paddle in one process
segfaults), and a converter that dies on a signal or hangs costs one case, not the session.
Only plain data crosses the pipe: spec dicts, numpy arrays, ONNX bytes.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from converters import converter_status, converters_for, get_converter
from converters.frameworks import framework_version, run_source, seed_framework

from .cases import Built, CaseSpec, Conversion, is_dynamic_twin
from .errors import ConversionError, UnsupportedOperator, WorkerCrashed, WorkerTimeout
from .formats import ONNX, Package
from .registry import import_plugins
from .targets.base import dist_version
from .target_host import TARGET_REQUESTS, TargetHost

# Built models kept per worker for follow-up calls (localization) after a conversion.
_BUILT_CACHE_SIZE = 4
# the requests a forking worker answers in a child of its own: those that build and convert
FORKED_REQUESTS = ("convert", "call")
CAN_FORK = hasattr(os, "fork")


def resolve(path: str):
    module, _, attr = path.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def feed_order(onnx_inputs: list[str], source_names: list[str]) -> list[int]:
    """Which source input feeds each ONNX input, by name: exporters drop unused inputs (the
    TorchScript exporter does) and may append ':0'. Same count and no names in common: by
    position."""
    bare = [n.split(":")[0] for n in source_names]
    if all(n.split(":")[0] in bare for n in onnx_inputs):
        return [bare.index(n.split(":")[0]) for n in onnx_inputs]
    if len(onnx_inputs) == len(source_names):
        return list(range(len(onnx_inputs)))
    raise ConversionError(f"the converted model's inputs {onnx_inputs} cannot be matched to the source's {source_names}")


def artifact_io(converted) -> tuple[bytes, str, list[str], list[str]]:
    """(bytes, format, declared input names, declared output names) of what a converter
    returned: an ``onnx.ModelProto`` (inputs: the graph's, initializers excluded) or a
    ``conformance.formats.Package``."""
    if isinstance(converted, Package):
        return converted.to_bytes(), converted.format, list(converted.inputs), list(converted.outputs)
    initializers = {t.name for t in converted.graph.initializer}
    inputs = [i.name for i in converted.graph.input if i.name not in initializers]
    return converted.SerializeToString(), ONNX, inputs, [o.name for o in converted.graph.output]


class _WorkerState:
    def __init__(self, framework: str):
        self.framework = framework
        self.built: dict[str, Built] = {}
        self.targets = TargetHost()

    def build(self, spec: CaseSpec) -> Built:
        key = spec.fingerprint()
        if key not in self.built:
            seed_framework(self.framework, spec.seed)
            built = resolve(spec.builder)(dict(spec.params), spec.seed)
            if len(self.built) >= _BUILT_CACHE_SIZE:
                self.built.pop(next(iter(self.built)))
            self.built[key] = built
        return self.built[key]

    def convert(self, spec_dict: dict, converter_name: str, opset: int) -> Conversion:
        spec = CaseSpec.from_dict(spec_dict)
        converter = get_converter(converter_name)
        versions = {"framework": framework_version(spec.framework), "converter": converter.version()}
        t0 = time.perf_counter()
        try:
            built = self.build(spec)
        except UnsupportedOperator as exc:     # the source framework lacks the op (its builder says which)
            return _unsupported(exc, versions, time.perf_counter() - t0)
        input_sets = [list(built.inputs)] + [list(s) for s in built.extra_inputs]
        try:
            golden_sets = [run_source(spec.framework, built, inputs) for inputs in input_sets]
        except UnsupportedOperator as exc:     # the source framework has no kernel for it on this device
            return _unsupported(exc, versions, time.perf_counter() - t0)
        except Exception as exc:
            if not is_dynamic_twin(spec):
                raise
            return _source_refuses(spec, input_sets, exc, versions, time.perf_counter() - t0)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="conv-") as workdir:
            try:
                proto = converter.convert(built, opset, Path(workdir))
            except UnsupportedOperator as exc:
                return _unsupported(exc, versions, t1 - t0, time.perf_counter() - t1)
        t2 = time.perf_counter()
        artifact, fmt, inputs, outputs = artifact_io(proto)
        order = feed_order(inputs, built.names())
        return Conversion(
            status="ok", artifact=artifact, format=fmt, precision=built.options.get("precision", converter.precision), input_names=inputs,
            output_names=outputs, input_sets=[[np.asarray(s[i]) for i in order] for s in input_sets],
            golden_sets=golden_sets,
            expected=[np.asarray(a) for a in built.expected] if built.expected is not None else None,
            expected_shapes=built.expected_shapes,
            seconds={"build": t1 - t0, "convert": t2 - t1}, versions=versions)

    def call(self, spec_dict: dict, fn_path: str, kwargs: dict):
        return resolve(fn_path)(self.build(CaseSpec.from_dict(spec_dict)), **kwargs)


def _unsupported(exc: UnsupportedOperator, versions: dict, build: float, convert: float = 0.0) -> Conversion:
    return Conversion(status="unsupported", message=exc.message, versions=versions,
                      seconds={"build": build, "convert": convert})


def _source_refuses(spec: CaseSpec, input_sets, exc: Exception, versions: dict, seconds: float) -> Conversion:
    """A dynamic twin whose source framework refuses its shapes (the export shape, where the twin
    grew a size-1 axis, or the unseen one) tests no converter: it is skipped (not counted), its
    record says why in one line."""
    shapes = [[tuple(np.shape(a)) for a in s] for s in input_sets]
    said = (f"{type(exc).__name__}: {exc}".strip().splitlines() or [""])[0][:300]
    return Conversion(status="skipped", versions=versions, seconds={"build": seconds, "convert": 0.0},
                      message=f"dynamic twin not counted: {spec.framework} refuses its input shapes "
                              f"(export, unseen) {shapes}: {said}")


def _redirect_output(log_path: str) -> None:
    """Frameworks and exporters print progress and warnings on the C and Python level: keep
    them out of the user's terminal, in a log a crash message points to."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _error_reply(exc: BaseException) -> tuple:
    return ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc(), type(exc).__name__)


def _answer(state: _WorkerState, op: str, args: tuple):
    if op == "ping":
        return os.getpid()
    if op == "convert":
        return state.convert(*args)
    if op == "call":
        return state.call(*args)
    if op == "status":
        return converter_status(*args)
    if op == "versions":
        return {name: dist_version(name) for name in args[0]}
    if op in TARGET_REQUESTS:
        return state.targets.handle(op, *args)
    raise ValueError(f"unknown worker request {op!r}")


def _in_forked_child(fn) -> tuple:
    """The reply of ``fn()`` computed in a child forked from this worker: the child starts
    with everything the worker has imported (torch and its exporter: no import cost) and
    takes whatever process-wide state the call leaves behind with it when it exits. A child
    that dies without answering is ``("died", exit code)`` (negative: the signal)."""
    reader, writer = mp.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:                                   # the child: answer, then leave at once
        reader.close()
        try:
            writer.send(("ok", fn()))
        except BaseException as exc:
            writer.send(_error_reply(exc))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)                            # no atexit handlers of the parent's state
    writer.close()
    try:
        reply = reader.recv()
    except (EOFError, OSError):
        reply = None
    finally:
        reader.close()
    _, status = os.waitpid(pid, 0)
    return reply if reply is not None else ("died", os.waitstatus_to_exitcode(status))


def _warm_up(framework: str) -> None:
    """What every forked child would import anyway: the framework and the converters that
    convert in a child of their own (``fresh_process``), imported once here."""
    for name in converters_for(framework):
        converter = get_converter(name)
        if converter.fresh_process and converter_status(name)[0]:
            try:
                converter.warm_up()
            except Exception:          # each conversion will then say what is wrong, in its record
                traceback.print_exc()


def _warm_builder(spec_dict: dict, warmed: set) -> None:
    """A case's builder module, imported in the forking worker before its first child, with its
    ``warm_up()`` (a slow import of its own, such as PyTorch's OpInfo database) if it has one."""
    module_name = spec_dict.get("builder", "").partition(":")[0]
    if not module_name or module_name in warmed:
        return
    warmed.add(module_name)
    try:
        module = importlib.import_module(module_name)
        if callable(getattr(module, "warm_up", None)):
            module.warm_up()
    except Exception:                  # the child will fail on it and say so in the case's record
        traceback.print_exc()


def _worker_main(conn, framework: str, log_path: str | None = None, forking: bool = False) -> None:
    """Serve requests until told to stop. ``forking``: convert and call in a forked child per
    request, so exporters whose state leaks from one export into the next stay isolated
    without paying a fresh process's imports."""
    if log_path:
        _redirect_output(log_path)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("FLAGS_call_stack_level", "0")
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides when we stop
    import_plugins()
    state = _WorkerState(framework)
    warmed: set = set()
    if forking:
        _warm_up(framework)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        op, args = request[0], request[1:]
        if op == "stop":
            return
        if forking and op in FORKED_REQUESTS:
            _warm_builder(args[0], warmed)
            conn.send(_in_forked_child(lambda: _answer(state, op, args)))
            continue
        try:
            conn.send(("ok", _answer(state, op, args)))
        except BaseException as exc:  # report every failure as data; the worker lives on
            conn.send(_error_reply(exc))


class WorkerError(Exception):
    """An exception raised inside the worker, carried back with its traceback."""

    def __init__(self, message: str, tb: str, type_name: str = ""):
        super().__init__(message)
        self.message = message
        self.traceback = tb
        self.type_name = type_name        # the exception's class name, as data: no message parsing


@dataclass(frozen=True)
class Interpreter:
    """The Python a worker runs in: the session's own (``name`` "") or a named environment's.
    ``env``: the worker's whole environment as ((name, value), ...); for the session's own, the
    session's environment at start time plus its ``sys.path`` (what a spawned process sees)."""

    python: str
    env: tuple = field(default=(), compare=False, hash=False)
    name: str = ""

    @classmethod
    def session(cls) -> "Interpreter":
        return cls(sys.executable)

    def environ(self) -> dict:
        if self.name:
            return dict(self.env)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        return env


WORKER_ENTRY = "import sys; from conformance.workers import main_from_argv; main_from_argv(sys.argv[1:])"


def main_from_argv(argv: list[str]) -> None:
    """The worker process's entry point: ``FD FRAMEWORK LOG [fork]`` (FD: the inherited end of
    the pipe; ``fork``: a forking worker)."""
    fd, framework, log_path = int(argv[0]), argv[1], argv[2] or None
    _worker_main(Connection(fd), framework, log_path, forking=argv[3:4] == ["fork"])


class Worker:
    """A framework's worker process; restarted on demand after a crash or timeout. It runs in
    ``interpreter`` (the session's own Python unless a named environment's is given)."""

    def __init__(self, framework: str, label: str | None = None, interpreter: Interpreter | None = None,
                 forking: bool = False):
        self.framework = framework
        self.label = label or framework
        self.interpreter = interpreter or Interpreter.session()
        # each conversion in a child forked from this warm worker (where the OS can fork)
        self.forking = forking and CAN_FORK
        self._proc = None
        self._conn = None
        self._started = 0
        self.log_path: str | None = None

    @property
    def restarts(self) -> int:
        return max(0, self._started - 1)

    def _start(self) -> None:
        parent, child = mp.Pipe()
        safe_label = self.label.replace("/", "_").replace("@", "-")
        self.log_path = os.path.join(tempfile.gettempdir(), f"conformance-worker-{safe_label}-{os.getpid()}.log")
        try:
            # its own session and process group: a converter's subprocesses die with it
            proc = subprocess.Popen(
                [self.interpreter.python, "-c", WORKER_ENTRY, str(child.fileno()), self.framework, self.log_path,
                 *(["fork"] if self.forking else [])],
                pass_fds=(child.fileno(),), env=self.interpreter.environ(), start_new_session=True,
                stdin=subprocess.DEVNULL)
        finally:
            child.close()
        self._started += 1
        self._proc, self._conn = proc, parent

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _log_size(self) -> int:
        try:
            return os.path.getsize(self.log_path) if self.log_path else 0
        except OSError:
            return 0

    def _log_since(self, offset: int, limit: int = 6) -> list[str]:
        """The worker's output since ``offset``: what a dying converter said last (errors first)."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                lines = [l.strip() for l in fh.read().decode(errors="replace").splitlines() if l.strip()]
        except (OSError, TypeError):
            return []
        errors = [l for l in lines if "error" in l.lower()]
        return (errors or lines)[-limit:]

    def request(self, *message, timeout: float):
        if not self.alive():
            self._start()
        self._request_log_offset = self._log_size()
        try:
            self._conn.send(message)
            deadline = time.monotonic() + timeout
            while not self._conn.poll(0.05):
                if self._proc.poll() is not None:
                    raise self._crashed()
                if time.monotonic() > deadline:
                    self.kill()
                    raise WorkerTimeout(f"{self.framework} worker timed out after {timeout:g} s; killed and restarted",
                                        fix="raise --conformance-timeout if the case is legitimately slow")
            reply = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise self._crashed() from None
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "died":                       # a forked child; the worker itself lives on
            raise self._crash_error(reply[1], f"{self.framework} conversion process (forked from the worker)",
                                    "the worker stays up")
        raise WorkerError(*reply[1:])

    def _crashed(self) -> WorkerCrashed:
        proc = self._proc
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        code = proc.returncode
        self.kill()           # the pipe broke but the process (or its children) may live on
        return self._crash_error(code, f"{self.framework} worker", "restarted for the next case")

    def _crash_error(self, code: int | None, who: str, then: str) -> WorkerCrashed:
        said = self._log_since(getattr(self, "_request_log_offset", 0))
        if code is not None and code < 0:
            try:
                how = f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        where = f" in environment {self.interpreter.name!r}" if self.interpreter.name else ""
        text = f"{who}{where} {how}; {then} (its output: {self.log_path})"
        if said:
            text += "; it said: " + " | ".join(said)
        # an abort (or an exit) is the process choosing to stop; SIGSEGV, SIGBUS, SIGKILL... are not
        deliberate = code is not None and (code > 0 or code == -signal.SIGABRT)
        return WorkerCrashed(text, output=said, deliberate=deliberate)

    def kill(self) -> None:
        if self._proc is not None:
            if self._proc.pid is not None:
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None

    def stop(self) -> None:
        clean = False
        if self.alive():
            try:
                self._conn.send(("stop",))
                clean = self._proc.wait(timeout=5) == 0
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        if clean and self.log_path:       # keep the log of a worker that died: crash messages name it
            try:
                os.remove(self.log_path)
            except OSError:
                pass


class WorkerPool:
    """The session's workers. ``interpreter_for(framework)`` says where a framework's worker
    runs when the caller names no interpreter (``Placements.framework_interpreter``: Paddle's in
    the ``paddle`` environment); without it, in the session's own Python."""

    def __init__(self, interpreter_for=None):
        self._workers: dict[str, Worker] = {}
        self.interpreter_for = interpreter_for

    def get(self, framework: str, label: str | None = None, interpreter: Interpreter | None = None,
            forking: bool = False) -> Worker:
        """The worker for a framework; ``label`` keeps a separate one (e.g. per converter),
        ``interpreter`` runs it in a named environment (one worker per environment),
        ``forking`` makes a new one fork a child per conversion."""
        if interpreter is None and self.interpreter_for is not None and framework != "target":
            interpreter = self.interpreter_for(framework)
        key = label or framework
        if interpreter is not None and interpreter.name:
            key = f"{key}@{interpreter.name}"
        if key not in self._workers:
            self._workers[key] = Worker(framework, key, interpreter, forking=forking)
        return self._workers[key]

    def close(self) -> None:
        for worker in self._workers.values():
            worker.stop()
        self._workers.clear()
