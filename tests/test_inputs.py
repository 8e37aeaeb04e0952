import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conformance.inputs import (InvalidInputs, concrete_shape, input_specs, load_npz, parse_shapes,
                                random_array, random_inputs, save_npz, validate_inputs)


def _model(*inputs):
    values = [helper.make_tensor_value_info(name, dtype, dims) for name, dtype, dims in inputs]
    nodes = [helper.make_node("Identity", [v.name], [v.name + "_out"]) for v in values]
    outputs = [helper.make_tensor_value_info(v.name + "_out", v.type.tensor_type.elem_type, None) for v in values]
    return helper.make_model(helper.make_graph(nodes, "g", values, outputs))


def test_random_inputs_follow_declared_types_and_are_seeded():
    model = _model(("x", TensorProto.FLOAT, [2, 3]), ("i", TensorProto.INT64, [4]), ("b", TensorProto.BOOL, [5]))
    feeds = random_inputs(model, seed=3)
    assert feeds["x"].dtype == np.float32 and feeds["x"].shape == (2, 3)
    assert feeds["i"].dtype == np.int64 and 0 <= feeds["i"].min() and feeds["i"].max() < 10
    assert feeds["b"].dtype == np.bool_
    again = random_inputs(model, seed=3)
    assert all(np.array_equal(feeds[k], again[k]) for k in feeds)
    assert not np.array_equal(feeds["x"], random_inputs(model, seed=4)["x"])
    assert random_inputs(model, seed=3, int_high=2)["i"].max() < 2


def test_dynamic_dims_need_a_shape_or_a_fill():
    model = _model(("x", TensorProto.FLOAT, ["N", 3]))
    with pytest.raises(InvalidInputs, match="dynamic dimensions .*--shape x=1x3"):
        random_inputs(model)
    assert random_inputs(model, {"x": (4, 3)})["x"].shape == (4, 3)
    assert random_inputs(model, fill=2)["x"].shape == (2, 3)
    spec = input_specs(model)[0]
    assert spec.dynamic_batch and concrete_shape(spec, {}, fill=[5, 1]) == (5, 3)
    with pytest.raises(InvalidInputs, match="declares \\[\\?x3\\]"):
        random_inputs(model, {"x": (4, 4)})
    with pytest.raises(InvalidInputs, match="not inputs of the model"):
        random_inputs(model, {"y": (1,)})


def test_undrawable_dtype_and_bad_shape_text_are_one_line_errors():
    model = _model(("s", TensorProto.STRING, [2]))
    with pytest.raises(InvalidInputs, match="cannot be drawn at random"):
        random_inputs(model)
    with pytest.raises(InvalidInputs, match="NAME=DxDxD"):
        parse_shapes(["x=1xa"])
    assert parse_shapes(["x=1x3", "y="]) == {"x": (1, 3), "y": ()}
    with pytest.raises(InvalidInputs):
        random_array(np.random.default_rng(0), np.dtype("U3"), (1,))


def test_npz_round_trip_and_validation(tmp_path):
    model = _model(("x", TensorProto.FLOAT, [2]))
    path = save_npz(tmp_path / "in.npz", {"x": np.ones(2, np.float32)})
    assert validate_inputs(model, load_npz(path, "inputs"))["x"].tolist() == [1.0, 1.0]
    with pytest.raises(InvalidInputs, match="expects float32"):
        validate_inputs(model, {"x": np.ones(2, np.float64)})
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidInputs, match="not a readable .npz"):
        load_npz(tmp_path / "bad.npz", "inputs")
