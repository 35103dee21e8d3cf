"""Per-aspect decision thresholds on P(none), calibrated on held-out data for the run's own selection metric.

By default an aspect is mentioned when some sentiment is more probable than "none" (argmax,
[`~hub.decision_visobert_absa.mentioned_mask`]). A softmax trained on imbalanced cells is not calibrated (Guo et
al., "On Calibration of Modern Neural Networks", ICML 2017), so a threshold on P(none) can do better for some
aspects. `calibrate_thresholds` searches them by coordinate ascent on ONE score over all aspects together (joint µF1
by default): an aspect's setting changes only when the whole score strictly improves, so the result never scores
below the default rule on the rows it was tuned on, and an aspect keeps the default rule where no threshold helps.
Maximising each aspect's own detection F1 instead (the rule before) could mark a rare, unlearnt aspect everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data.label_schemes import predictions_from_probabilities
from .metrics import METRIC_KEYS, compute_absa_metrics

#: Candidate thresholds: 0.05, 0.10, ..., 0.95.
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
#: The score calibration maximises when the run selects on something it cannot compute from predictions (the loss).
DEFAULT_CALIBRATION_METRIC = "joint_micro_f1"
#: `--calibrate_thresholds auto` calibrates when the default rule's validation mentions are outside this range times
#: the gold ones. Cross-fitted on the saved validation runs (docs/RESULTS.md, "Calibration"): inside it calibrating
#: cost about a point on average; outside it, it gained 3 to 19 points in all runs but one (-0.1).
AUTO_CALIBRATION_RANGE: tuple[float, float] = (0.8, 1.25)


@dataclass
class Calibration:
    """What calibration chose: per aspect a threshold or None (the default rule), and the score before / after."""

    thresholds: list[float | None]
    metric: str
    before: float
    after: float
    aspects: list[str] = field(default_factory=list)
    mention_ratio_before: float | None = None

    @property
    def changed(self) -> bool:
        return any(t is not None for t in self.thresholds)

    def to_dict(self) -> dict:
        return {
            "metric": self.metric, "before": self.before, "after": self.after, "thresholds": self.thresholds,
            "mention_ratio_before": self.mention_ratio_before,
        }  # fmt: skip


def score_of(
    probabilities: np.ndarray, gold: np.ndarray, thresholds: Sequence[float | None], sentiments: Sequence[str],
    metric: str,
) -> float:  # fmt: skip
    """`metric` of the predictions that `thresholds` give (None entries: the default rule)."""
    aspects = [str(a) for a in range(gold.shape[1])]
    predictions = predictions_from_probabilities(probabilities, "absent_as_class", list(thresholds))
    value = compute_absa_metrics(predictions, gold, aspects, "absent_as_class", list(sentiments))[metric]
    return float(value or 0.0)


#: Micro F1 scores that calibration computes from per-aspect counts: what a predicted cell must match.
MICRO_F1_KINDS = {"joint_micro_f1": "pair", "detection_micro_f1": "mention"}


def _micro_count_table(probabilities: np.ndarray, gold: np.ndarray, candidates: tuple, kind: str) -> np.ndarray:
    """`[A, len(candidates), 3]`: per aspect and candidate setting, (true positives, predicted, gold) cells."""
    table = np.zeros((gold.shape[1], len(candidates), 3), dtype=np.int64)
    for a in range(gold.shape[1]):
        for c, candidate in enumerate(candidates):
            predicted = predictions_from_probabilities(probabilities[:, a : a + 1], "absent_as_class", candidate)[:, 0]
            hit = predicted == gold[:, a] if kind == "pair" else gold[:, a] != 0
            table[a, c] = ((predicted != 0) & hit).sum(), (predicted != 0).sum(), (gold[:, a] != 0).sum()
    return table


def _micro_f1(table: np.ndarray, choice: list[int]) -> float:
    tp, predicted, expected = table[np.arange(len(choice)), choice].sum(axis=0)
    return float(2 * tp / (predicted + expected)) if predicted + expected else 0.0


def calibration_metric(name: str | None) -> str:
    """The selection metric's name as `compute_absa_metrics` spells it, or the default when it is not one of its
    numbers (e.g. the loss)."""
    name = (name or "").removeprefix("eval_")
    return name if name in METRIC_KEYS else DEFAULT_CALIBRATION_METRIC


def calibrate_thresholds(
    probabilities: np.ndarray,
    gold: np.ndarray,
    sentiments: Sequence[str],
    metric: str = DEFAULT_CALIBRATION_METRIC,
    grid: tuple[float, ...] = THRESHOLD_GRID,
    passes: int = 2,
) -> Calibration:
    """Coordinate ascent over the aspects' settings (None = default rule, or a `grid` threshold) on `metric`.

    Args:
        probabilities (`np.ndarray` of shape `[N, A, 1 + K]`): class probabilities, class 0 = none.
        gold (`np.ndarray` of shape `[N, A]`): canonical gold codes (0 = not mentioned).
        sentiments: the K sentiment names (for the metrics).
        metric (`str`): a key of `compute_absa_metrics` to maximise, e.g. `joint_micro_f1`.
        grid, passes: the candidate thresholds and the number of sweeps over the aspects.

    Returns:
        [`Calibration`]; `after >= before` always holds.

    Example:

    ```python
    >>> p = np.array([[[0.6, 0.3, 0.1]], [[0.9, 0.05, 0.05]]])  # one aspect, none + 2 sentiments
    >>> calibrate_thresholds(p, np.array([[1], [0]]), ["positive", "negative"]).thresholds
    [0.65]
    ```
    """
    probabilities, gold = np.asarray(probabilities, dtype=np.float64), np.asarray(gold)
    if probabilities.ndim != 3 or probabilities.shape[:2] != gold.shape:
        raise ValueError(f"`probabilities` {probabilities.shape} and `gold` {gold.shape} must be [N, A, C] and [N, A].")
    candidates = (None, *grid)
    if metric in MICRO_F1_KINDS:  # exact and fast: a micro F1 is a sum of per-aspect counts
        table = _micro_count_table(probabilities, gold, candidates, MICRO_F1_KINDS[metric])
        score = lambda trial: _micro_f1(table, [candidates.index(t) for t in trial])  # noqa: E731
    else:
        score = lambda trial: score_of(probabilities, gold, trial, sentiments, metric)  # noqa: E731
    chosen: list[float | None] = [None] * gold.shape[1]
    before = best = score(chosen)
    for _ in range(passes):
        improved = False
        for a in range(len(chosen)):
            for candidate in candidates:
                trial = [*chosen[:a], candidate, *chosen[a + 1 :]]
                value = score(trial)
                if value > best + 1e-12:
                    best, chosen, improved = value, trial, True
        if not improved:
            break
    return Calibration(thresholds=chosen, metric=metric, before=before, after=best)


__all__ = [
    "AUTO_CALIBRATION_RANGE",
    "DEFAULT_CALIBRATION_METRIC",
    "THRESHOLD_GRID",
    "Calibration",
    "calibrate_thresholds",
    "calibration_metric",
    "score_of",
]
