"""Benchmark 2: one forward + one backward for both losses vs forward->focal->backward then forward->contrastive->backward.

A thin runner: the benchmark itself lives in `hf_visobert_absa.benchmarking` (so that the installed
`hf-visobert-absa bench` command can run it too). Run from the repository root:

    python benchmarks/one_vs_two_pass.py            # full size, CPU; writes benchmarks/results/one_vs_two_pass.json + .png
    python benchmarks/one_vs_two_pass.py --quick    # tiny encoder, seconds
    python benchmarks/one_vs_two_pass.py --device cuda --dtype bf16 --out benchmarks/results/gpu

Every option of `hf-visobert-absa bench --help` applies.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from hf_visobert_absa.commands.bench import main as bench_main

    return bench_main(["--only", "passes", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
