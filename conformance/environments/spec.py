"""What a named environment is, and where its declarations come from: ``environments.toml`` at
the repository root and ``NAME="REQ REQ ..."`` strings given on the command line."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import ConformanceError
from ..tomlfile import load_toml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = REPO_ROOT / "environments.toml"
# What a worker of ours needs in any environment: the health check imports these.
DEFAULT_IMPORTS = ("numpy", "onnx", "conformance.inputs")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KEYS = {"requirements", "frameworks", "description", "constraints", "imports"}


class EnvironmentFailure(ConformanceError):
    """Base of the errors of named environments (the CLI exits 2 on each)."""


class EnvironmentSpecError(EnvironmentFailure):
    """A declaration that cannot be used: bad name, bad requirement string, bad TOML."""


class UnknownEnvironment(EnvironmentFailure):
    pass


@dataclass(frozen=True)
class Environment:
    """A requirement set with a name. ``frameworks``: source frameworks whose workers run here
    by default. ``constraints``: extra pins applied when resolving (``-c``), part of the key.
    ``imports``: modules the health check imports in the built environment."""
    name: str
    requirements: tuple[str, ...]
    frameworks: tuple[str, ...] = ()
    description: str = ""
    constraints: tuple[str, ...] = ()
    imports: tuple[str, ...] = DEFAULT_IMPORTS
    origin: str = field(default="", compare=False)

    def requirement_names(self) -> list[str]:
        """Canonical project names of the requirements, in declaration order."""
        return [canonicalize_name(Requirement(r).name) for r in self.requirements]


def _check_requirements(name: str, reqs, what: str, origin: str) -> tuple[str, ...]:
    if isinstance(reqs, str) or not all(isinstance(r, str) for r in reqs):
        raise EnvironmentSpecError(f"environment {name!r} in {origin}: {what} must be a list of strings")
    for req in reqs:
        try:
            Requirement(req)
        except InvalidRequirement as exc:
            raise EnvironmentSpecError(
                f"environment {name!r} in {origin}: bad requirement {req!r} ({str(exc).splitlines()[0]})",
                fix="write pip requirement strings such as 'numpy==2.4.6' or 'numpy<2'") from None
    return tuple(reqs)


def make_environment(name: str, requirements, *, frameworks=(), description: str = "",
                     constraints=(), imports=DEFAULT_IMPORTS, origin: str = "") -> Environment:
    """Validated ``Environment`` (a name usable in a folder name, parseable requirements)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise EnvironmentSpecError(
            f"bad environment name {name!r} in {origin or 'declaration'}",
            fix="use letters, digits, '.', '_' and '-', starting with a letter or digit")
    reqs = _check_requirements(name, requirements, "requirements", origin)
    if not reqs:
        raise EnvironmentSpecError(f"environment {name!r} in {origin}: no requirements")
    if isinstance(frameworks, str) or not all(isinstance(f, str) for f in frameworks):
        raise EnvironmentSpecError(f"environment {name!r} in {origin}: frameworks must be a list of strings")
    if isinstance(imports, str) or not all(isinstance(m, str) for m in imports):
        raise EnvironmentSpecError(f"environment {name!r} in {origin}: imports must be a list of module names")
    return Environment(name, reqs, tuple(frameworks), str(description),
                       _check_requirements(name, constraints, "constraints", origin), tuple(imports), origin)


def parse_environment_spec(text: str) -> Environment:
    """``NAME="REQ REQ ..."`` (as typed after the shell removed its quotes: ``NAME=REQ REQ``)
    to an ``Environment``. Requirements are split like a shell would split them, so one that
    holds a space can be quoted: ``ort='onnxruntime==1.31.1' 'numpy; python_version<"3.13"'``."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name or rest.startswith("="):
        raise EnvironmentSpecError(f"bad environment spec {text!r}",
                                   fix='write NAME="REQ REQ ...", e.g. ort131="onnxruntime==1.31.1 onnx numpy"')
    try:
        reqs = shlex.split(rest)
        if len(reqs) == 1 and len(reqs[0].split()) > 1 and not _is_requirement(reqs[0]):
            reqs = shlex.split(reqs[0])         # NAME="A B" with its quotes still on
    except ValueError as exc:
        raise EnvironmentSpecError(f"bad environment spec {text!r}: {exc}") from None
    return make_environment(name, reqs, origin="command line")


def _is_requirement(text: str) -> bool:
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


def _from_table(name: str, table, origin: str) -> Environment:
    if not isinstance(table, dict):
        raise EnvironmentSpecError(f"environment {name!r} in {origin} is not a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise EnvironmentSpecError(f"environment {name!r} in {origin}: unknown key(s) {', '.join(unknown)}",
                                   fix=f"known keys: {', '.join(sorted(_KEYS))}")
    if "requirements" not in table:
        raise EnvironmentSpecError(f"environment {name!r} in {origin}: no requirements")
    return make_environment(name, table["requirements"], frameworks=table.get("frameworks", ()),
                            description=table.get("description", ""),
                            constraints=table.get("constraints", ()),
                            imports=table.get("imports", DEFAULT_IMPORTS), origin=origin)


def parse_environments_toml(text: str, origin: str = "environments.toml") -> dict[str, Environment]:
    """``[environments.NAME]`` tables to environments, in file order."""
    data = load_toml(text, origin, {"environments"}, EnvironmentSpecError,
                     fix="declare each environment as [environments.NAME]")
    tables = data.get("environments", {})
    return {name: _from_table(name, table, origin) for name, table in tables.items()}


def _check_frameworks(envs: dict[str, Environment]) -> None:
    owner: dict[str, str] = {}
    for env in envs.values():
        for framework in env.frameworks:
            if framework in owner:
                raise EnvironmentSpecError(
                    f"framework {framework!r} is claimed by environments {owner[framework]!r} and {env.name!r}",
                    fix="list a framework under one environment only")
            owner[framework] = env.name


def load_environments(path: str | Path | None = None, extra=()) -> dict[str, Environment]:
    """Declared environments (``environments.toml`` at the repository root by default; a missing
    default file declares none) plus ``extra``: ``Environment`` objects or ``NAME=REQS`` strings,
    which replace a declared one of the same name."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if path.is_file():
        envs = parse_environments_toml(path.read_text(encoding="utf-8"), origin=str(path))
    elif path != DEFAULT_PATH:
        raise EnvironmentSpecError(f"environments file {path} not found")
    else:
        envs = {}
    for item in extra:
        env = parse_environment_spec(item) if isinstance(item, str) else item
        envs[env.name] = env
    _check_frameworks(envs)
    return envs


def get_environment(name: str | Environment, environments: dict[str, Environment] | None = None) -> Environment:
    """The environment called ``name`` (an ``Environment`` is returned as it is)."""
    if isinstance(name, Environment):
        return name
    envs = load_environments() if environments is None else environments
    if name not in envs:
        known = ", ".join(sorted(envs)) or "none"
        raise UnknownEnvironment(f"unknown environment {name!r} (known: {known})",
                                 fix='declare it in environments.toml or give it as NAME="REQ REQ ..."')
    return envs[name]


def environment_for_framework(framework: str, environments: dict[str, Environment] | None = None
                              ) -> Environment | None:
    """The environment whose ``frameworks`` lists ``framework``, or None (run it in the main one)."""
    envs = load_environments() if environments is None else environments
    for env in envs.values():
        if framework in env.frameworks:
            return env
    return None
