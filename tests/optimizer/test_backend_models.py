"""Our default pipeline over a fixed sample of ONNX's own backend node-test models: outputs must
stay equal on onnxruntime and no pass may fail (the full sweep is the same loop over all of them)."""
from __future__ import annotations

import glob
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from converters.optimizer import optimize

from .helpers import run_ort

ROOT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
SAMPLE = sorted(glob.glob(os.path.join(ROOT, "*")))[::23]


@pytest.mark.parametrize("folder", SAMPLE, ids=[os.path.basename(p) for p in SAMPLE])
def test_backend_node_model_unchanged_in_meaning(folder):
    model = onnx.load(os.path.join(folder, "model.onnx"))
    inputs = [numpy_helper.to_array(onnx.load_tensor(p))
              for p in sorted(glob.glob(os.path.join(folder, "test_data_set_0", "input_*.pb")))]
    names = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    feeds = dict(zip(names, inputs))
    try:
        before = run_ort(model, feeds)
    except Exception:
        pytest.skip("onnxruntime cannot run the original")
    out, report = optimize(model)
    assert not [r.error for r in report.records if r.error]
    assert [o.name for o in out.graph.output] == [o.name for o in model.graph.output]
    for a, b in zip(before, run_ort(out, feeds)):
        if isinstance(a, list):
            continue
        assert a.shape == b.shape and a.dtype == b.dtype
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(b, a)
