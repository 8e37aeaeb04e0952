#!/usr/bin/env bash
# Create .venv and install the framework with every source framework, converter and target
# pinned by constraints.txt (torch is the local CPU build; see the file for why each pin), then
# build the `paddle` environment (environments.toml): paddle2onnx caps onnx at 1.17, so Paddle's
# worker runs there. A second run installs and builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt -e '.[all,dev]'
.venv/bin/python -m pip check
.venv/bin/conformance env build paddle
echo "set up: $(.venv/bin/python --version), $(.venv/bin/conformance targets | grep -c ' available') targets/converters available"
