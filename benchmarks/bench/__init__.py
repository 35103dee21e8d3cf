"""Performance benchmarks of hf-visobert-absa: the machinery behind `python -m benchmarks.bench` (run from a source
checkout; `benchmarks/` is not in the wheel).

Modules:
    - `cli`: the command: options, which benchmarks run, `summary.json`.
    - `losses`: benchmark 3 (vectorised losses vs naive loops; the loops live in `benchmarks/losses_vs_loops.py`).
    - `inference`: benchmark 4 (reviews per second of the pipeline on real reviews).
    - `int8`: benchmark 6 (fp32 vs int8 on the CPU: speed and accuracy).
    - `plots`: one PNG per benchmark; `targets`: pass/miss of the targets, read from the JSON files.

Benchmarks 1 and 2 (step overhead, one pass vs two) and the timing machinery (interleaved repetitions, medians,
machine and library facts, peak RSS, JSON output) live in `hf_visobert_absa.explain`, whose `explain` command
measures benchmark 2 too.

Nothing here runs at import time; the benchmarks only run when called.
"""

from __future__ import annotations
