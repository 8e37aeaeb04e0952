"""A name -> factory registry fed by decorators (built-ins), an entry-point group (installed
plugins) and ``CONFORMANCE_PLUGINS`` (local plugin modules).

Used for targets (``conformance.targets``) and converters (``conformance.converters``), so a
third party adds one by publishing an entry point, without touching this repository. Plugin
loading lives here, with the registries it feeds, so that nothing else (the worker processes
included) needs to know a particular registry to load plugins.
"""
from __future__ import annotations

import importlib
import os
from importlib import metadata
from typing import Callable, Generic, TypeVar

T = TypeVar("T")

PLUGINS_ENV = "CONFORMANCE_PLUGINS"


def import_plugins() -> None:
    """Modules named in CONFORMANCE_PLUGINS (comma-separated) register extra converters or
    targets in every process, workers included: the way tests and users add local ones."""
    for name in filter(None, (os.environ.get(PLUGINS_ENV) or "").split(",")):
        importlib.import_module(name.strip())


class Registry(Generic[T]):
    def __init__(self, group: str, builtin_modules: tuple[str, ...] = ()):
        self.group = group
        self._builtin_modules = builtin_modules
        self._factories: dict[str, Callable[[], T]] = {}
        self._instances: dict[str, T] = {}
        self._load_errors: dict[str, str] = {}
        self._from_entry_points: set[str] = set()
        self._loaded = False

    def register(self, name: str):
        def deco(factory):
            self._factories[name] = factory
            return factory
        return deco

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtin_modules:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:     # the module exists but needs something missing
                    self._load_errors[module.rsplit(".", 1)[-1]] = f"{module} failed to import: {exc}"
            except Exception as exc:       # a broken built-in must not hide the rest (entry points too)
                self._load_errors[module.rsplit(".", 1)[-1]] = f"{module} failed to import: {type(exc).__name__}: {exc}"
        import_plugins()
        for ep in metadata.entry_points(group=self.group):
            if ep.name in self._factories:
                continue
            try:
                self._factories[ep.name] = ep.load()
                self._from_entry_points.add(ep.name)
            except Exception as exc:  # a broken plugin must not take the registry down
                self._load_errors[ep.name] = f"entry point {ep.value} failed to load: {exc}"

    def names(self) -> list[str]:
        self._load()
        return sorted(set(self._factories) | set(self._load_errors))

    def load_error(self, name: str) -> str | None:
        self._load()
        return self._load_errors.get(name)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._factories

    def get(self, name: str) -> T:
        self._load()
        if name not in self._instances:
            factory = self._factories[name]
            instance = factory()
            if getattr(instance, "name", None) in (None, ""):
                instance.name = name
            self._instances[name] = instance
        return self._instances[name]

    def reset(self) -> None:
        """Forget loaded entry points (tests that install a plugin at run time)."""
        for name in self._from_entry_points:
            self._factories.pop(name, None)
        self._from_entry_points.clear()
        self._loaded = False
        self._instances.clear()
        self._load_errors.clear()
