"""Benchmark 4 (+ memory): reviews/s of the pipeline on 1,000 real reviews, length-sorted dynamic padding vs fixed max_length=256 vs one call per review, and the pipeline's overhead over a raw model(**batch) loop.

A thin runner: the benchmark itself lives in `hf_visobert_absa.benchmarking` (so that the installed
`hf-visobert-absa bench` command can run it too). Run from the repository root:

    python benchmarks/inference.py            # full size, CPU; writes benchmarks/results/inference.json + .png
    python benchmarks/inference.py --quick    # tiny encoder, seconds
    python benchmarks/inference.py --device cuda --dtype bf16 --out benchmarks/results/gpu

Every option of `hf-visobert-absa bench --help` applies.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from hf_visobert_absa.commands.bench import main as bench_main

    return bench_main(["--only", "inference", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
