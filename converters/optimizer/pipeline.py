"""Run rewrite passes by name over a model and report what each did.

The default pipeline is derived from the registry: every pass declares where it runs
(``@rewrite_pass(name, at={"core": 40})``), and the stages run in ``STAGES`` order."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

import onnx

from .graph import Graph
from .passes import REWRITE_PASSES, STAGES, RewritePass


def default_pipeline() -> tuple[str, ...]:
    """The registered passes in stage order, then by their order within the stage."""
    slots = sorted((STAGES.index(stage), order, p.name)
                   for p in REWRITE_PASSES.values() for stage, order in p.at.items())
    clashes = {(s, o) for s, o, _ in slots if sum(1 for t in slots if t[:2] == (s, o)) > 1}
    if clashes:
        raise ValueError(f"rewrite passes share a place in the pipeline: {sorted(clashes)}")
    return tuple(name for _, _, name in slots)


DEFAULT_PIPELINE = default_pipeline()
#: the pipeline is repeated until a full round changes nothing (or this many rounds)
MAX_ROUNDS = 6


@dataclass
class PassRecord:
    name: str
    nodes_before: int
    nodes_after: int
    initializers_before: int
    initializers_after: int
    seconds: float
    error: str = ""


@dataclass
class Report:
    nodes_before: int = 0
    nodes_after: int = 0
    rounds: int = 0
    records: list[PassRecord] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"nodes {self.nodes_before} -> {self.nodes_after} in {self.rounds} round(s)"]
        for r in self.records:
            if r.nodes_before != r.nodes_after or r.initializers_before != r.initializers_after or r.error:
                extra = f"  ERROR {r.error}" if r.error else ""
                lines.append(f"  {r.name:18s} nodes {r.nodes_before:5d} -> {r.nodes_after:5d}  "
                             f"initializers {r.initializers_before:5d} -> {r.initializers_after:5d}  "
                             f"{r.seconds * 1e3:8.1f} ms{extra}")
        return "\n".join(lines)


def _signature(g: Graph) -> str:
    h = hashlib.sha1()
    for n in g.nodes:
        h.update(n.SerializeToString(deterministic=True))
    h.update("\0".join(sorted(g.init_names())).encode())
    return h.hexdigest()


def parse_passes(spec: str | None) -> list[str]:
    if not spec:
        return list(DEFAULT_PIPELINE)
    names = [p.strip() for p in spec.split(",") if p.strip()]
    unknown = [n for n in names if n not in REWRITE_PASSES]
    if unknown:
        raise KeyError(f"unknown optimizer pass(es) {', '.join(unknown)}; "
                       f"choose from {', '.join(sorted(REWRITE_PASSES))}")
    return names


def until_unchanged(step: Callable[[], bool], limit: int) -> int:
    """The optimizer's one fixpoint loop: call ``step`` until it reports no change, at most
    ``limit`` times; returns how many calls were made."""
    for count in range(1, limit + 1):
        if not step():
            return count
    return limit


def run_pass(g: Graph, rewrite: RewritePass) -> None:
    """One run of a rewrite pass: its preparation, its sweeps, then the passes it chains."""
    if g.opset < rewrite.min_opset:
        return
    if rewrite.prepare is not None:
        rewrite.prepare(g)
    until_unchanged(lambda: rewrite.run(g), rewrite.max_sweeps)
    for name in rewrite.then:
        run_pass(g, REWRITE_PASSES[name])


def _run_recorded(g: Graph, name: str, strict: bool) -> PassRecord:
    """Run pass ``name``; when it raises, put the graph back as it was (or re-raise if ``strict``)."""
    n0, i0 = len(g.nodes), len(g.init_names())
    snapshot = g.snapshot()
    start = time.perf_counter()
    error = ""
    try:
        run_pass(g, REWRITE_PASSES[name])
    except Exception as exc:
        if strict:
            raise
        error = f"{type(exc).__name__}: {exc}"
        g.restore(snapshot)
    return PassRecord(name, n0, len(g.nodes), i0, len(g.init_names()), time.perf_counter() - start, error)


def optimize(model: onnx.ModelProto, passes: list[str] | str | None = None,
             max_rounds: int = MAX_ROUNDS, strict: bool = False) -> tuple[onnx.ModelProto, Report]:
    """Apply ``passes`` (names, a comma list, or None for the default pipeline) until nothing changes.

    A pass that raises is skipped for the rest of the run and the graph goes on from the state
    before it (``strict`` re-raises instead): a pass never takes a model down."""
    names = parse_passes(passes) if not isinstance(passes, list) else parse_passes(",".join(passes))
    g = Graph(model)
    report = Report(nodes_before=len(g.nodes))
    broken: set[str] = set()

    def one_round() -> bool:
        before = _signature(g)
        for name in names:
            if name in broken:
                continue
            record = _run_recorded(g, name, strict)
            if record.error:
                broken.add(name)
            report.records.append(record)
        return _signature(g) != before

    report.rounds = until_unchanged(one_round, max_rounds)
    out = g.to_model()
    report.nodes_after = len(out.graph.node)
    return out, report
