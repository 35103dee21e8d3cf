"""Benchmark 4 (+ memory): reviews/s of the pipeline on 1,000 real reviews, length-sorted dynamic padding vs fixed max_length=256 vs one call per review, and the pipeline's overhead over a raw model(**batch) loop.

A thin runner: the benchmark itself lives in `benchmarks.bench` (so that the installed
`python -m benchmarks.bench` command can run it too). Run from the repository root:

    python -m benchmarks.inference            # full size, CPU; writes benchmarks/results/inference.json + .png
    python -m benchmarks.inference --quick    # tiny encoder, seconds
    python -m benchmarks.inference --device cuda --dtype bf16 --out benchmarks/results/h200_bf16

Every option of `python -m benchmarks.bench --help` applies.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench.cli import run as bench_main

    return bench_main(["--only", "inference", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
