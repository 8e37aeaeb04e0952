"""Source-vs-ONNX localization (conformance.source_layers + converters.intermediates).

Deliberately broken conversions -- a BatchNorm epsilon edited in a converted torch CNN, two
gate blocks swapped in a converted LSTM's weights -- must read as the converter's failure
(the reference executor and onnxruntime agree with each other, not with torch) and the report
must name the BatchNorm module and the LSTM. Small models, torch in-process.
"""
from __future__ import annotations

import io

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from conformance.source_layers import (SourceDivergence, aligned, first_divergent_source_layer, module_groups,
                                     scope_candidates)
from conformance.cases import Built

torch = pytest.importorskip("torch")
nn = torch.nn


# ------------------------------------------------------------------------------ helpers
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)           # right after a conv: exporters fold it into conv1
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.bn2 = nn.BatchNorm2d(8)           # after a ReLU: stays a BatchNormalization node
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.bn2(self.relu2(self.conv2(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def small_cnn() -> Built:
    from suites.architectures.torch_models import randomize_batchnorm
    torch.manual_seed(0)
    model = SmallCNN()
    randomize_batchnorm(model, 0)
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 12, 12)).astype(np.float32)
    return Built(model=model, inputs=[x], input_names=["image"], output_names=["logits"])


def small_lstm() -> Built:
    from suites.architectures.torch_models import build_rnn
    return build_rnn({"cell": "lstm", "input_size": 6, "hidden": 8, "layers": 1, "batch": 2, "seq": 5,
                      "dynamic": False}, seed=3)


def export(built: Built, dynamo: bool = False) -> onnx.ModelProto:
    args = tuple(torch.from_numpy(a) for a in built.inputs)
    if dynamo:
        program = torch.onnx.export(built.model, args, input_names=built.input_names,
                                    output_names=built.output_names, opset_version=18, dynamo=True)
        return program.model_proto
    f = io.BytesIO()
    torch.onnx.export(built.model, args, f, input_names=built.input_names, output_names=built.output_names,
                      opset_version=17, dynamo=False)
    return onnx.load_from_string(f.getvalue())


def source_outputs(built: Built) -> list[np.ndarray]:
    with torch.no_grad():
        out = built.model(*[torch.from_numpy(a) for a in built.inputs])
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def run_reference(model, feeds):
    from conformance.reference.executor import ReferenceExecutor
    return ReferenceExecutor(model).run(None, feeds)


def run_onnxruntime(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def assert_converter_failure(model, built):
    """Reference and onnxruntime agree with each other and both disagree with torch."""
    feeds = dict(zip([i.name for i in model.graph.input], built.inputs))
    golden = source_outputs(built)
    ref, rt = run_reference(model, feeds), run_onnxruntime(model, feeds)
    np.testing.assert_allclose(ref[0], rt[0], rtol=1e-4, atol=1e-5)
    assert not np.allclose(ref[0], golden[0], rtol=1e-3, atol=1e-4)
    return feeds


def initializer_or_constant(model, name) -> tuple[np.ndarray, callable]:
    for init in model.graph.initializer:
        if init.name == name:
            def put(arr, init=init):
                init.CopyFrom(numpy_helper.from_array(arr, name))
            return numpy_helper.to_array(init), put
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output[0] == name:
            attr = node.attribute[0]
            def put(arr, attr=attr):
                attr.t.CopyFrom(numpy_helper.from_array(arr))
            return numpy_helper.to_array(attr.t), put
    raise KeyError(name)


# ------------------------------------------------------------------------------ BatchNorm epsilon
@pytest.mark.parametrize("dynamo", [False, True], ids=["torch-script", "torch-dynamo"])
def test_batchnorm_epsilon_edit_is_named(dynamo):
    from converters.intermediates import source_intermediates
    built = small_cnn()
    model = export(built, dynamo=dynamo)
    intermediates = source_intermediates(built)
    feeds = dict(zip([i.name for i in model.graph.input], built.inputs))
    # the faithful conversion: nothing to localize (no false positive from the folded bn1)
    assert first_divergent_source_layer(model, feeds, intermediates) is None

    bns = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    assert len(bns) == 1, "bn2 (after a ReLU) should survive export as the only BatchNormalization"
    eps = [a for a in bns[0].attribute if a.name == "epsilon"]
    if eps:
        eps[0].f = 0.75
    else:
        bns[0].attribute.append(helper.make_attribute("epsilon", 0.75))
    feeds = assert_converter_failure(model, built)

    found = first_divergent_source_layer(model, feeds, intermediates)
    assert isinstance(found, SourceDivergence)
    assert found.module == "bn2"
    assert found.agreeing_before >= 3          # conv1 (folded bn1), relu1, conv2, relu2 agree
    assert found.source_stats["std"] != pytest.approx(found.onnx_stats["std"], rel=1e-3)
    assert "bn2" in str(found) and "max_abs" in str(found)


# ------------------------------------------------------------------------------ LSTM gates
def test_lstm_gate_swap_is_named():
    from converters.intermediates import source_intermediates
    built = small_lstm()
    model = export(built)
    intermediates = source_intermediates(built)
    feeds = dict(zip([i.name for i in model.graph.input], built.inputs))
    assert first_divergent_source_layer(model, feeds, intermediates) is None

    lstm = [n for n in model.graph.node if n.op_type == "LSTM"]
    assert len(lstm) == 1
    hidden = 8
    # ONNX gate order is i, o, f, c: swap the forget (2) and cell (3) blocks in W, R and B
    for position in (1, 2):
        array, put = initializer_or_constant(model, lstm[0].input[position])
        swapped = array.copy()
        f, c = slice(2 * hidden, 3 * hidden), slice(3 * hidden, 4 * hidden)
        swapped[:, f], swapped[:, c] = array[:, c], array[:, f]
        put(swapped)
    feeds = assert_converter_failure(model, built)

    found = first_divergent_source_layer(model, feeds, intermediates)
    assert isinstance(found, SourceDivergence)
    assert found.module == "rnn"
    assert any("LSTM" in n for n in found.onnx_nodes)
    assert found.max_abs > 1e-2


# ------------------------------------------------------------------------------ name mapping
def test_scope_candidates_per_exporter():
    script = helper.make_node("Conv", ["x", "w"], ["y"], name="/layer1/layer1.0/conv1/Conv")
    assert scope_candidates(script)[0] == "layer1.0.conv1"
    nested = helper.make_node("Conv", ["x", "w"], ["y"], name="/features/features.10/conv/conv.3/Conv")
    assert scope_candidates(nested)[0] == "features.10.conv.3"
    second_call = helper.make_node("Relu", ["x"], ["y"], name="/layer1/layer1.0/relu_1/Relu")
    groups = module_groups(helper.make_graph([second_call], "g", [], []), {"layer1.0.relu": [], "layer1": []})
    assert set(groups) == {"layer1.0.relu", "layer1"}

    dynamo = helper.make_node("Conv", ["x", "w"], ["y"], name="node_Conv_3")
    dynamo.metadata_props.add(key="pkg.torch.onnx.name_scopes",
                              value="['', 'layer1', 'layer1.0', 'layer1.0.bn1', '_native_batch_norm_legit_no_training']")
    assert scope_candidates(dynamo)[:3] == ["layer1.0.bn1", "layer1.0", "layer1"]

    tf = helper.make_node("Mul", ["x", "s"], ["y"], name="mobilenetv2_1/bn_Conv1_1/batchnorm/mul_1")
    groups = module_groups(helper.make_graph([tf], "g", [], []), {"bn_Conv1": [], "Conv1": []})
    assert list(groups) == ["bn_Conv1"]

    paddle = helper.make_node("Conv", ["x", "w"], ["p2o.pd_op.conv2d.0.0"], name="Conv.0")
    assert scope_candidates(paddle) == []


def test_nhwc_source_compared_to_nchw_onnx_value():
    nchw = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    nhwc = nchw.transpose(0, 2, 3, 1)
    views = list(aligned(nchw, nhwc))
    assert any(np.array_equal(v, nhwc) and layout == "transpose(0, 2, 3, 1)" for v, layout in views)
    # ONNX LSTM's Y has a num_directions axis of size 1 the source output lacks
    y = np.ones((5, 1, 2, 8), np.float32)
    assert [layout for _, layout in aligned(y, np.ones((5, 2, 8), np.float32))] == ["reshape (5, 1, 2, 8)->(5, 2, 8)"]


def test_keras_layer_divergence_found_through_a_transpose():
    """A tf2onnx-like graph computing in NCHW, named after Keras layers, one layer broken."""
    x = np.random.default_rng(1).standard_normal((1, 4, 4, 3)).astype(np.float32)   # NHWC source input
    scale = np.array([1.0, 2.0, 3.0], np.float32)
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2], name="model_1/conv_1/transpose"),
        helper.make_node("Relu", ["t"], ["r"], name="model_1/act_1/Relu"),
        helper.make_node("Mul", ["r", "s"], ["m"], name="model_1/scale_1/mul"),
        helper.make_node("Transpose", ["m"], ["y"], perm=[0, 2, 3, 1], name="model_1/out_1/transpose"),
    ]
    s = numpy_helper.from_array(np.array([1.0, 2.0, 3.5], np.float32).reshape(1, 3, 1, 1), "s")   # 3.5: the bug
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, x.shape)], [s])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    relu = np.maximum(x, 0)
    intermediates = {"conv": [x], "act": [relu], "scale": [relu * scale], "out": [relu * scale]}
    found = first_divergent_source_layer(model, {"x": x}, intermediates)
    assert found is not None and found.module == "scale" and found.layout == "transpose(0, 2, 3, 1)"
    assert found.agreeing_before == 2


# ------------------------------------------------------------------------------ paddle2onnx
PADDLE_SCRIPT = r'''
import json, sys, tempfile
import numpy as np, onnx, paddle, paddle2onnx
from paddle import nn
from conformance.source_layers import first_divergent_source_layer
from conformance.cases import Built
from converters.intermediates import source_intermediates
from suites.architectures.paddle_models import randomize_batchnorm

paddle.seed(0)
model = nn.Sequential(nn.Conv2D(3, 8, 3, padding=1), nn.BatchNorm2D(8), nn.ReLU(),
                      nn.Conv2D(8, 8, 3, padding=1), nn.BatchNorm2D(8), nn.ReLU())
randomize_batchnorm(model, 0)
model.eval()
x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
built = Built(model=model, inputs=[x], input_names=["image"])
d = tempfile.mkdtemp()
paddle.jit.save(model, d + "/m", input_spec=[paddle.static.InputSpec([1, 3, 8, 8], "float32", "image")])
paddle2onnx.export(d + "/m.json", d + "/m.pdiparams", save_file=d + "/m.onnx", opset_version=17)
m = onnx.load(d + "/m.onnx")
feeds = {m.graph.input[0].name: x}
inter = source_intermediates(built)
clean = first_divergent_source_layer(m, feeds, inter)
bns = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
[a for a in bns[1].attribute if a.name == "epsilon"][0].f = 0.75
found = first_divergent_source_layer(m, feeds, inter)
print("RESULT " + json.dumps({"clean": clean is None, "module": found and found.module,
                              "value": found and found.onnx_value}))
'''


def test_paddle2onnx_batchnorm_epsilon_edit_is_named_by_call_order():
    """paddle2onnx keeps no layer names; the call-order pairing still names the second BN.
    Run in a subprocess: Paddle must never share a process with TensorFlow."""
    import importlib.util
    import subprocess
    import sys
    from pathlib import Path
    if importlib.util.find_spec("paddle") is None or importlib.util.find_spec("paddle2onnx") is None:
        pytest.skip("paddle / paddle2onnx not installed")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", PADDLE_SCRIPT], cwd=root, capture_output=True, text=True,
                          timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(root)})
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    assert lines, proc.stderr[-2000:]
    import json
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["clean"] is True
    assert result["module"] == "4"                     # nn.Sequential index of the second BatchNorm2D
    assert result["value"].startswith("p2o.pd_op.batch_norm")


def test_output_with_wrong_size_is_a_shape_divergence():
    """paddle2onnx-style bug: a 2-layer RNN's final state carries one layer instead of two."""
    x = np.random.default_rng(2).standard_normal((4, 1, 3)).astype(np.float32)
    nodes = [helper.make_node("Relu", ["x"], ["out"], name="/rnn/Relu"),
             helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["h"], name="/rnn/Slice")]
    inits = [numpy_helper.from_array(np.array(v, np.int64), n)
             for n, v in (("starts", [2, 0]), ("ends", [4, 2]), ("axes", [0, 2]))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("h", onnx.TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    found = first_divergent_source_layer(model, {"x": x}, {"rnn": [np.maximum(x, 0), x[:, :, :2]]})
    assert found is not None and found.module == "rnn" and found.output_index == 1
    assert found.onnx_shape == (2, 1, 2) and found.source_shape == (4, 1, 2)
    assert found.layout.startswith("shape")


# ------------------------------------------------------------------------------ below the intermediate tolerance
def test_a_small_systematic_change_is_named_against_the_noise_floor():
    """A BatchNorm epsilon of 1e-4 instead of 1e-5 moves bn2's output by ~5e-5 relative: inside
    the intermediate tolerance (rtol 1e-4), far outside 16 x the float32 noise floor. The floor
    pass names bn2 and says why; on the faithful conversion it finds nothing."""
    from converters.intermediates import source_intermediates
    built = small_cnn()
    model = export(built)
    intermediates = source_intermediates(built)
    feeds = dict(zip([i.name for i in model.graph.input], built.inputs))
    assert first_divergent_source_layer(model, feeds, intermediates, noise_multiple=16) is None

    (bn,) = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    eps = [a for a in bn.attribute if a.name == "epsilon"]
    if eps:
        eps[0].f = 1e-4
    else:
        bn.attribute.append(helper.make_attribute("epsilon", 1e-4))
    assert first_divergent_source_layer(model, feeds, intermediates) is None       # the tolerance alone misses it
    found = first_divergent_source_layer(model, feeds, intermediates, noise_multiple=16)
    assert isinstance(found, SourceDivergence) and found.module == "bn2"
    assert found.noise_multiple == 16 and found.max_abs > 16 * found.noise_floor
    assert "noise floor" in str(found)
