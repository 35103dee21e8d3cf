"""Per-aspect decision thresholds on P(none), calibrated on held-out data.

Under `absent_as_class` an aspect is mentioned when P(none) < its threshold
([`~data.label_schemes.predictions_from_probabilities`]). A softmax trained on imbalanced cells is not
calibrated (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017), so 0.5 need not be the best
cut: `calibrate_thresholds` picks, per aspect, the grid value with the best detection F1 on validation data.
`train --calibrate_thresholds` stores the result in the config's `detection_thresholds`, which the pipeline,
`evaluate` and the training reports then apply.
"""

from __future__ import annotations

import numpy as np

#: Candidate thresholds: 0.05, 0.10, ..., 0.95.
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))


def calibrate_thresholds(
    probabilities: np.ndarray, gold: np.ndarray, grid: tuple[float, ...] = THRESHOLD_GRID
) -> list[float]:
    """One threshold per aspect: the grid value whose detection F1 on these rows is best (ties: closest to 0.5).

    Args:
        probabilities (`np.ndarray` of shape `[N, A, C]`): class probabilities, class 0 = none.
        gold (`np.ndarray` of shape `[N, A]`): canonical gold codes (0 = not mentioned) or booleans (mentioned).
        grid (`tuple[float, ...]`): candidate thresholds in (0, 1].

    Returns:
        `list[float]`: `A` thresholds.

    Raises:
        ValueError: the shapes disagree.

    Example:

    ```python
    >>> calibrate_thresholds(np.array([[[0.6, 0.4]], [[0.9, 0.1]]]), np.array([[1], [0]]))
    [0.65]
    ```
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    mentioned = np.asarray(gold) > 0
    if probabilities.ndim != 3 or probabilities.shape[:2] != mentioned.shape:
        raise ValueError(
            f"`probabilities` {probabilities.shape} and `gold` {mentioned.shape} must be [N, A, C] and [N, A]."
        )
    chosen = []
    for a in range(probabilities.shape[1]):
        best_key, best_t = None, 0.5
        for t in grid:
            predicted = probabilities[:, a, 0] < t
            tp = int((predicted & mentioned[:, a]).sum())
            denominator = int(predicted.sum()) + int(mentioned[:, a].sum())
            key = (2 * tp / denominator if denominator else 0.0, -abs(t - 0.5))
            if best_key is None or key > best_key:
                best_key, best_t = key, float(t)
        chosen.append(best_t)
    return chosen


__all__ = ["THRESHOLD_GRID", "calibrate_thresholds"]
