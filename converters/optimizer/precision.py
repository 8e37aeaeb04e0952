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

from conformance.inputs import random_inputs
from conformance.tolerance import FP16_TOLERANCE, INT8_TOLERANCE  # noqa: F401 (re-exported)

from .graph import DEFAULT_DOMAINS, Graph, constant_node_value, get_attr, set_attr, subgraph_attrs

#: FP16_TOLERANCE / INT8_TOLERANCE: metric-level acceptance for reduced precision (classifier
#: outputs over seeded inputs), the tolerance policy's, which judges quantizing converters by
#: the same numbers

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
#: the part of FP32_OPS kept for precision, not validity: ``debug precision`` lets these run in
#: float16 unless its search finds they must not (the rest has no float16 form or reads float32)
PRECISION_SENSITIVE_OPS = frozenset({
    "Softmax", "LogSoftmax", "LayerNormalization", "InstanceNormalization", "GroupNormalization",
    "ReduceSum", "ReduceMean", "ReduceProd", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ReduceL1",
    "ReduceL2", "Exp", "Log", "Pow", "Erf", "CumSum", "Einsum", "Det", "TopK", "LSTM", "GRU", "RNN",
})
STRUCTURAL_FP32_OPS = FP32_OPS - PRECISION_SENSITIVE_OPS
FP16_MAX = 65504.0
F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16


def _to_fp16(a: np.ndarray) -> np.ndarray:
    return np.clip(a, -FP16_MAX, FP16_MAX).astype(np.float16)


def _constants_to_initializers(g: Graph) -> None:
    """Constant nodes become initializers, so that they convert like any weight."""
    constants = []
    for node in list(g.nodes):
        if node.op_type == "Constant" and node.domain in DEFAULT_DOMAINS and node.output[0] not in g.protected:
            v = constant_node_value(node)
            if v is not None:
                g.set_init(node.output[0], v)
                constants.append(node)
    g.remove_nodes(constants)


def _is_f32(g: Graph, name: str) -> bool:
    return bool(name) and g.types.get(name) == F32


def _convertible(g: Graph, node: onnx.NodeProto, fp32_ops, keep_nodes=frozenset()) -> bool:
    if node.domain not in DEFAULT_DOMAINS or node.op_type in fp32_ops or subgraph_attrs(node):
        return False
    if node.name and node.name in keep_nodes:
        return False
    names = [n for n in list(node.input) + list(node.output) if n]
    if any(n not in g.types for n in names):
        return False        # unknown types: leave it in float32
    if any(g.types[n] in (TensorProto.DOUBLE, TensorProto.BFLOAT16, F16) for n in names):
        return False
    if node.op_type == "Cast":
        return True
    return any(_is_f32(g, n) for n in names)


def _half_nodes(g: Graph, fp32_ops, keep_nodes=frozenset()) -> set[int]:
    """ids of the nodes that run in float16."""
    half = {id(n) for n in g.nodes if _convertible(g, n, fp32_ops, keep_nodes)}
    # a tensor read by a subgraph keeps its type: its producer stays float32
    for name in g.protected - set(g.output_names):
        prod = g.producer.get(name)
        if prod:
            half.discard(id(prod[0]))
    return half


class _Float16Rewrite:
    """One float32 -> float16 rewrite of a graph: which nodes run in float16, the Casts to insert
    at the boundaries (placed by ``ordered_nodes``) and the float16 copies of initializers."""

    def __init__(self, g: Graph, fp32_ops, keep_nodes=frozenset()):
        self.g = g
        self.half = _half_nodes(g, fp32_ops, keep_nodes)
        self.casts: list[tuple[str, onnx.NodeProto]] = []      # (name the Cast reads, Cast)
        self._cast_cache: dict[tuple[str, int], str] = {}
        self._init_f16: dict[str, str] = {}
        self._inits_read_by_f32 = {i for n in g.nodes if id(n) not in self.half for i in n.input if g.is_init(i)}
        self._inits_read_by_f32 |= {n for n in g.protected if g.is_init(n)}
        self.produced_half = {o for n in g.nodes if id(n) in self.half for o in n.output if _is_f32(g, o)}

    def cast(self, name: str, to: int) -> str:
        key = (name, to)
        if key not in self._cast_cache:
            out = self.g.fresh(f"{name}_{'fp16' if to == F16 else 'fp32'}")
            self.casts.append((name, helper.make_node("Cast", [name], [out], to=to, name=out)))
            self._cast_cache[key] = out
        return self._cast_cache[key]

    def half_init(self, name: str) -> str:
        if name not in self._init_f16:
            a = self.g.array(name)
            if name in self._inits_read_by_f32:
                self._init_f16[name] = self.g.add_init(_to_fp16(a), name + "_fp16")
            else:
                self.g.set_init(name, _to_fp16(a))
                self._init_f16[name] = name
        return self._init_f16[name]

    def rewrite_nodes(self) -> None:
        """float16 nodes read float16 (Casts or converted initializers), float32 nodes float32."""
        g = self.g
        for node in g.nodes:
            if id(node) in self.half:
                self._to_half(node)
                continue
            for k, i in enumerate(node.input):
                if i in self.produced_half:
                    g.set_input(node, k, self.cast(i, F32))

    def _to_half(self, node: onnx.NodeProto) -> None:
        g = self.g
        for k, i in enumerate(node.input):
            if not _is_f32(g, i) or i in self.produced_half:
                continue
            if g.is_init(i):
                g.set_input(node, k, self.half_init(i))
            else:                                   # graph input or float32 node's output
                g.set_input(node, k, self.cast(i, F16))
        if node.op_type == "Cast" and get_attr(node, "to") == F32:
            set_attr(node, "to", F16)
        if node.op_type == "ConstantOfShape" and _is_f32(g, node.output[0]):
            value = get_attr(node, "value")
            arr = onnx.numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
            set_attr(node, "value", onnx.numpy_helper.from_array(_to_fp16(arr)))

    def keep_float32_outputs(self) -> None:
        """Graph outputs produced in float16 are renamed, and a Cast to float32 writes the name."""
        g = self.g
        out_renames = {}
        for name in g.output_names:
            if name in self.produced_half:
                out_renames[name] = g.fresh(name + "_fp16")
        for node in g.nodes:
            for k, o in enumerate(node.output):
                if o in out_renames:
                    g.set_output(node, k, out_renames[o])
            for k, i in enumerate(node.input):
                if i in out_renames:
                    g.set_input(node, k, out_renames[i])
        # the casts that read a renamed output must follow the rename
        self.casts = [(out_renames.get(src, src), n) for src, n in self.casts]
        for _, n in self.casts:
            n.input[0] = out_renames.get(n.input[0], n.input[0])
        for name, inner in out_renames.items():
            self.casts.append((inner, helper.make_node("Cast", [inner], [name], to=F32, name=name + "_to_fp32")))

    def ordered_nodes(self) -> list[onnx.NodeProto]:
        """The graph's nodes with each Cast right after the producer of what it reads
        (inputs/initializers: at the top)."""
        nodes = self.g.nodes
        position = {}
        for k, node in enumerate(nodes):
            for o in node.output:
                position[o] = k
        ordered = [(-1, k, n) for k, (src, n) in enumerate(self.casts) if src not in position]
        ordered += [(position[src], k, n) for k, (src, n) in enumerate(self.casts) if src in position]
        ordered.sort(key=lambda t: (t[0], t[1]))
        result, j = [], 0
        for idx in range(-1, len(nodes)):
            if idx >= 0:
                result.append(nodes[idx])
            while j < len(ordered) and ordered[j][0] == idx:
                result.append(ordered[j][2])
                j += 1
        return result


def convert_float16(model: onnx.ModelProto, keep_io_types: bool = True,
                    fp32_ops=FP32_OPS, keep_nodes=()) -> onnx.ModelProto:
    """float32 tensors become float16 except around ``fp32_ops`` and the nodes named in
    ``keep_nodes`` (and other domains, subgraphs); Casts are inserted at every boundary. With
    ``keep_io_types`` the graph's inputs and outputs stay float32 and keep their names."""
    g = Graph(model)
    _constants_to_initializers(g)
    g.infer()
    rewrite = _Float16Rewrite(g, fp32_ops, frozenset(keep_nodes))
    with g.batch():
        rewrite.rewrite_nodes()
        if keep_io_types:
            rewrite.keep_float32_outputs()
        g.set_nodes(rewrite.ordered_nodes())
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
                continue
            if up is None:
                up = g.fresh(name + "_fp32")
                g.insert_after(None, [helper.make_node("Cast", [name], [up], to=F32, name=up)])
            for k, i in enumerate(node.input):
                if i == name:
                    g.set_input(node, k, up)
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
            with g.batch():
                g.set_output(node, prod[1], inner)
                g.insert_after(node, [helper.make_node("Cast", [inner], [name], to=F16, name=name + "_to_fp16")])
    return g.to_model(keep_value_info=False)


# ----------------------------------------------------------------------------- INT8

#: left in float: onnxruntime gives Softmax a fixed [0, 1] output range, which zeroes the small
#: probabilities of a 1000-class head; normalisations and recurrences lose too much
INT8_KEEP_FLOAT = frozenset({"Softmax", "LogSoftmax", "LayerNormalization", "InstanceNormalization",
                             "GroupNormalization", "LSTM", "GRU", "RNN", "Exp", "Log", "Pow", "Erf"})


def seeded_feeds(model: onnx.ModelProto, count: int, seed: int, batch: int = 1) -> list[dict]:
    """``count`` input dicts drawn from N(0, 1) (float) or 0/1 (integers, bools) from one seeded
    stream; a dynamic first dim is ``batch``, any other dynamic dim 1."""
    rng = np.random.default_rng(seed)
    fill = (batch,) + (1,) * 63
    return [random_inputs(model, seed=rng, fill=fill, int_high=2) for _ in range(count)]


def quantize_int8(model: onnx.ModelProto, calibration: list[dict] | None = None, seed: int = 1234,
                  samples: int = 8, per_channel: bool = True, exclude_nodes=()) -> onnx.ModelProto:
    """Static post-training quantization in QDQ form (QuantizeLinear/DequantizeLinear, default
    domain), calibrated (MinMax) on ``calibration`` or on ``samples`` seeded inputs; the nodes
    named in ``exclude_nodes`` stay in float."""
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
                        op_types_to_quantize=op_types, nodes_to_exclude=sorted(exclude_nodes),
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
        return onnx.load(dst)
