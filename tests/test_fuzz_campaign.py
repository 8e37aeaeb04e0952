"""The fuzz campaign's engine: determinism, shards and their merge, resume, the metamorphic
oracles, precise known-failure matching and the repro bundle."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conformance.known_failures import load_known_failures, parse_known_failures
from suites.fuzz import known, oracles
from suites.fuzz.campaign import Budget, Campaign, Finding
from suites.fuzz.evaluate import Evaluation, Failure, graph_id
from suites.fuzz.outputs import StateError, merge, restore, save


def _planted(graph: dict) -> Evaluation:
    """Two planted bugs, judged on the graph alone (no framework): any cumsum, any roll."""
    failures = [Failure(f"planted-{op}", "c", "t", "converter:c 1", "wrong values", f"{op} is off", [])
                for op in ("cumsum", "roll") if any(n["op"] == op for n in graph["nodes"])]
    return Evaluation(valid=True, failures=failures)


ONLY = ["neg", "tanh", "relu", "add", "cumsum", "roll"]        # a few ops, so the planted ones come up


def _campaign(**kw) -> Campaign:
    return Campaign(_planted, budget=Budget(models=60), max_nodes=4, round_examples=15, only=ONLY, **kw)


def _outcome(campaign: Campaign) -> tuple:
    return ([(f.failure.signature, graph_id(f.graph), f.origin) for f in campaign.findings],
            campaign.stats.models, sorted(campaign.stats.rounds))


def test_same_seed_and_count_same_findings_and_each_bug_shrunk_to_its_node():
    first, again = _campaign(), _campaign()
    first.run(seed=7)
    again.run(seed=7)
    assert _outcome(first) == _outcome(again)
    assert sorted(f.failure.signature for f in first.findings) == ["planted-cumsum", "planted-roll"]
    assert sorted(tuple(n["op"] for n in f.graph["nodes"]) for f in first.findings) == [("cumsum",), ("roll",)]
    assert first.stats.models == 60 and sorted(first.stats.rounds) == [0, 1, 2, 3]


def test_a_bug_of_two_nodes_is_shrunk_by_replaying_its_round():
    """Not one node's bug (cumsum of another node's output): isolating a node loses it, so the
    round is replayed to the origin and Hypothesis shrinks it; pruning leaves the two nodes."""
    def chained(graph):
        n_in = len(graph["inputs"])
        bad = any(n["op"] == "cumsum" and n["args"][0] >= n_in for n in graph["nodes"])
        return Evaluation(valid=True, failures=[Failure("chained", "c", "t", "converter:c 1", "wrong values", "x", [])]
                          if bad else [])
    campaign = Campaign(chained, budget=Budget(models=120), max_nodes=5, round_examples=60, only=ONLY)
    (finding,) = campaign.run(seed=2)
    assert len(finding.graph["nodes"]) == 2 and finding.graph["nodes"][-1]["op"] == "cumsum"


def test_shards_merged_equal_the_unsharded_campaign(tmp_path):
    whole = _campaign()
    whole.run(seed=7)
    for k in (1, 2):
        shard = _campaign(shard=(k, 2))
        shard.run(seed=7)
        assert sorted(shard.stats.rounds) == [k - 1, k + 1]
        save(shard, tmp_path / f"s{k}", {"framework": "torch"})
    merged = merge([tmp_path / "s1", tmp_path / "s2"], tmp_path / "merged")
    assert _outcome(merged) == _outcome(whole)
    rows = [json.loads(line) for line in (tmp_path / "merged" / "findings.jsonl").read_text().splitlines()]
    assert sorted(r["signature"] for r in rows) == ["planted-cumsum", "planted-roll"]
    assert all((tmp_path / "merged" / "repro" / r["signature"][:8] / "graph.json").exists() for r in rows)
    assert json.loads((tmp_path / "merged" / "summary.json").read_text())["models"] == 60


def test_merge_refuses_folders_of_different_campaigns(tmp_path):
    for name, config in (("a", {"framework": "torch"}), ("b", {"framework": "paddle"})):
        c = _campaign()
        c.run(seed=1)
        save(c, tmp_path / name, config)
    with pytest.raises(StateError, match="different options"):
        merge([tmp_path / "a", tmp_path / "b"], tmp_path / "m")
    with pytest.raises(StateError, match="no campaign"):
        merge([tmp_path / "a", tmp_path / "nothing"], tmp_path / "m")


class Interrupt(BaseException):
    pass


def test_an_interrupted_campaign_resumes_to_the_same_findings(tmp_path):
    whole = _campaign()
    whole.run(seed=3)

    def dies_in_round_two(graph):
        if 1 in broken.stats.rounds and broken.stats.rounds[1].models == 5:
            raise Interrupt()
        return _planted(graph)
    config = {"framework": "torch"}
    broken = Campaign(dies_in_round_two, budget=Budget(models=60), max_nodes=4, round_examples=15, only=ONLY,
                      on_round=lambda c: save(c, tmp_path, config))
    with pytest.raises(Interrupt):
        broken.run(seed=3)
    resumed = _campaign()
    assert restore(resumed, tmp_path, config)
    assert [r for r, s in resumed.stats.rounds.items() if s.complete] == [0]
    resumed.run(seed=3)
    assert _outcome(resumed) == _outcome(whole)
    with pytest.raises(StateError, match="other options"):
        restore(_campaign(), tmp_path, {"framework": "paddle"})


def _graph(nodes: list, inputs: list | None = None) -> dict:
    inputs = inputs or [{"shape": [2, 4], "dtype": "float32", "free": [0], "domain": "normal", "corner": False}]
    n_in = len(inputs)
    read = {a for n in nodes for a in n["args"]}
    return {"inputs": inputs, "nodes": nodes, "batch": [2, 3],
            "outputs": [n_in + j for j in range(len(nodes)) if n_in + j not in read]}


def _node(op, args, attrs=None, shape=(2, 4), free=(0,)):
    return {"op": op, "args": args, "attrs": attrs or {}, "out": {"shape": list(shape), "dtype": "float32",
                                                                   "free": list(free)}}


def test_batch_independence_is_read_from_free_axes_and_axis_attributes():
    assert oracles.batch_independent(_graph([_node("relu", [0]), _node("softmax", [1], {"axis": 1})]))
    assert not oracles.batch_independent(_graph([_node("softmax", [0], {"axis": 0})]))
    assert not oracles.batch_independent(_graph([_node("cumsum", [0], {"axis": -2})]))      # -2 of rank 2 is 0
    assert not oracles.batch_independent(_graph([_node("reduce_sum", [0], {"axis": None}, (), ())]))
    assert not oracles.batch_independent(_graph([_node("transpose", [0], {"perm": [1, 0]}, (4, 2), (1,))]))
    fixed = [{"shape": [2, 4], "dtype": "float32", "free": [], "domain": "normal", "corner": False}]
    assert not oracles.batch_independent(_graph([_node("relu", [0], free=())], fixed))    # no batch at all


def _relu_model() -> bytes:
    x = helper.make_tensor_value_info("input_0", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    graph = helper.make_graph([helper.make_node("Relu", ["input_0"], ["y"])], "relu", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _ort(model: bytes, level: str = "ORT_ENABLE_ALL"):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    return lambda sets: [session.run(None, {"input_0": s[0]}) for s in sets]


TOL = {"rtol": 1e-4, "atol": 1e-5}


def test_batch_split_oracle_catches_a_planted_batch_dependent_bug():
    graph = _graph([_node("relu", [0])])
    run = _ort(_relu_model())
    assert oracles.split_difference(run, graph, seed=5, tolerance=TOL) is None

    def mixes_rows(sets):          # a planted bug: a batch of more than one row gets the batch mean added
        return [[y + (y.mean(axis=0) if y.shape[0] > 1 else 0) for y in outs] for outs in run(sets)]
    output, message = oracles.split_difference(mixes_rows, graph, seed=5, tolerance=TOL)
    assert output == 0 and "row 0" in message and "batch-1 runs" in message


def test_optimization_oracle_catches_a_planted_optimizer_difference():
    model = _relu_model()
    sets = [[np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)]]
    plain = _ort(model, "ORT_DISABLE_ALL")
    assert oracles.optimization_difference(_ort(model), plain, sets, TOL) is None

    def optimizer_bug(s):          # planted: the optimized session is off by 1e-3 on every output
        return [[y + 1e-3 for y in outs] for outs in _ort(model)(s)]
    output, message = oracles.optimization_difference(optimizer_bug, plain, sets, TOL)
    assert output == 0 and "all graph optimizations differs from none" in message
    assert oracles.producer(model, 0) == "Relu"


TABLE = textwrap.dedent('''
    [[failure]]
    pattern = "op/gelu/torch/*/fuzz.nan-inf-pattern.*inf*"
    reason = "torch's gelu gives NaN at +-inf"
''')


def _failure(symptom: str, inputs: dict, blamed=(), converter="torch-script") -> Failure:
    return Failure("s", converter, "onnxruntime", f"converter:{converter} 2.13.0", symptom, "m", [],
                   "fuzz/graph-1/torch/torch-script/opset17/onnxruntime/default", "2.13.0", None, inputs, {},
                   list(blamed))


def test_a_known_entry_does_not_hide_another_bug_of_its_op():
    table = parse_known_failures(TABLE)
    gelu = _graph([_node("gelu", [0])])
    inf = {"input_0": np.array([np.inf, 1.0], np.float32)}
    plain = {"input_0": np.array([0.5, 1.0], np.float32)}
    assert known.describe(table, _failure("nan-inf pattern", inf), gelu, "torch") == \
        "#1 op/gelu/torch/*/fuzz.nan-inf-pattern.*inf*"
    assert known.match(table, _failure("wrong values", plain), gelu, "torch") is None        # another bug
    assert known.match(table, _failure("converter crash", inf), gelu, "torch") is None
    both = _graph([_node("gelu", [0]), _node("roll", [1], {"shift": 1, "axis": 1})])
    assert known.match(table, _failure("nan-inf pattern", inf), both, "torch") is not None    # no diagnosis: any op
    assert known.match(table, _failure("nan-inf pattern", inf, ["source:roll"]), both, "torch") is None
    assert known.case_ids(_failure("nan-inf pattern", inf), gelu, "torch") == [
        "op/gelu/torch/torch-script/opset17/onnxruntime/fuzz.nan-inf-pattern.inf"]


def test_value_tags_name_the_special_values():
    assert known.value_tags({"a": np.array([1.0, -2.0], np.float32)}) == "plain"
    assert known.value_tags({"a": np.array([np.nan, np.inf], np.float32)}) == "inf+nan"
    assert known.value_tags({"a": np.array([3e38], np.float32), "b": np.array([2 ** 31 - 1], np.int32)}) == "huge"


def test_the_tables_fuzz_entries_match_their_own_bug_only():
    table = load_known_failures()
    relu = _graph([_node("relu", [0])])
    nan = {"input_0": np.array([np.nan, 1.0], np.float32)}
    assert known.match(table, _failure("nan-inf pattern", nan, converter="paddle2onnx"), relu, "paddle") is not None
    plain = {"input_0": np.array([0.5, 1.0], np.float32)}
    assert known.match(table, _failure("wrong values", plain, converter="paddle2onnx"), relu, "paddle") is None


def test_repro_bundle_has_the_source_script_the_model_and_a_proposed_entry(tmp_path):
    pytest.importorskip("torch")
    graph = _graph([_node("relu", [0]), _node("neg", [1])])
    x = np.array([[-1.0, 2.0, 0.5, -3.0], [1.0, -1.0, 4.0, 0.0]], np.float32)
    failure = Failure("abcdef0123", "torch-script", "onnxruntime", "target:onnxruntime 1.32.0", "wrong values",
                      "max abs 1.0", ["Neg", "Relu"], "fuzz/graph-1/torch/torch-script/opset17/onnxruntime/default",
                      "2.13.0", _relu_model(), {"input_0": x}, {"output_0": -np.maximum(x, 0)})
    campaign = Campaign(_planted)
    campaign.findings = [Finding(graph, failure, "torch")]
    save(campaign, tmp_path, {})
    folder = tmp_path / "repro" / "abcdef01"
    assert {"graph.json", "model.py", "model.onnx", "inputs.npz", "expected.npz", "README.txt",
            "known_failure.toml"} <= {p.name for p in folder.iterdir()}
    assert "torch.nn.functional.relu(x0)" in (folder / "model.py").read_text()
    assert "conformance check" in (folder / "README.txt").read_text()
    done = subprocess.run([sys.executable, str(folder / "model.py")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "source:" in done.stdout and " same" in done.stdout and "DIFFERENT" not in done.stdout
    entry = parse_known_failures((folder / "known_failure.toml").read_text())
    assert entry.match("op/neg/torch/torch-script/opset17/onnxruntime/fuzz.wrong-values.plain", "torch-script",
                       "2.13.0", "onnxruntime") is not None
    assert onnx.load_from_string((folder / "model.onnx").read_bytes()).graph.node[0].op_type == "Relu"


@pytest.mark.parametrize("argv, words", [(["--shard", "3/2"], "--shard"), (["--oracles", "magic"], "magic"),
                                         (["--merge", "/nonexistent/a,/nonexistent/b"], "no campaign")])
def test_cli_bad_campaign_options_are_one_line_errors(argv, words, capsys, tmp_path):
    from conformance.cli import main
    assert main(["fuzz", *argv, "--budget", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


def test_fuzz_marker_is_off_by_default():
    def collected(*extra):
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "suites/fuzz", "-q",
                               "-rs", "--fuzz-budget", "1", *extra], capture_output=True, text=True, timeout=300)
        return done.stdout
    default = collected()
    assert "skipped" in default and "-m fuzz" in default
    assert "fuzz campaigns run with -m fuzz" not in collected("-m", "fuzz", "--collect-only")


def test_a_hanging_converter_is_one_finding_and_the_campaign_goes_on():
    """A real conversion over its timeout (50 ms): a hang, found once, and every graph still checked."""
    pytest.importorskip("torch")
    from conformance.runner import Runner, RunnerOptions
    from suites.fuzz.evaluate import RunnerCheck
    runner = Runner(RunnerOptions(use_cache=False, timeout=0.05))
    try:
        check = RunnerCheck(runner, "torch", ["torch-script"], ["onnxruntime"], 17, ())
        campaign = Campaign(check, budget=Budget(models=3), max_nodes=2, only=["relu", "neg"], round_examples=3)
        findings = campaign.run(seed=1)
    finally:
        runner.close()
    assert campaign.stats.models == 3 and campaign.stats.valid == 3
    assert [(f.failure.symptom, len(f.graph["nodes"])) for f in findings] == [("converter hang", 1)]
