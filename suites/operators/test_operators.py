"""Per-operator conformance cases (marker ``op``), generated from the table in ``specs.py``.

    pytest suites/operators -n 2 --target reference --target onnxruntime
    pytest suites/operators --case 'op/conv2d/*' --framework torch --converter torch-script,torch-dynamo
    pytest suites/operators -m opinfo          # only the cases from PyTorch's OpInfo database
    pytest suites/operators -m dynamic         # only the dynamic-shape twins ("+dyn" variants)
    pytest suites/operators -m mindspore --target reference,onnxruntime,mindspore   # MindSpore (opt-in)
"""
from suites.operators.opinfo import opinfo_specs
from suites.operators.specs import case_specs, dynamic_twins, mindspore_cases
from conformance.selection import Asked


def conformance_cases(asked: Asked = Asked()):
    table = case_specs()
    extra = mindspore_cases(table) if asked.names("mindspore") else []
    return table + dynamic_twins(table) + opinfo_specs() + extra


def test_operator(case, conformance_runner):
    conformance_runner.check(case)
