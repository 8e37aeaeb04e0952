"""General op families of the reference executor, each against hand-computed values or a
plain-loop implementation written here."""
from __future__ import annotations

import itertools
import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conformance.reference import ReferenceExecutor, dtypes
from conformance.reference.ops.elementwise import erf


def run_op(op_type, inputs, attrs=None, opset=18, n_outputs=1, domain="", precision="float32"):
    """One node, inputs fed in order (None = omitted optional input); returns the outputs."""
    names, infos, feeds = [], [], {}
    for i, value in enumerate(inputs):
        if value is None:
            names.append("")
            continue
        value = np.asarray(value)
        name = f"in{i}"
        names.append(name)
        infos.append(helper.make_tensor_value_info(name, dtypes.elem_type_of(value.dtype), None))
        feeds[name] = value
    outputs = [f"out{i}" for i in range(n_outputs)]
    node = helper.make_node(op_type, names, outputs, domain=domain, **(attrs or {}))
    graph = helper.make_graph([node], "t", infos, [helper.make_value_info(o, onnx.TypeProto()) for o in outputs])
    imports = [helper.make_opsetid("", opset)]
    if domain:
        imports.append(helper.make_opsetid(domain, 5 if domain == "ai.onnx.ml" else 1))
    result = ReferenceExecutor(helper.make_model(graph, opset_imports=imports), precision=precision).run(None, feeds)
    return result if n_outputs > 1 else result[0]


# elementwise -------------------------------------------------------------------------------

def test_erf_matches_math_erf_to_float64_rounding():
    x = np.concatenate([np.linspace(-7, 7, 2001), [0.0, -0.0, 1e-300, 2.9999999, 3.0, 30.0]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), expected, rtol=4e-15, atol=1e-16)
    assert np.isnan(erf(np.array([np.nan])))[0]
    assert erf(np.float32([0.5])).dtype == np.float32


def test_integer_div_truncates_and_mod_follows_fmod_attribute():
    a, b = np.array([-7, 7, -7, 6], np.int64), np.array([2, -2, -2, 3], np.int64)
    np.testing.assert_array_equal(run_op("Div", [a, b]), [-3, -3, 3, 2])
    np.testing.assert_array_equal(run_op("Mod", [a, b]), [1, -1, -1, 0])  # sign of the divisor
    np.testing.assert_array_equal(run_op("Mod", [a, b], {"fmod": 1}), [-1, 1, -1, 0])  # sign of the dividend


def test_activations_against_formulas():
    x = np.float32([-3, -0.5, 0, 0.5, 3])
    np.testing.assert_allclose(run_op("Elu", [x], {"alpha": 2.0}), np.where(x > 0, x, 2 * (np.exp(x) - 1)), rtol=1e-6)
    np.testing.assert_allclose(run_op("HardSwish", [x]), x * np.clip(x / 6 + 0.5, 0, 1), rtol=1e-6)
    wide = np.float32([-100, -20, 0, 20, 100])
    np.testing.assert_allclose(run_op("Softplus", [wide]), np.log1p(np.exp(wide.astype(np.float64))), rtol=1e-6, atol=1e-40)
    np.testing.assert_allclose(run_op("Sigmoid", [np.float32([-100, 0, 100])]), [0, 0.5, 1], atol=1e-30)
    np.testing.assert_array_equal(run_op("Clip", [x, np.float32(-1), None], opset=13), np.maximum(x, -1))
    np.testing.assert_array_equal(run_op("Shrink", [x], {"lambd": 1.0, "bias": 0.5}), [-2.5, 0, 0, 0, 2.5])


@pytest.mark.parametrize("size", [5, 8192])   # below and above the size where np.clip takes over
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_clip_keep_nan_and_infinities_with_one_or_both_bounds(size, dtype):
    x = np.random.default_rng(0).standard_normal(size).astype(dtype) * 10
    x[:4] = [np.nan, np.inf, -np.inf, -0.0]
    with np.errstate(invalid="ignore"):
        cases = [("Relu", [x], np.where(np.isnan(x), np.nan, np.maximum(x, 0))),
                 ("Clip", [x, dtype(0), dtype(6)], np.where(np.isnan(x), np.nan, np.minimum(np.maximum(x, 0), 6))),
                 # an absent bound is the spec's default, numeric_limits::lowest() / max(): the
                 # infinity on that side becomes the extreme finite value ("They default to ...")
                 ("Clip", [x, None, dtype(1)],
                  np.where(np.isnan(x), np.nan, np.minimum(np.maximum(x, np.finfo(dtype).min), 1))),
                 ("Clip", [x, dtype(-1), None],
                  np.where(np.isnan(x), np.nan, np.minimum(np.maximum(x, -1), np.finfo(dtype).max)))]
    for op_type, inputs, expected in cases:
        got = run_op(op_type, inputs, opset=13)
        assert got.dtype == dtype, op_type
        np.testing.assert_array_equal(got, expected.astype(dtype), err_msg=f"{op_type} {inputs[1:]}")
    # Relu keeps +inf (a finite stand-in for the missing upper bound would not)
    assert run_op("Relu", [x], opset=13)[1] == np.inf


def test_round_is_half_to_even_and_cast_truncates_toward_zero():
    np.testing.assert_array_equal(run_op("Round", [np.float32([0.5, 1.5, 2.5, -0.5, -1.5])]), [0, 2, 2, -0, -2])
    np.testing.assert_array_equal(run_op("Cast", [np.float32([-1.7, 2.9])], {"to": TensorProto.INT32}), [-1, 2])


# shape -------------------------------------------------------------------------------------

def test_slice_agrees_with_python_slicing_for_every_start_end_step():
    x = np.arange(7, dtype=np.int64)
    for start, end, step in itertools.product([-10, -7, -3, 0, 2, 6, 9], [-10, -8, -1, 0, 3, 7, 12], [-3, -1, 1, 2]):
        got = run_op("Slice", [x, np.array([start]), np.array([end]), np.array([0]), np.array([step])], opset=13)
        assert got.tolist() == x.tolist()[start:end:step], (start, end, step)


def test_pad_modes_and_negative_pads():
    x = np.float32([1, 2, 3])
    def pad(mode, pads, value=None):
        return run_op("Pad", [x, np.array(pads, np.int64), value], {"mode": mode}).tolist()
    assert pad("reflect", [2, 1]) == [3, 2, 1, 2, 3, 2]
    assert pad("edge", [2, 1]) == [1, 1, 1, 2, 3, 3]
    assert pad("wrap", [2, 1]) == [2, 3, 1, 2, 3, 1]
    assert pad("constant", [-1, 2], np.float32(9)) == [2, 3, 9, 9]


def test_split_into_uneven_num_outputs_and_explicit_sizes():
    x = np.arange(7, dtype=np.float32)
    parts = run_op("Split", [x], {"num_outputs": 3}, n_outputs=3)
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3, 4, 5], [6]]
    parts = run_op("Split", [x, np.array([2, 5], np.int64)], n_outputs=2)
    assert [len(p) for p in parts] == [2, 5]


def test_depth_to_space_modes_invert_space_to_depth():
    x = np.arange(2 * 8 * 2 * 3, dtype=np.float32).reshape(2, 8, 2, 3)
    y = run_op("DepthToSpace", [x], {"blocksize": 2, "mode": "DCR"})
    np.testing.assert_array_equal(run_op("SpaceToDepth", [y], {"blocksize": 2}), x)
    crd = run_op("DepthToSpace", [x], {"blocksize": 2, "mode": "CRD"})
    # CRD: output channel c takes input channels c*4 .. c*4+3 for its 2x2 block
    assert crd[0, 1, 0, 1] == x[0, 1 * 4 + 1, 0, 0]


def test_reshape_zero_copies_dim_unless_allowzero():
    x = np.zeros((2, 3, 4), np.float32)
    assert run_op("Reshape", [x, np.array([0, -1], np.int64)]).shape == (2, 12)
    assert run_op("Reshape", [np.zeros((0, 3), np.float32), np.array([3, 0], np.int64)], {"allowzero": 1}).shape == (3, 0)


# reductions --------------------------------------------------------------------------------

def test_reductions_of_empty_sets_and_noop_axes():
    empty = np.zeros((2, 0), np.float32)
    np.testing.assert_array_equal(run_op("ReduceMax", [empty, np.array([1])]), [[-np.inf], [-np.inf]])
    np.testing.assert_array_equal(run_op("ReduceProd", [empty, np.array([1])]), [[1], [1]])
    np.testing.assert_array_equal(run_op("ReduceSum", [empty, np.array([1])], {"keepdims": 0}), [0, 0])
    x = np.float32([[1, -2], [3, 4]])
    np.testing.assert_array_equal(run_op("ReduceSum", [x, np.array([], np.int64)], {"noop_with_empty_axes": 1}), x)
    np.testing.assert_allclose(run_op("ReduceLogSumExp", [np.float32([1000, 1000])], {"keepdims": 0}),
                               1000 + np.log(2), rtol=1e-6)


def test_argmax_select_last_index():
    x = np.float32([[1, 3, 3], [2, 2, 0]])
    np.testing.assert_array_equal(run_op("ArgMax", [x], {"axis": 1, "keepdims": 0}), [1, 0])
    np.testing.assert_array_equal(run_op("ArgMax", [x], {"axis": 1, "keepdims": 0, "select_last_index": 1}), [2, 1])


# indexing ----------------------------------------------------------------------------------

def test_gather_nd_with_batch_dims_matches_loop():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    idx = np.stack([rng.integers(0, 3, (2, 6)), rng.integers(-4, 4, (2, 6))], axis=-1)
    got = run_op("GatherND", [x, idx], {"batch_dims": 1})
    expected = np.array([[x[b, i, j] for i, j in idx[b]] for b in range(2)])
    np.testing.assert_array_equal(got, expected)


def test_scatter_elements_reduction_accumulates_duplicates():
    x = np.zeros((2, 3), np.float32)
    idx = np.array([[0, 0, 2], [1, 1, 1]], np.int64)
    upd = np.float32([[1, 2, 3], [4, 5, 6]])
    got = run_op("ScatterElements", [x, idx, upd], {"axis": 1, "reduction": "add"})
    expected = x.copy()
    for i in range(2):
        for j in range(3):
            expected[i, idx[i, j]] += upd[i, j]
    np.testing.assert_array_equal(got, expected)
    got = run_op("ScatterND", [np.ones((3,), np.float32), np.array([[1], [1]]), np.float32([2, 5])],
                 {"reduction": "mul"})
    np.testing.assert_array_equal(got, [1, 10, 1])


def test_topk_ties_keep_lower_index_first():
    x = np.float32([[3, 1, 3, 2, 1]])
    values, idx = run_op("TopK", [x, np.array([3])], n_outputs=2)
    assert values.tolist() == [[3, 3, 2]] and idx.tolist() == [[0, 2, 3]]
    values, idx = run_op("TopK", [x, np.array([2])], {"largest": 0}, n_outputs=2)
    assert values.tolist() == [[1, 1]] and idx.tolist() == [[1, 4]]


def test_unique_unsorted_keeps_first_occurrence_order():
    y, first, inverse, counts = run_op("Unique", [np.float32([2, 1, 1, 3, 4, 3])], {"sorted": 0}, n_outputs=4)
    assert y.tolist() == [2, 1, 3, 4] and first.tolist() == [0, 1, 3, 4]
    assert inverse.tolist() == [0, 1, 1, 2, 3, 2] and counts.tolist() == [1, 2, 2, 1]


def test_cumsum_exclusive_reverse_and_reverse_sequence():
    np.testing.assert_array_equal(run_op("CumSum", [np.float32([1, 2, 3]), np.array(0)],
                                         {"exclusive": 1, "reverse": 1}), [5, 3, 0])
    # an exclusive scan over an empty axis is empty (tf2onnx's CombinedNonMaxSuppression when nothing is selected)
    empty = run_op("CumSum", [np.zeros((0, 2), np.int64), np.array(0)], {"exclusive": 1})
    assert empty.shape == (0, 2) and empty.dtype == np.int64
    picked = run_op("GatherND", [np.zeros((0, 3), np.float32), np.zeros((0, 2, 1), np.int64)], {"batch_dims": 1})
    assert picked.shape == (0, 2)
    x = np.arange(8, dtype=np.float32).reshape(4, 2)  # time-major, batch 2
    got = run_op("ReverseSequence", [x, np.array([3, 1])], {"batch_axis": 1, "time_axis": 0})
    assert got[:, 0].tolist() == [4, 2, 0, 6] and got[:, 1].tolist() == [1, 3, 5, 7]


def test_one_hot_negative_indices_and_compress():
    got = run_op("OneHot", [np.array([0, -1, 1]), np.array(3), np.float32([0, 5])], {"axis": 0})
    np.testing.assert_array_equal(got, [[5, 0, 0], [0, 0, 5], [0, 5, 0]])
    np.testing.assert_array_equal(run_op("Compress", [np.float32([[1, 2], [3, 4]]), np.array([False, True])],
                                         {"axis": 0}), [[3, 4]])


# quantization and custom types -------------------------------------------------------------

def test_quantize_linear_rounds_half_to_even_and_saturates():
    x = np.float32([0.5, 1.5, 2.5, -0.5, 300, -300])
    np.testing.assert_array_equal(run_op("QuantizeLinear", [x, np.float32(1), np.uint8(0)]), [0, 2, 2, 0, 255, 0])
    np.testing.assert_array_equal(run_op("QuantizeLinear", [x, np.float32(1), np.int8(0)]), [0, 2, 2, 0, 127, -128])


def test_quantize_per_axis_and_blocked():
    x = np.float32([[1, 2, 3, 4], [10, 20, 30, 40]])
    per_axis = run_op("QuantizeLinear", [x, np.float32([1, 10]), np.uint8([0, 100])], {"axis": 0})
    np.testing.assert_array_equal(per_axis, [[1, 2, 3, 4], [101, 102, 103, 104]])
    scale = np.float32([[1, 2], [10, 20]])  # blocks of 2 along axis 1
    blocked = run_op("QuantizeLinear", [x, scale, np.zeros((2, 2), np.uint8)], {"axis": 1, "block_size": 2}, opset=21)
    np.testing.assert_array_equal(blocked, [[1, 2, 2, 2], [1, 2, 2, 2]])
    back = run_op("DequantizeLinear", [np.uint8([[101, 102]]), np.float32([0.5, 2]), np.uint8([100, 100])], {"axis": 1})
    np.testing.assert_array_equal(back, [[0.5, 4.0]])


def test_dynamic_quantize_linear_spec_example():
    y, scale, zero = run_op("DynamicQuantizeLinear", [np.float32([0, 2, -3, -2.5, 1.34, 0.5])], n_outputs=3)
    np.testing.assert_allclose(scale, 5 / 255, rtol=1e-6)
    assert int(zero) == 153
    assert y.tolist() == [153, 255, 0, 26, 221, 179]  # 0.5 / (5/255) = 25.5 rounds to even 26


@pytest.mark.parametrize("elem", dtypes.FLOAT8)
def test_float8_encoding_round_trips_every_code_and_breaks_ties_to_even(elem):
    table = dtypes._float8_table(elem)
    codes = np.arange(256, dtype=np.uint8)
    finite = np.isfinite(table) & ~((table == 0) & (codes != 0))  # one zero code per format
    encoded = dtypes.raw_view(dtypes.from_numeric(table[finite], elem))
    np.testing.assert_array_equal(encoded, codes[finite])
    # halfway between the two smallest positive values: the even code wins
    lo, hi = sorted(table[(table > 0) & np.isfinite(table)])[:2]
    assert dtypes.raw_view(dtypes.from_numeric(np.float32([(lo + hi) / 2]), elem))[0] % 2 == 0


def test_float8_saturation_and_bfloat16_rounding():
    big = np.float32([1e6, -np.inf])
    sat = dtypes.custom_to_float32(dtypes.from_numeric(big, TensorProto.FLOAT8E4M3FN, saturate=True))
    np.testing.assert_array_equal(sat, [448, -448])
    assert np.isnan(dtypes.custom_to_float32(dtypes.from_numeric(big, TensorProto.FLOAT8E4M3FN, saturate=False))).all()
    e5 = dtypes.custom_to_float32(dtypes.from_numeric(big, TensorProto.FLOAT8E5M2, saturate=False))
    np.testing.assert_array_equal(e5, [np.inf, -np.inf])
    halfway = np.float32([1 + 2 ** -8, 1 + 3 * 2 ** -8])  # ties between bfloat16 neighbours
    bf = dtypes.custom_to_float32(dtypes.from_numeric(halfway, TensorProto.BFLOAT16))
    np.testing.assert_array_equal(bf, [1.0, 1 + 2 ** -6])


def test_cast_to_float8_and_back_through_the_graph():
    x = np.float32([0.3, -2.0, 1000.0])
    y = run_op("Cast", [x], {"to": TensorProto.FLOAT8E4M3FN}, opset=19)
    assert dtypes.elem_type_of(y.dtype) == TensorProto.FLOAT8E4M3FN
    np.testing.assert_array_equal(dtypes.custom_to_float32(y), [0.3125, -2.0, 448.0])


def test_matmul_integer_with_zero_points():
    a = np.uint8([[10, 20], [30, 40]])
    b = np.uint8([[1, 2], [3, 4]])
    got = run_op("MatMulInteger", [a, b, np.uint8(10), np.uint8(1)], opset=10)
    np.testing.assert_array_equal(got, (a.astype(int) - 10) @ (b.astype(int) - 1))
    assert got.dtype == np.int32


# images, signal, text, ml ------------------------------------------------------------------

def _grid_sample_loop(x, grid, mode, padding, align):
    n, c, h, w = x.shape
    out = np.zeros((n, c) + grid.shape[1:3])
    def pixel(b, ch, yy, xx):
        if padding == "border":
            yy, xx = min(max(yy, 0), h - 1), min(max(xx, 0), w - 1)
        return x[b, ch, yy, xx] if 0 <= yy < h and 0 <= xx < w else 0.0
    for b, i, j in itertools.product(range(n), range(grid.shape[1]), range(grid.shape[2])):
        gx, gy = grid[b, i, j]
        if align:
            px, py = (gx + 1) / 2 * (w - 1), (gy + 1) / 2 * (h - 1)
        else:
            px, py = ((gx + 1) * w - 1) / 2, ((gy + 1) * h - 1) / 2
        if padding == "border":
            px, py = min(max(px, 0), w - 1), min(max(py, 0), h - 1)
        for ch in range(c):
            if mode == "nearest":
                out[b, ch, i, j] = pixel(b, ch, int(np.rint(py)), int(np.rint(px)))
            else:
                x0, y0 = math.floor(px), math.floor(py)
                fx, fy = px - x0, py - y0
                out[b, ch, i, j] = ((1 - fy) * ((1 - fx) * pixel(b, ch, y0, x0) + fx * pixel(b, ch, y0, x0 + 1))
                                    + fy * ((1 - fx) * pixel(b, ch, y0 + 1, x0) + fx * pixel(b, ch, y0 + 1, x0 + 1)))
    return out


@pytest.mark.parametrize("mode,padding,align", [("linear", "zeros", 0), ("linear", "border", 1),
                                                ("nearest", "zeros", 0), ("nearest", "border", 0)])
def test_grid_sample_matches_loop(mode, padding, align):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    grid = rng.uniform(-1.3, 1.3, (2, 3, 6, 2)).astype(np.float32)
    got = run_op("GridSample", [x, grid], {"mode": mode, "padding_mode": padding, "align_corners": align}, opset=20)
    np.testing.assert_allclose(got, _grid_sample_loop(x, grid, mode, padding, align), rtol=1e-5, atol=1e-6)


def test_col2im_matches_loop():
    rng = np.random.default_rng(4)
    image, block, stride, pads, dil = (5, 6), (2, 3), (1, 2), (1, 0, 0, 1), (2, 1)
    padded = (image[0] + pads[0] + pads[2], image[1] + pads[1] + pads[3])
    counts = [(padded[d] - (dil[d] * (block[d] - 1) + 1)) // stride[d] + 1 for d in range(2)]
    cols = rng.standard_normal((1, 2 * 6, counts[0] * counts[1])).astype(np.float32)
    got = run_op("Col2Im", [cols, np.array(image), np.array(block)],
                 {"strides": list(stride), "pads": list(pads), "dilations": list(dil)})
    expected = np.zeros((1, 2) + padded, np.float32)
    c6 = cols.reshape(1, 2, 2, 3, counts[0], counts[1])
    for c, ki, kj, wi, wj in itertools.product(range(2), range(2), range(3), range(counts[0]), range(counts[1])):
        expected[0, c, wi * stride[0] + ki * dil[0], wj * stride[1] + kj * dil[1]] += c6[0, c, ki, kj, wi, wj]
    np.testing.assert_allclose(got, expected[:, :, 1:6, 0:6], rtol=1e-6, atol=1e-6)


def test_non_max_suppression_spec_example():
    boxes = np.float32([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9],
                         [0, 10, 1, 11], [0, 10.1, 1, 11.1], [0, 100, 1, 101]]])
    scores = np.float32([[[0.9, 0.75, 0.6, 0.95, 0.5, 0.3]]])
    got = run_op("NonMaxSuppression", [boxes, scores, np.array([3]), np.float32([0.5]), np.float32([0.0])])
    assert got.tolist() == [[0, 0, 3], [0, 0, 0], [0, 0, 5]]


def test_dft_matches_numpy_fft_and_hann_window_formula():
    x = np.random.default_rng(5).standard_normal((1, 8, 1)).astype(np.float32)
    got = run_op("DFT", [x, None, np.array(1)], opset=20)
    spectrum = np.fft.fft(x[0, :, 0])
    np.testing.assert_allclose(got[0, :, 0] + 1j * got[0, :, 1], spectrum, rtol=1e-5, atol=1e-5)
    n = np.arange(10)
    np.testing.assert_allclose(run_op("HannWindow", [np.array(10)]), 0.5 - 0.5 * np.cos(2 * np.pi * n / 10), atol=1e-7)


def test_strings_split_normalize_match():
    parts, counts = run_op("StringSplit", [np.array(["a,b,,c", "x"], object)], {"delimiter": ","}, opset=20, n_outputs=2)
    assert parts.tolist() == [["a", "b", "", "c"], ["x", "", "", ""]] and counts.tolist() == [4, 1]
    got = run_op("StringNormalizer", [np.array(["Monday", "tuesday", "MONDAY"], object)],
                 {"stopwords": ["monday"], "case_change_action": "UPPER"})
    assert got.tolist() == ["TUESDAY"]
    got = run_op("RegexFullMatch", [np.array(["ab12", "ab"], object)], {"pattern": r"[a-z]+\d+"}, opset=20)
    assert got.tolist() == [True, False]


def test_tree_ensemble_two_trees_sum():
    # tree 0: x0 <= 0.5 ? leaf0 (target 0, 1.0) : leaf1 (target 1, 2.0); tree 1: leaf2 always (target 0, 10)
    attrs = dict(nodes_featureids=[0, 0], nodes_modes=onnx.numpy_helper.from_array(np.array([0, 0], np.uint8)),
                 nodes_splits=onnx.numpy_helper.from_array(
                     np.float32([0.5, 1e9])), nodes_truenodeids=[0, 2], nodes_trueleafs=[1, 1],
                 nodes_falsenodeids=[1, 2], nodes_falseleafs=[1, 1], tree_roots=[0, 1],
                 leaf_targetids=[0, 1, 0], leaf_weights=onnx.numpy_helper.from_array(np.float32([1, 2, 10])),
                 n_targets=2, aggregate_function=1)
    got = run_op("TreeEnsemble", [np.float32([[0.2], [0.9]])], attrs, domain="ai.onnx.ml")
    np.testing.assert_array_equal(got, [[11, 0], [10, 2]])


def test_einsum_trilu_range_eyelike():
    a, b = np.float32([[1, 2], [3, 4]]), np.float32([[5, 6], [7, 8]])
    np.testing.assert_array_equal(run_op("Einsum", [a, b], {"equation": "ij,jk->ik"}), a @ b)
    np.testing.assert_array_equal(run_op("Trilu", [a, np.array(0)], {"upper": 0}), [[1, 0], [3, 4]])
    np.testing.assert_array_equal(run_op("Range", [np.int64(10), np.int64(1), np.int64(-4)]), [10, 6, 2])
    np.testing.assert_array_equal(run_op("EyeLike", [np.zeros((2, 3), np.int32)], {"k": 1}), [[0, 1, 0], [0, 0, 1]])


def _png(pixels: np.ndarray, filters: list[int]) -> bytes:
    """A minimal RGB PNG encoder applying the given filter type to each row."""
    import struct
    import zlib

    h, w, _ = pixels.shape
    p = pixels.astype(np.int64).reshape(h, w * 3)
    rows = []
    for y in range(h):
        prior = p[y - 1] if y else np.zeros(w * 3, np.int64)
        left = np.concatenate([np.zeros(3, np.int64), p[y, :-3]])
        up_left = np.concatenate([np.zeros(3, np.int64), prior[:-3]])
        kind = filters[y % len(filters)]
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = prior
        elif kind == 3:
            pred = (left + prior) // 2
        else:
            base = left + prior - up_left
            pa, pb, pc = abs(base - left), abs(base - prior), abs(base - up_left)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prior, up_left))
        rows.append(bytes([kind]) + ((p[y] - pred) % 256).astype(np.uint8).tobytes())

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def test_image_decoder_inverts_every_png_filter_and_converts_formats():
    pixels = np.random.default_rng(6).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    encoded = np.frombuffer(_png(pixels, [0, 1, 2, 3, 4]), dtype=np.uint8)
    np.testing.assert_array_equal(run_op("ImageDecoder", [encoded], opset=20), pixels)
    np.testing.assert_array_equal(run_op("ImageDecoder", [encoded], {"pixel_format": "BGR"}, opset=20),
                                  pixels[:, :, ::-1])
    gray = run_op("ImageDecoder", [encoded], {"pixel_format": "Grayscale"}, opset=20)
    expected = np.rint(pixels.astype(np.float64) @ [0.299, 0.587, 0.114])
    assert gray.shape == (5, 4, 1) and np.abs(gray[:, :, 0] - expected).max() <= 1


def test_max_roi_pool_bins():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    got = run_op("MaxRoiPool", [x, np.float32([[0, 0, 0, 3, 3], [0, 2, 2, 3, 3]])], {"pooled_shape": [2, 2]})
    np.testing.assert_array_equal(got[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(got[1, 0], [[10, 11], [14, 15]])


def test_nll_loss_mean_skips_ignored_targets_and_uses_weights():
    rng = np.random.default_rng(7)
    log_prob = rng.standard_normal((3, 4, 2)).astype(np.float32)
    target = np.array([[0, 3], [-1, 2], [1, -1]], np.int64)
    weight = np.float32([1, 2, 3, 4])
    got = run_op("NegativeLogLikelihoodLoss", [log_prob, target, weight], {"ignore_index": -1})
    num = den = 0.0
    for n, d in itertools.product(range(3), range(2)):
        t = target[n, d]
        if t != -1:
            num += -log_prob[n, t, d] * weight[t]
            den += weight[t]
    np.testing.assert_allclose(got, num / den, rtol=1e-6)
    loss, log_sm = run_op("SoftmaxCrossEntropyLoss", [log_prob, np.array([[0, 3], [1, 2], [1, 0]])],
                          {"reduction": "none"}, n_outputs=2)
    np.testing.assert_allclose(np.exp(log_sm).sum(axis=1), 1, rtol=1e-6)
    assert loss.shape == (3, 2)


def test_affine_grid_identity_theta_gives_pixel_centers():
    theta = np.float32([[[1, 0, 0], [0, 1, 0]]])
    grid = run_op("AffineGrid", [theta, np.array([1, 1, 2, 4])], {"align_corners": 0}, opset=20)
    assert grid.shape == (1, 2, 4, 2)
    np.testing.assert_allclose(grid[0, 0, :, 0], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(grid[0, :, 0, 1], [-0.5, 0.5])


@pytest.mark.parametrize("op_type", ["Softmax", "LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_family_of_an_empty_tensor_is_empty(op_type, opset):
    """onnxruntime runs them (torch's sdpa and log_softmax on an empty batch export to them);
    np.max over an empty axis has no identity and used to raise."""
    out = run_op(op_type, [np.zeros((3, 0), np.float32)], {"axis": -1}, opset=opset)
    assert out.shape == (3, 0) and out.dtype == np.float32


def test_clip_with_only_max_replaces_minus_inf_by_the_lowest_value_the_spec_defaults_min_to():
    y = run_op("Clip", [np.array([-np.inf, 0, np.inf, np.nan], np.float32), None, np.float32(5)], opset=13)
    assert y[0] == np.finfo(np.float32).min and y[1] == 0 and y[2] == 5 and np.isnan(y[3])


def test_erf_of_integers_keeps_the_integer_type():
    y = run_op("Erf", [np.array([0, 1, 3, 200], np.uint8)], opset=13)
    assert y.dtype == np.uint8 and y.tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("shape", [(2, 3), (0, 3)])
def test_dynamic_quantize_linear_of_zeros_or_nothing_keeps_the_shape(shape):
    y, scale, zero_point = run_op("DynamicQuantizeLinear", [np.zeros(shape, np.float32)], opset=11, n_outputs=3)
    assert y.shape == shape and y.dtype == np.uint8 and not y.any()


def test_slice_reads_0d_starts_as_one_element_and_split_to_sequence_refuses_negative_sizes():
    x = np.arange(10, dtype=np.float32)
    y = run_op("Slice", [x, np.array(2, np.int64), np.array(5, np.int64)], opset=13)
    assert y.tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(Exception, match="negative split size"):
        run_op("SplitToSequence", [x, np.array([4, -1, 7], np.int64)], opset=13)


def test_stft_reads_a_2d_signal_as_real_like_onnxruntime():
    """torch-script writes STFT's signal as [batch][length] (the spec wants a trailing 1)."""
    signal = np.random.default_rng(0).standard_normal((1, 32)).astype(np.float32)
    flat = run_op("STFT", [signal, np.array(4, np.int64), None, np.array(8, np.int64)], opset=17)
    expected = np.stack([np.fft.rfft(signal[0, i:i + 8]) for i in range(0, 25, 4)])
    assert flat.shape == (1, 7, 5, 2)
    np.testing.assert_allclose(flat[0, ..., 0] + 1j * flat[0, ..., 1], expected, atol=1e-5)
