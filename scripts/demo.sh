#!/usr/bin/env bash
# Sets up .venv (scripts/setup.sh) and runs the main job: `hf-visobert-absa demo` on the built-in sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hf-visobert-absa demo "$@"
