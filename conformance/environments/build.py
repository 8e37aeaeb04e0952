"""Building named environments on demand: ``uv`` when it is there, ``python -m venv`` + pip
otherwise, under ``<cache>/envs/<name>-<key>``. The key hashes the Python, the requirements and
the constraints; a marker file written last holds the key and the resolved versions, so a folder
without one is a half-built environment and is built again."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..cache import default_cache_dir
from .spec import REPO_ROOT, Environment, EnvironmentFailure

FORMAT = 1                              # bump when the layout of a built environment changes
MARKER = "conformance-env.json"
PTH_NAME = "conformance-repo.pth"
INSTALL_TIMEOUT_S = 1800
OWN_PROJECT = "onnx-conformance"


class UnresolvableRequirements(EnvironmentFailure):
    """The requirement set has no solution: ``requirements`` names ours that take part."""

    def __init__(self, message: str, *, requirements=(), **kwargs):
        self.requirements = tuple(requirements)
        super().__init__(message, **kwargs)


class EnvironmentBuildFailed(EnvironmentFailure):
    """Creating or installing failed for another reason (network, a failed build of an sdist)."""


class EnvironmentBroken(EnvironmentFailure):
    """The interpreter dies or cannot import what a worker needs."""


@dataclass(frozen=True)
class EnvironmentState:
    """What is on disk for an environment, without building anything."""
    environment: Environment
    path: Path
    key: str
    built: bool
    python_version: str
    resolved: dict = field(compare=False)
    builder: str = ""


@dataclass(frozen=True)
class BuiltEnvironment(EnvironmentState):
    """A built environment: its interpreter, and whether this call built it."""
    python: Path | None = None
    build_seconds: float = 0.0
    built_now: bool = False             # False: the fast path found it already built


# --- running things (module level so that tests can replace it) -------------------------------

def _run(cmd, *, env=None, cwd=None, timeout=INSTALL_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run ``cmd``, stdout and stderr together as text; a timeout is a failed run, not a raise."""
    try:
        return subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, timeout=timeout, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        out = exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else (exc.output or "")
        return subprocess.CompletedProcess(exc.cmd, 124, f"{out}\ntimed out after {timeout} s")
    except OSError as exc:
        return subprocess.CompletedProcess(cmd, 127, f"cannot run {cmd[0]}: {exc}")


def find_uv() -> str | None:
    """``uv`` beside this interpreter (installed into the venv), on PATH, or from the uv package."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return None


# --- identity and places -----------------------------------------------------------------------

def base_python() -> str:
    """The interpreter environments are made from: the one running us (the main environment's)."""
    return sys.executable


def python_identity() -> dict:
    base = getattr(sys, "_base_executable", None) or sys.executable
    return {"version": platform.python_version(), "implementation": sys.implementation.cache_tag,
            "executable": os.path.realpath(base)}


def environment_key(env: Environment) -> str:
    """12 hex digits over the Python, the requirements and the constraints (order-insensitive)."""
    payload = {"format": FORMAT, "python": python_identity(),
               "requirements": sorted(str(Requirement(r)) for r in env.requirements),
               "constraints": sorted(str(Requirement(r)) for r in env.constraints)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def environments_dir(cache_dir: str | Path | None = None) -> Path:
    """``<cache>/envs``; ``cache_dir`` is the project's cache folder (``--cache-dir``)."""
    return (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "envs"


def environment_path(env: Environment, cache_dir: str | Path | None = None) -> Path:
    return environments_dir(cache_dir) / f"{env.name}-{environment_key(env)}"


def python_in(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _instances(env: Environment, cache_dir) -> list[Path]:
    """Every built folder of ``env``'s name, whatever its key."""
    pattern = re.compile(rf"^{re.escape(env.name)}-[0-9a-f]{{12}}$")
    root = environments_dir(cache_dir)
    return sorted(p for p in root.iterdir() if pattern.match(p.name)) if root.is_dir() else []


def read_marker(path: Path) -> dict | None:
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def _lock(path: Path):
    """Two processes (xdist workers, two shells) never build one environment at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as handle:
        try:
            import fcntl
        except ImportError:             # not POSIX: no lock
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def subprocess_env(path: Path, base: dict | None = None) -> dict:
    """Variables to start an interpreter of the environment at ``path``: our sources on
    PYTHONPATH (nothing else of the caller's), its bin first on PATH, no user site-packages."""
    out = dict(os.environ if base is None else base)
    for var in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__"):
        out.pop(var, None)
    out["PYTHONPATH"] = str(REPO_ROOT)
    out["PYTHONNOUSERSITE"] = "1"
    out["VIRTUAL_ENV"] = str(path)
    out["PATH"] = os.pathsep.join([str(python_in(path).parent), out.get("PATH", "")]).rstrip(os.pathsep)
    return out


# --- the two ways to build ---------------------------------------------------------------------

class UvBuilder:
    name = "uv"

    def __init__(self, uv: str):
        self.uv = uv

    def create(self, path: Path) -> list:
        return [self.uv, "venv", "--python", base_python(), path]

    def install(self, python: Path, requirements: Path, constraints: Path | None) -> list:
        cmd = [self.uv, "pip", "install", "--python", python, "-r", requirements]
        return cmd + (["-c", constraints] if constraints else [])

    def freeze(self, python: Path) -> list:
        return [self.uv, "pip", "freeze", "--python", python]


class PipBuilder:
    name = "pip"

    def create(self, path: Path) -> list:
        return [base_python(), "-m", "venv", path]

    def install(self, python: Path, requirements: Path, constraints: Path | None) -> list:
        cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "-r", requirements]
        return cmd + (["-c", constraints] if constraints else [])

    def freeze(self, python: Path) -> list:
        return [python, "-m", "pip", "freeze", "--all"]


def select_builder(name: str | None = None):
    """``uv`` when found (or asked for), else ``python -m venv`` + pip."""
    if name not in (None, "uv", "pip"):
        raise EnvironmentFailure(f"unknown builder {name!r}", fix="use uv or pip")
    uv = find_uv() if name != "pip" else None
    if name == "uv" and uv is None:
        raise EnvironmentFailure("uv not found", fix="pip install uv, or build with --builder pip")
    return UvBuilder(uv) if uv else PipBuilder()


# --- reading tools' output ---------------------------------------------------------------------

def parse_freeze(text: str) -> dict:
    """``name==version`` (and ``name @ url``) lines to {canonical name: version or url}."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        name, sep, version = line.partition("==")
        if not sep:
            name, sep, version = line.partition(" @ ")
        if sep:
            out[canonicalize_name(name.strip())] = version.strip()
    return out


_UNRESOLVABLE = re.compile(r"No solution found when resolving|ResolutionImpossible|No matching distribution found|"
                           r"Could not find a version that satisfies|conflicting dependencies")
_MISSING = re.compile(r"was not found in the package registry|there is no version of|"
                      r"No matching distribution found|Could not find a version that satisfies", re.I)


def _resolution_text(output: str) -> str:
    """The part of uv's or pip's output that explains the failed resolution."""
    start = _UNRESOLVABLE.search(output)
    text = output[start.start():] if start else output
    return text.split("To fix this you could try")[0]


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    line = re.sub(r"^(error|ERROR):\s*", "", line)
    return line if len(line) <= limit else line[:limit - 3] + "..."


def install_failure(env: Environment, output: str, log: Path | None) -> EnvironmentFailure:
    """The error for a failed install: which of ``env``'s requirements cannot be resolved, or
    the tool's last words for any other failure."""
    where = f" (log: {log})" if log else ""
    if not _UNRESOLVABLE.search(output):
        lines = [ln for ln in output.splitlines() if ln.strip()]
        errors = [ln for ln in lines if re.match(r"\s*(error|ERROR)\b", ln)]
        last = (errors or lines or ["no output"])[-1].strip()
        return EnvironmentBuildFailed(f"environment {env.name!r}: install failed: {_one_line(last)}{where}")
    text = _resolution_text(output)
    mentioned = {canonicalize_name(t) for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", text)}
    ours = [r for r in env.requirements + env.constraints
            if canonicalize_name(Requirement(r).name) in mentioned]
    kind = "not available" if _MISSING.search(text) else "conflict"
    reason = _one_line(re.sub(r"^.*?(No solution found when resolving dependencies:?|cause:)\s*", "", text,
                              flags=re.S).replace("cause:", ""))
    culprits = ", ".join(ours) or "the requirement set"
    return UnresolvableRequirements(
        f"environment {env.name!r}: cannot resolve {culprits} ({kind}): {reason}{where}",
        requirements=ours, fix=f"change the pins of {env.name!r} ({env.origin or 'its declaration'})")


def health_check(env: Environment, path: Path) -> str | None:
    """None when the interpreter starts and imports ``env.imports``; else why not, in one line."""
    code = ("import " + ", ".join(env.imports)) if env.imports else "pass"
    result = _run([python_in(path), "-c", code], env=subprocess_env(path), cwd=path, timeout=300)
    if result.returncode == 0:
        return None
    if result.returncode < 0:
        try:
            return f"the interpreter died with {signal.Signals(-result.returncode).name}"
        except ValueError:
            return f"the interpreter died with signal {-result.returncode}"
    lines = [ln.strip() for ln in (result.stdout or "").splitlines() if ln.strip()]
    return lines[-1] if lines else f"`python -c {code!r}` exited {result.returncode}"


# --- building ----------------------------------------------------------------------------------

def _step(cmd, log: list, *, env=None, cwd=None) -> subprocess.CompletedProcess:
    started = time.perf_counter()
    result = _run(cmd, env=env, cwd=cwd)
    log.append(f"$ {' '.join(map(str, cmd))}\n{result.stdout or ''}"
               f"[exit {result.returncode}, {time.perf_counter() - started:.1f} s]\n")
    return result


def _write_pth(purelib: Path) -> None:
    """Our sources importable in the environment without installing them there."""
    pth = purelib / PTH_NAME
    if not pth.is_file() or pth.read_text(encoding="utf-8").strip() != str(REPO_ROOT):
        pth.write_text(f"{REPO_ROOT}\n", encoding="utf-8")


def _write_marker(path: Path, data: dict) -> None:
    tmp = path / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path / MARKER)


def _install(env: Environment, path: Path, builder, log: list) -> dict:
    """Create the environment, install the requirements, hook our sources in; resolved versions."""
    cwd = path.parent                   # not the repository: uv must not read its pyproject
    result = _step(builder.create(path), log, cwd=cwd)
    if result.returncode != 0:
        raise EnvironmentBuildFailed(f"environment {env.name!r}: cannot create it with {builder.name}: "
                                     f"{_one_line(result.stdout or '', 200)}")
    python = python_in(path)
    requirements = path / "conformance-requirements.txt"
    requirements.write_text("".join(f"{r}\n" for r in env.requirements), encoding="utf-8")
    constraints = None
    if env.constraints:
        constraints = path / "conformance-constraints.txt"
        constraints.write_text("".join(f"{r}\n" for r in env.constraints), encoding="utf-8")
    result = _step(builder.install(python, requirements, constraints), log, cwd=cwd)
    if result.returncode != 0:
        raise install_failure(env, result.stdout or "", None)
    where = _step([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], log, cwd=cwd)
    if where.returncode != 0:
        raise EnvironmentBroken(f"environment {env.name!r}: its interpreter does not start: "
                                f"{_one_line(where.stdout or '', 200)}")
    purelib = Path(where.stdout.strip().splitlines()[-1])
    _write_pth(purelib)
    frozen = _step(builder.freeze(python), log, cwd=cwd)
    resolved = parse_freeze(frozen.stdout or "")
    resolved.pop(OWN_PROJECT, None)     # pip sees our egg-info through the .pth: not installed there
    return {"purelib": str(purelib), "resolved": resolved}


def _build_fresh(env: Environment, path: Path, key: str, builder) -> BuiltEnvironment:
    if path.exists():                   # half-built, broken or forced: start clean
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    failed_log = path.parent / f"{path.name}.failed.log"
    log: list = []
    started = time.perf_counter()
    try:
        installed = _install(env, path, builder, log)
        reason = health_check(env, path)
        if reason:
            raise EnvironmentBroken(
                f"environment {env.name!r} fails its health check (import {', '.join(env.imports)}): {reason}",
                fix="add what is missing to its requirements (numpy and onnx for any worker)")
    except EnvironmentFailure as exc:
        failed_log.write_text("".join(log), encoding="utf-8")
        shutil.rmtree(path, ignore_errors=True)
        exc.message = f"{exc.message} (log: {failed_log})"
        exc.args = (exc.one_line(),)
        raise
    seconds = round(time.perf_counter() - started, 2)
    (path / "conformance-build.log").write_text("".join(log), encoding="utf-8")
    failed_log.unlink(missing_ok=True)
    _write_marker(path, {"format": FORMAT, "name": env.name, "key": key, "python": python_identity(),
                         "requirements": list(env.requirements), "constraints": list(env.constraints),
                         "builder": builder.name, "build_seconds": seconds, "built_at": time.time(),
                         **installed})
    return _built(env, path, key, installed["resolved"], builder.name, seconds, True)


def _fast_path(env: Environment, path: Path, key: str, check: bool) -> BuiltEnvironment | None:
    """The environment as already built, or None when it must be built (again)."""
    marker = read_marker(path)
    if not marker or marker.get("key") != key or not python_in(path).exists():
        return None
    if marker.get("purelib") and Path(marker["purelib"]).is_dir():
        _write_pth(Path(marker["purelib"]))      # another checkout may have pointed it elsewhere
    if check and health_check(env, path):
        return None
    return _built(env, path, key, dict(marker.get("resolved", {})), marker.get("builder", ""),
                  float(marker.get("build_seconds", 0.0)), False)


def _built(env: Environment, path: Path, key: str, resolved: dict, builder: str, seconds: float,
           now: bool) -> BuiltEnvironment:
    return BuiltEnvironment(env, path, key, True, platform.python_version(), resolved, builder,
                            python=python_in(path), build_seconds=seconds, built_now=now)


def _remove_stale(env: Environment, cache_dir, keep: Path) -> None:
    """Older builds of the same name (other requirements or another Python) take disk only."""
    for other in _instances(env, cache_dir):
        if other != keep:
            shutil.rmtree(other, ignore_errors=True)


def build_environment(env: Environment, cache_dir: str | Path | None = None, *, force: bool = False,
                      check: bool = False, builder: str | None = None) -> BuiltEnvironment:
    """Build ``env`` unless it is already built with the same key (then nothing is run; with
    ``check`` its health check runs and a failing environment is built again). A folder without a
    marker (a build that was interrupted) is removed and built again."""
    path = environment_path(env, cache_dir)
    key = path.name.rpartition("-")[2]
    with _lock(path):
        if not force:
            hit = _fast_path(env, path, key, check)
            if hit is not None:
                return hit
        built = _build_fresh(env, path, key, select_builder(builder))
        _remove_stale(env, cache_dir, keep=path)
        return built


def environment_state(env: Environment, cache_dir: str | Path | None = None) -> EnvironmentState:
    path = environment_path(env, cache_dir)
    marker = read_marker(path) or {}
    built = marker.get("key") == path.name.rpartition("-")[2] and python_in(path).exists()
    version = (marker.get("python") or {}).get("version", "") if built else platform.python_version()
    return EnvironmentState(env, path, path.name.rpartition("-")[2], built, version,
                            dict(marker.get("resolved", {})) if built else {}, marker.get("builder", ""))


def remove_environment(env: Environment, cache_dir: str | Path | None = None) -> list[Path]:
    """Delete every build of ``env``'s name (any key), its failed-build logs and locks; the
    environment folders removed."""
    removed = []
    root = environments_dir(cache_dir)
    for path in _instances(env, cache_dir):
        with _lock(path):
            shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    leftovers = re.compile(rf"^\.?{re.escape(env.name)}-[0-9a-f]{{12}}\.(failed\.log|lock)$")
    for path in root.iterdir() if root.is_dir() else ():
        if leftovers.match(path.name):
            path.unlink(missing_ok=True)
    return removed


def key_versions(env: Environment, resolved: dict) -> dict:
    """Resolved versions of the environment's own requirements, in declaration order."""
    return {name: resolved.get(name, "?") for name in env.requirement_names()}
