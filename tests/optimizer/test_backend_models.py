"""Our default pipeline over a fixed sample of ONNX's own backend node-test models (the installed
onnx's ``collect_testcases``, as the reference executor's corpus measure loads them): outputs
must stay equal on onnxruntime and no pass may fail (the full sweep is the same loop over all)."""
from __future__ import annotations

import numpy as np
import pytest

from conformance.bench.corpus import _feeds, load_cases
from converters.optimizer import optimize

from .helpers import run_ort

CASES = load_cases()
SAMPLE = sorted(CASES, key=lambda c: c.name)[::23]


def test_the_sample_is_not_empty():
    assert len(SAMPLE) >= 40, f"only {len(SAMPLE)} of {len(CASES)} node-test models sampled"


@pytest.mark.parametrize("case", SAMPLE, ids=[c.name for c in SAMPLE])
def test_backend_node_model_unchanged_in_meaning(case):
    model = case.model
    inputs, _ = case.data_sets[0]
    feeds = _feeds(case, inputs)
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
        if a.dtype == np.float16:       # a rewrite may round once more or less: one fp16 ulp at 0.5 is 2.4e-4
            np.testing.assert_allclose(b, a, rtol=2e-3, atol=1e-3)
        elif a.dtype.kind in "fc":
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(b, a)
