"""The rewrite-pass registry drives the pipeline; the graph keeps its maps consistent itself."""
import numpy as np
import pytest
from onnx import helper

from converters.optimizer import DEFAULT_PIPELINE, REWRITE_PASSES, RewritePass, optimize, rewrite_pass
from converters.optimizer.graph import Graph
from converters.optimizer.passes import UNTIL_STABLE
from converters.optimizer.pipeline import default_pipeline, until_unchanged

from .helpers import make_model, ops


def _relu_chain(n=4):
    nodes = [helper.make_node("Relu", [f"t{k}"], [f"t{k + 1}"]) for k in range(n)]
    return make_model(nodes, [("t0", [2, 3])], [(f"t{n}", [2, 3])])


def test_default_pipeline_is_derived_from_the_registry():
    assert DEFAULT_PIPELINE == ("dce", "simplify", "cse", "fold", "simplify", "fuse-bn", "fuse-conv-affine",
                                "fuse-pad", "gemm", "fuse-global-pool", "transpose", "cse", "dce",
                                "dedupe-init", "prune-init")
    assert REWRITE_PASSES["simplify"].stage == "pre+core"


def test_registering_a_pass_places_it_in_the_pipeline(monkeypatch):
    monkeypatch.setitem(REWRITE_PASSES, "noop", RewritePass("noop", lambda g: False, "", at={"core": 85}))
    names = default_pipeline()
    assert names[names.index("transpose") + 1] == "noop"


def test_two_passes_in_one_place_are_an_error(monkeypatch):
    monkeypatch.setitem(REWRITE_PASSES, "clash", RewritePass("clash", lambda g: False, "", at={"core": 80}))
    with pytest.raises(ValueError, match="share a place"):
        default_pipeline()


def test_unknown_stage_is_rejected():
    with pytest.raises(ValueError, match="unknown stage"):
        rewrite_pass("late", at={"later": 1})


def test_the_pipeline_repeats_a_pass_until_a_sweep_changes_nothing(monkeypatch):
    sweeps = []

    def drop_first_relu(g):             # one rewrite per sweep
        sweeps.append(len(g.nodes))
        relu = next((n for n in g.nodes if n.op_type == "Relu" and n.input[0] == "t0"), None)
        if relu is None or relu.output[0] in g.protected:
            return False
        g.replace_output(relu.output[0], "t0")
        g.remove_nodes([relu])
        return True
    monkeypatch.setitem(REWRITE_PASSES, "drop", RewritePass("drop", drop_first_relu, "", max_sweeps=UNTIL_STABLE))
    out, report = optimize(_relu_chain(), "drop", max_rounds=1)
    assert ops(out) == {"Relu": 1} and sweeps == [4, 3, 2, 1]
    assert [(r.nodes_before, r.nodes_after) for r in report.records] == [(4, 1)]


def test_until_unchanged_counts_calls_and_stops_at_the_limit():
    results = iter([True, True, False, True])
    assert until_unchanged(lambda: next(results), 10) == 3
    assert until_unchanged(lambda: True, 5) == 5


def _maps(g):
    return ({k: (id(n), i) for k, (n, i) in g.producer.items()},
            {k: [id(n) for n in v] for k, v in g.consumers.items() if v}, set(g.protected))


def _rebuilt_maps(g):
    """The maps a graph built from scratch over the same node objects would have."""
    fresh = Graph.__new__(Graph)
    fresh.__dict__.update(g.__dict__)
    fresh._reindex()
    return _maps(fresh)


def test_edit_methods_keep_producer_and_consumer_maps_consistent():
    g = Graph(_relu_chain())
    relu1, relu2 = g.nodes[1], g.nodes[2]
    g.set_input(relu2, 0, "t0")
    assert g.only_consumer("t0") is None and relu2 in g.consumers["t0"]
    assert _maps(g) == _rebuilt_maps(g)
    g.drop_if_dead(relu1)
    assert relu1 not in g.nodes and "t2" not in g.producer
    sig = helper.make_node("Sigmoid", ["t0"], ["s"])
    g.replace_node(relu2, [sig, helper.make_node("Relu", ["s"], ["t3"])])
    assert g.producer["s"][0] is sig and _maps(g) == _rebuilt_maps(g)
    with g.batch():
        g.set_output(sig, 0, "s2")
        assert "s" in g.producer            # stale inside the batch
        g.set_input(g.nodes[2], 0, "s2")
    assert "s" not in g.producer and g.producer["s2"][0] is sig
    assert _maps(g) == _rebuilt_maps(g)


def test_snapshot_and_restore():
    g = Graph(make_model([helper.make_node("Add", ["x", "c"], ["y"])], [("x", [2])], [("y", [2])],
                         {"c": np.ones(2, np.float32)}))
    snap = g.snapshot()
    g.remove_nodes(list(g.nodes))
    g.remove_inits(["c"])
    g.restore(snap)
    assert [n.op_type for n in g.nodes] == ["Add"] and g.is_init("c") and g.producer["y"][0] is g.nodes[0]
