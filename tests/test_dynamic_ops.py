"""Dynamic-shape twins of the operator and padding cases (issue 16): which cases get one, their
shapes, and real torch-script runs at the export shape and at an unseen one, including a model
that bakes its sample's shape into a constant."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from conformance.cases import DYNAMIC, Built, CaseSpec, is_dynamic_twin
from conformance.runner import CaseRun, Runner, RunnerOptions
from suites.operators import samples
from suites.operators.specs import case_specs, dynamic_twins
from suites.operators.table import T
from suites.padding.specs import PADDING_CASES, dynamic_twin_of

TWINS = {(s.name, s.framework, s.variant): s for s in dynamic_twins(case_specs())}


def shapes(inputs: list[dict]) -> list[list[int]]:
    return [list(spec["shape"]) for spec in inputs]


def test_a_case_with_a_free_batch_axis_gets_a_twin_grown_on_that_axis_only():
    add = TWINS["add", "torch", "bcast+dyn"]
    assert is_dynamic_twin(add) and DYNAMIC in add.marks
    assert add.case_id("torch-script", 17, "onnxruntime").endswith("/onnxruntime/bcast+dyn")
    # the first input's batch grows; the broadcast right-hand side (another rank) stays static
    assert shapes(add.params["inputs"]) == [[3, 1, 5], [4, 5]]
    assert shapes(add.params["unseen"]) == [[6, 1, 5], [4, 5]]
    assert add.converters == ("torch-script", "torch-dynamo")   # the case's converters, all of them


def test_twins_cross_process_boundaries_as_json_unchanged():
    for twin in [*TWINS.values(), *filter(None, map(dynamic_twin_of, PADDING_CASES))]:
        assert CaseSpec.from_dict(json.loads(json.dumps(twin.to_dict()))) == twin


def test_a_size1_batch_is_exported_at_2_since_torch_export_specializes_size_1():
    conv = TWINS["conv2d", "torch", "stride2-pad1+dyn"]           # sample X(1, 4, 11, 11)
    assert shapes(conv.params["inputs"]) == [[2, 4, 11, 11]]
    assert shapes(conv.params["unseen"]) == [[5, 4, 11, 11]]


def test_no_twin_without_a_free_axis():
    assert ("add", "torch", "empty+dyn") not in TWINS               # empty leading axis
    assert ("abs", "torch", "scalar+dyn") not in TWINS              # rank 0
    assert ("add", "torch", "bcast") not in TWINS                    # only twins are listed
    assert samples.twin_inputs([T(3, 4, free=[])]) is None           # the table says: none
    assert samples.free_axes([T(3, 4), T(3, 4), T(4, 4)]) == [(0,), (0,), ()]
    assert samples.free_axes([T(2, 5, free=[1]), T(5)]) == [(1,), ()]


def test_padding_twins_grow_batch_and_spatial_axes_unless_the_case_fixes_them():
    by_id = {(s.name, s.framework, s.variant): s for s in PADDING_CASES}
    same = dynamic_twin_of(by_id["conv2d_same", "torch", "k2"])     # sample (1, 2, 5, 6)
    assert same.variant == "k2+dyn" and same.params["shape"] == [2, 2, 5, 6]
    assert same.params["unseen_shape"] == [5, 2, 8, 9]               # odd step: parities change
    # tf.nn.conv2d_transpose is given the whole output shape: nothing is free
    assert dynamic_twin_of(by_id["conv_transpose2d", "tensorflow", "same-s2-out7"]) is None


# ------------------------------------------------------------------- real conversions (torch-script)
def planted_reshape(params: dict, seed: int) -> Built:
    """``x.reshape(int(x.shape[0]), -1)`` (params ``baked``: the exporter traces the int as a
    constant, the sample's batch) or ``x.reshape(6, 4)`` (``refused``: torch itself refuses the
    unseen shape), at (2, 3, 4) and an unseen (5, 3, 4)."""
    import torch

    class Reshape(torch.nn.Module):
        def forward(self, x):
            return x.reshape(int(x.shape[0]), -1) if params["mode"] == "baked" else x.reshape(6, 4)

    rng = np.random.default_rng(seed)
    sample, unseen = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4), (5, 3, 4)))
    return Built(model=Reshape().eval(), inputs=[sample]).with_unseen_inputs([unseen])


def planted(mode: str) -> CaseSpec:
    return CaseSpec(kind="op", name="planted_reshape", op="reshape", framework="torch",
                    builder="tests.test_dynamic_ops:planted_reshape", params={"mode": mode},
                    variant=f"{mode}+dyn", marks=(DYNAMIC,))


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    r = Runner(RunnerOptions(timeout=120, cache_dir=str(tmp_path_factory.mktemp("cache"))))
    yield r
    r.close()


@pytest.mark.parametrize("name, variant, export, unseen", [
    ("add", "bcast+dyn", [(3, 1, 5), (4, 5)], [(6, 1, 5), (4, 5)]),
    ("flatten", "from1+dyn", [(2, 3, 4, 5)], [(5, 3, 4, 5)]),
])
def test_twins_run_at_two_shapes_through_torch_script_and_pass(runner, name, variant, export, unseen):
    spec = TWINS[name, "torch", variant]
    conv, _ = runner.conversion(spec, "torch-script", 17)
    assert conv.status == "ok", conv.message
    assert [[a.shape for a in s] for s in conv.input_sets] == [export, unseen]
    first = onnx.load_from_string(conv.onnx_bytes).graph.input[0].type.tensor_type.shape.dim[0]
    assert first.dim_param == "batch"                                # exported dynamic, not baked
    record = runner.run(CaseRun(spec, "torch-script", 17, "onnxruntime"))
    assert record.status == "passed", record.message


def test_a_baked_shape_fails_at_the_unseen_shape_and_the_record_names_it(runner):
    record = runner.run(CaseRun(planted("baked"), "torch-script", 17, "onnxruntime"))
    assert record.status == "failed"
    assert "[input set 1 [(5, 3, 4)]]" in record.message
    assert "[sample]" not in record.message                          # the export shape passes


def test_a_twin_whose_source_refuses_the_unseen_shape_is_skipped_in_one_line(runner):
    record = runner.run(CaseRun(planted("refused"), "torch-script", 17, "onnxruntime"))
    assert record.status == "skipped"
    assert record.message.startswith("dynamic twin not counted: torch refuses its input shapes")
    assert "[(5, 3, 4)]" in record.message and "\n" not in record.message
