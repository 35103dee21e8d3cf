"""Benchmark 1: a full FocalContrastiveTrainer training step vs the same encoder with a linear head and cross-entropy (ViSoBERT size, B=16, L=64).

A thin runner: the benchmark itself lives in `hf_visobert_absa.benchmarking` (so that the installed
`hf-visobert-absa bench` command can run it too). Run from the repository root:

    python benchmarks/step_overhead.py            # full size, CPU; writes benchmarks/results/step_overhead.json + .png
    python benchmarks/step_overhead.py --quick    # tiny encoder, seconds
    python benchmarks/step_overhead.py --device cuda --dtype bf16 --out benchmarks/results/gpu

Every option of `hf-visobert-absa bench --help` applies.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from hf_visobert_absa.commands.bench import main as bench_main

    return bench_main(["--only", "step", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
