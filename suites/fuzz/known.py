"""A fuzz finding against ``suites/known_failures.toml``: which entry, if any, already explains it,
and the entry to propose when none does.

A finding goes by one case id per op it blames (the op of the first divergent source layer when
the diagnosis names one, every op of the reduced graph otherwise)::

    op/<abstract op>/<framework>/<converter>/opset<N>/<target>/fuzz.<symptom>.<values>

``<symptom>`` is the triage symptom as a word (``wrong-values``, ``nan-inf-pattern``,
``converter-crash``, ``batch-dependent-values`` ...) and ``<values>`` says what the failing inputs
held: ``plain``, or the kinds of special values among ``nan``, ``inf``, ``huge`` joined by ``+``
(``inf+nan``). An entry written for one bug (``op/gelu/torch/*/fuzz.nan-inf-pattern.*inf*``)
then no longer hides another bug of the same op (a crash, or wrong values on plain inputs).
"""
from __future__ import annotations

import fnmatch
import re

import numpy as np

from conformance import triage

HUGE = 1e18           # a finite float at least this large is an "extreme" corner value


def value_tags(inputs: dict) -> str:
    """``plain`` or the special values the inputs hold: ``nan``, ``inf``, ``huge`` (joined by +)."""
    tags = set()
    for x in inputs.values():
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.floating):
            tags |= {"nan"} if np.isnan(x).any() else set()
            tags |= {"inf"} if np.isinf(x).any() else set()
            finite = x[np.isfinite(x)]
            tags |= {"huge"} if finite.size and np.abs(finite).max() >= HUGE else set()
        elif np.issubdtype(x.dtype, np.integer) and x.size:
            info = np.iinfo(x.dtype)
            tags |= {"huge"} if x.min() == info.min or x.max() == info.max else set()
    return "+".join(sorted(tags)) or "plain"


def variant(failure) -> str:
    return f"fuzz.{triage.slug(failure.symptom)}.{value_tags(failure.inputs)}"


def blamed_ops(failure, graph: dict) -> list[str]:
    """The graph ops a finding blames: the divergent source op when diagnosed, else all."""
    source = sorted({o.split(":", 1)[1] for o in getattr(failure, "blamed", []) or [] if o.startswith("source:")})
    return source or sorted({n["op"] for n in graph.get("nodes", [])})


def opset_of(failure) -> str:
    m = re.search(r"/opset(\d+)/", failure.case_id or "")
    return m.group(1) if m else "*"


def case_ids(failure, graph: dict, framework: str) -> list[str]:
    return [f"op/{op}/{framework}/{failure.converter}/opset{opset_of(failure)}/{failure.target}/{variant(failure)}"
            for op in blamed_ops(failure, graph)]


def match(table, failure, graph: dict, framework: str):
    """The first known-failures entry that explains the finding, or None."""
    found = matching(table, failure, graph, framework)
    return found[0] if found else None


def matching(table, failure, graph: dict, framework: str):
    """(the entry, the case id it matched) or None."""
    for case_id in case_ids(failure, graph, framework):
        entry = table.match(case_id, failure.converter, failure.version, failure.target)
        if entry is not None:
            return entry, case_id
    return None


def describe(table, failure, graph: dict, framework: str) -> str | None:
    """``"#<index> <the pattern that matched>"`` of the entry explaining the finding, or None."""
    found = matching(table, failure, graph, framework)
    if found is None:
        return None
    entry, case_id = found
    return f"#{entry.index} {next((p for p in entry.patterns if fnmatch.fnmatchcase(case_id, p)), entry.pattern)}"


def proposed_entry(failure, graph: dict, framework: str, command: str) -> str:
    """A ``[[failure]]`` entry for a new finding, to verify and complete before filing."""
    ids = case_ids(failure, graph, framework)
    pattern = ids[0].replace(f"/opset{opset_of(failure)}/", "/*/") if len(ids) == 1 else \
        "[" + ", ".join(f'"{i}"' for i in ids) + "]"
    pattern = pattern if pattern.startswith("[") else f'"{pattern}"'
    blamed = failure.component.split(":", 1)[0]
    who = f'converter = "{failure.converter}"' if blamed == "converter" else f'target    = "{failure.target}"'
    message = failure.message[:300].replace("\\", "/").replace('"', "'")
    return (f"[[failure]]\npattern   = {pattern}\n{who}\n"
            f'reason    = """TO VERIFY: {failure.symptom} in {failure.component}: {message} '
            f'Found by `{command}` (finding {failure.signature[:8]}, {len(graph.get("nodes", []))} nodes); '
            f'say what goes wrong against the documented semantics or the ONNX specification."""\n')
