"""The backend corner suite (marker ``node``): single-node ONNX models of every op the reference
executor implements, at each opset where the op changed, fed corner inputs, judged against the
reference executor.

    pytest suites/backend --target reference --target onnxruntime -n 2
    pytest suites/backend --case 'node/Gather/*' --target onnxruntime
"""
import pytest

from suites.backend.specs import all_cases


def conformance_cases():
    return all_cases()


def test_node(case, conformance_runner):
    undefined, unjudged = case.spec.params.get("undefined"), case.spec.params.get("unjudged")
    if undefined:
        pytest.skip(f"no golden: the ONNX spec leaves this data set undefined: {undefined}")
    if unjudged:
        pytest.skip(f"not judged: {unjudged}")
    conformance_runner.check(case)
