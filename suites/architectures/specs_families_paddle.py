"""Today's model families in paddle as cases (issue 19): see suites/architectures/test_families.py.
Imports no framework; the builders run in the paddle worker."""
from __future__ import annotations

from conformance.cases import CaseSpec

CASES: list[CaseSpec] = []
