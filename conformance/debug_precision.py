"""``debug precision``: the small set of ONNX nodes to keep in float32 so that a float16 (or
INT8) version of a model still meets a tolerance or a metric on a target.

The search, in three steps, each a plain function over node names:

1. **Suspects.** The float model runs once on the reference executor with every intermediate
   kept. float16 hazards are read off those values: a node that reads or writes a value beyond
   float16's range (|x| > 65504) cannot run in float16 at all (*required*); one whose nonzero
   outputs mostly fall below float16's smallest subnormal underflows. The all-reduced model
   then runs with its intermediates exposed, and every other node is ranked by the SQNR it adds
   (``precision_attribution``): the node that loses the most first.
2. **Bisection.** The required nodes plus the shortest prefix of that ranking that passes
   (binary search over the prefix length, Polygraphy's ``debug precision`` bisection, over the
   suspects' order rather than the raw topological order, so that the prefix stays short).
3. **Delta debugging.** The passing set is reduced to a 1-minimal one (ddmin: drop halves,
   then quarters, ... then single nodes, keeping each drop that still passes).

Every trial builds the mixed model with our own passes (``convert_float16`` with a keep-list;
``quantize_int8`` with the kept nodes excluded from quantization), runs it on the target, and
judges its outputs against the float model's outputs *on the same target*, so only the change
of precision is measured. Nodes without a name get ``<OpType>_<index>`` first: the names the
report and the written model use.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import onnx

from .comparator import compare
from .errors import ConformanceError
from .precision_attribution import attribute_error, cosine, float_values
from .targets import get_target
from .tolerance import Tolerance

FP16_MAX = 65504.0
FP16_TINY = 2.0 ** -24            # smallest float16 subnormal: anything smaller flushes to zero
UNDERFLOW_SHARE = 0.5             # an output whose nonzero values mostly flush is a suspect
DEFAULT_MAX_TRIALS = 200


class DebugPrecisionError(ConformanceError):
    """The model or the inputs cannot be searched (bad input: exit 2)."""


# ----------------------------------------------------------------------------- the goal
@dataclass
class Verdict:
    passed: bool
    max_abs: float = math.inf
    max_rel: float = math.inf
    cosine: float = math.nan
    error: str = ""                   # the mixed model could not be built or run

    def summary(self) -> str:
        if self.error:
            return f"error: {self.error}"
        return f"max_abs {self.max_abs:.3g}, max_rel {self.max_rel:.3g}, cosine {self.cosine:.6f}"


@dataclass(frozen=True)
class Goal:
    """What passing means: element-wise ``tolerance`` or ``cosine_min`` on every output
    (flattened); either way every output must be finite."""
    tolerance: Tolerance | None = None
    cosine_min: float | None = None

    def describe(self) -> str:
        return self.tolerance.describe() if self.tolerance else f"cosine >= {self.cosine_min:g} on every output"

    def judge(self, outputs: list, golden: list) -> Verdict:
        max_abs = max_rel = 0.0
        worst_cos, passed = 1.0, True
        for a, e in zip(outputs, golden):
            a, e = np.asarray(a), np.asarray(e)
            if a.shape != e.shape or not np.all(np.isfinite(a)):
                return Verdict(False, math.inf, math.inf, math.nan)
            err = np.abs(a.astype(np.float64) - e.astype(np.float64))
            max_abs = max(max_abs, float(err.max(initial=0.0)))
            rel = err / np.maximum(np.abs(e.astype(np.float64)), np.finfo(np.float32).tiny)
            max_rel = max(max_rel, float(rel.max(initial=0.0)))
            worst_cos = min(worst_cos, cosine(a, e))
            if self.tolerance is not None:
                passed &= compare(a.astype(e.dtype), e, self.tolerance).passed
        if self.cosine_min is not None:
            passed &= worst_cos >= self.cosine_min
        return Verdict(bool(passed), max_abs, max_rel, worst_cos)


def parse_metric(text: str) -> float:
    """``cosine:0.999`` -> 0.999 (the one metric so far)."""
    name, _, value = text.partition(":")
    try:
        threshold = float(value)
    except ValueError:
        threshold = math.nan
    if name != "cosine" or not 0 < threshold <= 1:
        raise DebugPrecisionError(f"unknown metric {text!r}", fix="use --metric cosine:0.999")
    return threshold


# ----------------------------------------------------------------------------- the modes
@dataclass
class Suspect:
    name: str
    op_type: str
    reason: str
    magnitude: float          # largest |x| the node reads or writes in float32
    required: bool = False    # cannot run in reduced precision at all


def named_copy(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose every node has a unique name (``<OpType>_<index>`` where none or a clash)."""
    named = copy.deepcopy(model)
    seen: set[str] = set()
    for index, node in enumerate(named.graph.node):
        if not node.name or node.name in seen:
            node.name = f"{node.op_type}_{index}"
        seen.add(node.name)
    return named


def node_magnitude(node: onnx.NodeProto, values: dict) -> float:
    arrays = [values.get(n) for n in [*node.input, *node.output] if n]
    floats = [a for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size]
    finite = [np.abs(a[np.isfinite(a)]) for a in floats]
    return max((float(f.max()) for f in finite if f.size), default=0.0)


def float16_hazard(node: onnx.NodeProto, values: dict) -> Suspect | None:
    """Overflow (any value read or written beyond ±65504) or underflow (most nonzero outputs
    below float16's smallest subnormal) in the float32 run."""
    magnitude = node_magnitude(node, values)
    if magnitude > FP16_MAX:
        return Suspect(node.name, node.op_type, f"overflow: |x| reaches {magnitude:.4g} > float16 max {FP16_MAX:g}",
                       magnitude, required=True)
    for name in node.output:
        a = values.get(name)
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            nonzero = np.abs(a[(a != 0) & np.isfinite(a)])
            share = float(np.mean(nonzero < FP16_TINY)) if nonzero.size else 0.0
            if share > UNDERFLOW_SHARE:
                return Suspect(node.name, node.op_type, f"underflow: {share:.0%} of nonzero values below "
                               f"{FP16_TINY:.2g} flush to zero", magnitude)
    return None


class Float16Mode:
    name = "fp16"
    default_cosine = 0.999          # FP16_TOLERANCE's cosine

    def build(self, model, keep: frozenset, calibration) -> onnx.ModelProto:
        from converters.optimizer.precision import STRUCTURAL_FP32_OPS, convert_float16
        return convert_float16(model, keep_io_types=True, fp32_ops=STRUCTURAL_FP32_OPS, keep_nodes=keep)

    def eligible(self, node: onnx.NodeProto, values: dict) -> bool:
        from converters.optimizer.precision import STRUCTURAL_FP32_OPS
        if node.domain not in ("", "ai.onnx") or node.op_type in STRUCTURAL_FP32_OPS:
            return False
        return any(isinstance(values.get(n), np.ndarray) and values[n].dtype == np.float32
                   for n in [*node.input, *node.output] if n)

    def hazard(self, node, values) -> Suspect | None:
        return float16_hazard(node, values)


class Int8Mode:
    name = "int8"
    default_cosine = 0.97           # INT8_TOLERANCE's cosine

    def build(self, model, keep: frozenset, calibration) -> onnx.ModelProto:
        from converters.optimizer.precision import quantize_int8
        return quantize_int8(model, calibration=calibration, exclude_nodes=keep)

    def eligible(self, node: onnx.NodeProto, values: dict) -> bool:
        from converters.optimizer.precision import INT8_KEEP_FLOAT
        return node.domain in ("", "ai.onnx") and node.op_type not in INT8_KEEP_FLOAT and any(
            isinstance(values.get(n), np.ndarray) and values[n].dtype == np.float32 for n in node.output if n)

    def hazard(self, node, values) -> Suspect | None:
        return None                 # no range hazard: calibration sets every range


#: reduced-precision modes by ``--mode`` name
MODES: dict[str, Callable[[], object]] = {"fp16": Float16Mode, "int8": Int8Mode}


# ----------------------------------------------------------------------------- the trials
class BudgetExhausted(Exception):
    pass


class Trials:
    """Build, run and judge a mixed model per keep-set; each set tried once."""

    def __init__(self, mode, model, feeds, golden, goal: Goal, target, calibration, max_trials: int):
        self.mode, self.model, self.feeds, self.golden = mode, model, feeds, golden
        self.goal, self.target, self.calibration, self.max_trials = goal, target, calibration, max_trials
        self.seen: dict[frozenset, Verdict] = {}
        self.best: tuple[frozenset, Verdict] | None = None

    def build(self, keep) -> onnx.ModelProto:
        return self.mode.build(self.model, frozenset(keep), self.calibration)

    def __call__(self, keep) -> Verdict:
        key = frozenset(keep)
        if key not in self.seen:
            if len(self.seen) >= self.max_trials:
                raise BudgetExhausted()
            self.seen[key] = verdict = self._run(key)
            if self.best is None or _better(key, verdict, *self.best):
                self.best = (key, verdict)
        return self.seen[key]

    def _run(self, keep: frozenset) -> Verdict:
        try:
            mixed = self.build(keep)
            outputs = self.target.run(self.target.prepare(mixed), dict(self.feeds))
        except Exception as exc:        # an invalid mixed model or a missing kernel: this set fails
            return Verdict(False, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return self.goal.judge(outputs, self.golden)


def _better(keep, verdict: Verdict, best_keep, best: Verdict) -> bool:
    """Passing beats failing; then fewer kept nodes (passing) or a higher cosine (failing)."""
    if verdict.passed != best.passed:
        return verdict.passed
    if verdict.passed:
        return len(keep) < len(best_keep)
    cos = verdict.cosine if math.isfinite(verdict.cosine) else -2.0
    best_cos = best.cosine if math.isfinite(best.cosine) else -2.0
    return cos > best_cos


def shortest_passing_prefix(base: list[str], ranked: list[str], passes: Callable[[list], bool]) -> int:
    """The smallest k with ``passes(base + ranked[:k])``, given that k = len(ranked) passes
    (binary search: passing is taken as monotone in k)."""
    lo, hi = 0, len(ranked)
    while lo < hi:
        mid = (lo + hi) // 2
        if passes(base + ranked[:mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo


def ddmin(keep: list[str], passes: Callable[[list], bool]) -> list[str]:
    """A 1-minimal passing subset of ``keep`` (which passes): drop chunks of half, a quarter,
    ..., one node, keeping every drop that still passes. Stops early on an exhausted budget."""
    chunk = max(1, len(keep) // 2)
    try:
        while keep:
            i = 0
            while i < len(keep):
                trial = keep[:i] + keep[i + chunk:]
                if passes(trial):
                    keep = trial
                else:
                    i += chunk
            if chunk == 1:
                break
            chunk = max(1, chunk // 2)
    except BudgetExhausted:
        pass
    return keep


# ----------------------------------------------------------------------------- the search
@dataclass
class KeptNode:
    name: str
    op_type: str
    reason: str
    magnitude: float                  # largest |x| read or written in float32
    without: str = ""                 # the verdict when this node alone goes back to reduced precision
    source_layer: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "op_type": self.op_type, "reason": self.reason,
                "max_magnitude": self.magnitude, "without_it": self.without, "source_layer": self.source_layer}


@dataclass
class SearchResult:
    mode: str
    target: str
    goal: str
    kept: list[KeptNode]
    verdict: Verdict
    reduced_verdict: Verdict          # with nothing kept
    trials: int
    model: onnx.ModelProto | None = field(default=None, repr=False)
    budget_exhausted: bool = False
    hazards: list[Suspect] = field(default_factory=list)     # every hazard in the float32 values

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def masked_hazards(self) -> list[Suspect]:
        """Required hazards the target did not show: it passed with nothing kept, so it does not
        compute those nodes in reduced precision (onnxruntime's CPU provider runs float16 ops
        without a float16 kernel in float32, through Casts it inserts itself)."""
        return [h for h in self.hazards if h.required] if self.reduced_verdict.passed else []


def find_hazards(mode, model, values) -> list[Suspect]:
    """The eligible nodes whose float32 values are a hazard in reduced precision, graph order."""
    nodes = [n for n in model.graph.node if mode.eligible(n, values)]
    return [h for h in (mode.hazard(n, values) for n in nodes) if h is not None]


def rank_suspects(mode, model, values, feeds, target, hazards, trials: Trials) -> tuple[list[str], dict]:
    """The eligible nodes that are not required hazards, most suspect first: soft hazards
    (underflow), then by the noise each adds in the all-reduced model (lowest own SQNR first).
    Returns them and each node's own SQNR (dB)."""
    try:
        rows = attribute_error(model, trials.build(frozenset()), feeds, target, expected=values)
    except Exception:                   # the reduced model cannot run exposed: graph order it is
        rows = []
    own = {r.node: r.own_db for r in rows}
    required = {h.name for h in hazards if h.required}
    soft = {h.name for h in hazards if not h.required}
    rest = [n.name for n in model.graph.node if mode.eligible(n, values) and n.name not in required]
    return sorted(rest, key=lambda name: (name not in soft, own.get(name, math.inf))), own


def _explain(keep: list[str], model, hazards: list[Suspect], own_db: dict, values, trials: Trials
             ) -> list[KeptNode]:
    by_name = {n.name: n for n in model.graph.node}
    why = {h.name: h.reason for h in hazards}
    order = {n.name: k for k, n in enumerate(model.graph.node)}
    kept = []
    for name in sorted(keep, key=order.__getitem__):        # graph order reads like the model
        node = by_name[name]
        try:
            without = trials([k for k in keep if k != name]).summary()
        except BudgetExhausted:
            without = ""
        reason = why.get(name) or (f"loses precision: adds noise at {own_db[name]:.1f} dB SQNR in the "
                                   f"all-{trials.mode.name} model" if name in own_db else "loses precision")
        kept.append(KeptNode(name, node.op_type, reason, node_magnitude(node, values), without,
                             _source_layer(node)))
    return kept


def _source_layer(node: onnx.NodeProto) -> str | None:
    """The source-framework layer the converter's naming gives this node (innermost), if any."""
    try:
        from .source_layers import scope_candidates
        scopes = scope_candidates(node)
    except Exception:           # a converter's naming hook that cannot read this node
        return None
    return scopes[0] if scopes else None


def _narrow(hazards, ranked, trials: Trials) -> list[str]:
    required = [h.name for h in hazards if h.required]
    passes = lambda keep: trials(keep).passed      # noqa: E731
    k = shortest_passing_prefix(required, ranked, passes)
    return ddmin(required + ranked[:k], passes)


def search(model, feeds: dict, mode: str = "fp16", target="onnxruntime", goal: Goal | None = None,
           calibration: list[dict] | None = None, max_trials: int = DEFAULT_MAX_TRIALS) -> SearchResult:
    """Find a small keep-list for ``mode`` (see the module docstring)."""
    if mode not in MODES:
        raise DebugPrecisionError(f"unknown mode {mode!r}", fix=f"choose one of: {', '.join(MODES)}")
    mode_impl = MODES[mode]()
    goal = goal or Goal(cosine_min=mode_impl.default_cosine)
    max_trials = max(1, max_trials)             # the reduced model itself is always tried
    target = get_target(target) if isinstance(target, str) else target
    model = named_copy(model)
    try:
        golden = target.run(target.prepare(model), dict(feeds))
        values = float_values(model, feeds, target)
    except Exception as exc:
        raise DebugPrecisionError(f"the float model does not run on {target.name}: {str(exc).splitlines()[0]}",
                                  fix="check it first: conformance check MODEL.onnx") from None
    trials = Trials(mode_impl, model, feeds, golden, goal, target, calibration or [dict(feeds)], max_trials)
    hazards = sorted(find_hazards(mode_impl, model, values), key=lambda h: (not h.required, -h.magnitude))
    keep, exhausted, own_db = [], False, {}
    try:
        if not trials([]).passed:
            ranked, own_db = rank_suspects(mode_impl, model, values, feeds, target, hazards, trials)
            keep = _keep_list(hazards, ranked, trials)
    except BudgetExhausted:
        exhausted, keep = True, sorted(trials.best[0])
    kept = _explain(keep, model, hazards, own_db, values, trials)
    return _result(mode_impl, target, goal, keep, kept, hazards, trials, exhausted)


def _keep_list(hazards: list[Suspect], ranked: list[str], trials: Trials) -> list[str]:
    """The narrowed keep-list, or the best set tried when not even keeping every suspect passes."""
    everything = [h.name for h in hazards if h.required] + ranked
    if trials(everything).passed:
        return _narrow(hazards, ranked, trials)
    return sorted(trials.best[0])


def _result(mode_impl, target, goal, keep, kept, hazards, trials, exhausted) -> SearchResult:
    verdict = trials.seen.get(frozenset(keep)) or Verdict(False, error="not tried")
    mixed = trials.build(frozenset(keep)) if not verdict.error else None
    return SearchResult(mode_impl.name, target.name, goal.describe(), kept, verdict,
                        trials.seen[frozenset()], len(trials.seen), mixed, exhausted, hazards)


def result_json(result: SearchResult, model_path: str | None) -> dict:
    from .results import finite_json
    v = result.verdict
    return finite_json({
        "mode": result.mode, "target": result.target, "goal": result.goal,
        "kept": [k.name for k in result.kept], "passed": result.passed,
        "max_abs": v.max_abs, "max_rel": v.max_rel, "cosine": v.cosine, "model": model_path,
        "nodes": [k.to_dict() for k in result.kept], "trials": result.trials,
        "budget_exhausted": result.budget_exhausted,
        "hazards": [{"name": h.name, "op_type": h.op_type, "reason": h.reason, "required": h.required}
                    for h in result.hazards],
        "masked_hazards": [h.name for h in result.masked_hazards],
        "reduced": {"max_abs": result.reduced_verdict.max_abs, "cosine": result.reduced_verdict.cosine,
                    "passed": result.reduced_verdict.passed}})


def result_text(result: SearchResult, model_path: str | None) -> str:
    lines = [f"{result.mode} on {result.target}, goal: {result.goal}",
             f"with nothing kept in float32: {'PASS' if result.reduced_verdict.passed else 'FAIL'} "
             f"({result.reduced_verdict.summary()})"]
    if result.kept:
        lines.append(f"kept in float32 ({len(result.kept)} node(s), {result.trials} trials):")
    for k in result.kept:
        layer = f" [source layer {k.source_layer}]" if k.source_layer else ""
        lines.append(f"  {k.name} ({k.op_type}){layer}: {k.reason}; max |x| {k.magnitude:.4g}")
        if k.without:
            lines.append(f"      without it: {k.without}")
    status = "PASS" if result.passed else "FAIL (best found)"
    lines.append(f"mixed model: {status} ({result.verdict.summary()})" + (f" -> {model_path}" if model_path else ""))
    if result.masked_hazards:
        names = ", ".join(h.name for h in result.masked_hazards)
        lines.append(f"warning: {result.target} passes, but these nodes overflow float16 in the float32 run: "
                     f"{names}; this target does not compute them in float16. Search on a target that does "
                     f"(--target reference computes each op in float16, as the spec says).")
    if result.budget_exhausted:
        lines.append(f"note: the trial budget ran out after {result.trials} trials")
    return "\n".join(lines)
