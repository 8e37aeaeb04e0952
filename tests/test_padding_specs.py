"""Checks of the padding/semantics suite's specs: counts, unique ids, kinds, builders named, the
hand rules behind the expected values, and (one worker per framework, ~20 s, no conversion) that
every case declares its output shapes and hand values and the source framework agrees with them.
This module imports no framework."""
from __future__ import annotations

import importlib.util
import json
from collections import Counter

import numpy as np
import pytest

from suites.padding import handcalc as hc
from suites.padding.specs import PADDING_CASES, SEMANTICS_CASES, all_cases


def test_counts():
    assert len(PADDING_CASES) >= 60
    assert len(SEMANTICS_CASES) >= 30
    per_fw = Counter(s.framework for s in PADDING_CASES)
    assert all(per_fw[fw] >= 15 for fw in ("torch", "tensorflow", "paddle")), per_fw
    assert {s.framework for s in SEMANTICS_CASES} == {"torch", "tensorflow", "paddle"}


def test_unique_ids_and_kinds():
    ids = [f"{s.base_id}/{s.variant}" for s in all_cases()]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert all(s.kind == "padding" for s in PADDING_CASES)
    assert all(s.kind == "semantics" for s in SEMANTICS_CASES)
    for s in all_cases():
        assert s.op == s.name
        assert s.variant and "/" not in s.variant and " " not in s.variant


def test_specs_are_plain_data():
    for s in all_cases():
        json.dumps(s.to_dict())
        module, _, fn = s.builder.partition(":")
        assert module == f"suites.padding.{ {'torch': 'torch', 'tensorflow': 'tf', 'paddle': 'paddle'}[s.framework]}_cases"
        assert fn == "build"
        assert importlib.util.find_spec(module) is not None
        assert "op" in s.params


def test_tolerances_are_tight():
    for s in all_cases():
        assert s.tolerance, s
        assert s.tolerance["rtol"] <= 2e-6 and s.tolerance["atol"] <= 2e-6, s


def test_builders_declare_every_op():
    """Each framework module registers a builder for every op its specs use (source scan: no
    framework import)."""
    import ast
    from pathlib import Path

    from suites.padding.common import nn_semantics
    root = Path(__file__).resolve().parents[1] / "suites" / "padding"

    def declared(tree) -> set[str]:
        """``@builder("op")`` decorators and the keys of ``register_semantics(CASES, {...})``."""
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names.update(d.args[0].value for d in node.decorator_list
                             if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "builder")
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "register_semantics":
                models = node.args[1]
                if isinstance(models, ast.Dict):
                    names.update(k.value for k in models.keys)
                else:       # cm.nn_semantics(...): torch's and paddle's shared table (framework-free keys)
                    assert getattr(models.func, "attr", None) == "nn_semantics", ast.dump(models)
                    names.update(nn_semantics(None, None, None, "axis", None))
        return names

    for fw, mod in (("torch", "torch_cases"), ("tensorflow", "tf_cases"), ("paddle", "paddle_cases")):
        used = {s.params["op"] for s in all_cases() if s.framework == fw}
        missing = used - declared(ast.parse((root / f"{mod}.py").read_text()))
        assert not missing, (fw, missing)


# -- the hand rules the expected values come from -----------------------------------------------
def test_same_pads_put_the_odd_pad_at_the_end():
    assert hc.same_pads(6, 3, 2) == (0, 1)
    assert hc.same_pads(7, 3, 2) == (1, 1)
    assert hc.same_pads(7, 4, 2) == (1, 2)
    assert hc.same_lower_pads(7, 4, 2) == (2, 1)
    assert hc.same_pads(6, 2, 1, 3) == (1, 2)
    assert hc.torch_same_pads(4) == (1, 2)


def test_ceil_mode_drops_a_window_starting_in_the_padding():
    assert hc.pool_out_size(5, 2, 2, 1, 1, ceil_mode=True) == 3
    assert hc.pool_out_size(5, 2, 2, 1, 1, ceil_mode=True, drop_window_in_padding=False) == 4
    assert hc.pool_out_size(6, 3, 2, 0, 0, ceil_mode=True) == 3


def test_max_pool_pads_with_minus_infinity():
    x = -hc.ramp((1, 1, 2, 2))
    y = hc.pool(x, 3, 1, pads=[(1, 1), (1, 1)], mode="max")
    assert (y < 0).all()


def test_avg_pool_divisors():
    x = np.ones((1, 1, 2, 2), np.float32)
    inc = hc.pool(x, 3, 1, pads=[(1, 1), (1, 1)], mode="avg", count_include_pad=True)
    exc = hc.pool(x, 3, 1, pads=[(1, 1), (1, 1)], mode="avg", count_include_pad=False)
    np.testing.assert_allclose(inc, np.full((1, 1, 2, 2), 4 / 9))
    np.testing.assert_allclose(exc, np.ones((1, 1, 2, 2)))


def test_pad_modes_and_cropping():
    x = np.arange(1, 5, dtype=np.float32)[None]
    np.testing.assert_array_equal(hc.pad(x, [(0, 0), (2, 1)], "reflect"), [[3, 2, 1, 2, 3, 4, 3]])
    np.testing.assert_array_equal(hc.pad(x, [(0, 0), (2, 1)], "symmetric"), [[2, 1, 1, 2, 3, 4, 4]])
    np.testing.assert_array_equal(hc.pad(x, [(0, 0), (1, 2)], "wrap"), [[4, 1, 2, 3, 4, 1, 2]])
    np.testing.assert_array_equal(hc.pad(x, [(0, 0), (-1, 2)], "constant"), [[2, 3, 4, 0, 0]])


def test_adaptive_windows_overlap():
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5)
    np.testing.assert_allclose(hc.adaptive_pool(x, [3]), [[[0.5, 2.0, 3.5]]])


def test_conv_transpose_is_the_adjoint_of_conv():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 3, 3))
    w = rng.standard_normal((2, 3, 3, 3))     # (I, O, kH, kW) transposed = (O, C, kH, kW) forward
    y = rng.standard_normal((1, 3, 6, 6))
    up = hc.conv_transpose(x, w, stride=2, pads=[(1, 0), (1, 0)], output_padding=0)
    assert up.shape == (1, 3, 6, 6)
    down = hc.conv(y, w, stride=2, pads=[(1, 0), (1, 0)])
    assert np.isclose((up * y).sum(), (x * down).sum(), rtol=1e-4)


def test_integer_division_tables_match_python():
    for a, b, fl, tr, pm, cm in zip(hc.INT_A, hc.INT_B, hc.FLOOR_DIV, hc.TRUNC_DIV, hc.PY_MOD, hc.C_FMOD):
        assert a // b == fl and int(a / b) == tr and a % b == pm and np.fmod(a, b) == cm


def test_round_is_half_to_even():
    np.testing.assert_array_equal(np.round(np.array(hc.ROUND_X, np.float32)), hc.ROUND_HALF_EVEN)


@pytest.mark.parametrize("method", ["nearest", "linear", "cubic"])
def test_resize_rows_sum_to_one(method):
    m = hc.resize_matrix(3, 7, method, "half_pixel")
    np.testing.assert_allclose(m.sum(1), 1)


# -- every case, built in its framework's worker: declared shapes and hand values vs the source ---
@pytest.mark.parametrize("framework", ["torch", "tensorflow", "paddle"])
def test_every_case_declares_shapes_and_values_the_source_agrees_with(framework):
    """Builds each case in the framework's worker (no conversion): expected_shapes and expected
    are set and consistent, and the source framework's own output matches them -- so a
    converter failure in the suite is never a wrong hand computation."""
    import importlib.util as iu
    if iu.find_spec({"tensorflow": "tensorflow", "torch": "torch", "paddle": "paddle"}[framework]) is None:
        pytest.skip(f"{framework} not installed")
    from conformance.workers import WorkerPool
    pool = WorkerPool()
    try:
        problems = []
        for spec in all_cases():
            if spec.framework != framework:
                continue
            got = pool.get(framework).request("call", spec.to_dict(), "suites.padding.selfcheck:source_vs_expected",
                                              {"framework": framework}, timeout=120)
            cid = f"{spec.base_id}/{spec.variant}"
            if not got["expected_shapes"] or not got["expected"]:
                problems.append(f"{cid}: no expected shapes/values")
            elif got["expected_shapes"][0] != got["expected"] or got["source"] != got["expected"]:
                problems.append(f"{cid}: shapes declared {got['expected_shapes'][0]} hand {got['expected']} "
                                f"source {got['source']}")
            elif not all(got["close"]):
                problems.append(f"{cid}: source differs from the hand values, max_abs {got['max_abs']}")
        assert not problems, "\n".join(problems)
    finally:
        pool.close()
