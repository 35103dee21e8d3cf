"""Warnings for a model that has collapsed: it marks far too many or far too few aspects, or gives most reviews
the same label row. Such a model can still exit 0 and look fine in an averaged number; these say it in words.

Checked after training (each evaluated split, recorded under `warnings` in `metrics.json`, printed under the split's
table and listed in the model card's limitations) and by `evaluate` (printed under its table, and in `--output`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

#: Predicted / gold mention ratios outside this range are reported.
MENTION_RATIO_RANGE: tuple[float, float] = (0.5, 2.0)
#: Share of reviews above which one predicted label row counts as "most reviews get the same row".
SAME_ROW_SHARE = 0.5
#: What to try, in every warning.
ADVICE = (
    "Try more epochs (the default is 10), more training rows, or the default recipe if you changed it "
    "(`hf-visobert-absa train --help`)."
)


def mention_ratio(predictions: np.ndarray, gold: np.ndarray) -> float | None:
    """Predicted mentions over gold mentions of canonical `[N, A]` arrays (None when the gold mentions nothing)."""
    expected = int((np.asarray(gold) != 0).sum())
    return int((np.asarray(predictions) != 0).sum()) / expected if expected else None


def mention_ratio_warning(predictions: np.ndarray, gold: np.ndarray, split: str) -> str | None:
    """A warning when predicted mentions are outside `MENTION_RATIO_RANGE` times the gold mentions."""
    ratio = mention_ratio(predictions, gold)
    if ratio is None:
        return None
    predicted, expected = int((predictions != 0).sum()), int((gold != 0).sum())
    low, high = MENTION_RATIO_RANGE
    if low <= ratio <= high:
        return None
    how = "marks far more aspects mentioned than" if ratio > high else "marks far fewer aspects mentioned than"
    return (
        f"{split}: the model {how} the data has ({predicted:,} predicted mentions for {expected:,} gold, "
        f"{ratio:.2f}x; expected {low:g}-{high:g}x). {ADVICE}"
    )


def same_row_warning(predictions: np.ndarray, gold: np.ndarray, split: str, aspects: Sequence[str]) -> str | None:
    """A warning when more than `SAME_ROW_SHARE` of the reviews get one label row that the gold gives far fewer."""
    if len(predictions) < 10:
        return None
    row, count = Counter(map(tuple, predictions.tolist())).most_common(1)[0]
    share = count / len(predictions)
    gold_share = float(np.mean([tuple(g) == row for g in gold.tolist()]))
    if share <= SAME_ROW_SHARE or share <= 2 * gold_share:
        return None
    marked = [a for a, code in zip(aspects, row, strict=True) if code] or ["no aspect"]
    return (
        f"{split}: {share:.0%} of the reviews get the same prediction ({', '.join(marked[:5])}"
        f"{', ...' if len(marked) > 5 else ''}), against {gold_share:.0%} in the gold labels: the model barely reads the "
        f"text. {ADVICE}"
    )


def collapse_warnings(predictions: np.ndarray, gold: np.ndarray, split: str, aspects: Sequence[str]) -> list[str]:
    """Every collapse warning for canonical `[N, A]` predictions against gold (the commands print them once)."""
    predictions, gold = np.asarray(predictions), np.asarray(gold)
    found = [mention_ratio_warning(predictions, gold, split), same_row_warning(predictions, gold, split, aspects)]
    return [w for w in found if w]


__all__ = [
    "MENTION_RATIO_RANGE",
    "SAME_ROW_SHARE",
    "collapse_warnings",
    "mention_ratio",
    "mention_ratio_warning",
    "same_row_warning",
]
