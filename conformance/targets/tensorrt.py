"""NVIDIA TensorRT through its Python API (ONNX parser, builder config, optimization profiles).

On a machine without the ``tensorrt`` module or without a CUDA device this target reports
itself unavailable with the reason, and every case on it is recorded ``unavailable``.
Device buffers come from Polygraphy's CUDA wrapper (polygraphy is installed with paddle2onnx),
so the target needs no framework in the test process.
"""
from __future__ import annotations

import ctypes
import importlib.util

import numpy as np

from . import register_target
from .base import Target, TargetOptions, dist_version, model_bytes


def cuda_device_count() -> tuple[int, str]:
    """Count CUDA devices through the driver API, without importing any framework."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        return 0, "no CUDA driver (libcuda) on this machine"
    if lib.cuInit(0) != 0:
        return 0, "the CUDA driver failed to initialise (cuInit) - no usable GPU"
    count = ctypes.c_int(0)
    if lib.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return 0, "no CUDA device found"
    return count.value, ""


class _Buffers:
    """Device memory and a stream for one inference, through Polygraphy's CUDA wrapper; every
    allocation is freed in ``free()`` (Polygraphy's objects have no finalizer)."""

    def __init__(self):
        from polygraphy import cuda
        self.cuda = cuda
        self.stream = cuda.Stream()
        self.arrays = []

    def upload(self, array: np.ndarray) -> int:
        dev = self.cuda.DeviceArray(shape=array.shape, dtype=array.dtype)
        self.arrays.append(dev)
        dev.copy_from(np.ascontiguousarray(array), stream=self.stream)
        return dev.ptr

    def empty(self, shape, dtype):
        dev = self.cuda.DeviceArray(shape=tuple(shape), dtype=dtype)
        self.arrays.append(dev)
        return dev

    def download(self, dev) -> np.ndarray:
        out = np.empty(dev.shape, dtype=dev.dtype)
        dev.copy_to(out, stream=self.stream)
        self.stream.synchronize()
        return out

    def free(self):
        for dev in self.arrays:
            dev.free()
        self.arrays.clear()
        self.stream.free()


class _Engine:
    """A parsed network; the engine is built on first run for the shapes seen, and rebuilt
    with a wider optimization profile when a larger dynamic shape arrives."""

    def __init__(self, target: "TensorRTTarget", onnx_bytes: bytes, fp16: bool):
        import tensorrt as trt
        self.trt = trt
        self.target = target
        self.fp16 = fp16
        self.logger = trt.Logger(trt.Logger.ERROR)
        self.onnx_bytes = onnx_bytes
        self.engine = None
        self.context = None
        self.max_shapes: dict[str, tuple[int, ...]] = {}
        self.dynamic: set[str] = set()

    def _network(self, builder):
        trt = self.trt
        flags = 0
        if hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH"):   # TensorRT < 10
            flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
        network = builder.create_network(flags)
        parser = trt.OnnxParser(network, self.logger)
        if not parser.parse(self.onnx_bytes):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise RuntimeError(f"TensorRT ONNX parser rejected the model: {errors}")
        return network, parser

    def build(self, feeds: dict[str, np.ndarray]) -> None:
        trt = self.trt
        builder = trt.Builder(self.logger)
        network, _parser = self._network(builder)
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, self.target.workspace_bytes)
        if self.fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        elif hasattr(trt.BuilderFlag, "TF32"):
            # TF32 is on by default for conv/matmul on Ampere and later: an fp32 target must not
            # round its inputs to 10-bit mantissas behind the user's back.
            config.clear_flag(trt.BuilderFlag.TF32)
        profile = None
        for i in range(network.num_inputs):
            tensor = network.get_input(i)
            if any(d < 0 for d in tensor.shape):
                self.dynamic.add(tensor.name)
                seen = tuple(feeds[tensor.name].shape)
                old = self.max_shapes.get(tensor.name, seen)
                high = tuple(max(a, b) for a, b in zip(old, seen))
                self.max_shapes[tensor.name] = high
                low = tuple(1 if d < 0 else d for d in tensor.shape)
                profile = profile or builder.create_optimization_profile()
                profile.set_shape(tensor.name, low, seen, high)
        if profile is not None:
            config.add_optimization_profile(profile)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise RuntimeError("TensorRT failed to build an engine for this model")
        self.output_names = [network.get_output(i).name for i in range(network.num_outputs)]
        self.engine = trt.Runtime(self.logger).deserialize_cuda_engine(serialized)
        self.context = self.engine.create_execution_context()

    def needs_rebuild(self, feeds) -> bool:
        if self.engine is None:
            return True
        return any(any(s > m for s, m in zip(feeds[name].shape, self.max_shapes[name])) for name in self.dynamic)

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        trt = self.trt
        if self.needs_rebuild(feeds):
            self.build(feeds)
        engine, context = self.engine, self.context
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        buffers = _Buffers()
        try:
            for name in names:
                if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                    array = feeds[name].astype(trt.nptype(engine.get_tensor_dtype(name)), copy=False)
                    if not context.set_input_shape(name, array.shape):
                        raise RuntimeError(f"TensorRT rejected shape {array.shape} for input {name!r}")
                    context.set_tensor_address(name, buffers.upload(array))
            outputs = {}
            for name in names:
                if engine.get_tensor_mode(name) == trt.TensorIOMode.OUTPUT:
                    shape = tuple(context.get_tensor_shape(name))
                    if any(d < 0 for d in shape):
                        raise RuntimeError(f"output {name!r} has a data-dependent shape {shape}: not supported "
                                           f"by this target yet (needs an IOutputAllocator)")
                    outputs[name] = buffers.empty(shape, trt.nptype(engine.get_tensor_dtype(name)))
                    context.set_tensor_address(name, outputs[name].ptr)
            if not context.execute_async_v3(buffers.stream.ptr):
                raise RuntimeError("TensorRT execute_async_v3 failed")
            buffers.stream.synchronize()
            return [buffers.download(outputs[name]) for name in self.output_names]
        finally:
            buffers.free()


@register_target("tensorrt")
class TensorRTTarget(Target):
    precision = "fp32"
    fp16 = False
    workspace_bytes = 1 << 30
    description = "NVIDIA TensorRT (ONNX parser, FP32 builder config, optimization profiles for dynamic axes)"

    def available(self):
        if importlib.util.find_spec("tensorrt") is None:
            return False, ("python module 'tensorrt' is not installed (TensorRT needs NVIDIA's wheels and a "
                           "CUDA GPU; the PyPI 'tensorrt' package is a stub that fetches from NVIDIA's index)")
        count, why = cuda_device_count()
        if count == 0:
            return False, f"no CUDA device: {why}"
        if importlib.util.find_spec("polygraphy") is None:
            return False, "python module 'polygraphy' is not installed (device buffers): pip install polygraphy"
        return True, ""

    def version(self):
        return dist_version("tensorrt") or dist_version("tensorrt-cu12")

    def prepare(self, model, options: TargetOptions | None = None):
        # threads and spinning do not apply to a GPU engine; the precision picks the builder flag
        fp16 = self.check_precision(options, {"fp32": False, "fp16": True})
        return _Engine(self, model_bytes(model), self.fp16 if fp16 is None else fp16)

    def applied_options(self, session, options):
        if options.precision is None:
            return super().applied_options(session, options)
        return {"applied": f"TensorRT builder {'FP16' if session.fp16 else 'FP32'} (threads: not applicable)"}

    def run(self, session, feeds):
        return session.run(feeds)


@register_target("tensorrt-fp16")
class TensorRTFp16Target(TensorRTTarget):
    precision = "fp16 (BuilderFlag.FP16: TensorRT may pick fp16 kernels)"
    fp16 = True
    description = "NVIDIA TensorRT with the FP16 builder flag"
