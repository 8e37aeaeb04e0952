"""Whole-architecture conformance: CNN, RNN and transformer families per source framework,
each converted once and run at 3 input shapes where its axes are dynamic (marker ``arch``).

    pytest suites/architectures --target reference --target onnxruntime -n 2
    pytest suites/architectures -m mindspore --target reference,onnxruntime,mindspore   # opt-in
"""
from suites.architectures.specs import ARCH_CASES
from suites.architectures.specs_mindspore import MINDSPORE_CASES
from conformance.selection import Asked


def conformance_cases(asked: Asked = Asked()):
    return list(ARCH_CASES) + (MINDSPORE_CASES if asked.names("mindspore") else [])


def test_architecture(case, conformance_runner):
    conformance_runner.check(case)
