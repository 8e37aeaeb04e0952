"""Whole-model tolerances from float32's own noise (issue 21): a correct float32 engine checked
against another one's outputs passes; a planted bug still fails, its margin over the floor said;
the user's rtol/atol win; localisation compares with the float64 reference and names nodes only
where a value leaves its own noise floor."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP, helper, numpy_helper

from conformance.cases import CaseSpec, Conversion
from conformance.check import check_model
from conformance.divergent_node import FLOAT64_ORACLE, first_divergent_node, float64_values
from conformance.judge import agrees_with_source, judge
from conformance.noise_floor import (float64_truth, floor_yardstick, input_set_floors, measure_noise_floor,
                                     measured_noise_floors, value_floors)
from conformance.targets import get_target
from conformance.tolerance import DEFAULT_TOLERANCES, NOISE_MULTIPLE, noise_tolerance

from tests.test_localize import perturbed, sample_inputs, small_model  # noqa: F401  (fixture)

WIDTH, DEPTH = 1024, 16          # thousand-term dot products, sixteen layers deep


def deep_model(scale_layer: int | None = None, scale: float = 1.0) -> onnx.ModelProto:
    """A chain of DEPTH MatMuls of WIDTH-term dot products: float32 engines that sum in other
    orders land ~5e-5 apart on outputs of magnitude ~1 (the issue's ResNet-18 false alarm)."""
    rng = np.random.default_rng(0)
    nodes, inits, previous = [], [], "x"
    for i in range(DEPTH):
        w = (rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
        if i == scale_layer:
            w = w * np.float32(scale)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("MatMul", [previous, f"w{i}"], [f"m{i}"], name=f"matmul{i}"))
        previous = f"m{i}"
    graph = helper.make_graph(nodes, "deep", [helper.make_tensor_value_info("x", TP.FLOAT, [4, WIDTH])],
                              [helper.make_tensor_value_info(previous, TP.FLOAT, [4, WIDTH])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.fixture(scope="module")
def deep():
    model = deep_model()
    feeds = {"x": (np.random.default_rng(1).standard_normal((4, WIDTH)) * 10).astype(np.float32)}
    ort = get_target("onnxruntime")
    return model, feeds, ort.run(ort.prepare(model), feeds)


def test_a_correct_float32_engine_is_no_false_alarm_where_plain_1e5_is(deep):
    model, feeds, from_onnxruntime = deep
    plain = check_model(model, ["reference"], inputs=feeds, expected=from_onnxruntime, localize=False,
                        noise_multiple=0)
    assert plain.exit_code == 1, "the model no longer shows float32 noise above 1e-5: make it deeper"
    report = check_model(model, ["reference"], inputs=feeds, expected=from_onnxruntime, localize=False)
    assert report.exit_code == 0, report.text()
    (output,) = report.targets[0].outputs
    assert output.noise_floor > DEFAULT_TOLERANCES["float32"].atol / NOISE_MULTIPLE
    assert output.max_abs < NOISE_MULTIPLE * output.noise_floor
    assert "noise floor" in report.tolerance and "onnxruntime-basic" in report.tolerance


def test_a_planted_bug_fails_and_the_message_gives_error_floor_multiple_and_tolerance(deep):
    model, feeds, from_onnxruntime = deep
    buggy = deep_model(scale_layer=DEPTH // 2, scale=1.01)        # one weight off by 1%
    report = check_model(buggy, ["reference", "onnxruntime"], inputs=feeds, expected=from_onnxruntime,
                         localize=False)
    assert [t.status for t in report.targets] == ["failed", "failed"]
    message = report.targets[1].outputs[0].message
    assert "error/floor = " in message and f"{NOISE_MULTIPLE:g} x the float32 noise floor" in message
    assert "rtol=1e-05" in message
    output = report.targets[1].outputs[0]
    assert output.max_abs / output.noise_floor > NOISE_MULTIPLE


def test_the_users_rtol_and_atol_win_over_the_floor(deep):
    model, feeds, from_onnxruntime = deep
    report = check_model(model, ["reference"], inputs=feeds, expected=from_onnxruntime, localize=False, atol=1e-6)
    assert report.exit_code == 1 and report.tolerance == ""
    assert report.targets[0].outputs[0].noise_floor is None


def test_the_policy_widens_only_float32_and_keeps_the_dtype_floor():
    base = DEFAULT_TOLERANCES["float32"]
    assert noise_tolerance(np.float32, 0.0).atol == base.atol           # an exact computation
    assert noise_tolerance(np.float32, 1e-4, 16).atol == pytest.approx(1.6e-3)
    assert noise_tolerance(np.float32, 1e-4, 16).rtol == base.rtol
    assert noise_tolerance(np.float16, 1e-2) == DEFAULT_TOLERANCES["float16"]
    assert noise_tolerance(np.int64, 5.0).exact
    assert "16 x the float32 noise floor 0.0001" in noise_tolerance(np.float32, 1e-4, 16).describe()


def test_the_floor_is_measured_per_output_by_engines_that_are_not_the_truth(deep):
    model, feeds, _ = deep
    truth = float64_truth(model, feeds)
    noise = measure_noise_floor(model, feeds, truth, {"m15": np.dtype(np.float32)})
    assert noise.engines == ["reference float32", "onnxruntime-basic"]
    assert 0 < noise.floors["m15"] < 1e-3
    # a target is never its own yardstick
    assert "reference float32" not in value_floors(model, feeds, float64_values(model, feeds, rounded=False),
                                                   "reference").engines


def test_noise_alone_names_no_divergent_node_but_a_perturbed_op_is_found(deep, perturbed):  # noqa: F811
    model, feeds, _ = deep
    oracle, tolerances = floor_yardstick(model, feeds, "onnxruntime", lambda floor: noise_tolerance(np.float32, floor))
    assert first_divergent_node(model, feeds, "onnxruntime", tolerances, oracle=oracle) is None
    # plain 1e-5 would blame some MatMul for what is only float32 noise
    assert first_divergent_node(model, feeds, "onnxruntime", oracle=FLOAT64_ORACLE, check_repro=False) is not None
    found = first_divergent_node(model, feeds, perturbed("MatMul"), tolerances, oracle=oracle)
    assert found is not None and found.node_name == "matmul0"


def test_a_runner_case_judged_by_its_floor_is_localised_against_the_float64_reference(deep, perturbed):  # noqa: F811
    from conformance.diagnose import Diagnosed, Diagnoser, Failure
    model, feeds, from_onnxruntime = deep
    diagnoser = Diagnoser(sessions=None, pool=None, timeout=60)

    def localise(target: str, kind: str = "arch") -> Diagnosed:
        found = Diagnosed()
        failure = Failure(_arch_spec(kind), target, "torch-script", "key", _conversion(model, feeds, from_onnxruntime))
        diagnoser._localize(failure, "target", found)
        return found
    noise = localise("onnxruntime")
    assert noise.diagnosis.divergent_node is None
    assert f"agrees with {FLOAT64_ORACLE} within {NOISE_MULTIPLE:g} x its float32 noise floor" in noise.notes[0]
    bug = localise(perturbed("MatMul"))
    assert bug.diagnosis.divergent_node["node_name"] == "matmul0", bug.notes
    assert "each value within" in bug.notes[0]
    # a generated graph keeps its campaign tolerance, widened by the floor: the same node
    assert localise(perturbed("MatMul"), "fuzz").diagnosis.divergent_node["node_name"] == "matmul0"


def test_a_runtime_oracle_reports_the_initializers_a_divergent_node_reads(perturbed):  # noqa: F811
    # the "the oracle did not report values ['conv2d_3.w_0'] read by node #12 Conv"
    found = first_divergent_node(small_model(), sample_inputs(), perturbed("Add"), oracle="onnxruntime")
    assert found is not None and found.op_type == "Add" and "B" in found.inputs


def test_the_command_line_states_the_floor_and_can_turn_it_off(deep, tmp_path, capsys):
    from conformance.cli import main
    model, feeds, from_onnxruntime = deep
    onnx.save(model, str(tmp_path / "deep.onnx"))
    np.savez(tmp_path / "in.npz", **feeds)
    np.savez(tmp_path / "out.npz", **{"m15": from_onnxruntime[0]})
    args = ["check", str(tmp_path / "deep.onnx"), "--inputs", str(tmp_path / "in.npz"), "--expected",
            str(tmp_path / "out.npz"), "--target", "reference", "--no-localize"]
    assert main(args) == 0
    assert f"tolerance: {NOISE_MULTIPLE:g} x the noise floor" in capsys.readouterr().out
    assert main(args + ["--noise-multiple", "0"]) == 1


# ---------------------------------------------------------------- runner cases: architecture and model files

def _conversion(model: onnx.ModelProto, feeds: dict, golden: list, **extra) -> Conversion:
    return Conversion(status="ok", artifact=model.SerializeToString(), input_names=list(feeds),
                      output_names=[o.name for o in model.graph.output], input_sets=[list(feeds.values())],
                      golden_sets=[golden], **extra)


def _arch_spec(kind: str = "arch", tolerance: dict | None = None) -> CaseSpec:
    return CaseSpec(kind=kind, name="deep", framework="torch", builder="x:y", tolerance=tolerance or {})


def _reference_float32(model, feeds) -> list:
    ref = get_target("reference")
    return [ref.run(ref.prepare(model), feeds)]


def test_an_architecture_case_with_float32_noise_above_its_old_tolerance_passes(deep):
    model, feeds, from_onnxruntime = deep
    conv, outputs = _conversion(model, feeds, from_onnxruntime), _reference_float32(model, feeds)
    # the same outputs judged as a single-op case: plain rtol/atol, float32 noise fails them
    assert judge(_arch_spec("op"), conv, outputs).status == "failed"
    hand_set = {"rtol": 1e-5, "atol": 2e-5}              # a hand-set family tolerance gives way
    verdict = judge(_arch_spec("arch", hand_set), conv, outputs)
    assert verdict.status == "passed", verdict.message
    assert verdict.atol > hand_set["atol"] and verdict.extra["noise_multiple"] == NOISE_MULTIPLE
    assert 0 < verdict.extra["error_over_floor"] < NOISE_MULTIPLE
    assert judge(_arch_spec("model"), conv, outputs).status == "passed"
    # the second opinion of the blame stage is held to the same floor
    assert agrees_with_source(outputs, conv, _arch_spec("arch"))


def test_a_planted_weight_bug_in_an_architecture_case_fails_with_error_floor_multiple_and_rtol_atol(deep):
    model, feeds, from_onnxruntime = deep
    buggy = deep_model(scale_layer=DEPTH // 2, scale=1.01)       # the converter scaled one weight by 1%
    conv = _conversion(buggy, feeds, from_onnxruntime)
    verdict = judge(_arch_spec(), conv, _reference_float32(buggy, feeds))
    assert verdict.status == "failed"
    assert "error/floor = " in verdict.message and f"{NOISE_MULTIPLE:g} x the float32 noise floor" in verdict.message
    assert "rtol=1e-05" in verdict.message and f"atol {verdict.atol:g}" in verdict.message
    assert verdict.extra["error_over_floor"] > NOISE_MULTIPLE


def test_the_floor_does_not_judge_hand_computed_values_reduced_precision_or_a_case_that_turns_it_off(deep):
    model, feeds, from_onnxruntime = deep
    outputs = _reference_float32(model, feeds)
    expected = _conversion(model, feeds, from_onnxruntime, expected=from_onnxruntime)
    assert judge(_arch_spec(), expected, outputs).status == "failed"
    assert judge(_arch_spec(tolerance={"noise_multiple": 0}), _conversion(model, feeds, from_onnxruntime),
                 outputs).status == "failed"
    # a model the float64 reference cannot run falls back to the case's own tolerance
    broken = _conversion(model, {"x": feeds["x"][:, :WIDTH // 2]}, from_onnxruntime)      # wrong width
    verdict = judge(_arch_spec(tolerance={"atol": 1e-2}), broken, outputs)
    assert verdict.status == "passed" and verdict.atol == 1e-2 and verdict.extra == {}


def test_a_generated_graph_keeps_its_campaign_tolerance_widened_by_the_floor(deep):
    model, feeds, from_onnxruntime = deep
    campaign = {"rtol": 1e-4, "atol": 1e-5}                    # suites/fuzz/evaluate.py
    conv, outputs = _conversion(model, feeds, from_onnxruntime), _reference_float32(model, feeds)
    assert judge(_arch_spec("fuzz", {**campaign, "noise_multiple": 0}), conv, outputs).status == "failed"
    verdict = judge(_arch_spec("fuzz", campaign), conv, outputs)
    assert verdict.status == "passed", verdict.message
    assert verdict.rtol == campaign["rtol"] and verdict.atol > campaign["atol"]
    buggy = deep_model(scale_layer=DEPTH // 2, scale=1.01)
    verdict = judge(_arch_spec("fuzz", campaign), _conversion(buggy, feeds, from_onnxruntime),
                    _reference_float32(buggy, feeds))
    assert verdict.status == "failed" and verdict.extra["error_over_floor"] > 100 * NOISE_MULTIPLE


def test_the_floor_of_a_runner_case_is_measured_once_per_model_and_input_sets(deep):
    model, feeds, _ = deep
    data = model.SerializeToString()
    floors = input_set_floors(data, ["x"], [[feeds["x"]]])
    assert len(floors) == 1 and floors[0][0] > 0
    first = measured_noise_floors(data, ["x"], [[feeds["x"]]])
    assert measured_noise_floors(data, ["x"], [[feeds["x"]]]) is first
    assert measured_noise_floors(data, ["x"], [[feeds["x"] * 2]]) is not first
