"""Pruning passes: structured L1 channel pruning really shrinks the model and computes exactly
what the original computes with the pruned channels zeroed; magnitude pruning zeroes the
smallest weights; ``+prune:R`` / ``+sparsify:S`` parse their ratio and stamp the model."""
import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from conformance.accuracy import LOSSY_METADATA_KEY, lossy_reason
from conformance.errors import UnknownConverter
from converters import get_chain_steps, get_converter
from converters.optimizer.graph import Graph
from converters.optimizer.passes.prune import prune_channels, sparsify

from .helpers import make_model, run_ort

rng = np.random.default_rng(5)


def _cnn():
    """conv1 (8 ch) -> Relu -> conv2 (6 ch) -> Relu -> MaxPool -> Flatten -> Gemm (transB) -> logits."""
    inits = {"w1": rng.standard_normal((8, 1, 3, 3)).astype(np.float32), "b1": rng.standard_normal(8).astype(np.float32),
             "w2": rng.standard_normal((6, 8, 3, 3)).astype(np.float32), "b2": rng.standard_normal(6).astype(np.float32),
             "fw": rng.standard_normal((10, 6 * 4 * 4)).astype(np.float32), "fb": rng.standard_normal(10).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("MaxPool", ["r2"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)]
    return make_model(nodes, [("x", [3, 1, 8, 8])], [("y", [3, 10])], inits)


def _mlp_matmul_add():
    """tf2onnx's dense layers: MatMul (in, out) + Add bias -> Relu -> MatMul + Add."""
    inits = {"w1": rng.standard_normal((16, 12)).astype(np.float32), "b1": rng.standard_normal(12).astype(np.float32),
             "w2": rng.standard_normal((12, 4)).astype(np.float32), "b2": rng.standard_normal(4).astype(np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["m1"]), helper.make_node("Add", ["m1", "b1"], ["a1"]),
             helper.make_node("Relu", ["a1"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["m2"]),
             helper.make_node("Add", ["m2", "b2"], ["y"])]
    return make_model(nodes, [("x", [5, 16])], [("y", [5, 4])], inits)


def _zeroed(model, dropped: dict[str, tuple[np.ndarray, int, str | None]]):
    """The original with the dropped output channels' weights (and biases) set to zero."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for t in out.graph.initializer:
        for weight, (idx, axis, bias) in dropped.items():
            if t.name in (weight, bias):
                a = numpy_helper.to_array(t).copy()
                if t.name == weight:
                    np.moveaxis(a, axis, 0)[idx] = 0
                else:
                    a[idx] = 0
                t.CopyFrom(numpy_helper.from_array(a, t.name))
    return out


def _pruned(model, ratio):
    g = Graph(model)
    layers = prune_channels(g, ratio)
    return g.to_model(keep_value_info=False), layers


def _dropped(before, after, bias: str) -> np.ndarray:
    """Which output channels the pruning removed, read off the layer's bias (distinct random values)."""
    b = numpy_helper.to_array(next(t for t in before.graph.initializer if t.name == bias))
    a = numpy_helper.to_array(next(t for t in after.graph.initializer if t.name == bias))
    return np.flatnonzero(~np.isin(b, a))


def test_channel_pruning_shrinks_and_equals_the_zeroed_original():
    model = _cnn()
    pruned, layers = _pruned(model, 0.5)
    onnx.checker.check_model(pruned)
    shapes = {t.name: tuple(t.dims) for t in pruned.graph.initializer}
    assert layers == 2
    assert shapes["w1"] == (4, 1, 3, 3) and shapes["w2"] == (3, 4, 3, 3) and shapes["fw"] == (10, 3 * 16)
    # the dropped filters are those with the smallest L1 norms
    w1 = numpy_helper.to_array(model.graph.initializer[0])
    dropped1 = _dropped(model, pruned, "b1")
    assert set(dropped1) == set(np.argsort(np.abs(w1).sum(axis=(1, 2, 3)))[:4])
    dropped2 = _dropped(model, pruned, "b2")
    reference = _zeroed(model, {"w1": (dropped1, 0, "b1"), "w2": (dropped2, 0, "b2")})
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(run_ort(pruned, {"x": x})[0], run_ort(reference, {"x": x})[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(run_ort(pruned, {"x": x})[0], run_ort(model, {"x": x})[0], atol=1e-3)


def test_matmul_add_layers_are_pruned_with_their_bias():
    model = _mlp_matmul_add()
    pruned, layers = _pruned(model, 0.25)
    shapes = {t.name: tuple(t.dims) for t in pruned.graph.initializer}
    assert layers == 1 and shapes["w1"] == (16, 9) and shapes["b1"] == (9,) and shapes["w2"] == (9, 4)
    assert shapes["b2"] == (4,)                          # the last layer writes the graph output: untouched
    dropped = _dropped(model, pruned, "b1")
    x = rng.standard_normal((5, 16)).astype(np.float32)
    reference = _zeroed(model, {"w1": (dropped, 1, "b1")})
    np.testing.assert_allclose(run_ort(pruned, {"x": x})[0], run_ort(reference, {"x": x})[0], rtol=1e-5, atol=1e-5)


def test_ratio_zero_changes_nothing_and_bad_ratio_is_refused():
    model = _cnn()
    pruned, layers = _pruned(model, 0.0)
    assert layers == 0
    with pytest.raises(ValueError):
        prune_channels(Graph(model), 1.0)


def test_sparsify_zeroes_the_smallest_weights():
    model = _cnn()
    g = Graph(model)
    assert sparsify(g, 0.5) == 3
    out = g.to_model(keep_value_info=False)
    arrays = {t.name: numpy_helper.to_array(t) for t in out.graph.initializer}
    original = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for name in ("w1", "w2", "fw"):
        w, o = arrays[name], original[name]
        assert w.shape == o.shape and np.mean(w == 0) >= 0.5
        assert np.abs(o[w == 0]).max() <= np.abs(o[w != 0]).min()     # the zeroed are the smallest
    assert np.array_equal(arrays["b1"], original["b1"])


def test_prune_chain_step_takes_its_ratio_and_stamps_the_model():
    step, = get_chain_steps("torch-script+prune:0.25")
    assert step.ratio == 0.25 and get_chain_steps("torch-script+prune")[0].ratio == 0.5
    out = step.apply(_cnn())
    assert lossy_reason(out.SerializeToString()).startswith("prune:0.25")
    assert {p.key for p in out.metadata_props} == {LOSSY_METADATA_KEY}
    assert step.last_report["parameters"][1] < step.last_report["parameters"][0]
    for bad in ("torch-script+prune:1.5", "torch-script+prune:x", "torch-script+fp16:0.5"):
        with pytest.raises(UnknownConverter):
            get_converter(bad)


@pytest.mark.parametrize("channels_last", [False, True], ids=["reshape", "transpose-nhwc-reshape"])
def test_reshape_flatten_maps_each_channels_features(channels_last):
    """conv (8 ch) -> Relu [-> Transpose to NHWC, as tf2onnx writes it] -> Reshape (N, 8*4*4) -> MatMul:
    the features a pruned channel becomes are interleaved after the transpose, blocked without."""
    inits = {"w": rng.standard_normal((8, 2, 3, 3)).astype(np.float32), "b": rng.standard_normal(8).astype(np.float32),
             "shape": np.array([-1, 8 * 4 * 4], np.int64), "fw": rng.standard_normal((128, 5)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"])]
    if channels_last:
        nodes.append(helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 3, 1]))
    nodes += [helper.make_node("Reshape", ["t" if channels_last else "r", "shape"], ["f"]),
              helper.make_node("MatMul", ["f", "fw"], ["y"])]
    model = make_model(nodes, [("x", [3, 2, 4, 4])], [("y", [3, 5])], inits)
    pruned, layers = _pruned(model, 0.5)
    assert layers == 1 and {t.name: tuple(t.dims) for t in pruned.graph.initializer}["fw"] == (64, 5)
    reference = _zeroed(model, {"w": (_dropped(model, pruned, "b"), 0, "b")})
    x = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(run_ort(pruned, {"x": x})[0], run_ort(reference, {"x": x})[0], rtol=1e-5, atol=1e-5)
