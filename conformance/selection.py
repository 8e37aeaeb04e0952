"""Expansion of case specs into runs (spec x converter x opset x target) and selection by
id pattern. Shared by the pytest plugin and the ``conformance run`` command."""
from __future__ import annotations

import fnmatch
import importlib
from dataclasses import dataclass
from typing import Iterable

from converters import CONVERTERS, converters_for

from .cases import CaseSpec
from .errors import ConformanceError, UnknownConverter
from .placement import base_converter, split_env
from .runner import CaseRun
from .targets import DEFAULT_TARGETS, TARGETS

SUITE_MODULES = {
    "operators": "suites.operators.test_operators",
    "padding": "suites.padding.test_padding",
    "architectures": "suites.architectures.test_architectures",
    "multio-control": "suites.architectures.test_multio_control",
    "families": "suites.architectures.test_families",
    "generation": "suites.architectures.test_generation",
}


def split_values(values, default=()) -> list[str]:
    out = []
    for value in values or ():
        out.extend(v.strip() for v in str(value).split(",") if v.strip())
    return out or list(default)


def expand(specs: Iterable[CaseSpec], *, targets, frameworks=(), converters=(), opsets=None,
           include=(), exclude=()) -> list[CaseRun]:
    """Every spec x converter x opset x target selected. ``opsets`` None: each converter at its
    own ``default_opset`` (17; torch-dynamo 18, the one it writes natively)."""
    for name in converters:
        if base_converter(name) not in CONVERTERS:
            raise UnknownConverter(f"unknown converter {name!r}", fix=f"choose one of: {', '.join(CONVERTERS.names())}")
    framework_of = {n: CONVERTERS.get(base_converter(n)).framework for n in converters}
    runs = []
    for spec in specs:
        if frameworks and spec.framework not in frameworks:
            continue
        allowed = list(spec.converters) if spec.converters is not None else converters_for(spec.framework)
        if converters:
            # a spec's converter list narrows its ONNX exporters (a case too slow or meaningless for one);
            # a path to another format runs wherever it is asked for (no new case code per path)
            chosen = [n for n in converters if framework_of[n] == spec.framework
                      and (base_converter(n) in allowed or CONVERTERS.get(base_converter(n)).format != "onnx")]
        else:
            chosen = allowed
        for converter in chosen:
            for opset in opsets_of(spec, converter, opsets):
                for target in runs_format(targets, CONVERTERS.get(base_converter(converter)).format):
                    run = CaseRun(spec, converter, int(opset), target)
                    cid = run.case_id
                    if include and not any(fnmatch.fnmatchcase(cid, p) for p in include):
                        continue
                    if exclude and any(fnmatch.fnmatchcase(cid, p) for p in exclude):
                        continue
                    runs.append(run)
    return runs


def runs_format(targets, fmt: str) -> list[str]:
    """The targets that run artifacts of format ``fmt`` (an unknown target name is kept: its
    record says it is unknown)."""
    return [t for t in targets if split_env(t)[0] not in TARGETS or fmt in TARGETS.get(split_env(t)[0]).formats]


def opsets_of(spec: CaseSpec, converter: str, opsets) -> tuple[int, ...]:
    """The opsets a spec runs at: its own when it is written at one (kept only if ``opsets``
    names it), else ``opsets``, else the converter's default. A converter that writes another
    format than ONNX has no opset to vary: it runs once, at the lowest asked (the case id's
    opset part then only says which run of the session it belongs to)."""
    if spec.opset is not None:
        return (spec.opset,) if not opsets or spec.opset in {int(o) for o in opsets} else ()
    writer = CONVERTERS.get(base_converter(converter))
    if opsets and writer.format != "onnx":
        return (min(int(o) for o in opsets),)
    return tuple(opsets or (writer.default_opset,))


def select_runs(specs: Iterable[CaseSpec], *, target=None, framework=None, converter=None, opset=None,
                case=None, exclude_case=None) -> list[CaseRun]:
    """``expand`` from option values as users give them (repeatable, comma-separated; None for
    the defaults): what ``pytest --target ... --case ...`` and ``conformance run`` select."""
    try:
        opsets = [int(o) for o in split_values(opset)] or None
    except ValueError:
        raise ConformanceError("--opset takes integers, e.g. --opset 13,17") from None
    return expand(specs, targets=split_values(target, DEFAULT_TARGETS), frameworks=set(split_values(framework)),
                  converters=split_values(converter), opsets=opsets,
                  include=split_values(case), exclude=split_values(exclude_case))


@dataclass(frozen=True)
class Asked:
    """What a run names, for the suites whose cases depend on it (``conformance_cases(asked)``):
    its --framework and --converter values and its free texts (pytest's -k and -m, --case globs).
    Some source frameworks are opt-in: MindSpore's environment is 2.7 GB and its cases double
    the torch operator run, so a run collects them only when it names MindSpore
    (``--framework mindspore``, ``-m mindspore``, ``-k mindspore``, ``--case 'op/*/mindspore/*'``)."""

    frameworks: tuple[str, ...] = ()
    converters: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    config: object = None       # the pytest config of a pytest run: a suite's own options (--model)

    @classmethod
    def of(cls, framework=None, converter=None, texts=(), config=None) -> "Asked":
        """From option values as users give them (repeatable, comma-separated, or None)."""
        return cls(tuple(split_values(framework)), tuple(split_values(converter)), tuple(t for t in texts if t),
                   config)

    def names(self, framework: str) -> bool:
        """Whether the run names ``framework`` (not only as ``not <framework>``)."""
        return framework in self.frameworks or any(
            framework in text and f"not {framework}" not in text for text in self.texts)


def suite_cases(module, asked: Asked) -> list[CaseSpec]:
    """A suite module's cases: ``conformance_cases(asked)``, or ``conformance_cases()`` for a
    suite whose cases do not depend on what the run names."""
    factory = module.conformance_cases
    return list(factory(asked) if factory.__code__.co_argcount else factory())


def suite_specs(names: Iterable[str], asked: Asked = Asked()) -> list[CaseSpec]:
    specs = []
    for name in names:
        specs.extend(suite_cases(importlib.import_module(SUITE_MODULES.get(name, name)), asked))
    return specs
