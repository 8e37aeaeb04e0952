import dataclasses
import math

import numpy as np
import pytest

from conformance.comparator import compare, compare_outputs, scaled_error
from conformance.tolerance import DEFAULT_TOLERANCES, Tolerance, dtype_key, resolve_tolerance

F32 = Tolerance(rtol=1e-5, atol=1e-5)


def _noisy(seed, shape=(4, 5, 6), scale=1e-3, dtype=np.float32):
    rng = np.random.default_rng(seed)
    expected = rng.standard_normal(shape).astype(dtype)
    actual = (expected + rng.standard_normal(shape) * scale).astype(dtype)
    return actual, expected


# --- basic verdicts ---------------------------------------------------------------------

def test_identical_float_passes_with_zero_stats():
    a, e = _noisy(0, scale=0)
    c = compare(a, e, F32)
    assert c.passed and c.max_abs == 0 and c.mismatch == 0 and c.n_mismatch == 0


def test_numpy_rule_boundary():
    e = np.array([1.0, 100.0])
    tol = Tolerance(rtol=1e-2, atol=0.5)
    # bounds: 0.5 + 0.01 = 0.51 and 0.5 + 1.0 = 1.5
    assert compare(e + np.array([0.5, 1.4]), e, tol).passed
    c = compare(e + np.array([0.52, 1.4]), e, tol)
    assert not c.passed and c.n_mismatch == 1 and c.worst_index == (0,)


def test_polygraphy_rule_needs_both_exceeded():
    e = np.array([1000.0, 1e-6, 1.0])
    a = np.array([1000.5, 2e-6, 1.0])
    # element 0: abs 0.5 > atol but rel 5e-4 <= rtol; element 1: rel 1 > rtol but abs 1e-6 <= atol
    poly = Tolerance(rtol=1e-3, atol=1e-3, rule="polygraphy")
    assert compare(a, e, poly).passed
    a2 = a.copy()
    a2[2] = 1.01      # abs 0.01 > 1e-3 and rel 0.01 > 1e-3
    c = compare(a2, e, poly)
    assert not c.passed and c.worst_index == (2,) and c.n_mismatch == 1


def test_rules_differ_sum_versus_max_of_bounds():
    # numpy passes d <= atol + rtol*|b|; polygraphy passes d <= max(atol, rtol*|b|): stricter
    e = np.array([1000.0])
    a = np.array([1001.5])         # d = 1.5; atol = 1, rtol*|b| = 1
    assert compare(a, e, Tolerance(rtol=1e-3, atol=1.0, rule="numpy")).passed
    assert not compare(a, e, Tolerance(rtol=1e-3, atol=1.0, rule="polygraphy")).passed


def test_relative_error_floor_on_zero_expected():
    c = compare(np.array([1e-6]), np.array([0.0]), Tolerance(rtol=0, atol=1e-5))
    assert c.passed
    assert c.max_rel == pytest.approx(1e-6 / np.finfo(np.float64).eps)


# --- non-finite patterns ------------------------------------------------------------------

def test_nan_both_sides_matches():
    e = np.array([1.0, np.nan, 3.0], dtype=np.float32)
    assert compare(e.copy(), e, F32).passed


@pytest.mark.parametrize("side", ["actual", "expected"])
def test_nan_in_one_side_only_fails(side):
    clean = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    dirty = clean.copy()
    dirty[1] = np.nan
    a, e = (dirty, clean) if side == "actual" else (clean, dirty)
    c = compare(a, e, F32)
    assert not c.passed
    assert c.n_mismatch == 1 and c.worst_index == (1,)
    assert f"1 NaN in {side} only" in c.nonfinite_problem
    assert math.isinf(c.max_abs) and math.isinf(c.min_atol_to_pass) and math.isinf(c.min_rtol_to_pass)
    assert "no tolerance passes" in c.message


def test_inf_same_sign_matches_opposite_sign_fails():
    e = np.array([np.inf, -np.inf, 1.0])
    assert compare(e.copy(), e, F32).passed
    c = compare(np.array([-np.inf, -np.inf, 1.0]), e, F32)
    assert not c.passed and c.worst_index == (0,)
    assert "infinities that differ" in c.nonfinite_problem


def test_inf_vs_finite_fails_even_with_huge_tolerance():
    c = compare(np.array([1e30, 1.0]), np.array([np.inf, 1.0]), Tolerance(rtol=1e9, atol=1e300))
    assert not c.passed and c.n_mismatch == 1


# --- shapes, dtypes, exactness --------------------------------------------------------------

def test_shape_mismatch_fails_and_names_both_shapes():
    c = compare(np.zeros((2, 3)), np.zeros((3, 2)), F32)
    assert not c.passed and c.max_abs is None
    assert "(2, 3)" in c.message and "(3, 2)" in c.message and "shape mismatch" in c.message


def test_scalar_and_broadcastable_shape_is_still_a_mismatch():
    assert not compare(np.zeros((1,)), np.float32(0), F32).passed
    c = compare(np.float32(2.0), np.float32(2.0), F32)
    assert c.passed and c.shape == () and c.worst_index == ()


def test_empty_tensors():
    c = compare(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32), F32)
    assert c.passed and c.mismatch == 0 and c.size == 0 and c.worst_index is None
    assert "empty output" in c.message


def test_integers_compare_exactly_by_default():
    e = np.array([10**6, 2, 3], dtype=np.int64)
    a = e.copy()
    a[0] += 1  # within rtol 1e-5 * 1e6 = 10 of a float tolerance
    assert not compare(a, e, resolve_tolerance("float32")).passed
    assert not compare(a, e, resolve_tolerance(np.int64)).passed
    assert compare(e.copy(), e).passed
    # exact=False opts integers into the tolerance (quantized outputs off by one)
    assert compare(a, e, Tolerance(rtol=0, atol=1, exact=False)).passed


def test_large_int64_exactness_not_lost_to_float64():
    e = np.array([2**62], dtype=np.int64)
    a = e + 1                                    # identical once cast to float64
    assert not compare(a, e).passed


def test_bool_exact():
    e = np.array([True, False, True])
    c = compare(np.array([True, True, True]), e, resolve_tolerance("bool"))
    assert not c.passed and c.n_mismatch == 1 and c.worst_index == (1,)


def test_int_vs_float_dtype_fails_even_with_equal_values():
    c = compare(np.array([1, 2], dtype=np.int64), np.array([1.0, 2.0], dtype=np.float32), F32)
    assert not c.passed and "dtype mismatch" in c.dtype_problem


def test_float_width_mismatch_fails_unless_check_dtype_off():
    e = np.linspace(0, 1, 7, dtype=np.float32)
    c = compare(e.astype(np.float64), e, F32)
    assert not c.passed and "float64" in c.dtype_problem and c.n_mismatch == 0
    assert compare(e.astype(np.float64), e, Tolerance(rtol=1e-5, atol=1e-5, check_dtype=False)).passed


def test_float16_inputs_are_upcast_for_the_arithmetic():
    # the difference of these two overflows float16 (max 65504): only an upcast gets it right
    e = np.array([-60000.0], dtype=np.float16)
    a = np.array([60000.0], dtype=np.float16)
    c = compare(a, e, resolve_tolerance(np.float16))
    assert c.max_abs == pytest.approx(120000.0, rel=1e-3)   # would be inf in float16
    assert c.nonfinite_problem is None
    # one float16 ulp at 1.0 (2**-10) passes the float16 default
    one = np.array([1.0], dtype=np.float16)
    assert compare(np.nextafter(one, np.float16(2)), one, resolve_tolerance("float16")).passed


def test_bfloat16_when_available():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    e = np.array([1.0, 2.0, 3.0], dtype=ml_dtypes.bfloat16)
    a = np.array([1.0078125, 2.0, 3.0], dtype=ml_dtypes.bfloat16)   # one ulp at 1.0
    tol = resolve_tolerance(e.dtype)
    assert tol == DEFAULT_TOLERANCES["bfloat16"]
    c = compare(a, e, tol)
    assert c.passed and c.max_abs == pytest.approx(2**-7)
    assert not compare(a, e, resolve_tolerance("float32")).passed


# --- statistic checks -----------------------------------------------------------------------

def _outlier_case():
    e = np.zeros(1000)
    a = np.full(1000, 1e-4)
    a[:5] = 1.0                   # 0.5% outliers
    return a, e


@pytest.mark.parametrize("stat,bound,passes", [
    ("max", 1e-3, False), ("max", 1.0, True),
    ("mean", 1e-3, False), ("mean", 1e-2, True),     # mean = (5 + 995e-4)/1000 ~ 5.1e-3
    ("median", 1e-4, True), ("median", 5e-5, False),
    ("quantile", 1e-4, True),                         # q0.99 ignores 0.5% outliers
])
def test_statistic_checks(stat, bound, passes):
    a, e = _outlier_case()
    tol = Tolerance(rtol=0, atol=1e-5, stat=stat, stat_atol=bound)
    c = compare(a, e, tol)
    assert c.passed is passes
    assert c.mismatch == 1.0          # element-wise mismatch is still reported
    if not passes:
        assert "would pass with stat_atol >=" in c.message
        suggested = float(c.message.split("stat_atol >= ")[1].split()[0])
        assert compare(a, e, Tolerance(rtol=0, atol=1e-5, stat=stat, stat_atol=suggested)).passed


def test_quantile_catches_many_outliers():
    a, e = _outlier_case()
    a[:50] = 1.0                  # 5% outliers: the 0.99 quantile sees them
    assert not compare(a, e, Tolerance(rtol=0, atol=0, stat="quantile", quantile=0.99, stat_atol=1e-3)).passed


def test_statistic_check_still_fails_on_nan_pattern():
    e = np.zeros(10)
    a = e.copy()
    a[3] = np.nan
    assert not compare(a, e, Tolerance(rtol=0, atol=0, stat="median", stat_atol=1.0)).passed


# --- hints actually pass when applied ---------------------------------------------------------

@pytest.mark.parametrize("rule", ["numpy", "polygraphy"])
@pytest.mark.parametrize("seed", range(6))
def test_min_tolerance_hints_pass_when_applied(rule, seed):
    a, e = _noisy(seed, scale=10.0 ** -(2 + seed % 3))
    tol = Tolerance(rtol=1e-5, atol=1e-5, rule=rule)
    c = compare(a, e, tol)
    assert not c.passed
    assert compare(a, e, Tolerance(rtol=tol.rtol, atol=c.min_atol_to_pass, rule=rule)).passed
    assert compare(a, e, Tolerance(rtol=c.min_rtol_to_pass, atol=tol.atol, rule=rule)).passed
    # and they are tight: 10% less fails (3 significant digits of rounding up)
    assert not compare(a, e, Tolerance(rtol=tol.rtol, atol=c.min_atol_to_pass * 0.9, rule=rule)).passed
    assert not compare(a, e, Tolerance(rtol=c.min_rtol_to_pass * 0.9, atol=tol.atol, rule=rule)).passed
    # the message states the same numbers
    assert f"atol >= {c.min_atol_to_pass:.3g}" in c.message
    assert f"rtol >= {c.min_rtol_to_pass:.3g}" in c.message


def test_min_rtol_is_inf_when_an_expected_zero_is_off():
    c = compare(np.array([1.0, 0.5]), np.array([1.0, 0.0]), F32)
    assert math.isinf(c.min_rtol_to_pass) and c.min_atol_to_pass >= 0.5
    assert "no rtol at atol 1e-05" in c.message
    assert compare(np.array([1.0, 0.5]), np.array([1.0, 0.0]), Tolerance(rtol=1e-5, atol=c.min_atol_to_pass)).passed


# --- the message ------------------------------------------------------------------------

def test_message_has_statistics_worst_element_and_first_five_mismatches():
    e = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    a = e.copy()
    a[0, 0, 1] += 0.5
    a[0, 2, 3] += 0.25
    a[1, 1, 1] += 3.0             # worst
    a[1, 2, 0:4] += 0.125
    c = compare(a, e, F32, name="logits")
    msg = c.message
    assert c.n_mismatch == 7 and c.mismatch == pytest.approx(7 / 24)
    assert msg.startswith("logits (float32, shape (2, 3, 4)): FAILED, 7 of 24 elements")
    assert c.worst_index == (1, 1, 1) and c.worst_actual == 20.0 and c.worst_expected == 17.0
    assert "worst at [1, 1, 1]: actual=20 expected=17" in msg
    assert "max_abs=3 " in msg and "mean_abs=" in msg and "median_abs=" in msg
    listed = [line for line in msg.splitlines() if line.startswith("    [")]
    assert len(listed) == 5
    assert listed[0].startswith("    [0, 0, 1]: actual=1.5 expected=1")
    assert "first 5 mismatches" in msg
    assert "would pass with atol >= " in msg and "(at rtol 1e-05)" in msg and "(at atol 1e-05)" in msg


def test_float64_values_printed_with_full_precision():
    e = np.array([0.1])
    a = e + 1e-12
    c = compare(a, e, Tolerance(rtol=0, atol=0))
    assert f"actual={a[0]:.17g}" in c.message


# --- several outputs ------------------------------------------------------------------------

def test_compare_outputs_worst_across_outputs():
    a0, e0 = _noisy(1, scale=0)
    a1, e1 = _noisy(2, scale=1e-2)
    r = compare_outputs([a0, a1], [e0, e1], F32, names=["y", "z"])
    assert not r.passed
    assert r.max_abs == r.comparisons[1].max_abs and r.mismatch == r.comparisons[1].mismatch
    assert r.worst.name == "z" and r.rtol == 1e-5
    assert "z (float32" in r.message and "y (float32" not in r.message


def test_compare_outputs_per_output_tolerances():
    a, e = _noisy(3, scale=1e-3)
    loose = Tolerance(rtol=0, atol=1.0)
    assert compare_outputs([a, a], [e, e], [loose, loose]).passed
    assert not compare_outputs([a, a], [e, e], [loose, F32]).passed
    assert compare_outputs([a], [e], {"out": loose}, names=["out"]).passed


def test_compare_outputs_count_mismatch():
    a, e = _noisy(4, scale=0)
    r = compare_outputs([a], [e, e], F32)
    assert not r.passed and "output count mismatch: 1 actual vs 2 expected" in r.message
    assert r.comparisons[0].passed


def test_compare_outputs_default_tolerances_by_dtype():
    e = np.array([1, 2], dtype=np.int32)
    f = np.array([1.0], dtype=np.float16)
    r = compare_outputs([e, f + np.float16(2**-10)], [e, f])
    assert r.passed
    assert r.comparisons[0].tol.exact and r.comparisons[1].tol == DEFAULT_TOLERANCES["float16"]


# --- tolerance resolution -----------------------------------------------------------------

def test_defaults_cover_each_dtype_and_ints_are_exact():
    for key in ("float64", "float32", "float16", "bfloat16", "int", "bool"):
        assert key in DEFAULT_TOLERANCES
    assert dtype_key(np.uint8) == dtype_key("int64") == "int"
    assert resolve_tolerance(np.int16).exact is True
    f64, f32, f16, bf16 = (DEFAULT_TOLERANCES[k] for k in ("float64", "float32", "float16", "bfloat16"))
    assert f64.rtol < f32.rtol < f16.rtol < bf16.rtol


def test_resolve_case_overrides_op_overrides_default():
    tol = resolve_tolerance("float32", {"atol": 1e-3, "rtol": 1e-3}, {"atol": 1e-2})
    assert (tol.rtol, tol.atol) == (1e-3, 1e-2)
    per_dtype = {"atol": 1e-4, "float16": {"atol": 5e-2}}
    assert resolve_tolerance("float16", per_dtype).atol == 5e-2
    assert resolve_tolerance("float32", per_dtype).atol == 1e-4


def test_resolve_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown"):
        resolve_tolerance("float32", {"atl": 1e-3})
    with pytest.raises(ValueError, match="stat_atol"):
        Tolerance(stat="mean")
    with pytest.raises(ValueError, match="rule"):
        Tolerance(rule="close-enough")
    with pytest.raises(ValueError):
        dtype_key("string_")


def test_tolerance_dict_round_trip():
    tol = Tolerance(rtol=1e-3, atol=2e-3, rule="polygraphy", stat="quantile", stat_atol=1e-2)
    assert tol.quantile == 0.99
    assert Tolerance.from_dict(tol.to_dict()) == tol
    with pytest.raises(ValueError, match="unknown"):
        Tolerance.from_dict({"rtol": 1, "bogus": 2})


def test_vectorized_on_a_large_tensor():
    a, e = _noisy(7, shape=(64, 64, 64), scale=1e-3)   # 262k elements; a per-element loop takes seconds
    c = compare(a, e, F32)
    assert not c.passed and 0 < c.mismatch <= 1
    assert c.message.count("\n    [") == 5


def test_reduced_precision_target_widens_float_tolerances_only():
    from conformance.tolerance import Tolerance, widen_for_precision
    tol = Tolerance(rtol=1e-5, atol=1e-5)
    bf16 = widen_for_precision(tol, "bf16 (plugin default)", np.float32)
    assert (bf16.rtol, bf16.atol) == (1.6e-2, 1e-3)
    assert widen_for_precision(tol, "fp32", np.float32) == tol                  # stated fp32: unchanged
    assert widen_for_precision(Tolerance(rtol=0.1, atol=0.1), "fp16", np.float32).rtol == 0.1   # never tighter
    exact = Tolerance(rtol=0, atol=0, exact=True)
    assert widen_for_precision(exact, "bf16", np.int64) == exact                # ints stay exact


# --- runner cases judged against their noise floor (whole models) ---------------------------

def test_only_whole_model_cases_without_hand_computed_values_in_float32_are_held_to_a_floor():
    from conformance.tolerance import NOISE_MULTIPLE, case_noise_multiple
    assert case_noise_multiple("arch", {"rtol": 1e-4, "atol": 1e-4}) == NOISE_MULTIPLE
    assert case_noise_multiple("model", None) == NOISE_MULTIPLE
    assert case_noise_multiple("fuzz", {"rtol": 1e-4, "atol": 1e-5}) == NOISE_MULTIPLE   # generated graphs
    for kind in ("op", "padding", "semantics", "generation", "node"):
        assert case_noise_multiple(kind, None) is None
    assert case_noise_multiple("arch", {}, has_expected=True) is None
    assert case_noise_multiple("arch", {}, conversion_precision="fp16-weights") is None
    assert case_noise_multiple("arch", {"noise_multiple": 0}) is None
    assert case_noise_multiple("arch", {"noise_multiple": 8}) == 8.0


def test_a_measured_floor_replaces_the_cases_hand_set_rtol_atol_and_keeps_its_other_keys():
    from conformance.tolerance import case_tolerance, noise_tolerance
    hand_set = {"rtol": 1e-4, "atol": 1e-4, "rule": "polygraphy", "float16": {"atol": 5e-2}}
    assert case_tolerance(np.float32, hand_set) == resolve_tolerance(np.float32, None, hand_set)  # no floor
    tol = case_tolerance(np.float32, hand_set, floor=2e-6, multiple=16)
    assert tol == dataclasses.replace(noise_tolerance(np.float32, 2e-6, 16), rule="polygraphy")
    assert (tol.rtol, tol.atol) == (DEFAULT_TOLERANCES["float32"].rtol, pytest.approx(3.2e-5))
    # outputs of other dtypes have no floor: the case's own entries
    assert case_tolerance(np.float16, hand_set, floor=2e-6, multiple=16).atol == 5e-2
    assert case_tolerance(np.int64, hand_set, floor=0.0, multiple=16).exact
    with pytest.raises(ValueError, match="unknown"):
        case_tolerance(np.float32, {"atl": 1}, floor=1e-6, multiple=16)


def test_a_floor_that_only_widens_keeps_the_cases_own_tolerance_as_the_minimum():
    from conformance.tolerance import case_tolerance
    campaign = {"rtol": 1e-4, "atol": 1e-5}
    small = case_tolerance(np.float32, campaign, floor=1e-8, multiple=16, widens=True)
    assert (small.rtol, small.atol) == (1e-4, 1e-5)           # 16 x 1e-8 < 1e-5: never tighter
    large = case_tolerance(np.float32, campaign, floor=2e-6, multiple=16, widens=True)
    assert (large.rtol, large.atol) == (1e-4, pytest.approx(3.2e-5)) and large.noise_floor == 2e-6
    assert case_tolerance(np.int32, campaign, floor=2e-6, multiple=16, widens=True).exact


def test_fuzz_graphs_are_held_to_a_floor_only_when_fed_plain_values():
    from conformance.tolerance import case_noise_multiple
    from suites.fuzz.evaluate import graph_spec
    graph = {"inputs": [{"shape": [2, 3], "dtype": "float32"}], "nodes": [], "outputs": []}
    assert case_noise_multiple("fuzz", graph_spec(graph, "torch").tolerance) is not None
    graph["inputs"][0]["corner"] = True    # one huge element would set an output's floor
    assert case_noise_multiple("fuzz", graph_spec(graph, "torch").tolerance) is None


# --- scaled_error: the benchmarks' one-number error ------------------------------------
def test_scaled_error_is_the_worst_max_abs_over_the_expected_scale():
    want = [np.array([2.0, -4.0]), np.array([0.0, 0.0])]
    got = [np.array([2.5, -4.0]), np.array([0.0, 0.25])]
    # 0.5 / 4 for the first output, 0.25 / 1 (a zero scale counts as 1) for the second
    assert scaled_error(got, want) == pytest.approx(0.25)
    assert scaled_error([np.array([1.0, np.nan])], [np.array([1.0, 2.0])]) == math.inf
    assert scaled_error([np.ones(3)], [np.ones(4)]) == math.inf                 # size differs
    assert scaled_error([np.ones((2, 2))], [np.ones(4)]) == 0.0                # same size, flat
    assert scaled_error([], [np.ones(1)]) == math.inf                          # a missing output
