#!/usr/bin/env bash
# Creates .venv in the project root and installs the package with its dev extras.
# torch is installed first as the 2.13.0 CPU wheel: the range in pyproject.toml would otherwise let pip pick a
# multi-GB CUDA build on a machine without torch. Set TORCH_SPEC to choose another build (e.g. TORCH_SPEC=torch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
.venv/bin/python -m pip install --quiet -e ".[dev${EXTRAS:+,$EXTRAS}]"
