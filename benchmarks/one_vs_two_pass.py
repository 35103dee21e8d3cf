"""Benchmark 2: one forward + one backward for both losses vs forward->focal->backward then forward->contrastive->backward.

A thin runner: the benchmark itself lives in `benchmarks.bench` (so that the installed
`python -m benchmarks.bench` command can run it too). Run from the repository root:

    python -m benchmarks.one_vs_two_pass            # full size, CPU; writes benchmarks/results/one_vs_two_pass.json + .png
    python -m benchmarks.one_vs_two_pass --quick    # tiny encoder, seconds
    python -m benchmarks.one_vs_two_pass --device cuda --dtype bf16 --out benchmarks/results/h200_bf16

Every option of `python -m benchmarks.bench --help` applies.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench.cli import run as bench_main

    return bench_main(["--only", "passes", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
