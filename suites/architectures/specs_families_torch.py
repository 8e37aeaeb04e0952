"""Today's model families in torch as cases (issue 19): see suites/architectures/test_families.py.
Imports no framework; the builders run in the torch worker."""
from __future__ import annotations

from conformance.cases import CaseSpec

CASES: list[CaseSpec] = []
