"""Today's model families in keras as cases (issue 19): see suites/architectures/test_families.py.
Imports no framework; the builders run in the keras worker."""
from __future__ import annotations

from conformance.cases import CaseSpec

CASES: list[CaseSpec] = []
