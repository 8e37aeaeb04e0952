"""export-cases writes ONNX backend-test layout that onnx's own loaders read back."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from conformance.cli import main


def test_export_cases_writes_backend_test_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["export-cases", str(tmp_path / "out"), "--suite", "tests.fixtures.mini_suite",
                 "-k", "model/mlp/torch/*"])
    assert code == 0
    (case,) = list((tmp_path / "out").iterdir())
    assert case.name == "test_model_mlp_torch_torch-script_opset17_tiny"
    model = onnx.load(case / "model.onnx")
    onnx.checker.check_model(model)
    for data_set, batch in ((0, 2), (1, 5)):       # the dynamic-batch input set is exported too
        x = numpy_helper.to_array(onnx.load_tensor(case / f"test_data_set_{data_set}" / "input_0.pb"))
        y = numpy_helper.to_array(onnx.load_tensor(case / f"test_data_set_{data_set}" / "output_0.pb"))
        assert x.shape == (batch, 4) and y.shape == (batch, 3)
        import onnxruntime as ort
        got = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
        np.testing.assert_allclose(got, y, rtol=1e-5, atol=1e-5)
