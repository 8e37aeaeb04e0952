"""The execute stage: a converted model on a target -> its outputs per input set, or why the
target could not run it. Prepared sessions and the reference executor's outputs are cached
per conversion, so a case's second opinion and the next target reuse them."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import onnx

from .cases import Conversion
from .conversion import LRU
from .errors import classify_failure
from .targets import get_target, target_status
from .targets.base import prepare_converted, raised_by_adapter


def onnx_op_types(onnx_bytes: bytes) -> list[str]:
    """Sorted op types of a model, subgraphs (If/Loop/Scan bodies) included."""
    model = onnx.load_from_string(onnx_bytes)
    ops = set()

    def walk(graph):
        for node in graph.node:
            ops.add(node.op_type)
            for attr in node.attribute:
                if attr.g is not None and attr.g.node:
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)
    walk(model.graph)
    return sorted(ops)


@dataclass
class Execution:
    """The target's outputs per input set, or the failure that stopped it."""

    outputs: list[list[np.ndarray]] | None
    seconds: float
    failure: str = ""                  # "TypeName: message" when the target could not run the model
    status: str = ""                   # with a failure: "error" or "unsupported" (classify_failure)
    harness: bool = False              # the failure is our target code's, not the runtime's


class Sessions:
    """Prepared target sessions (LRU of 8) and the reference executor's outputs (LRU of 32)."""

    def __init__(self):
        self.prepared = LRU(8)
        self.reference_outputs = LRU(32)

    def run(self, target, key: str, conv: Conversion) -> list[list[np.ndarray]]:
        """The target's outputs for every input set of the conversion ``key``."""
        skey = (key, target.name)
        if skey not in self.prepared:
            self.prepared.put(skey, prepare_converted(target, conv.artifact, conv.format))
        session = self.prepared[skey]
        outputs = []
        for i, inputs in enumerate(conv.input_sets):
            try:
                outputs.append(target.run(session, dict(zip(conv.input_names, inputs))))
            except Exception as exc:
                if len(conv.input_sets) > 1:       # say which input set (shape) the model refused
                    exc.add_note(f"at {conv.input_set_label(i)}")
                raise
        return outputs

    def reference(self, key: str, conv: Conversion) -> list[list[np.ndarray]] | None:
        """The reference executor's outputs, or None if it is unavailable or cannot run the model."""
        if key not in self.reference_outputs:
            if not target_status("reference")[0]:
                return None
            try:
                self.reference_outputs.put(key, self.run(get_target("reference"), key, conv))
            except Exception:
                self.reference_outputs.put(key, None)
        return self.reference_outputs[key]


def execute(sessions: Sessions, target, key: str, conv: Conversion) -> Execution:
    t0 = time.perf_counter()
    try:
        outputs = sessions.run(target, key, conv)
    except Exception as exc:
        harness = raised_by_adapter(exc)
        said = ": ".join([*getattr(exc, "__notes__", ()), f"{type(exc).__name__}: {exc}"])
        return Execution(None, round(time.perf_counter() - t0, 4), said,
                         "error" if harness else classify_failure(exc), harness)
    return Execution(outputs, round(time.perf_counter() - t0, 4))
