"""Converter registry: built-ins plus the ``conformance.converters`` entry-point group.

Names may chain ONNX -> ONNX steps after a converter: ``tf2onnx+optimize`` (chain steps,
registered in ``CHAIN_STEPS`` and through the ``conformance.passes`` entry-point group).
"""
from __future__ import annotations

from conformance.errors import UnknownConverter
from conformance.registry import Registry

from .base import ChainStep, Converter

CONVERTERS: Registry[Converter] = Registry(
    "conformance.converters",
    builtin_modules=(
        "converters.torch_script",
        "converters.torch_dynamo",
        "converters.tf2onnx_converter",
        "converters.paddle2onnx_converter",
        "converters.onnx_identity",
        "converters.tflite_converter",
        "converters.torchscript_converter",
        "converters.torch_export_converter",
        "converters.openvino_frontend",
        "converters.executorch_converter",
        "converters.pnnx_converter",
        "converters.mindspore_converter",
    ),
)
CHAIN_STEPS: Registry[ChainStep] = Registry("conformance.passes", builtin_modules=("converters.passes",))
register_converter = CONVERTERS.register
register_chain_step = CHAIN_STEPS.register


def split_chain(name: str) -> tuple[str, list[str]]:
    base, *steps = name.split("+")
    return base, steps


def split_step(step: str) -> tuple[str, str | None]:
    """``prune:0.5`` -> ("prune", "0.5"): a chain step's name and its argument (None: none given)."""
    name, sep, argument = step.partition(":")
    return name, (argument if sep else None)


def get_converter(name: str) -> Converter:
    base, steps = split_chain(name)
    if base not in CONVERTERS:
        raise UnknownConverter(f"unknown converter {base!r}", fix=f"choose one of: {', '.join(CONVERTERS.names())}")
    if steps and CONVERTERS.get(base).format != "onnx":
        raise UnknownConverter(f"chain steps rewrite ONNX models; {base!r} writes {CONVERTERS.get(base).format}",
                               fix=f"drop the steps after {base!r}")
    for step in steps:
        if split_step(step)[0] not in CHAIN_STEPS:
            raise UnknownConverter(f"unknown chain step {step!r} in {name!r}",
                                   fix=f"chain one of: {', '.join(CHAIN_STEPS.names())}")
    try:
        get_chain_steps(name)
    except ValueError as exc:           # a step's argument it cannot take
        raise UnknownConverter(f"{exc} in {name!r}", fix="e.g. +prune:0.5") from None
    return CONVERTERS.get(base)


def get_chain_steps(name: str) -> list[ChainStep]:
    """The chain's steps, each configured with its ``:ARGUMENT`` where it has one."""
    return [CHAIN_STEPS.get(step).configured(argument)
            for step, argument in map(split_step, split_chain(name)[1])]


def converter_status(name: str) -> tuple[bool, str]:
    base, _ = split_chain(name)
    error = CONVERTERS.load_error(base)
    if error:
        return False, error
    try:
        ok, why = get_converter(name).available()
        if not ok:
            return ok, why
        for step in get_chain_steps(name):
            ok, why = step.available()
            if not ok:
                return ok, why
        return True, ""
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def converters_for(framework: str) -> list[str]:
    return [n for n in CONVERTERS.names() if n in CONVERTERS and CONVERTERS.get(n).framework == framework
            and not CONVERTERS.get(n).files_only]


__all__ = ["Converter", "ChainStep", "CONVERTERS", "CHAIN_STEPS", "register_converter", "register_chain_step",
           "get_converter", "get_chain_steps", "converter_status", "converters_for", "split_chain", "split_step"]
