#!/usr/bin/env bash
# One command on a fresh machine: set up, then run the conformance suites (operators with one
# OpInfo sample per torch op, padding, semantics, architectures) on the embedded default targets,
# reference + onnxruntime. The breadth runs are their own commands (README): every OpInfo sample
# (-m opinfo), the backend corner suite (suites/backend, -m node) and the dynamic-shape twins of
# the operator and padding cases (-m dynamic).
# Ends by printing where the results and the coverage matrix were written.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p reports/out
set +e
.venv/bin/python -m pytest suites -n 2 -q -p no:cacheprovider -m "not opinfo_extended and not node and not accuracy and not dynamic" \
    --target reference --target onnxruntime \
    --results reports/out/results.jsonl "$@"
code=$?
set -e
echo
echo "results:         $(pwd)/reports/out/results.jsonl"
echo "coverage matrix: $(pwd)/reports/out/matrix.html (also matrix.md, matrix.json)"
echo "repro bundles:   $(pwd)/reports/out/repro/ (one folder per failed case)"
exit $code
