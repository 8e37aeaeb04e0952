"""Target registry: built-ins below plus the ``conformance.targets`` entry-point group."""
from __future__ import annotations

from ..errors import UnknownTarget
from ..registry import Registry
from .base import Target

TARGETS: Registry[Target] = Registry(
    "conformance.targets",
    builtin_modules=(
        "conformance.targets.reference",
        "conformance.targets.onnxruntime",
        "conformance.targets.openvino",
        "conformance.targets.tensorrt",
        "conformance.targets.litert",
        "conformance.targets.torchscript",
        "conformance.targets.torch_export",
        "conformance.targets.tvm",
        "conformance.targets.onnxruntime_node",
        "conformance.targets.executorch",
        "conformance.targets.ncnn",
        "conformance.targets.mindspore",
    ),
)
register_target = TARGETS.register
DEFAULT_TARGETS = ("reference", "onnxruntime")


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise UnknownTarget(f"unknown target {name!r}", fix=f"choose one of: {', '.join(TARGETS.names())}")
    return TARGETS.get(name)


def target_status(name: str) -> tuple[bool, str]:
    """(available, reason) without raising, for ``conformance targets`` and the plugin."""
    error = TARGETS.load_error(name)
    if error:
        return False, error
    try:
        return get_target(name).available()
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


__all__ = ["Target", "TARGETS", "register_target", "get_target", "target_status", "DEFAULT_TARGETS"]
