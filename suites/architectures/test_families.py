"""Today's model families (vision transformers, detection heads, U-Nets in 2D and 3D,
recommendation, speech, diffusion blocks, decoder-only LLM blocks) in torch, TF/Keras and
Paddle, each converted once with its batch and sequence/spatial axes dynamic and run at three
or more input shapes (marker ``arch``).

    pytest suites/architectures/test_families.py --target reference --target onnxruntime -n 2
"""
from suites.architectures import specs_families_keras, specs_families_paddle, specs_families_torch

FAMILY_CASES = specs_families_torch.CASES + specs_families_keras.CASES + specs_families_paddle.CASES


def conformance_cases():
    return list(FAMILY_CASES)


def test_family(case, conformance_runner):
    conformance_runner.check(case)
