"""Where a reduced-precision model (INT8 QDQ, float16) loses accuracy: every intermediate
tensor it shares with its float model, compared on the same inputs by SQNR and cosine.

``attribute_error(float_model, reduced_model, feeds)`` runs the float model on the reference
executor (all intermediates: ``run_all``; a target's exposed intermediates when the executor
cannot run it) and the reduced model on a target with every intermediate exposed as an output
(``divergent_node.expose_intermediates``). Quantizers and the float16 pass keep the names of
the original nodes' outputs (QDQ inserts ``X_QuantizeLinear_Output``...; the fp16 pass only
renames graph outputs, whose values are compared under their original name), so a tensor's
name is what pairs the two runs.

SQNR (signal to quantization-noise ratio, dB) = 10·log10(Σx² / Σ(x−q)²): what quantization
tools (AIMET, TensorRT's layer reports) rank tensors by. Noise compounds down the graph, so each
row also gives the SQNR of the noise this node *adds* (``own_db``): independent noises add as
noise-to-signal ratios, so own = −10·log10(NSR(output) − NSR(worst input)). The node to blame is
the one with the lowest ``own_db``, not the last one of a chain that inherits its noise.

Caveat, as for ``divergent_node``: exposing every intermediate stops a runtime from fusing
across them (onnxruntime no longer fuses Q/DQ pairs into integer kernels), so the figures are
those of QDQ simulated in float: what the quantization parameters cost, not the kernels.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import onnx

from .divergent_node import expose_intermediates, load_model
from .reference import ReferenceExecutor
from .results import finite_json
from .targets import get_target


@dataclass
class TensorError:
    name: str               # the tensor, as the float model names it
    node: str               # the float model's node that produces it
    op_type: str
    sqnr_db: float          # inf: identical
    cosine: float
    max_abs: float
    own_db: float           # SQNR of the noise this node adds to its worst input's (inf: none)

    def to_dict(self) -> dict:
        return finite_json({k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v)
                            for k, v in asdict(self).items()})


def sqnr_db(actual: np.ndarray, expected: np.ndarray) -> float:
    """10·log10(signal power / noise power); inf when equal, -inf when not finite or no signal."""
    a, e = np.asarray(actual, np.float64).ravel(), np.asarray(expected, np.float64).ravel()
    if not np.all(np.isfinite(a)):
        return -math.inf
    noise, signal = float(np.sum((a - e) ** 2)), float(np.sum(e ** 2))
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(signal / noise) if signal > 0 else -math.inf


def cosine(actual: np.ndarray, expected: np.ndarray) -> float:
    """Cosine similarity of the flattened tensors: 1 for two zero tensors, nan when not finite."""
    a, e = np.asarray(actual, np.float64).ravel(), np.asarray(expected, np.float64).ravel()
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))):
        return math.nan
    na, ne = float(np.linalg.norm(a)), float(np.linalg.norm(e))
    if na == 0.0 or ne == 0.0:
        return 1.0 if na == ne else 0.0
    return float(np.dot(a, e) / (na * ne))


def float_values(model: onnx.ModelProto, feeds: dict, target=None) -> dict[str, Any]:
    """Every value of the float model: the reference executor's, else ``target``'s exposed run."""
    try:
        return ReferenceExecutor(model, "float32").run_all(feeds)
    except Exception:           # an op the executor lacks: the target's float run stands in
        if target is None:
            raise
        return target_values(model, feeds, target)


def target_values(model: onnx.ModelProto, feeds: dict, target) -> dict[str, Any]:
    """Every top-level value ``model`` computes on ``target`` (a name or a Target), by name."""
    target = get_target(target) if isinstance(target, str) else target
    exposed, _ = expose_intermediates(model)
    values = target.run(target.prepare(exposed), dict(feeds))
    return {o.name: v for o, v in zip(exposed.graph.output, values)} | dict(feeds)


def consumer_views(model: onnx.ModelProto) -> dict[str, str]:
    """tensor -> the name of its value as its consumers read it in a QDQ model: a quantizer
    writes ``DequantizeLinear(QuantizeLinear(X))`` after X (and folds a Relu into that pair),
    so the float tensor X is to be compared with that pair's output."""
    quantized_from = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "QuantizeLinear"}
    return {quantized_from[n.input[0]]: n.output[0] for n in model.graph.node
            if n.op_type == "DequantizeLinear" and n.input[0] in quantized_from}


def _is_float(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def compare_intermediates(float_model: onnx.ModelProto, expected: dict, actual: dict,
                          views: dict[str, str] | None = None) -> list[TensorError]:
    """One TensorError per float node output present in both runs, in graph order; ``views``
    maps a float tensor to the reduced model's name for it (``consumer_views``)."""
    views = views or {}
    rows: list[TensorError] = []
    quality: dict[str, float] = {}          # tensor -> SQNR, for added_db of its consumers
    for node in float_model.graph.node:
        inputs_db = [quality.get(i, math.inf) for i in node.input if i]
        for name in node.output:
            e, a = expected.get(name), actual.get(views.get(name, name))
            if not (_is_float(e) and _is_float(a)) or e.shape != a.shape:
                continue
            db = sqnr_db(a, e)
            quality[name] = db
            added = _own_db(db, min(inputs_db, default=math.inf))
            err = np.abs(a.astype(np.float64) - e.astype(np.float64))
            rows.append(TensorError(name, node.name, node.op_type, db, cosine(a, e),
                                    float(np.max(err)) if err.size else 0.0, added))
    return rows


def _nsr(db: float) -> float:
    return math.inf if db == -math.inf else 10.0 ** (-db / 10.0)


def _own_db(out_db: float, worst_in_db: float) -> float:
    """SQNR of the noise added between the worst input and the output (inf: none added)."""
    out, inp = _nsr(out_db), _nsr(worst_in_db)
    if out == math.inf:
        return math.inf if inp == math.inf else -math.inf     # broke here, or inherited the break
    added = out - inp
    return -10.0 * math.log10(added) if added > 0 else math.inf


def rank(rows: list[TensorError]) -> list[TensorError]:
    """Worst first: lowest SQNR, ties broken by the noise the node added."""
    return sorted(rows, key=lambda r: (r.sqnr_db, r.own_db))


def attribute_error(float_model, reduced_model, feeds: dict, target="onnxruntime",
                    expected: dict | None = None) -> list[TensorError]:
    """Per-tensor SQNR and cosine of ``reduced_model`` (run on ``target``) against
    ``float_model`` (the reference executor), ranked worst first. ``expected``: the float
    model's values when the caller has them already."""
    float_model, reduced_model = load_model(float_model), load_model(reduced_model)
    target = get_target(target) if isinstance(target, str) else target
    if expected is None:
        expected = float_values(float_model, feeds, target)
    actual = target_values(reduced_model, feeds, target)
    return rank(compare_intermediates(float_model, expected, actual, consumer_views(reduced_model)))


def attribution_json(rows: list[TensorError], limit: int | None = None) -> list[dict]:
    return [r.to_dict() for r in rows[:limit]]


def attribution_text(rows: list[TensorError], limit: int = 10) -> list[str]:
    """The ranked table, worst ``limit`` tensors."""
    lines = [f"  {'tensor':32s} {'node':24s} {'op':14s} {'SQNR dB':>8s} {'own dB':>7s} {'cosine':>8s}"]
    for r in rows[:limit]:
        lines.append(f"  {r.name[:32]:32s} {r.node[:24]:24s} {r.op_type[:14]:14s} {r.sqnr_db:8.2f} "
                     f"{r.own_db:7.2f} {r.cosine:8.5f}")
    return lines
