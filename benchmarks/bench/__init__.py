"""Performance benchmarks of hf-visobert-absa: the machinery behind `python -m benchmarks.bench` and `explain`.

Modules:
    - `common`: timing (interleaved repetitions, medians), machine and library facts, peak RSS, JSON output.
    - `models`: encoder configurations (tiny / ViSoBERT size / a config file), the bare baseline model,
      synthetic batches, the Trainer-driven training steps under test.
    - `training`: benchmark 1 (step overhead) and benchmark 2 (one pass vs two).
    - `losses_bench`: benchmark 3 (vectorised losses vs naive loops; the loops live in `benchmarks/`).
    - `inference`: benchmark 4 (reviews per second of the pipeline on real reviews).
    - `stages`: one training step timed stage by stage (the `explain` timeline).
    - `plots`: one PNG per benchmark; `targets`: pass/miss of the targets, read from the JSON files.

Nothing here runs at import time; the benchmarks only run when called.
"""

from __future__ import annotations
