"""`python -m benchmarks.bench [ARGS]` from the repository root: every benchmark (see `--help`)."""

from __future__ import annotations

import sys

from benchmarks.bench.cli import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
