"""A fuzzing campaign with Hypothesis as the engine: rounds that depend on their seed alone.

Round r draws ``Campaign.quota(r)`` graphs with Hypothesis seeded ``seed + r``, generate phase
only: the property checks each graph (by default on every converter x target,
``evaluate.RunnerCheck``) and records the first graph of each failure signature it has not seen
(its origin: round, example index), never raising. So a round's draws do not depend on what
other rounds found: rounds may run in any order, on any shard (``--shard K/N`` runs rounds
K-1, K-1+N, ...), and an interrupted round is run again on resume.

Each new signature is then reduced: first to one node alone (``isolate``: a few checks), else the
round is replayed (examples before the origin are drawn again but not evaluated) and at the
origin the property raises an exception class made for that signature, so Hypothesis shrinks it
without slipping to another bug; pruning then drops nodes it kept. Findings are deduplicated by their reduced signature, the earliest origin winning: the same
findings whatever the sharding (``shards.merge``) and whether or not the campaign was resumed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from .evaluate import Evaluation, Failure, graph_id
from .graphs import CORNER_SHARE, graphs, without_node
from .isolate import isolate
from .known import value_tags


class NewFailure(Exception):
    """Base of the per-signature failure classes the property raises."""


class BudgetSpent(BaseException):
    """Ends a round early: a BaseException, so Hypothesis does not take it for a failure."""


_CLASSES: dict[str, type] = {}


def failure_class(signature: str) -> type:
    if signature not in _CLASSES:
        _CLASSES[signature] = type(f"Failure_{signature[:8]}", (NewFailure,), {})
    return _CLASSES[signature]


@dataclass
class Budget:
    seconds: float | None = None
    models: int | None = None
    grace: float = 1.25             # reductions in progress may run to grace x the time budget
    reduce_seconds: float = 120.0   # one finding's Hypothesis shrink at most (then pruning)


@dataclass
class Finding:
    graph: dict
    failure: Failure
    framework: str
    known: str | None = None       # the matching known-failures entry (its first pattern)
    origin: tuple = (0, 0)         # (round, example index) of the first graph with the raw signature
    raw: str = ""                  # the signature before reduction


@dataclass
class RoundStats:
    models: int = 0
    valid: int = 0
    onnx_ops: set = field(default_factory=set)
    complete: bool = False

    def add(self, result: Evaluation) -> None:
        self.models += 1
        self.valid += bool(result.valid)
        self.onnx_ops.update(result.onnx_ops)

    def to_dict(self) -> dict:
        return {"models": self.models, "valid": self.valid, "onnx_ops": sorted(self.onnx_ops),
                "complete": self.complete}

    @classmethod
    def from_dict(cls, data: dict) -> "RoundStats":
        return cls(data["models"], data["valid"], set(data["onnx_ops"]), data["complete"])


class Stats:
    """Per-round counts (a round run again replaces its entry) and the seconds spent, over sessions."""

    def __init__(self):
        self.rounds: dict[int, RoundStats] = {}
        self.seconds_before = 0.0
        self.started: float | None = time.monotonic()     # None: not running (a merge of shards)

    @property
    def seconds(self) -> float:
        return self.seconds_before + (time.monotonic() - self.started if self.started is not None else 0.0)

    @property
    def models(self) -> int:
        return sum(r.models for r in self.rounds.values())

    @property
    def valid(self) -> int:
        return sum(r.valid for r in self.rounds.values())

    @property
    def onnx_ops(self) -> set:
        return set().union(*(r.onnx_ops for r in self.rounds.values()))

    def summary(self) -> dict:
        seconds, models = self.seconds, self.models
        return {"models": models, "valid": self.valid,
                "valid_rate": round(self.valid / models, 4) if models else 0.0,
                "onnx_ops": sorted(self.onnx_ops), "models_per_minute": round(60 * models / max(seconds, 1e-9), 2),
                "seconds": round(seconds, 1), "rounds_complete": sorted(r for r, s in self.rounds.items() if s.complete)}


class Campaign:
    def __init__(self, check: Callable[[dict], Evaluation], framework: str = "torch", max_nodes: int = 8,
                 only: list[str] | None = None, budget: Budget | None = None, known: Callable | None = None,
                 progress: Callable[[str], None] | None = None, round_examples: int = 200,
                 corner_share=CORNER_SHARE, exclude: list[str] | None = None, shard: tuple = (1, 1),
                 on_round: Callable[["Campaign"], None] | None = None,
                 on_records: Callable[[list], None] | None = None):
        self.check, self.framework, self.max_nodes, self.only = check, framework, max_nodes, only
        self.corner_share, self.exclude, self.shard = corner_share, exclude, tuple(shard)
        self.budget = budget or Budget(models=100)
        self.known = known or (lambda failure, graph: None)       # known(failure, reduced graph) -> entry or None
        self.progress = progress or (lambda line: None)
        self.on_round = on_round or (lambda campaign: None)       # after each round: a checkpoint
        self.on_records = on_records or (lambda records: None)    # each generated graph's result records
        self.round_examples = round_examples
        self.stats = Stats()
        self.findings: list[Finding] = []
        self.origins: dict[str, tuple] = {}      # raw signature -> its first (round, index) on this shard
        self.reduced: set[str] = set()           # raw signatures reduced (to a finding or a duplicate)
        self.seed = 0
        self._last_progress = 0.0

    # -- budget and rounds
    def time_spent(self, reducing: bool = False) -> bool:
        b = self.budget
        return b.seconds is not None and self.stats.seconds >= b.seconds * (b.grace if reducing else 1.0)

    def quota(self, r: int) -> int:
        """Round r's number of graphs: the example budget is cut into rounds of round_examples."""
        if self.budget.models is None:
            return self.round_examples
        return max(0, min(self.round_examples, self.budget.models - r * self.round_examples))

    def shard_rounds(self):
        k, n = self.shard
        r = k - 1
        while True:
            yield r
            r += n

    def run(self, seed: int) -> list[Finding]:
        self.seed = seed
        for r in self.shard_rounds():
            quota = self.quota(r)
            if quota == 0 or self.time_spent():
                break
            if r in self.stats.rounds and self.stats.rounds[r].complete:
                continue                            # done before a resume
            first = self.generate(r, quota)
            for signature, (index, graph, failure) in sorted(first.items(), key=lambda kv: kv[1][0]):
                if signature not in self.reduced and not self.time_spent(reducing=True):
                    self.reduce(r, index, graph, failure)
            self.on_round(self)
            if self.stats.rounds[r].models == 0:    # the strategy had nothing left to draw
                break
        return self.findings

    def _hypothesis(self, r: int, quota: int, prop: Callable, shrink: bool) -> None:
        phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]

        @hypothesis_seed(self.seed + r)
        @settings(max_examples=quota, deadline=None, database=None, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck), phases=phases)
        @given(graphs(self.framework, self.max_nodes, self.only, self.corner_share, self.exclude))
        def run(graph):
            prop(graph)
        run()

    # -- generation
    def generate(self, r: int, quota: int) -> dict[str, tuple[int, dict, Failure]]:
        """Round r: every graph checked; the first graph of each signature new to this shard."""
        stats = self.stats.rounds[r] = RoundStats()
        first: dict[str, tuple[int, dict, Failure]] = {}

        def prop(graph):
            if self.time_spent():
                raise BudgetSpent()
            result = self.check(graph)
            self.on_records(result.records)
            for f in result.failures:
                if f.signature not in self.origins:
                    self.origins[f.signature] = (r, stats.models)
                    first[f.signature] = (stats.models, graph, f)
            stats.add(result)
            self.tick(r)
        try:
            self._hypothesis(r, quota, prop, shrink=False)
            stats.complete = True
        except BudgetSpent:
            pass
        return first

    def tick(self, r: int, force: bool = False) -> None:
        """The live progress line, every 10 s."""
        now = time.monotonic()
        if force or now - self._last_progress >= 10:
            self._last_progress = now
            self.progress(f"[round {r}] {self.progress_line()}")

    # -- reduction
    def focused(self, failure: Failure) -> Callable[[dict], Evaluation]:
        """The check to reduce a failure with: on its converter and target alone where the check can."""
        return self.check.focused(failure) if hasattr(self.check, "focused") else self.check

    def shrink(self, r: int, index: int, graph: dict, failure: Failure) -> tuple[dict, Failure] | None:
        """Hypothesis's smallest graph failing with ``signature``, replaying round r up to the
        origin ``index`` without evaluating the graphs before it; None if the replay drifts."""
        signature = failure.signature
        best: dict = {}
        count = [0]
        deadline = time.monotonic() + self.budget.reduce_seconds
        check = self.focused(failure)

        def prop(g):
            i, count[0] = count[0], count[0] + 1
            if i < index:
                return
            if i == index and graph_id(g) != graph_id(graph):
                raise BudgetSpent()                 # not the same draws: prune the origin instead
            if best and (time.monotonic() > deadline or self.time_spent(reducing=True)):
                raise BudgetSpent()
            same = [f for f in check(g).failures if f.signature == signature]
            if same:
                best["last"] = (g, same[0])
                error = failure_class(signature)(f"{same[0].symptom}: {same[0].message}")
                raise error
        try:
            self._hypothesis(r, self.quota(r), prop, shrink=True)
        except (NewFailure, BudgetSpent):
            pass
        except Exception as e:            # Hypothesis' Flaky: the failure did not replay
            self.progress(f"round {r}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        return best.get("last")

    def prune(self, graph: dict, failure: Failure) -> tuple[dict, Failure]:
        """Drop unread nodes while a failure of the same symptom in the same component stays
        (Hypothesis does not always delete a node drawn before the failing one). A smaller graph
        may be diagnosed more precisely, hence a signature of its own; but not one the bigger
        graph had already: that is another bug, and the finding does not slip to it."""
        check = self.focused(failure)
        others = {f.signature for f in check(graph).failures} - {failure.signature}
        j = len(graph["nodes"]) - 1
        while j >= 0 and len(graph["nodes"]) > 1:
            smaller = without_node(graph, j)
            failures = check(smaller).failures if smaller else []
            same = [f for f in failures if (f.symptom, f.component) == (failure.symptom, failure.component)
                    and f.signature not in others]
            if same:
                graph, failure = smaller, next((f for f in same if f.signature == failure.signature), same[0])
                others = {f.signature for f in failures} - {failure.signature}
            j -= 1
        return graph, failure

    def reduce(self, r: int, index: int, graph: dict, failure: Failure) -> None:
        self.progress(f"[round {r}] reducing {failure.signature[:8]}: {failure.symptom} in {failure.component} "
                      f"({len(graph['nodes'])} nodes)")
        special = value_tags(failure.inputs) != "plain"
        isolated = isolate(graph, failure, self.focused(failure), special)
        if isolated:
            graph, reduced = isolated
        else:   # a hang costs a timeout per try: no Hypothesis shrink for it, pruning only
            shrunk = self.shrink(r, index, graph, failure) if failure.symptom != "converter hang" else None
            graph, reduced = self.prune(*(shrunk or (graph, failure)))
        self.reduced.add(failure.signature)
        finding = Finding(graph, reduced, self.framework, self._known(reduced, graph), (r, index), failure.signature)
        if any(f.failure.signature == reduced.signature for f in self.findings):
            self.progress(f"{reduced.signature[:8]} again (reduced to {len(graph['nodes'])} nodes): not a new finding")
            return
        self.findings.append(finding)
        self.progress(f"finding {reduced.signature[:8]}: {reduced.symptom} in {reduced.component} "
                      f"({len(graph['nodes'])} nodes{', known' if finding.known else ''})")

    def _known(self, failure: Failure, graph: dict):
        """The known-failures entry (a pattern) the finding matches, or None."""
        return self.known(failure, graph) or None

    def progress_line(self) -> str:
        s = self.stats.summary()
        known = sum(bool(f.known) for f in self.findings)
        return (f"{s['models']} models, {s['valid_rate']:.0%} valid, {len(s['onnx_ops'])} ONNX ops, "
                f"{s['models_per_minute']}/min, {len(self.findings)} findings ({known} known)")
