"""Would early stopping help the default recipe? Replayed on the SemEval-2014 study's saved validation curves.

Every study run evaluated after each epoch and saved its validation joint µF1 per epoch (`validation_curve` in
`result.json`). Early stopping with patience `p` stops after `p` evaluations without a new best and keeps the best
epoch seen so far, so its outcome on these curves can be replayed exactly, with no training: the selected
validation score and the epochs trained, against no early stopping (every epoch, best kept: the default).
Only the 10- and 15-epoch variants are replayed (shorter schedules leave little to stop).

Usage:
    python -m benchmarks.early_stopping            # prints the table of docs/RESULTS.md
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "semeval2014"
VARIANTS = ("aq_e10_asc", "aq_e10_lr5e-5", "aq_e10_con0.4", "aq_e10_con0.6", "aq_e15_lr5e-5")
PATIENCES = (1, 2, 3, 4)


def replay(curve: list[float], patience: int | None) -> tuple[float, int]:
    """(best validation score kept, epochs trained) under early stopping with `patience` (None = off)."""
    best, waited = -1.0, 0
    for epoch, value in enumerate(curve, start=1):
        if value > best:
            best, waited = value, 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                return best, epoch
    return best, len(curve)


def curves() -> list[list[float]]:
    found = []
    for variant in VARIANTS:
        for path in sorted(RESULTS.glob(f"{variant}/focal_con/seed*/result.json")):
            found.append([point["joint_micro_f1"] for point in json.loads(path.read_text())["validation_curve"]])
    return found


def table() -> str:
    runs = curves()
    full = [replay(c, None) for c in runs]
    lines = [
        f"| patience | validation joint µF1 kept (mean of {len(runs)} runs) | runs that lose | mean epochs trained |",
        "|---|---|---|---|",
        f"| off (default) | {100 * np.mean([b for b, _ in full]):.2f} | — | {np.mean([e for _, e in full]):.1f} |",
    ]
    for patience in PATIENCES:
        stopped = [replay(c, patience) for c in runs]
        lost = sum(s[0] < f[0] for s, f in zip(stopped, full, strict=True))
        lines.append(
            f"| {patience} | {100 * np.mean([b for b, _ in stopped]):.2f} | {lost} | "
            f"{np.mean([e for _, e in stopped]):.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
