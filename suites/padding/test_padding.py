"""Padding-semantics (marker ``padding``) and framework-semantics (marker ``semantics``) cases:
where frameworks disagree and converters get it wrong. Every case asserts its output shapes and
hand-computed values besides the source framework's output.

    pytest suites/padding -n 2 --target reference --target onnxruntime
    pytest suites/padding -m semantics --case 'semantics/softmax_axis/*' --opset 11,13,17
"""
from suites.padding.specs import all_cases


def conformance_cases():
    return all_cases()


def test_padding(case, conformance_runner):
    conformance_runner.check(case)
