"""Padding-semantics (marker ``padding``) and framework-semantics (marker ``semantics``) cases:
where frameworks disagree and converters get it wrong. Every case asserts its output shapes and
hand-computed values besides the source framework's output.

    pytest suites/padding -n 2 --target reference --target onnxruntime
    pytest suites/padding -m semantics --case 'semantics/softmax_axis/*' --opset 11,13,17
    pytest suites/padding -m dynamic           # the padding cases' dynamic-shape twins ("+dyn")
"""
from suites.padding.specs import all_cases, dynamic_twins


def conformance_cases():
    return all_cases() + dynamic_twins()


def test_padding(case, conformance_runner):
    conformance_runner.check(case)
