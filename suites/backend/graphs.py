"""Attribute values built per data set: tensors of the data set's dtype and corner values
(Constant, ConstantOfShape), subgraphs (If, Loop, Scan, SequenceMap) and small encoded images
(ImageDecoder). Each is a callable ``(dtype, fill) -> value``; ``fill(shape)`` draws the data
set's corner values (see ``datasets._attr``)."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .schema import tensor_type


def tensor_of(shape):
    """A tensor attribute holding the data set's values (``Constant.value``)."""
    return lambda dtype, fill: numpy_helper.from_array(np.asarray(fill(shape)).astype(dtype), "value")


def scalar_tensor_of():
    """A one-element tensor attribute of the data set's values (``ConstantOfShape.value``)."""
    return lambda dtype, fill: numpy_helper.from_array(np.asarray(fill((1,))).astype(dtype)[:1], "value")


def type_of():
    """The TensorProto type of the data set's dtype (Cast's ``to`` in CastLike-like forms)."""
    return lambda dtype, fill: tensor_type(dtype)


def same_width_type():
    """BitCast's ``to``: another type of the same width (float32 -> int32, uint8 -> int8...)."""
    partners = {"float32": "int32", "int32": "float32", "uint32": "int32", "float64": "int64", "int64": "float64",
                "uint64": "int64", "float16": "int16", "int16": "float16", "uint16": "int16", "int8": "uint8",
                "uint8": "int8", "bool": "uint8"}
    return lambda dtype, fill: tensor_type(partners[dtype])


def branch(shape, name: str):
    """An If branch: a Constant of the data set's values."""
    def make(dtype, fill):
        value = numpy_helper.from_array(np.asarray(fill(shape)).astype(dtype), "v")
        node = helper.make_node("Constant", [], [f"{name}_out"], value=value)
        return helper.make_graph([node], name, [], [helper.make_tensor_value_info(f"{name}_out", tensor_type(dtype), None)])
    return make


def _info(name, dtype, shape=None):
    return helper.make_tensor_value_info(name, tensor_type(dtype), shape)


def loop_body():
    """Loop body: carries v -> v + v and emits v each iteration (cond passed through)."""
    def make(dtype, fill):
        nodes = [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                 helper.make_node("Add", ["v_in", "v_in"], ["v_out"]),
                 helper.make_node("Identity", ["v_in"], ["scan_out"])]
        inputs = [_info("iter", "int64", []), _info("cond_in", "bool", []), _info("v_in", dtype)]
        outputs = [_info("cond_out", "bool", []), _info("v_out", dtype), _info("scan_out", dtype)]
        return helper.make_graph(nodes, "loop_body", inputs, outputs)
    return make


def scan_body():
    """Scan body: a running sum (state + x_t), emitted each step."""
    def make(dtype, fill):
        nodes = [helper.make_node("Add", ["state_in", "x_t"], ["state_out"]),
                 helper.make_node("Identity", ["state_out"], ["y_t"])]
        inputs = [_info("state_in", dtype), _info("x_t", dtype)]
        outputs = [_info("state_out", dtype), _info("y_t", dtype)]
        return helper.make_graph(nodes, "scan_body", inputs, outputs)
    return make


def map_body(op_type: str = "Abs"):
    """SequenceMap body: one op applied to each element."""
    def make(dtype, fill):
        node = helper.make_node(op_type, ["x"], ["y"])
        return helper.make_graph([node], "map_body", [_info("x", dtype)], [_info("y", dtype)])
    return make


#: a one-split tree (x0 <= 0.5 ? leaf 0 : leaf 1) in TreeEnsemble's ml-opset-5 attributes
TREE = {"n_targets": 1, "tree_roots": [0], "nodes_featureids": [0],
        "nodes_splits": numpy_helper.from_array(np.array([0.5], np.float32), "splits"),
        "nodes_modes": numpy_helper.from_array(np.array([0], np.uint8), "modes"),
        "nodes_truenodeids": [0], "nodes_trueleafs": [1], "nodes_falsenodeids": [1], "nodes_falseleafs": [1],
        "leaf_targetids": [0, 0], "leaf_weights": numpy_helper.from_array(np.array([1.0, 2.0], np.float32), "weights")}


# -- tiny encoded images for ImageDecoder ----------------------------------------------------
_PIXELS = (np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 13)


def ppm_bytes() -> tuple[int, ...]:
    header = b"P6\n3 2\n255\n"
    return tuple(header + _PIXELS.tobytes())


def pgm_bytes() -> tuple[int, ...]:
    header = b"P5\n3 2\n255\n"
    return tuple(header + _PIXELS[..., 0].tobytes())


def png_bytes() -> tuple[int, ...]:
    """An 8-bit RGB PNG (filter type 0 on every row, zlib-deflated)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + row.tobytes() for row in _PIXELS)
    ihdr = struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return tuple(data)


__all__ = ["tensor_of", "scalar_tensor_of", "type_of", "same_width_type", "branch", "loop_body", "scan_body",
           "map_body", "TREE", "ppm_bytes", "pgm_bytes", "png_bytes", "onnx"]
