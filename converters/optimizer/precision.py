"""Reduced-precision conversions: float32 -> float16, and static INT8 quantization (QDQ).

Both are judged by metrics, not elementwise tolerances (``compare.py --precision``):
``FP16_TOLERANCE`` and ``INT8_TOLERANCE`` are the numbers a converted classifier must reach.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from .graph import DEFAULT_DOMAINS, Graph, constant_node_value, get_attr, set_attr, subgraph_attrs

#: metric-level acceptance for reduced precision (classifier outputs over seeded inputs)
FP16_TOLERANCE = {"cosine_min": 0.999, "top1_agreement_min": 0.95}
INT8_TOLERANCE = {"cosine_min": 0.97, "top1_agreement_min": 0.80}

#: ops kept in float32 by default: reductions and normalisations that accumulate, exponentials,
#: recurrences, and ops whose float inputs must stay float32 (Resize scales)
FP32_OPS = frozenset({
    "Softmax", "LogSoftmax", "LayerNormalization", "InstanceNormalization", "GroupNormalization",
    "ReduceSum", "ReduceMean", "ReduceProd", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ReduceL1",
    "ReduceL2", "Exp", "Log", "Pow", "Erf", "CumSum", "Range", "Resize", "Upsample", "TopK", "NonMaxSuppression",
    "RoiAlign", "LSTM", "GRU", "RNN", "Einsum", "Det", "RandomNormal", "RandomUniform", "RandomNormalLike",
    "RandomUniformLike", "Multinomial", "Bernoulli", "EyeLike", "SequenceConstruct", "SequenceAt",
    "SplitToSequence", "ConcatFromSequence", "Optional", "OptionalGetElement", "STFT", "DFT",
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
})
FP16_MAX = 65504.0
F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16


def _to_fp16(a: np.ndarray) -> np.ndarray:
    return np.clip(a, -FP16_MAX, FP16_MAX).astype(np.float16)


def convert_float16(model: onnx.ModelProto, keep_io_types: bool = True,
                    fp32_ops=FP32_OPS) -> onnx.ModelProto:
    """float32 tensors become float16 except around ``fp32_ops`` (and other domains, subgraphs);
    Casts are inserted at every boundary. With ``keep_io_types`` the graph's inputs and outputs
    stay float32 and keep their names."""
    g = Graph(model)
    # Constant nodes become initializers so that they convert like any weight
    for node in list(g.nodes):
        if node.op_type == "Constant" and node.domain in DEFAULT_DOMAINS and node.output[0] not in g.protected:
            v = constant_node_value(node)
            if v is not None:
                g.set_init(node.output[0], v)
                g.nodes.remove(node)
    g.refresh()
    g.infer()

    def is_f32(name: str) -> bool:
        return bool(name) and g.types.get(name) == F32

    def convertible(node) -> bool:
        if node.domain not in DEFAULT_DOMAINS or node.op_type in fp32_ops or subgraph_attrs(node):
            return False
        names = [n for n in list(node.input) + list(node.output) if n]
        if any(n not in g.types for n in names):
            return False        # unknown types: leave it in float32
        if any(g.types[n] in (TensorProto.DOUBLE, TensorProto.BFLOAT16, F16) for n in names):
            return False
        if node.op_type == "Cast":
            return True
        return any(is_f32(n) for n in names)

    half = {id(n) for n in g.nodes if convertible(n)}
    # a tensor read by a subgraph keeps its type: its producer stays float32
    for name in g.protected - set(g.output_names):
        prod = g.producer.get(name)
        if prod:
            half.discard(id(prod[0]))

    new_nodes = []
    cast_cache: dict[tuple[str, int], str] = {}

    def cast(name: str, to: int) -> str:
        key = (name, to)
        if key not in cast_cache:
            out = g.fresh(f"{name}_{'fp16' if to == F16 else 'fp32'}")
            new_nodes.append((name, helper.make_node("Cast", [name], [out], to=to, name=out)))
            cast_cache[key] = out
        return cast_cache[key]

    init_f16: dict[str, str] = {}
    inits_read_by_f32 = {i for n in g.nodes if id(n) not in half for i in n.input if g.is_init(i)}
    inits_read_by_f32 |= {n for n in g.protected if g.is_init(n)}

    def half_init(name: str) -> str:
        if name not in init_f16:
            a = g.array(name)
            if name in inits_read_by_f32:
                init_f16[name] = g.add_init(_to_fp16(a), name + "_fp16")
            else:
                g.set_init(name, _to_fp16(a))
                init_f16[name] = name
        return init_f16[name]

    produced_half = {o for n in g.nodes if id(n) in half for o in n.output if is_f32(o)}
    for node in g.nodes:
        if id(node) in half:
            for k, i in enumerate(node.input):
                if not is_f32(i) or i in produced_half:
                    continue
                if g.is_init(i):
                    node.input[k] = half_init(i)
                else:                                   # graph input or float32 node's output
                    node.input[k] = cast(i, F16)
            if node.op_type == "Cast" and get_attr(node, "to") == F32:
                set_attr(node, "to", F16)
            if node.op_type == "ConstantOfShape" and is_f32(node.output[0]):
                value = get_attr(node, "value")
                arr = onnx.numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
                set_attr(node, "value", onnx.numpy_helper.from_array(_to_fp16(arr)))
        else:
            for k, i in enumerate(node.input):
                if i in produced_half:
                    node.input[k] = cast(i, F32)
    # graph outputs produced in float16
    out_renames = {}
    for name in g.output_names:
        if name in produced_half:
            if keep_io_types:
                inner = g.fresh(name + "_fp16")
                out_renames[name] = inner
    for node in g.nodes:
        for k, o in enumerate(node.output):
            if o in out_renames:
                node.output[k] = out_renames[o]
        for k, i in enumerate(node.input):
            if i in out_renames:
                node.input[k] = out_renames[i]
    # the casts that read a renamed output must follow the rename
    new_nodes = [(out_renames.get(src, src), n) for src, n in new_nodes]
    for _, n in new_nodes:
        n.input[0] = out_renames.get(n.input[0], n.input[0])
    for name, inner in out_renames.items():
        new_nodes.append((inner, helper.make_node("Cast", [inner], [name], to=F32, name=name + "_to_fp32")))
    # place each Cast right after the producer of what it reads (inputs/initializers: at the top)
    position = {}
    for k, node in enumerate(g.nodes):
        for o in node.output:
            position[o] = k
    ordered = [(-1, k, n) for k, (src, n) in enumerate(new_nodes) if src not in position]
    ordered += [(position[src], k, n) for k, (src, n) in enumerate(new_nodes) if src in position]
    ordered.sort(key=lambda t: (t[0], t[1]))
    result, j = [], 0
    for idx in range(-1, len(g.nodes)):
        if idx >= 0:
            result.append(g.nodes[idx])
        while j < len(ordered) and ordered[j][0] == idx:
            result.append(ordered[j][2])
            j += 1
    g.nodes = result
    g.refresh()
    out = g.to_model(keep_value_info=False)
    return out if keep_io_types else _half_io(out)


def _half_io(model: onnx.ModelProto) -> onnx.ModelProto:
    """float32 graph inputs and outputs become float16 (names kept), Casts adjusted at the edges."""
    g = Graph(model)
    for vi in list(model.graph.input) + list(model.graph.output):
        if vi.type.tensor_type.elem_type == F32 and not g.is_init(vi.name):
            vi.type.tensor_type.elem_type = F16
    for name in g.input_names:
        if g.is_init(name) or name not in {i.name for i in model.graph.input if i.type.tensor_type.elem_type == F16}:
            continue
        up = None
        for node in list(g.consumers.get(name, [])):
            if node.op_type == "Cast" and get_attr(node, "to") == F16 and node.output[0] not in g.protected:
                g.replace_output(node.output[0], name)
                g.remove_nodes([node])
            else:
                if up is None:
                    up = g.fresh(name + "_fp32")
                    g.nodes.insert(0, helper.make_node("Cast", [name], [up], to=F32, name=up))
                for k, i in enumerate(node.input):
                    if i == name:
                        node.input[k] = up
        g.refresh()
    for name in g.output_names:
        prod = g.producer.get(name)
        if prod is None:
            continue
        node = prod[0]
        if node.op_type == "Cast" and get_attr(node, "to") == F32 and node.name == name + "_to_fp32":
            inner = node.input[0]
            g.remove_nodes([node])
            g.rename_everywhere(inner, name)
        else:
            inner = g.fresh(name + "_fp32")
            node.output[prod[1]] = inner
            g.nodes.insert(g.nodes.index(node) + 1, helper.make_node("Cast", [inner], [name], to=F16, name=name + "_to_fp16"))
            g.refresh()
    return g.to_model(keep_value_info=False)


# ----------------------------------------------------------------------------- INT8

#: left in float: onnxruntime gives Softmax a fixed [0, 1] output range, which zeroes the small
#: probabilities of a 1000-class head; normalisations and recurrences lose too much
INT8_KEEP_FLOAT = frozenset({"Softmax", "LogSoftmax", "LayerNormalization", "InstanceNormalization",
                             "GroupNormalization", "LSTM", "GRU", "RNN", "Exp", "Log", "Pow", "Erf"})


def seeded_feeds(model: onnx.ModelProto, count: int, seed: int, batch: int = 1) -> list[dict]:
    """``count`` input dicts drawn from N(0, 1) (float) or small ints, dynamic dims set to ``batch``/1."""
    rng = np.random.default_rng(seed)
    inits = {t.name for t in model.graph.initializer}
    feeds = []
    for _ in range(count):
        f = {}
        for i in model.graph.input:
            if i.name in inits:
                continue
            t = i.type.tensor_type
            shape = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (batch if k == 0 else 1)
                     for k, d in enumerate(t.shape.dim)]
            dtype = helper.tensor_dtype_to_np_dtype(t.elem_type)
            if np.issubdtype(dtype, np.floating):
                f[i.name] = rng.standard_normal(shape).astype(dtype)
            else:
                f[i.name] = rng.integers(0, 2, shape).astype(dtype)
        feeds.append(f)
    return feeds


def quantize_int8(model: onnx.ModelProto, calibration: list[dict] | None = None, seed: int = 1234,
                  samples: int = 8, per_channel: bool = True) -> onnx.ModelProto:
    """Static post-training quantization in QDQ form (QuantizeLinear/DequantizeLinear, default
    domain), calibrated (MinMax) on ``calibration`` or on ``samples`` seeded inputs."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    op_types = sorted({n.op_type for n in model.graph.node if n.domain in DEFAULT_DOMAINS} - INT8_KEEP_FLOAT)
    data = list(calibration) if calibration is not None else seeded_feeds(model, samples, seed)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(data)

        def get_next(self):
            return next(self._it, None)

        def rewind(self):
            self._it = iter(data)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        inferred = onnx.shape_inference.infer_shapes(model)
        onnx.save(inferred, src)
        quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=per_channel, calibrate_method=CalibrationMethod.MinMax,
                        op_types_to_quantize=op_types,
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
        return onnx.load(dst)
