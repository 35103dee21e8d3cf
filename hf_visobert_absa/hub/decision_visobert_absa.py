"""The ONE decision rule: class probabilities `[..., A, 1 + K]` (class 0 = "none") -> which aspects are mentioned.

Used by the pipeline, and through `hf_visobert_absa.data.label_schemes` by `evaluate`, `predict`, the training
reports and threshold calibration. It travels to the Hub beside the weights (stdlib and torch only).

Per aspect, either
- the default rule, **argmax**: mentioned when some sentiment is more probable than "none" (ties go to "none");
  chosen on validation data over P(none) < 0.5 (docs/RESULTS.md, "Decision rule": higher joint µF1 in 48 of 58
  SemEval-2014 runs, and it cannot mark an aspect whose non-"none" mass is split between sentiments), or
- a threshold `t`: mentioned when P(none) < `t` (a user's choice, or calibrated on validation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def threshold_tensor(thresholds: float | Sequence[float | None] | None, num_aspects: int) -> torch.Tensor:
    """`[A]` float64 limits on P(none); NaN marks the aspects decided by the default rule (argmax).

    `None` = argmax everywhere; a number = that threshold everywhere; a sequence = one entry per aspect (None or
    NaN = argmax); a tensor is taken as it is (it may hold one row of limits per review, `[N, A]`)."""
    if isinstance(thresholds, torch.Tensor):
        return thresholds.to(torch.float64)
    if thresholds is None:
        return torch.full((num_aspects,), math.nan, dtype=torch.float64)
    if isinstance(thresholds, (int, float)):
        return torch.full((num_aspects,), float(thresholds), dtype=torch.float64)
    values = [math.nan if t is None else float(t) for t in thresholds]
    if len(values) != num_aspects:
        raise ValueError(f"{len(values)} thresholds for {num_aspects} aspects; give one per aspect (None = argmax).")
    return torch.tensor(values, dtype=torch.float64)


def mentioned_mask(
    probabilities: torch.Tensor, thresholds: float | Sequence[float | None] | None = None
) -> torch.Tensor:
    """`[..., A, C]` probabilities (class 0 = none) -> bool `[..., A]`: which aspects are mentioned.

    Example:

    ```python
    >>> p = torch.tensor([[[0.40, 0.30, 0.30], [0.30, 0.70, 0.00]]])  # two aspects, none + 2 sentiments
    >>> mentioned_mask(p).tolist(), mentioned_mask(p, 0.5).tolist()
    ([[False, True]], [[True, True]])
    ```
    """
    limits = threshold_tensor(thresholds, probabilities.shape[-2]).to(probabilities.device)
    p_none = probabilities[..., 0].double()
    by_argmax = probabilities[..., 1:].double().amax(dim=-1) > p_none
    return torch.where(torch.isnan(limits), by_argmax, p_none < limits)


__all__ = ["mentioned_mask", "threshold_tensor"]
