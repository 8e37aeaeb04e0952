"""``conformance env list|build [NAME...]|show NAME|remove NAME``: one line per environment."""
from __future__ import annotations

import argparse
import sys
import time

from .build import build_environment, environment_state, key_versions, remove_environment
from .spec import EnvironmentFailure, get_environment, load_environments

ENV_DESCRIPTION = ("Named environments (requirement sets in environments.toml, or NAME=\"REQ REQ ...\" with "
                   "--env) built with uv under the cache folder, keyed by a hash of the Python, the "
                   "requirements and the constraints.")


def register(subparsers) -> None:
    p = subparsers.add_parser("env", help="named environments: list, build, show, remove",
                              description=ENV_DESCRIPTION)
    p.add_argument("--environments", metavar="TOML", help="declarations (default: environments.toml "
                   "at the repository root)")
    p.add_argument("--env", action="append", default=[], metavar='NAME="REQ REQ ..."',
                   help="declare an environment here (replaces a declared one of that name); repeatable")
    p.add_argument("--cache-dir", metavar="DIR", help="the cache folder; environments go to DIR/envs")
    actions = p.add_subparsers(dest="env_action", metavar="ACTION")
    actions.add_parser("list", help="every environment and whether it is built")
    build = actions.add_parser("build", help="build environments (default: every declared one)")
    build.add_argument("names", nargs="*", metavar="NAME")
    build.add_argument("--force", action="store_true", help="rebuild even when already built")
    build.add_argument("--builder", choices=("uv", "pip"), help="default: uv when found, else venv + pip")
    build.add_argument("--check", action="store_true",
                       help="run the health check on environments already built too (a new build always "
                            "runs it); one that fails it is built again")
    show = actions.add_parser("show", help="an environment's requirements and resolved versions")
    show.add_argument("name", metavar="NAME")
    remove = actions.add_parser("remove", help="delete an environment's builds")
    remove.add_argument("name", metavar="NAME")
    p.set_defaults(func=run, env_action=None)


def _versions_text(env, resolved: dict) -> str:
    if not resolved:
        return " ".join(env.requirements)
    return " ".join(f"{name}=={version}" for name, version in key_versions(env, resolved).items())


def _line(env, state, note: str = "") -> str:
    status = "built" if state.built else "not built"
    text = (f"{env.name:<12} {status:<9}  python {state.python_version:<7}  {state.path}  "
            f"{_versions_text(env, state.resolved)}")
    return f"{text}  ({note})" if note else text


def _list(envs, args) -> int:
    if not envs:
        print("no environments declared (environments.toml or --env NAME=\"REQ ...\")")
    for env in envs.values():
        print(_line(env, environment_state(env, args.cache_dir)))
    return 0


def _build(envs, args) -> int:
    chosen = [get_environment(name, envs) for name in args.names] or list(envs.values())
    failed = []
    for env in chosen:
        started = time.perf_counter()
        try:
            built = build_environment(env, args.cache_dir, force=args.force, check=args.check, builder=args.builder)
        except EnvironmentFailure as exc:
            if len(chosen) == 1:
                raise
            print(f"{env.name:<12} failed     {exc.one_line()}", file=sys.stderr)
            failed.append(env.name)
            continue
        seconds = time.perf_counter() - started
        note = f"built in {seconds:.1f} s with {built.builder}" if built.built_now else \
            f"already built{', checked' if args.check else ''}, {seconds:.2f} s"
        print(_line(env, environment_state(env, args.cache_dir), note))
    if failed:
        raise EnvironmentFailure(f"{len(failed)} of {len(chosen)} environments failed to build: "
                                 f"{', '.join(failed)}", fix="see the lines above")
    return 0


def _show(envs, args) -> int:
    env = get_environment(args.name, envs)
    state = environment_state(env, args.cache_dir)
    print(_line(env, state))
    print(f"  description:  {env.description or '-'}")
    print(f"  frameworks:   {', '.join(env.frameworks) or '-'}")
    print(f"  requirements: {' '.join(env.requirements)}")
    print(f"  constraints:  {' '.join(env.constraints) or '-'}")
    print(f"  key:          {state.key}   declared in: {env.origin or '-'}")
    if state.built:
        print(f"  built with:   {state.builder}; resolved ({len(state.resolved)} packages):")
        for name, version in sorted(state.resolved.items()):
            print(f"    {name}=={version}")
    return 0


def _remove(envs, args) -> int:
    env = get_environment(args.name, envs)
    removed = remove_environment(env, args.cache_dir)
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print(f"{env.name}: nothing to remove")
    return 0


_ACTIONS = {"list": _list, "build": _build, "show": _show, "remove": _remove}


def run(args: argparse.Namespace) -> int:
    envs = load_environments(args.environments, extra=args.env)
    return _ACTIONS[args.env_action or "list"](envs, args)
