"""What the ONNX specification forbids in a model, found before running it.

The reference executor is the oracle: a model the specification forbids must not pass on it
just because numpy happens to compute something (an int64 ``Conv``, a float16 ``Celu``), or
the blame for such a model goes to the runtimes that rightly refuse it. ``type_violation``
runs ONNX's own type inference in strict mode and reports an input whose element type is
outside its operator's type constraint; other inference findings are left alone, since
onnx's shape inference has gaps of its own and the run itself is the better judge of shapes.
"""
from __future__ import annotations

import onnx

# onnx's words for an input outside its type constraint, and for one type parameter bound to two
# types (Div(float, int64): "B has inconsistent type tensor(int64)")
TYPE_ERRORS = ("has unsupported type", "has inconsistent type")


def type_violation(model: onnx.ModelProto) -> str | None:
    """The first input of a node whose type its schema does not allow (onnx's own words), or None."""
    try:
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except onnx.shape_inference.InferenceError as exc:
        text = str(exc)
        if any(words in text for words in TYPE_ERRORS):
            return text.strip().splitlines()[0]
    except Exception:                  # a model too large or too odd for inference: not our finding
        return None
    return None
