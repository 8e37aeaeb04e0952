"""Where a converter or a target runs: the session's own Python or a named environment.

A name may carry its environment after ``@``: ``tf2onnx@tf216``, ``tf2onnx@tf216+optimize``
(chained ONNX -> ONNX steps still run in the session), ``onnxruntime@ort131``. Without one, a
converter runs where its framework's default environment is (``frameworks = ["paddle"]`` in
environments.toml puts Paddle's worker in the ``paddle`` environment), else in the session.

``Placements`` builds each environment once per session (on first use) and answers a
``Placement``: the environment's name, the interpreter a worker starts with, the key that goes
into conversion cache keys, and the versions installed there (what records carry).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from .environments import (Environment, EnvironmentFailure, build_environment, environment_for_framework,
                           get_environment, load_environments, subprocess_env)
from .targets import TARGETS
from .targets.base import dist_version
from .workers import Interpreter

ENV_MARK = "@"


def split_env(name: str) -> tuple[str, str | None]:
    """``"tf2onnx@tf216+optimize"`` -> ``("tf2onnx+optimize", "tf216")``; no ``@`` -> ``(name, None)``."""
    if ENV_MARK not in name:
        return name, None
    head, _, rest = name.partition(ENV_MARK)
    env, plus, steps = rest.partition("+")
    return head + plus + steps, env or None


@dataclass(frozen=True)
class Placement:
    """A named environment ready to start workers in (``env`` None: the session itself)."""

    env: str | None
    interpreter: Interpreter
    key: str = ""                                       # the environment's build key
    resolved: dict = field(default_factory=dict, compare=False)   # {canonical name: version}

    def version(self, distribution: str) -> str:
        """The installed version of ``distribution`` where this placement runs things."""
        if not distribution:
            return ""
        if self.env is None:
            return dist_version(distribution)
        return self.resolved.get(canonicalize_name(distribution), "")

    @property
    def cache_tag(self) -> str:
        """What distinguishes this placement's conversions in cache keys ("" for the session)."""
        return f"{ENV_MARK}{self.env}:{self.key}" if self.env else ""


SESSION = Placement(None, Interpreter.session())


class Placements:
    """The session's environments: declared ones (``environments.toml`` plus ``extra``
    ``Environment``s from ``--env``), each built at most once, failures remembered."""

    def __init__(self, environments: dict[str, Environment] | None = None, cache_dir: str | Path | None = None):
        self._environments = environments
        self.cache_dir = cache_dir
        self._placed: dict[str, Placement | EnvironmentFailure] = {}

    @property
    def environments(self) -> dict[str, Environment]:
        if self._environments is None:
            self._environments = load_environments()
        return self._environments

    def env_name(self, name: str, framework: str | None = None) -> str | None:
        """The environment a converter (with its ``framework``) or a target name runs in."""
        bare, env = split_env(name)
        if env is not None:
            return env
        if framework is None:
            return target_environment(bare)
        default = environment_for_framework(framework, self.environments)
        return default.name if default is not None else None

    def placement(self, env: str | None) -> Placement:
        """The placement of environment ``env``, building it on first use; raises
        ``EnvironmentFailure`` (unknown name, unresolvable requirements, broken interpreter)."""
        if env is None:
            return SESSION
        if env not in self._placed:
            try:
                built = build_environment(get_environment(env, self.environments), self.cache_dir)
                interpreter = Interpreter(str(built.python), tuple(sorted(subprocess_env(built.path).items())), env)
                self._placed[env] = Placement(env, interpreter, built.key, dict(built.resolved))
            except EnvironmentFailure as exc:
                self._placed[env] = exc
        placed = self._placed[env]
        if isinstance(placed, EnvironmentFailure):
            raise placed
        return placed

    def for_name(self, name: str, framework: str | None = None) -> Placement:
        return self.placement(self.env_name(name, framework))

    def framework_interpreter(self, framework: str) -> Interpreter:
        """The interpreter a framework's worker starts with when nothing names an environment."""
        return self.for_name("", framework).interpreter


def target_environment(name: str) -> str | None:
    """The environment a target runs in by default (``Target.environment``), None for the session."""
    return (TARGETS.get(name).environment or None) if name in TARGETS else None


def base_converter(name: str) -> str:
    """The registered converter a name runs: ``tf2onnx@tf216+optimize`` -> ``tf2onnx``."""
    return split_env(name)[0].split("+", 1)[0]
