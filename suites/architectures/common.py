"""Numpy-only helpers shared by the per-framework builders (no framework import)."""
from __future__ import annotations

from conformance.cases import Built


def classifier_built(model, inputs, sets, classes: int, dynamic: bool, channels_last: bool = False) -> Built:
    """An image classifier case: ``inputs[i]`` is the input set of ``sets[i] = (batch, size)``;
    the first is the traced sample, the rest run through the same conversion. Output shapes
    (batch, classes) are asserted; batch and image size are dynamic when ``dynamic``."""
    height, width = (1, 2) if channels_last else (2, 3)
    return Built(model=model, inputs=inputs[0], input_names=["image"], output_names=["logits"],
                 dynamic_axes={"image": {0: "batch", height: "height", width: "width"}} if dynamic else None,
                 extra_inputs=inputs[1:], expected_shapes=[[(b, classes)] for b, _ in sets])
