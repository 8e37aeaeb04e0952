"""Named environments: requirement sets, declared in ``environments.toml`` or given as
``NAME="REQ REQ ..."``, built on demand with ``uv`` (or venv + pip) under ``<cache>/envs`` and
keyed by a hash of the Python, the requirements and the constraints. A worker of a framework or
a target can run in one: start ``env_python(name)`` with ``env_subprocess_env(name)``.

The ``conformance env`` subcommand is ``register``/``run`` here (see ``cli.py``)."""
from __future__ import annotations

from pathlib import Path

from .build import (BuiltEnvironment, EnvironmentBroken, EnvironmentBuildFailed, EnvironmentState,
                    UnresolvableRequirements, build_environment, environment_key, environment_path,
                    environment_state, environments_dir, find_uv, health_check, key_versions,
                    python_in, remove_environment, subprocess_env)
from .spec import (DEFAULT_IMPORTS, DEFAULT_PATH, Environment, EnvironmentFailure, EnvironmentSpecError,
                   UnknownEnvironment, environment_for_framework, get_environment, load_environments,
                   make_environment, parse_environment_spec, parse_environments_toml)


def ensure_environment(name: str | Environment, *, environments: dict | None = None,
                       cache_dir: str | Path | None = None) -> BuiltEnvironment:
    """The built environment called ``name``, building it first if needed."""
    return build_environment(get_environment(name, environments), cache_dir)


def env_python(name: str | Environment, *, environments: dict | None = None,
               cache_dir: str | Path | None = None, build: bool = True) -> Path:
    """The interpreter of environment ``name`` (built on demand unless ``build=False``, which
    raises when it is not built)."""
    env = get_environment(name, environments)
    if build:
        return build_environment(env, cache_dir).python
    state = environment_state(env, cache_dir)
    if not state.built:
        raise EnvironmentFailure(f"environment {env.name!r} is not built",
                                 fix=f"conformance env build {env.name}")
    return python_in(state.path)


def env_subprocess_env(name: str | Environment, *, environments: dict | None = None,
                       cache_dir: str | Path | None = None, base: dict | None = None,
                       build: bool = True) -> dict:
    """Environment variables for a process started with ``env_python(name)``: our sources on
    PYTHONPATH, the environment's bin first on PATH, VIRTUAL_ENV set, no user site-packages."""
    python = env_python(name, environments=environments, cache_dir=cache_dir, build=build)
    return subprocess_env(python.parent.parent, base)


def resolved_versions(name: str | Environment, *, environments: dict | None = None,
                      cache_dir: str | Path | None = None, build: bool = False) -> dict:
    """{canonical project name: version} installed in environment ``name`` (as ``pip freeze``
    recorded it when it was built); empty when it is not built and ``build`` is False."""
    env = get_environment(name, environments)
    if build:
        return dict(build_environment(env, cache_dir).resolved)
    return dict(environment_state(env, cache_dir).resolved)


from .cli import register, run  # noqa: E402  (the subcommand needs the functions above)

__all__ = [
    "BuiltEnvironment", "DEFAULT_IMPORTS", "DEFAULT_PATH", "Environment", "EnvironmentBroken",
    "EnvironmentBuildFailed", "EnvironmentFailure", "EnvironmentSpecError", "EnvironmentState",
    "UnknownEnvironment", "UnresolvableRequirements", "build_environment", "ensure_environment",
    "env_python", "env_subprocess_env", "environment_for_framework", "environment_key",
    "environment_path", "environment_state", "environments_dir", "find_uv", "get_environment",
    "health_check", "key_versions", "load_environments", "make_environment", "parse_environment_spec",
    "parse_environments_toml", "register", "remove_environment", "resolved_versions", "run",
]
