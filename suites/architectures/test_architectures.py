"""Whole-architecture conformance: CNN, RNN and transformer families per source framework,
each converted once and run at 3 input shapes where its axes are dynamic (marker ``arch``).

    pytest suites/architectures --target reference --target onnxruntime -n 2
"""
from suites.architectures.specs import ARCH_CASES


def conformance_cases():
    return list(ARCH_CASES)


def test_architecture(case, conformance_runner):
    conformance_runner.check(case)
