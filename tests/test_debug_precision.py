"""``debug precision``: models with a planted float16 hazard (fine in float32, wrong in float16),
built here with onnx.helper, run through the real fp16 pass. They are judged on the reference
target, which computes every op in float16 as the spec says: onnxruntime's CPU provider runs
float16 ops it has no float16 kernel for in float32 (its own inserted Casts), which hides the
hazards (``test_onnxruntime_cpu_masks_float16_overflow``)."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conformance.cli import main
from conformance.debug_precision import Goal, ddmin, search, shortest_passing_prefix
from conformance.precision_attribution import attribute_error, cosine, sqnr_db

pytest.importorskip("onnxruntime")
F = TensorProto.FLOAT


def _model(nodes, inputs, outputs, inits=None, opset=17):
    graph = helper.make_graph(nodes, "planted", [helper.make_tensor_value_info(n, F, s) for n, s in inputs],
                              [helper.make_tensor_value_info(n, F, s) for n, s in outputs],
                              [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _axes():
    return {"axes": np.array([-1], np.int64)}


def sum_of_squares():
    """x / sqrt(sum(x*x)): 64 squares of values ~40 sum past 65504."""
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
             helper.make_node("ReduceSum", ["sq", "axes"], ["ss"], keepdims=1, name="sum_of_squares"),
             helper.make_node("Sqrt", ["ss"], ["norm"], name="norm"),
             helper.make_node("Div", ["x", "norm"], ["y"], name="normalize")]
    return _model(nodes, [("x", [2, 64])], [("y", [2, 64])], _axes()), "sum_of_squares", 40.0


def layer_norm():
    """A hand-written layer norm: (x - mean) / sqrt(mean((x - mean)^2) + eps); the Pow of
    deviations ~400 passes 65504."""
    nodes = [helper.make_node("ReduceMean", ["x"], ["mean"], axes=[-1], keepdims=1, name="mean"),
             helper.make_node("Sub", ["x", "mean"], ["d"], name="centre"),
             helper.make_node("Pow", ["d", "two"], ["d2"], name="square_pow"),
             helper.make_node("ReduceMean", ["d2"], ["var"], axes=[-1], keepdims=1, name="variance"),
             helper.make_node("Add", ["var", "eps"], ["var_eps"], name="add_eps"),
             helper.make_node("Sqrt", ["var_eps"], ["std"], name="std"),
             helper.make_node("Div", ["d", "std"], ["n"], name="scale"),
             helper.make_node("Mul", ["n", "gamma"], ["y"], name="gamma")]
    inits = {"two": np.array(2.0, np.float32), "eps": np.array(1e-5, np.float32),
             "gamma": np.linspace(0.5, 1.5, 32).astype(np.float32)}
    return _model(nodes, [("x", [4, 32])], [("y", [4, 32])], inits, opset=17), "square_pow", 400.0


def naive_softmax():
    """exp(x) / sum(exp(x)) without subtracting the max: exp of logits ~15 passes 65504."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["logits"], name="head"),
             helper.make_node("Exp", ["logits"], ["e"], name="exp"),
             helper.make_node("ReduceSum", ["e", "axes"], ["s"], keepdims=1, name="sum_exp"),
             helper.make_node("Div", ["e", "s"], ["y"], name="normalize")]
    w = np.random.default_rng(0).standard_normal((16, 10)).astype(np.float32)
    return _model(nodes, [("x", [4, 16])], [("y", [4, 10])], {"w": w, **_axes()}), "exp", 2.5


def fp16_safe():
    """A small MLP with modest values: fine in float16."""
    rng = np.random.default_rng(1)
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc2")]
    inits = {"w1": (rng.standard_normal((16, 32)) * 0.2).astype(np.float32), "b1": np.zeros(32, np.float32),
             "w2": (rng.standard_normal((32, 10)) * 0.2).astype(np.float32), "b2": np.zeros(10, np.float32)}
    return _model(nodes, [("x", [4, 16])], [("y", [4, 10])], inits), None, 1.0


def _feeds(model, scale, seed=0):
    rng = np.random.default_rng(seed)
    return {i.name: (rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]) * scale
                     ).astype(np.float32) for i in model.graph.input}


def _run(model, feeds):
    from conformance.reference import ReferenceExecutor
    return ReferenceExecutor(model).run(None, feeds)


@pytest.mark.parametrize("build", [sum_of_squares, layer_norm, naive_softmax], ids=lambda f: f.__name__)
def test_planted_hazard_is_kept_and_the_mixed_model_passes(build):
    model, planted, scale = build()
    feeds = _feeds(model, scale)
    result = search(model, feeds, "fp16", target="reference")
    kept = [k.name for k in result.kept]
    assert not result.reduced_verdict.passed          # the planted hazard breaks plain float16
    assert planted in kept and len(kept) <= 4, kept
    assert result.passed
    # the mixed model, run on its own, meets the default goal (cosine 0.999) and is half float16
    (out,), (golden,) = _run(result.model, feeds), _run(model, feeds)
    assert np.all(np.isfinite(out)) and cosine(out, golden) >= 0.999
    types = {t.data_type for t in result.model.graph.initializer}
    assert TensorProto.FLOAT16 in types or any(n.op_type == "Cast" for n in result.model.graph.node)
    planted_reason = next(k.reason for k in result.kept if k.name == planted)
    assert planted_reason.startswith("overflow")


def test_fp16_safe_model_keeps_nothing():
    model, _, scale = fp16_safe()
    result = search(model, _feeds(model, scale), "fp16", target="reference")
    assert result.kept == [] and result.passed and result.trials == 1 and result.hazards == []


def test_onnxruntime_cpu_masks_float16_overflow():
    """onnxruntime (CPU) passes the all-float16 model: the overflow is reported as masked."""
    model, planted, scale = sum_of_squares()
    result = search(model, _feeds(model, scale), "fp16", target="onnxruntime")
    assert result.kept == [] and result.passed
    assert planted in [h.name for h in result.masked_hazards]


def test_elementwise_goal_is_applied():
    model, _, scale = fp16_safe()
    strict = search(model, _feeds(model, scale), "fp16", goal=Goal(tolerance=_tol(0.0, 0.0)), max_trials=1)
    assert not strict.passed and strict.budget_exhausted and strict.verdict.max_abs > 0


def _tol(rtol, atol):
    from conformance.tolerance import Tolerance
    return Tolerance(rtol=rtol, atol=atol)


def test_bisection_and_ddmin_find_the_needed_nodes():
    needed = {"b", "e"}
    passes = lambda keep: needed <= set(keep)        # noqa: E731
    ranked = ["a", "b", "c", "d", "e", "f"]
    k = shortest_passing_prefix([], ranked, passes)
    assert k == 5
    assert sorted(ddmin(ranked[:k], passes)) == ["b", "e"]


def test_cli_exit_codes_and_json(tmp_path, capsys):
    model, planted, scale = layer_norm()
    path, inputs, out = tmp_path / "ln.onnx", tmp_path / "in.npz", tmp_path / "mixed.onnx"
    onnx.save(model, path)
    np.savez(inputs, **_feeds(model, scale))
    assert main(["debug", "precision", str(path), "--mode", "fp16", "--inputs", str(inputs),
                 "--target", "reference", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert planted in report["kept"] and report["passed"] and report["model"] == str(out)
    assert set(report) >= {"kept", "passed", "max_abs", "max_rel", "model"}
    onnx.checker.check_model(onnx.load(out))
    # no passing set within one trial: exit 1, the best found reported
    assert main(["debug", "precision", str(path), "--inputs", str(inputs), "--out", str(out),
                 "--target", "reference", "--max-trials", "1"]) == 1
    assert "FAIL (best found)" in capsys.readouterr().out
    # bad input: exit 2
    assert main(["debug", "precision", str(tmp_path / "missing.onnx")]) == 2
    assert main(["debug", "precision", str(path), "--metric", "cosine:2"]) == 2


def test_int8_attribution_ranks_the_planted_outlier_first():
    """A planted INT8 hazard: one weight of fc2 100 times the others, quantized per tensor, leaves
    the rest of fc2's weights a few levels: fc2's output is the worst tensor and fc2 adds most."""
    from converters.optimizer.precision import quantize_int8
    model, feeds = _outlier_model()
    quant = quantize_int8(model, calibration=[feeds], per_channel=False)
    rows = {r.name: r for r in attribute_error(model, quant, feeds)}
    assert set(rows) == {"h", "r", "y"} - {"h"}           # the quantizer folds the Relu into r's Q/DQ pair
    assert rows["y"].sqnr_db < rows["r"].sqnr_db and rows["y"].own_db < rows["r"].own_db
    plain = {r.name: r for r in attribute_error(fp16_safe()[0], quantize_int8(fp16_safe()[0], calibration=[feeds],
                                                                            per_channel=False), feeds)}
    assert plain["y"].sqnr_db > rows["y"].sqnr_db + 6       # the outlier costs fc2 more than a bit


def test_sqnr_and_cosine():
    x = np.linspace(-1, 1, 101)          # 0 in the middle: 100 elements get noise 0.01
    assert sqnr_db(x, x) == np.inf
    assert abs(sqnr_db(x + 0.01 * np.sign(x), x) - 10 * np.log10(np.sum(x ** 2) / (100 * 1e-4))) < 1e-9
    assert sqnr_db(np.full_like(x, np.inf), x) == -np.inf
    assert abs(cosine(2 * x, x) - 1) < 1e-12 and abs(cosine(-x, x) + 1) < 1e-12


def _outlier_model():
    model, _, scale = fp16_safe()
    w2 = next(t for t in model.graph.initializer if t.name == "w2")
    outlier = numpy_helper.to_array(w2).copy()
    outlier[0, 0] = 20.0
    w2.CopyFrom(numpy_helper.from_array(outlier, "w2"))
    return model, _feeds(model, scale)


def test_int8_search_excludes_the_lossy_node_from_quantization():
    model, feeds = _outlier_model()
    for node in model.graph.node:                 # torch.onnx's naming: the source layer is readable
        node.name = f"/{node.name}/{node.op_type}"
    result = search(model, feeds, "int8", goal=Goal(cosine_min=0.99999))
    assert not result.reduced_verdict.passed and result.passed
    assert [(k.name, k.source_layer) for k in result.kept] == [("/fc2/Gemm", "fc2")]
    quantized = {n.input[0] for n in result.model.graph.node if n.op_type == "QuantizeLinear"}
    assert "x" in quantized                                  # fc1 is still quantized
    assert result.verdict.cosine > result.reduced_verdict.cosine


def test_cli_attribution_json(tmp_path, capsys):
    from converters.optimizer.precision import quantize_int8
    model, feeds = _outlier_model()
    paths = {k: str(tmp_path / f"{k}.onnx") for k in ("float", "int8")}
    onnx.save(model, paths["float"])
    onnx.save(quantize_int8(model, calibration=[feeds], per_channel=False), paths["int8"])
    np.savez(tmp_path / "in.npz", **feeds)
    assert main(["debug", "attribution", paths["float"], paths["int8"], "--inputs", str(tmp_path / "in.npz"),
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["tensors"]
    assert [r["name"] for r in rows] == ["y", "r"] and rows[0]["node"] == "fc2"


def test_check_report_carries_the_int8_attribution(tmp_path, capsys):
    """`conformance check QUANT.onnx --float-model FLOAT.onnx`: the report ranks the quantized
    model's tensors against the float model, in the JSON and in the text."""
    from converters.optimizer.precision import quantize_int8
    model, feeds = _outlier_model()
    paths = {k: str(tmp_path / f"{k}.onnx") for k in ("float", "int8")}
    onnx.save(model, paths["float"])
    onnx.save(quantize_int8(model, calibration=[feeds], per_channel=False), paths["int8"])
    np.savez(tmp_path / "in.npz", **feeds)
    args = ["check", paths["int8"], "--target", "onnxruntime", "--inputs", str(tmp_path / "in.npz"),
            "--float-model", paths["float"]]
    main(args + ["--json"])
    rows = json.loads(capsys.readouterr().out)["attribution"]
    assert [r["name"] for r in rows] == ["y", "r"] and rows[0]["node"] == "fc2"
    main(args)
    text = capsys.readouterr().out
    assert "quantization error per tensor" in text and "node fc2 (Gemm)" in text
    main(["check", paths["int8"], "--target", "onnxruntime", "--json"])      # without it: no attribution
    assert json.loads(capsys.readouterr().out)["attribution"] == []
