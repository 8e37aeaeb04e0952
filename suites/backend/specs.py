"""The backend corner suite's case specs: one per (op, version, data set), for every op the
reference executor implements (read from its registry, never listed by hand)."""
from __future__ import annotations

import functools

from conformance.cases import CaseSpec
from conformance.reference import registry as reference_registry

from .datasets import DataSet, data_sets

BUILDER = "suites.backend.builder:build_node"


def reference_ops() -> list[tuple[str, str]]:
    """(domain, op type) of every op the reference executor registers."""
    import conformance.reference  # noqa: F401  (registers the ops)
    return reference_registry.known_ops()


def spec_of(ds: DataSet) -> CaseSpec:
    params = ds.params()
    if ds.undefined:
        params["undefined"] = ds.undefined
    if ds.unjudged:
        params["unjudged"] = ds.unjudged
    return CaseSpec(kind="node", name=ds.op, op=ds.op, framework="onnx", builder=BUILDER, params=params,
                    variant=ds.variant, converters=("onnx",), opset=ds.version)


@functools.lru_cache(maxsize=1)
def _all_specs() -> tuple[CaseSpec, ...]:
    return tuple(spec_of(ds) for domain, op in reference_ops() for ds in data_sets(op, domain))


def all_cases() -> list[CaseSpec]:
    return list(_all_specs())
