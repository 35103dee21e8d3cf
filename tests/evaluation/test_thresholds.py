"""Per-aspect P(none) thresholds: calibration on held-out rows, and the pipeline applying a model's own thresholds;
the SemEval-2014 protocol metrics of the benchmark script."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.semeval2014_metrics import cross_fitted_thresholds, protocol_metrics
from hf_visobert_absa.evaluation.thresholds import calibrate_thresholds
from hf_visobert_absa.hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline
from tests.helpers import tiny_model, tiny_tokenizer


def _probs(p_none: list[list[float]]) -> np.ndarray:
    """[N, A, 4] with the given P(none) and the rest spread over positive (most), negative, neutral."""
    p = np.asarray(p_none, dtype=float)[..., None]
    return np.concatenate([p, 0.5 * (1 - p), 0.3 * (1 - p), 0.2 * (1 - p)], axis=-1)


def test_calibration_picks_the_best_f1_cut_per_aspect():
    # aspect 0: mentioned rows have P(none) 0.6-0.7, absent 0.9 -> any cut in (0.7, 0.9] is perfect; closest
    # to 0.5 wins: 0.75. Aspect 1 is separable at 0.5 already -> 0.5 stays.
    probs = _probs([[0.6, 0.1], [0.7, 0.9], [0.9, 0.2], [0.95, 0.8]])
    gold = np.array([[1, 2], [3, 0], [0, 1], [0, 0]])
    assert calibrate_thresholds(probs, gold) == [0.75, 0.5]


def test_calibration_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\[N, A, C\] and \[N, A\]"):
        calibrate_thresholds(np.zeros((3, 2, 4)), np.zeros((3, 3)))


def test_cross_fitting_never_uses_a_row_to_set_its_own_threshold():
    probs = _probs([[0.6], [0.9], [0.6], [0.9]])
    gold_even_only = [["positive"], [None], [None], [None]]  # row 0 (even) mentioned; the odd half has none
    thresholds = cross_fitted_thresholds(probs, gold_even_only)
    assert thresholds.shape == (4, 1)
    # even rows get the odd half's threshold (no mentions there: every cut ties at F1 0 -> 0.5)
    assert thresholds[0, 0] == thresholds[2, 0] == 0.5


def test_protocol_metrics_by_hand():
    probs = _probs([[0.2, 0.9], [0.8, 0.3]])  # predicted: (0, 0), (1, 1)
    probs[1, 1] = [0.3, 0.1, 0.2, 0.4]  # neutral wins over positive/negative, negative over positive
    gold = [["positive", None], ["conflict", "negative"]]
    m = protocol_metrics(probs, gold)
    assert m["semeval_detection_precision"] == 1.0 and m["semeval_detection_recall"] == pytest.approx(2 / 3)
    # pairs: (0,0) positive->positive right; (1,0) conflict->positive wrong; (1,1) negative->neutral wrong
    assert m["accuracy_4way"] == pytest.approx(1 / 3) and m["polarity_pairs"] == 3
    assert m["accuracy_4way_conflict_as_neutral"] == pytest.approx(1 / 3)
    assert m["accuracy_3way"] == pytest.approx(1 / 2)  # conflict pair removed
    assert m["accuracy_binary"] == 1.0  # (1,1): negative 0.2 beats positive 0.1 among those two


def test_pipeline_applies_the_models_own_thresholds():
    model = tiny_model(3, aspects=["a", "b"], detection_thresholds=[1.0, 1.0])  # 1.0: always mentioned
    pipe = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device="cpu", task=TASK)
    assert [e["aspect"] for e in pipe("pin trâu")] == ["a", "b"]
    model.config.detection_thresholds = [1.0, 0.0001]
    out = pipe("pin trâu", return_all_aspects=True)
    assert [e["mentioned"] for e in out] == [True, False]
    assert [e["mentioned"] for e in pipe("pin trâu", return_all_aspects=True, threshold={"b": 1.0})] == [True, True]
