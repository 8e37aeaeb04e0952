"""Decoder-only LLM blocks with a KV cache (issue 19, ``specs_generation.py``): the prefill and
decode models as architecture cases (marker ``arch``), and greedy generation through both on
each target, fed back with the target's own cache and judged token by token against the source
framework's generation (marker ``generation``, ``conformance.generation``).

    pytest suites/architectures/test_generation.py --target reference --target onnxruntime -n 1
    pytest suites/architectures/test_generation.py -m generation --opset 23
"""
from suites.architectures.specs_generation import ARCH_CASES, GENERATION_CASES


def conformance_cases():
    return ARCH_CASES + GENERATION_CASES


def test_decoder(case, conformance_runner):
    # the runner runs a generation case by its own loop (runner.KIND_RUNNERS), as `conformance run` does
    conformance_runner.check(case)
