"""Per-operator conformance cases (marker ``op``), generated from the table in ``specs.py``.

    pytest suites/operators -n 2 --target reference --target onnxruntime
    pytest suites/operators --case 'op/conv2d/*' --framework torch --converter torch-script,torch-dynamo
"""
from suites.operators.specs import case_specs


def conformance_cases():
    return case_specs()


def test_operator(case, conformance_runner):
    conformance_runner.check(case)
