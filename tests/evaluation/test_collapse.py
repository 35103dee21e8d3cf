"""Collapse warnings: far too many / too few predicted mentions, or one label row for most reviews."""

from __future__ import annotations

import numpy as np

from hf_visobert_absa.evaluation.collapse import collapse_warnings

ASPECTS = ["Battery", "Camera", "Price", "Shipping"]


def _gold(n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 4, size=(n, 4)) * (rng.random((n, 4)) < 0.3)


def test_a_healthy_prediction_gets_no_warning():
    gold = _gold()
    assert collapse_warnings(gold.copy(), gold, "test", ASPECTS) == []


def test_marking_everything_is_reported_with_counts_and_advice():
    gold = _gold()
    warnings = collapse_warnings(np.ones_like(gold), gold, "validation", ASPECTS)
    ratio = [w for w in warnings if "far more aspects" in w]
    assert len(ratio) == 1 and f"160 predicted mentions for {(gold != 0).sum()} gold" in ratio[0]
    assert "more epochs" in ratio[0] and ratio[0].startswith("validation:")
    assert any("100% of the reviews get the same prediction (Battery, Camera, Price, Shipping)" in w for w in warnings)
    assert len(warnings) == 2


def test_marking_nothing_is_reported():
    gold = _gold()
    warnings = collapse_warnings(np.zeros_like(gold), gold, "test", ASPECTS)
    assert any("far fewer aspects" in w for w in warnings)
    assert any("get the same prediction (no aspect)" in w for w in warnings)


def test_a_common_row_that_the_gold_shares_is_not_a_collapse():
    gold = np.zeros((40, 4), dtype=int)
    gold[:30, 0] = 1  # 75% of the reviews really are "Battery: positive" only
    gold[30:, 1] = 2
    assert collapse_warnings(gold.copy(), gold, "test", ASPECTS) == []


def test_ratio_bounds_are_inclusive():
    gold = np.zeros((20, 4), dtype=int)
    gold[:10, 0] = 1
    predictions = np.zeros_like(gold)
    predictions[:20, 0] = 1  # exactly 2x
    predictions[:, 1] = 0
    assert not any("aspects mentioned" in w for w in collapse_warnings(predictions, gold, "t", ASPECTS))
