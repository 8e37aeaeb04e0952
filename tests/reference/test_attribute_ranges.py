"""Attributes outside the range the ONNX spec accepts are refused, as onnxruntime and ONNX's
shape inference refuse them, so an invalid converted model fails on the oracle too (exported
models with these attributes were found by the OpInfo cases: movedim, argmin of a 0-d tensor)."""
from __future__ import annotations

import numpy as np
import pytest

from conformance.reference.executor import ExecutionError
from tests.reference.test_ops_general import run_op


def test_transpose_refuses_a_perm_that_is_not_a_permutation_of_0_to_n_minus_1():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert run_op("Transpose", [x], {"perm": [2, 0, 1]}).shape == (4, 2, 3)
    for perm in ([0, -2, 1], [0, 1, 1], [0, 1]):          # numpy would take -2 (= 1) silently
        with pytest.raises(ExecutionError, match=r"Transpose: perm must hold each axis of \[0, 2\] once"):
            run_op("Transpose", [x], {"perm": perm})


@pytest.mark.parametrize("op_type", ["ArgMin", "ArgMax"])
def test_arg_reductions_refuse_an_axis_outside_minus_r_to_r_minus_1(op_type):
    x = np.float32([[1, 3], [2, 0]])
    assert run_op(op_type, [x], {"axis": -2, "keepdims": 0}).shape == (2,)
    with pytest.raises(ExecutionError, match=f"{op_type}: axis 2 is outside"):
        run_op(op_type, [x], {"axis": 2})
    with pytest.raises(ExecutionError, match=f"{op_type}: axis -1 is outside .* rank 0"):   # a 0-d input has none
        run_op(op_type, [np.float32(5.0)], {"axis": -1, "keepdims": 0})


def test_reshape_refuses_sizes_below_minus_one_and_a_second_minus_one():
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    assert run_op("Reshape", [x, np.int64([-1, 4])]).shape == (3, 4)
    assert run_op("Reshape", [x, np.int64([0, -1])]).shape == (2, 6)     # 0 copies the input's size
    for shape in ([-3, 4], [-1, -1]):                                    # numpy would take [-3, 4] as [3, 4]
        with pytest.raises(ExecutionError, match=r"Reshape: shape may hold sizes >= 0 and one -1"):
            run_op("Reshape", [x, np.int64(shape)])
    with pytest.raises(ExecutionError, match="allowzero=1 a shape cannot hold both 0 and -1"):
        run_op("Reshape", [x, np.int64([0, -1])], {"allowzero": 1}, opset=14)
