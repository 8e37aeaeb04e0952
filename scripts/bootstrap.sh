#!/usr/bin/env bash
# One command on a fresh machine: set up, then run the conformance suites (operators, padding,
# semantics, architectures) on the embedded default targets, reference + onnxruntime.
# Ends by printing where the results and the coverage matrix were written.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p reports/out
set +e
.venv/bin/python -m pytest suites -n 2 -q -p no:cacheprovider \
    --target reference --target onnxruntime \
    --results reports/out/results.jsonl "$@"
code=$?
set -e
echo
echo "results:         $(pwd)/reports/out/results.jsonl"
echo "coverage matrix: $(pwd)/reports/out/matrix.html (also matrix.md, matrix.json)"
echo "repro bundles:   $(pwd)/reports/out/repro/ (one folder per failed case)"
exit $code
