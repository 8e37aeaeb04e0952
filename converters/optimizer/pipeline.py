"""Run passes by name over a model and report what each did."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import onnx

from .graph import Graph
from .passes import OPTIMIZER_PASSES

PRE = ("dce", "simplify", "cse")
CORE = ("fold", "simplify", "fuse-bn", "fuse-conv-affine", "fuse-pad", "gemm", "fuse-global-pool",
        "transpose", "cse", "dce")
POST = ("dedupe-init", "prune-init")
DEFAULT_PIPELINE = PRE + CORE + POST
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
    unknown = [n for n in names if n not in OPTIMIZER_PASSES]
    if unknown:
        raise KeyError(f"unknown optimizer pass(es) {', '.join(unknown)}; "
                       f"choose from {', '.join(sorted(OPTIMIZER_PASSES))}")
    return names


def optimize(model: onnx.ModelProto, passes: list[str] | str | None = None,
             max_rounds: int = MAX_ROUNDS, strict: bool = False) -> tuple[onnx.ModelProto, Report]:
    """Apply ``passes`` (names, a comma list, or None for the default pipeline) until nothing changes.

    A pass that raises is skipped for the rest of the run and the graph goes on from the state
    before it (``strict`` re-raises instead): a pass never takes a model down."""
    names = parse_passes(passes) if not isinstance(passes, list) else parse_passes(",".join(passes))
    g = Graph(model)
    report = Report(nodes_before=len(g.nodes))
    broken: set[str] = set()
    for round_ in range(max_rounds):
        report.rounds = round_ + 1
        before_round = _signature(g)
        for name in names:
            if name in broken:
                continue
            info = OPTIMIZER_PASSES[name]
            n0, i0 = len(g.nodes), len(g.init_names())
            snapshot = (list(g.nodes), [onnx.NodeProto.FromString(n.SerializeToString()) for n in g.nodes],
                        dict(g._arrays), dict(g._init_protos))
            start = time.perf_counter()
            error = ""
            try:
                info.run(g)
            except Exception as exc:
                if strict:
                    raise
                error = f"{type(exc).__name__}: {exc}"
                broken.add(name)
                g.nodes = snapshot[1]
                g._arrays, g._init_protos = snapshot[2], snapshot[3]
                g.refresh()
            report.records.append(PassRecord(name, n0, len(g.nodes), i0, len(g.init_names()),
                                             time.perf_counter() - start, error))
        if _signature(g) == before_round:
            break
    out = g.to_model()
    report.nodes_after = len(out.graph.node)
    return out, report
