"""Per-operator conformance cases (marker ``op``), generated from the table in ``specs.py``.

    pytest suites/operators -n 2 --target reference --target onnxruntime
    pytest suites/operators --case 'op/conv2d/*' --framework torch --converter torch-script,torch-dynamo
    pytest suites/operators -m opinfo          # only the cases from PyTorch's OpInfo database
    pytest suites/operators -m dynamic         # only the dynamic-shape twins ("+dyn" variants)
"""
from suites.operators.opinfo import opinfo_specs
from suites.operators.specs import case_specs, dynamic_twins


def conformance_cases():
    table = case_specs()
    return table + dynamic_twins(table) + opinfo_specs()


def test_operator(case, conformance_runner):
    conformance_runner.check(case)
