"""Benchmark 1: a full FocalContrastiveTrainer training step vs the same encoder with a linear head and cross-entropy (ViSoBERT size, B=16, L=64).

A thin runner: the benchmark itself lives in `benchmarks.bench` (so that the installed
`python -m benchmarks.bench` command can run it too). Run from the repository root:

    python -m benchmarks.step_overhead            # full size, CPU; writes benchmarks/results/step_overhead.json + .png
    python -m benchmarks.step_overhead --quick    # tiny encoder, seconds
    python -m benchmarks.step_overhead --device cuda --dtype bf16 --out benchmarks/results/h200_bf16

Every option of `python -m benchmarks.bench --help` applies.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench.cli import run as bench_main

    return bench_main(["--only", "step", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
