"""Fast checks of the operator spec table (suites/operators/specs.py): breadth per framework,
unique ids, real ONNX op names, deterministic in-domain samples, builders that exist.
Imports no framework (the builder modules are read with ast, not imported)."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx.defs
import pytest

from conformance.cases import CaseSpec
from suites.operators import samples, specs

OPS_DIR = Path(specs.__file__).resolve().parent
BUILDER_FILES = {"torch": "torch_ops.py", "tensorflow": "tf_ops.py", "paddle": "paddle_ops.py"}
CASES = specs.case_specs()


def test_breadth_per_framework():
    counts = specs.operators_per_framework()
    assert counts["torch"] >= 120, counts
    assert counts["tensorflow"] >= 90, counts
    assert counts["paddle"] >= 80, counts


def test_case_budget():
    # conversion dominates the suite's time: keep the total in check (see the budget)
    per_fw = Counter(c.framework for c in CASES)
    # TensorFlow's op surface (specs_tensorflow) holds ~1,200 cases: a full -n 1 run of them is ~6 min cold
    assert sum(per_fw.values()) <= 2800, per_fw
    dynamo = [c for c in CASES if c.converters and "torch-dynamo" in c.converters]
    assert 10 <= len(dynamo) <= 60, len(dynamo)
    assert all(c.converters in (specs.TORCH_SCRIPT_ONLY, specs.TORCH_BOTH) for c in CASES if c.framework == "torch")
    assert all(c.converters is None for c in CASES if c.framework != "torch")


def test_ids_unique_and_shaped():
    ids = [f"{c.base_id}/{c.variant}" for c in CASES]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, dupes
    names = [s.name for s in specs.TABLE]
    assert len(names) == len(set(names))
    for c in CASES:
        assert c.kind == "op" and c.op == c.name
        assert c.variant and "/" not in c.variant and " " not in c.variant, c.variant
    case_id = next(c for c in CASES if c.name == "conv2d" and c.variant == "stride2-pad1-groups2" and c.framework == "torch")
    assert case_id.case_id("torch-script", 17, "onnxruntime") == \
        "op/conv2d/torch/torch-script/opset17/onnxruntime/stride2-pad1-groups2"


def test_every_spec_names_real_onnx_ops():
    for s in specs.TABLE:
        assert s.onnx, s.name
        for name in s.onnx:
            assert onnx.defs.has(name), f"{s.name}: {name} is not an ONNX op"


def test_required_coverage():
    names = {s.name for s in specs.TABLE}
    required = {"gelu", "hardswish", "mish", "silu", "prelu", "softplus", "clip", "reduce_sum", "matmul", "linear",
                "einsum", "conv1d", "conv2d", "conv3d", "depthwise_conv2d", "conv_transpose2d", "max_pool2d",
                "avg_pool2d", "adaptive_avg_pool2d", "batch_norm2d", "layer_norm", "instance_norm2d", "group_norm",
                "softmax", "log_softmax", "reshape", "transpose", "concat", "split", "slice", "gather",
                "scatter_elements", "pad", "tile", "expand", "squeeze", "unsqueeze", "flatten", "where", "cumsum",
                "topk", "argmax", "argmin", "interpolate_nearest", "interpolate_bilinear", "interpolate_bicubic",
                "cast", "lstm", "gru", "rnn", "lstm_cell", "embedding", "scaled_dot_product_attention",
                "multihead_attention", "equal", "greater"}
    assert required <= names, required - names
    gelu = {c.variant for c in CASES if c.name == "gelu"}
    assert {"exact", "tanh"} <= gelu
    assert any(c.variant == "negative-step" for c in CASES if c.name == "slice")
    align = {c.params["attrs"].get("align_corners") for c in CASES if c.name.startswith("interpolate")}
    assert {True, False} <= align
    mha = {c.framework for c in CASES if c.name == "multihead_attention"}
    assert mha == {"torch", "tensorflow", "paddle"}


def test_dtypes_and_shapes_covered():
    dtypes, shapes = set(), []
    for c in CASES:
        for i in c.params["inputs"]:
            dtypes.add(i["dtype"])
            shapes.append(tuple(i["shape"]))
    assert {"float32", "float16", "int32", "int64", "bool"} <= dtypes
    assert () in shapes                                   # scalars
    assert any(0 in s for s in shapes)                    # empty tensors
    assert any(1 in s for s in shapes)                    # size-1 (broadcast) dims
    assert any(d % 2 == 1 and d > 1 for s in shapes for d in s)   # odd sizes


def test_params_json_roundtrip():
    for c in CASES:
        data = json.loads(json.dumps(c.to_dict()))
        assert CaseSpec.from_dict(data) == c


def test_samples_deterministic_and_in_domain():
    for c in CASES[::7]:
        a = samples.generate(c.params["inputs"], c.seed)
        b = samples.generate(c.params["inputs"], c.seed)
        assert len(a) == len(b) == len(c.params["inputs"])
        for x, y, spec in zip(a, b, c.params["inputs"]):
            assert isinstance(x, np.ndarray)
            np.testing.assert_array_equal(x, y)
            assert x.dtype == np.dtype(spec["dtype"]) and list(x.shape) == spec["shape"]
    for name in ("log", "sqrt", "rsqrt"):
        (x,) = samples.generate(specs.spec_by_name()[name].inputs, 123)
        assert (x > 0).all(), name
    x = samples.draw(np.random.default_rng(0), {"shape": [200], "domain": "normal", "avoid": [0.0], "margin": 0.05})
    assert np.abs(x).min() >= 0.05 - 1e-7
    x = samples.draw(np.random.default_rng(0), {"shape": [300], "domain": "frac"})
    frac = np.abs(x - np.floor(x))
    assert (np.abs(frac - 0.5) > 0.05).all() and (frac > 0.1).all() and (frac < 0.9).all()
    x = samples.draw(np.random.default_rng(0), {"shape": [100], "domain": "grid"})
    np.testing.assert_array_equal(x * 2, np.round(x * 2))
    assert samples.generate([{"shape": [4], "domain": "normal"}], 1)[0].tolist() != \
        samples.generate([{"shape": [4], "domain": "normal"}], 2)[0].tolist()


def test_unique_index_is_unique_per_slice():
    idx = samples.draw(np.random.default_rng(3), {"shape": [3, 6], "dtype": "int64", "domain": "unique_index",
                                                 "axis": 0, "high": 4})
    assert idx.max() < 4 and idx.min() >= 0
    for col in idx.T:
        assert len(set(col.tolist())) == len(col)


def test_channels_last_moves_axis_1():
    (x,) = samples.generate([specs.X(2, 3, 5, 7)], 0, channels_last=True)
    assert x.shape == (2, 5, 7, 3)
    (y,) = samples.generate([specs.T(2, 3, 5, 7)], 0, channels_last=True)
    assert y.shape == (2, 3, 5, 7)


def _defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("framework", sorted(BUILDER_FILES))
def test_custom_builders_exist(framework):
    defined = _defined_functions(OPS_DIR / BUILDER_FILES[framework])
    assert "build" in defined
    wanted = {s.call(framework).custom for s in specs.TABLE
              if s.call(framework) is not None and s.call(framework).kind == "custom"}
    assert wanted <= defined, wanted - defined


def test_spec_table_imports_no_framework():
    code = ("import sys; import suites.operators.specs as s, suites.operators.samples, suites.operators.test_operators; "
            "s.case_specs(); bad = {'torch', 'tensorflow', 'paddle', 'keras'} & set(sys.modules); "
            "assert not bad, bad")
    root = Path(specs.__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=120)
