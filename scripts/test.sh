#!/usr/bin/env bash
# Sets up .venv (scripts/setup.sh), runs the linters (ruff check, ruff format --check: any finding fails the run)
# and then the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q "$@"
