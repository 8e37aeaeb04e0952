import numpy as np
from onnx import helper

from .helpers import check, make_model, ops

rng = np.random.default_rng(0)


def _conv_inits(cin=3, cout=4, bias=True):
    d = {"w": rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)}
    if bias:
        d["b"] = rng.standard_normal(cout).astype(np.float32)
    return d


def test_conv_batchnorm_folds():
    inits = _conv_inits(bias=False)
    inits.update(scale=rng.uniform(0.5, 2, 4).astype(np.float32), bias=rng.standard_normal(4).astype(np.float32),
                 mean=rng.standard_normal(4).astype(np.float32), var=rng.uniform(0.5, 2, 4).astype(np.float32))
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["y"], epsilon=1e-3)]
    out, _ = check(make_model(nodes, [("x", [1, 3, 8, 8])], [("y", [1, 4, 8, 8])], inits), "fuse-bn")
    assert ops(out) == {"Conv": 1}


def test_conv_batchnorm_with_second_reader_is_kept():
    inits = _conv_inits()
    inits.update(s=np.ones(4, np.float32), z=np.zeros(4, np.float32), v=np.ones(4, np.float32))
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]),
             helper.make_node("BatchNormalization", ["c", "s", "z", "z", "v"], ["y"]),
             helper.make_node("Relu", ["c"], ["y2"])]
    out, _ = check(make_model(nodes, [("x", [1, 3, 5, 5])], [("y", [1, 4, 3, 3]), ("y2", [1, 4, 3, 3])], inits),
                   "fuse-bn")
    assert ops(out)["BatchNormalization"] == 1


def test_conv_per_channel_mul_add_sub_div_fold():
    inits = _conv_inits()
    inits.update(m=rng.uniform(0.5, 2, (4, 1, 1)).astype(np.float32), a=rng.standard_normal((1, 4, 1, 1)).astype(np.float32),
                 s=np.float32(0.25), d=rng.uniform(1, 2, (4, 1, 1)).astype(np.float32))
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]), helper.make_node("Mul", ["m", "c"], ["c1"]),
             helper.make_node("Add", ["c1", "a"], ["c2"]), helper.make_node("Sub", ["c2", "s"], ["c3"]),
             helper.make_node("Div", ["c3", "d"], ["y"])]
    out, _ = check(make_model(nodes, [("x", [1, 3, 6, 6])], [("y", [1, 4, 4, 4])], inits), "fuse-conv-affine")
    assert ops(out) == {"Conv": 1}


def test_conv_spatial_mul_is_not_folded():
    inits = _conv_inits()
    inits["m"] = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]), helper.make_node("Mul", ["c", "m"], ["y"])]
    out, _ = check(make_model(nodes, [("x", [1, 3, 6, 6])], [("y", [1, 4, 4, 4])], inits), "fuse-conv-affine")
    assert ops(out) == {"Conv": 1, "Mul": 1}


def test_pad_folds_into_conv_and_average_pool():
    inits = _conv_inits()
    inits.update(p=np.array([0, 0, 1, 2, 0, 0, 2, 1]), p2=np.array([0, 0, 1, 1, 0, 0, 1, 1]))
    nodes = [helper.make_node("Pad", ["x", "p"], ["xp"]), helper.make_node("Conv", ["xp", "w", "b"], ["c"]),
             helper.make_node("Pad", ["c", "p2"], ["cp"]),
             helper.make_node("AveragePool", ["cp"], ["y"], kernel_shape=[3, 3])]
    out, _ = check(make_model(nodes, [("x", [1, 3, 6, 6])], [("y", [1, 4, 7, 7])], inits), "fuse-pad")
    assert ops(out) == {"Conv": 1, "AveragePool": 1}


def test_pad_into_maxpool_only_over_nonnegative_input():
    inits = {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1])}
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Pad", ["r", "p"], ["rp"]),
             helper.make_node("MaxPool", ["rp"], ["y"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Pad", ["x", "p"], ["xp"]),
             helper.make_node("MaxPool", ["xp"], ["z"], kernel_shape=[3, 3], strides=[2, 2])]
    out, _ = check(make_model(nodes, [("x", [1, 2, 6, 6])], [("y", [1, 2, 3, 3]), ("z", [1, 2, 3, 3])], inits),
                   "fuse-pad")
    assert ops(out) == {"Relu": 1, "Pad": 1, "MaxPool": 2}


def test_matmul_add_becomes_gemm_only_in_2d():
    inits = {"w": rng.standard_normal((4, 5)).astype(np.float32), "b": rng.standard_normal(5).astype(np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["b", "m"], ["y"]),
             helper.make_node("MatMul", ["x3", "w"], ["m3"]), helper.make_node("Add", ["m3", "b"], ["y3"])]
    m = make_model(nodes, [("x", [3, 4]), ("x3", [2, 3, 4])], [("y", [3, 5]), ("y3", [2, 3, 5])], inits)
    out, _ = check(m, "gemm")
    assert ops(out) == {"Gemm": 1, "MatMul": 1, "Add": 1}


def test_global_pool_then_flatten_is_one_reduction():
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["g"]), helper.make_node("Flatten", ["g"], ["y"]),
             helper.make_node("GlobalMaxPool", ["x"], ["h"]), helper.make_node("Squeeze", ["h", "ax"], ["z"])]
    m = make_model(nodes, [("x", [2, 3, 4, 5])], [("y", [2, 3]), ("z", [2, 3])], {"ax": np.array([2, 3])})
    out, _ = check(m, "fuse-global-pool")
    assert ops(out) == {"ReduceMean": 1, "ReduceMax": 1}
