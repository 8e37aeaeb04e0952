"""The noise floor of float32 arithmetic on one model and its inputs.

Two correct float32 engines disagree on a whole model: they sum long dot products in different
orders, through many layers. How far apart is measured here, per output, rather than guessed:
the reference executor computing in float64 is the truth, and a few correct float32 engines of
different summation orders (the reference executor in float32; onnxruntime with its graph
optimizations off, where installed: cheap, and a different kernel library) show how far a
correct float32 computation of *this* model on *these* inputs lands from it. The floor of an
output is the largest such distance. The policy that turns a floor into a verdict is
``conformance.tolerance.noise_tolerance``; this module only measures.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import onnx

from .divergent_node import expose_intermediates, float64_values, rounded_to_model_types
from .reference import ReferenceExecutor
from .targets import get_target, target_status
from .tolerance import Tolerance


def _reference_float32(model, feeds) -> list:
    return ReferenceExecutor(model, "float32").run(None, feeds)


def _onnxruntime_unoptimized(model, feeds) -> list:
    target = get_target("onnxruntime-basic")
    return target.run(target.prepare(model), dict(feeds))


# The float32 engines whose distance from the float64 truth is the floor: name -> (is it
# installed, run(model, feeds) -> outputs in declared order). Each must be a *correct* float32
# engine with its own summation order; one that cannot run the model is left out and said so.
FLOAT32_ENGINES: dict[str, tuple[Callable[[], bool], Callable]] = {
    "reference float32": (lambda: True, _reference_float32),
    "onnxruntime-basic": (lambda: target_status("onnxruntime-basic")[0], _onnxruntime_unoptimized),
}


@dataclass
class NoiseFloor:
    """Per float32 output: the largest distance of a correct float32 engine from the truth."""

    floors: dict[str, float] = field(default_factory=dict)
    engines: list[str] = field(default_factory=list)           # the engines that measured it
    left_out: dict[str, str] = field(default_factory=dict)     # engine -> why it did not

    def describe(self) -> str:
        text = f"noise floor from {', '.join(self.engines) or 'no engine'} vs reference float64"
        if self.left_out:
            text += "; left out: " + "; ".join(f"{k} ({v})" for k, v in self.left_out.items())
        return text


def float64_truth(model, feeds) -> dict[str, np.ndarray]:
    """The reference executor's outputs in float64, by output name (not cast back)."""
    executor = ReferenceExecutor(model, "float64", cast_outputs=False)
    return dict(zip(executor.output_names, executor.run(None, feeds)))


def _float32_outputs(truth: dict[str, np.ndarray], declared: dict[str, np.dtype]) -> list[str]:
    return [name for name, value in truth.items()
            if isinstance(value, np.ndarray) and declared.get(name) == np.dtype(np.float32)]


def measure_noise_floor(model, feeds, truth: dict[str, np.ndarray],
                        declared: dict[str, np.dtype]) -> NoiseFloor:
    """The floor of every float32 output of ``model`` on ``feeds``: max over the float32
    engines of max |engine - truth|. ``declared``: the outputs' declared dtypes."""
    names = _float32_outputs(truth, declared)
    noise = NoiseFloor(floors={name: 0.0 for name in names})
    for engine, (installed, run) in FLOAT32_ENGINES.items():
        if not installed():
            noise.left_out[engine] = "not installed"
            continue
        try:
            outputs = dict(zip(truth, run(model, feeds)))
        except Exception as exc:       # an engine that cannot run the model measures nothing
            noise.left_out[engine] = f"{type(exc).__name__}: {str(exc)[:120]}"
            continue
        noise.engines.append(engine)
        for name in names:
            distance = np.abs(np.asarray(outputs[name], np.float64) - truth[name])
            finite = distance[np.isfinite(distance)]
            if finite.size:
                noise.floors[name] = max(noise.floors[name], float(finite.max()))
    return noise


# ---------------------------------------------------------------- a runner case's input sets

#: floors already measured in this process, by the content of the model and its input sets: a
#: case's targets, the blame stage's second opinion and repeated checks of one model share one
_MEASURED: "OrderedDict[str, tuple[list[str], list[NoiseFloor]]]" = OrderedDict()
_MEASURED_SIZE = 32


def _content_key(model_bytes: bytes, input_names, input_sets) -> str:
    digest = hashlib.blake2b(model_bytes, digest_size=16)
    digest.update(repr(list(input_names)).encode())
    for inputs in input_sets:
        for array in inputs:
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def measured_noise_floors(model_bytes: bytes, input_names: list[str], input_sets) -> tuple[list[str], list[NoiseFloor]]:
    """(the model's output names, the noise floor of each input set): measured once per model
    and input sets in a process. Raises what the float64 reference raises on a model it cannot run."""
    key = _content_key(model_bytes, input_names, input_sets)
    if key in _MEASURED:
        _MEASURED.move_to_end(key)
        return _MEASURED[key]
    model = onnx.load_from_string(model_bytes)
    declared = {o.name: np.dtype(onnx.helper.tensor_dtype_to_np_dtype(o.type.tensor_type.elem_type))
                for o in model.graph.output if o.type.HasField("tensor_type")}
    measured = []
    for inputs in input_sets:
        feeds = dict(zip(input_names, inputs))
        measured.append(measure_noise_floor(model, feeds, float64_truth(model, feeds), declared))
    _MEASURED[key] = ([o.name for o in model.graph.output], measured)
    while len(_MEASURED) > _MEASURED_SIZE:
        _MEASURED.popitem(last=False)
    return _MEASURED[key]


def input_set_floors(model_bytes: bytes, input_names: list[str], input_sets) -> list[list[float | None]]:
    """Per input set, per output of the model (in the graph's order): its float32 noise floor;
    None for an output that is not float32, or where no float32 engine could run the model."""
    names, measured = measured_noise_floors(model_bytes, input_names, input_sets)
    return [[noise.floors.get(name) if noise.engines else None for name in names] for noise in measured]


# ---------------------------------------------------------------- every value, for localisation

def _reference_float32_values(model, feeds) -> dict:
    return ReferenceExecutor(model, "float32").run_all(feeds)


def _onnxruntime_unoptimized_values(model, feeds) -> dict:
    exposed, _ = expose_intermediates(model)
    target = get_target("onnxruntime-basic")
    return dict(zip([o.name for o in exposed.graph.output], target.run(target.prepare(exposed), dict(feeds))))


# the same engines, reporting every intermediate value; name -> (installed, run)
FLOAT32_VALUE_ENGINES: dict[str, tuple[Callable[[], bool], Callable]] = {
    "reference float32": (lambda: True, _reference_float32_values),
    "onnxruntime-basic": (FLOAT32_ENGINES["onnxruntime-basic"][0], _onnxruntime_unoptimized_values),
}
#: the target names whose own arithmetic each engine is: a target is never its own yardstick
ENGINE_TARGETS = {"reference float32": "reference", "onnxruntime-basic": "onnxruntime-basic"}


def value_floors(model, feeds, truth: dict[str, np.ndarray], target: str) -> NoiseFloor:
    """The noise floor of every float32 value of the model (intermediates included) against
    ``truth`` (the float64 reference's values, unrounded), measured by the engines other than
    ``target``: localisation compares each intermediate of a target with the truth."""
    names = [name for name, value in truth.items() if isinstance(value, np.ndarray) and value.dtype.kind == "f"]
    noise = NoiseFloor()              # a value gets a floor once an engine computed it in float32
    for engine, (installed, run) in FLOAT32_VALUE_ENGINES.items():
        if ENGINE_TARGETS[engine] == target or not installed():
            noise.left_out[engine] = "it is the target" if ENGINE_TARGETS[engine] == target else "not installed"
            continue
        try:
            values = run(model, feeds)
        except Exception as exc:
            noise.left_out[engine] = f"{type(exc).__name__}: {str(exc)[:120]}"
            continue
        noise.engines.append(engine)
        for name in names:
            value = values.get(name)
            if isinstance(value, np.ndarray) and value.shape == truth[name].shape and value.dtype == np.float32:
                distance = np.abs(value.astype(np.float64) - truth[name])
                finite = distance[np.isfinite(distance)]
                noise.floors[name] = max(noise.floors.get(name, 0.0), float(finite.max()) if finite.size else 0.0)
    return noise


def floor_yardstick(model, feeds, target: str, tolerance_of: Callable[[float], Tolerance]
                    ) -> tuple[Callable, dict[str, Tolerance]]:
    """What localisation holds ``target``'s intermediates to on a model judged by its noise
    floor: the float64 reference's values (the truth, rounded to the model's types) as the oracle
    of ``first_divergent_node``, and each float32 value's tolerance, ``tolerance_of(its floor)``,
    the floor measured by engines other than the target (the reference under test is never its
    own yardstick). Values without a floor (other dtypes) keep their dtype's default."""
    truth = float64_values(model, feeds, rounded=False)
    floors = value_floors(model, feeds, truth, target)
    return ((lambda m, given: rounded_to_model_types(m, truth)),
            {name: tolerance_of(floor) for name, floor in floors.floors.items()})
