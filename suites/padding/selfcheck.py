"""Run inside a framework's worker (``WorkerPool.request("call", spec, "suites.padding.selfcheck:source_vs_expected", ...)``):
a built case's declared shapes and hand-computed values against the source framework's own
output, without converting. Imports no framework itself (run_source imports it lazily).
"""
from __future__ import annotations

import numpy as np


def source_vs_expected(built, framework: str) -> dict:
    from converters.frameworks import run_source
    outputs = run_source(framework, built)
    expected = [np.asarray(e) for e in (built.expected or [])]
    return {
        "expected_shapes": [[tuple(s) for s in group] for group in (built.expected_shapes or [])],
        "expected": [tuple(e.shape) for e in expected],
        "source": [tuple(np.shape(o)) for o in outputs],
        "max_abs": [float(np.max(np.abs(o.astype(np.float64) - e))) if o.shape == e.shape and o.size else None
                    for o, e in zip(outputs, expected)],
        "close": [bool(o.shape == e.shape and np.allclose(o, e, rtol=2e-6, atol=2e-6))
                  for o, e in zip(outputs, expected)],
    }
