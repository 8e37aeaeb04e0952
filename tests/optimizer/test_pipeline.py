import numpy as np
import onnx
import pytest
from onnx import helper

from conformance.cli import main
from converters import get_chain_steps
from converters.optimizer import REWRITE_PASSES, RewritePass, optimize

from .helpers import check, make_model, ops

rng = np.random.default_rng(1)


def _nhwc_cnn():
    """The shape tf2onnx leaves: NHWC input, Transpose, Conv+BN, Pad, Relu, pooling, flatten, MatMul+Add."""
    inits = {"w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
             "s": rng.uniform(0.5, 2, 4).astype(np.float32), "bb": rng.standard_normal(4).astype(np.float32),
             "mu": rng.standard_normal(4).astype(np.float32), "var": rng.uniform(0.5, 2, 4).astype(np.float32),
             "p": np.array([0, 0, 1, 1, 0, 0, 1, 1]), "fw": rng.standard_normal((4, 2)).astype(np.float32),
             "fb": rng.standard_normal(2).astype(np.float32), "one": np.float32(1.0)}
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 3, 1, 2]),
             helper.make_node("Pad", ["xt", "p"], ["xp"]),
             helper.make_node("Conv", ["xp", "w"], ["c"]),
             helper.make_node("BatchNormalization", ["c", "s", "bb", "mu", "var"], ["bn"]),
             helper.make_node("Relu", ["bn"], ["r"]), helper.make_node("Mul", ["r", "one"], ["r1"]),
             helper.make_node("Transpose", ["r1"], ["rt"], perm=[0, 2, 3, 1]),
             helper.make_node("ReduceMean", ["rt"], ["gap"], axes=[1, 2], keepdims=0),
             helper.make_node("Identity", ["gap"], ["gi"]),
             helper.make_node("MatMul", ["gi", "fw"], ["mm"]), helper.make_node("Add", ["mm", "fb"], ["y"])]
    return make_model(nodes, [("x", [2, 6, 6, 3])], [("y", [2, 2])], inits)


def test_default_pipeline_reduces_and_is_idempotent():
    out, report = check(_nhwc_cnn())
    assert ops(out) == {"Transpose": 1, "Conv": 1, "Relu": 1, "ReduceMean": 1, "Gemm": 1}
    assert report.nodes_before == 11 and report.nodes_after == 5
    assert any(r.name == "fuse-bn" and r.nodes_after < r.nodes_before for r in report.records)


def test_unknown_pass_name_is_an_error():
    with pytest.raises(KeyError):
        optimize(_nhwc_cnn(), "fold,nope")


def test_every_pass_alone_keeps_outputs():
    for name in REWRITE_PASSES:
        check(_nhwc_cnn(), name)


def test_broken_pass_is_skipped_not_fatal(monkeypatch):
    def boom(g):
        g.nodes.clear()
        raise RuntimeError("boom")
    monkeypatch.setitem(REWRITE_PASSES, "boom", RewritePass("boom", boom, "fails"))
    out, report = optimize(_nhwc_cnn(), "boom,fuse-bn")
    assert [r.error for r in report.records if r.name == "boom"][0].startswith("RuntimeError")
    assert len(out.graph.node) == 10


def test_other_domains_are_left_alone():
    m = _nhwc_cnn()
    m.graph.node[4].domain = "com.example"      # the Relu
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    out, _ = optimize(m)
    assert [n for n in out.graph.node if n.domain == "com.example"][0].op_type == "Relu"
    assert list(out.opset_import) == list(m.opset_import)


def test_registered_model_pass_and_cli(tmp_path):
    (step,) = get_chain_steps("torch_script+optimize")
    out = step.apply(_nhwc_cnn())
    assert len(out.graph.node) == 5
    src, dst = tmp_path / "in.onnx", tmp_path / "out.onnx"
    onnx.save(_nhwc_cnn(), src)
    assert main(["optimize", str(src), str(dst), "--passes", "fuse-bn,dce"]) == 0
    assert "BatchNormalization" not in ops(onnx.load(dst))
    assert len(onnx.load(dst).graph.node) == 10
    assert main(["optimize", str(src), str(dst), "--passes", "nope"]) == 2
