"""Converter registry: built-ins plus the ``conformance.converters`` entry-point group.

Names may chain ONNX -> ONNX passes after a converter: ``tf2onnx+optimize``.
"""
from __future__ import annotations

from conformance.errors import UnknownConverter
from conformance.registry import Registry

from .base import Converter, ModelPass

CONVERTERS: Registry[Converter] = Registry(
    "conformance.converters",
    builtin_modules=(
        "converters.torch_script",
        "converters.torch_dynamo",
        "converters.tf2onnx_converter",
        "converters.paddle2onnx_converter",
    ),
)
PASSES: Registry[ModelPass] = Registry("conformance.passes", builtin_modules=("converters.passes",))
register_converter = CONVERTERS.register
register_pass = PASSES.register


def split_chain(name: str) -> tuple[str, list[str]]:
    base, *passes = name.split("+")
    return base, passes


def get_converter(name: str) -> Converter:
    base, passes = split_chain(name)
    if base not in CONVERTERS:
        raise UnknownConverter(f"unknown converter {base!r}", fix=f"choose one of: {', '.join(CONVERTERS.names())}")
    for p in passes:
        if p not in PASSES:
            raise UnknownConverter(f"unknown pass {p!r} in {name!r}", fix=f"chain one of: {', '.join(PASSES.names())}")
    return CONVERTERS.get(base)


def get_passes(name: str) -> list[ModelPass]:
    return [PASSES.get(p) for p in split_chain(name)[1]]


def converter_status(name: str) -> tuple[bool, str]:
    base, passes = split_chain(name)
    error = CONVERTERS.load_error(base)
    if error:
        return False, error
    try:
        ok, why = get_converter(name).available()
        if not ok:
            return ok, why
        for p in get_passes(name):
            ok, why = p.available()
            if not ok:
                return ok, why
        return True, ""
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def converters_for(framework: str) -> list[str]:
    return [n for n in CONVERTERS.names() if n in CONVERTERS and CONVERTERS.get(n).framework == framework]


__all__ = ["Converter", "ModelPass", "CONVERTERS", "PASSES", "register_converter", "register_pass",
           "get_converter", "get_passes", "converter_status", "converters_for", "split_chain"]
