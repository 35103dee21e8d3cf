"""Per-aspect P(none) thresholds: calibration on held-out rows for one score over all aspects, and the pipeline applying a model's own thresholds;
the SemEval-2014 protocol metrics of the benchmark script."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.semeval2014_metrics import cross_fitted_thresholds, protocol_metrics
from hf_visobert_absa.data.label_schemes import predictions_from_probabilities
from hf_visobert_absa.evaluation.metrics import compute_absa_metrics
from hf_visobert_absa.evaluation.thresholds import calibrate_thresholds, calibration_metric
from hf_visobert_absa.hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline
from tests.helpers import tiny_model, tiny_tokenizer


def _probs(p_none: list[list[float]]) -> np.ndarray:
    """[N, A, 4] with the given P(none) and the rest spread over positive (most), negative, neutral."""
    p = np.asarray(p_none, dtype=float)[..., None]
    return np.concatenate([p, 0.5 * (1 - p), 0.3 * (1 - p), 0.2 * (1 - p)], axis=-1)


SENTIMENTS = ["positive", "negative", "neutral"]


def _joint(probs: np.ndarray, gold: np.ndarray, thresholds) -> float:
    predictions = predictions_from_probabilities(probs, "absent_as_class", thresholds)
    return compute_absa_metrics(predictions, gold, ["a", "b"], "absent_as_class", SENTIMENTS)["joint_micro_f1"]


def test_calibration_moves_an_aspect_only_when_the_joint_score_improves():
    # aspect 0: mentioned rows have P(none) 0.6-0.7 (argmax says none), absent 0.9 -> a cut in (0.7, 0.9] finds
    # both; aspect 1 is already right under argmax -> it keeps the default rule (None)
    probs = _probs([[0.6, 0.1], [0.7, 0.9], [0.9, 0.2], [0.95, 0.8]])
    gold = np.array([[1, 1], [1, 0], [0, 1], [0, 0]])
    result = calibrate_thresholds(probs, gold, SENTIMENTS)
    assert result.thresholds[1] is None and 0.7 < result.thresholds[0] <= 0.9
    assert result.before == pytest.approx(_joint(probs, gold, None)) and result.after == 1.0
    assert result.after == pytest.approx(_joint(probs, gold, result.thresholds))


def test_calibration_never_marks_a_rare_unlearnt_aspect_everywhere():
    # aspect 1 is mentioned once, and the model cannot find it: per-aspect detection F1 would prefer marking it
    # everywhere (F1 2/11 > 0); the joint score over all aspects loses precision that way, so it stays
    rng = np.random.default_rng(0)
    n = 40
    p_none = np.stack([np.where(np.arange(n) % 2 == 0, 0.1, 0.9), rng.uniform(0.55, 0.95, n)], axis=1)
    gold = np.stack([np.where(np.arange(n) % 2 == 0, 1, 0), np.eye(1, n, 7, dtype=int)[0]], axis=1)
    result = calibrate_thresholds(_probs(p_none.tolist()), gold, SENTIMENTS)
    assert result.thresholds[1] is None
    assert result.after >= result.before


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("metric", ["joint_micro_f1", "detection_micro_f1", "joint_macro_f1"])
def test_calibrated_rule_never_scores_below_the_default_on_its_rows(seed, metric):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(4) * 0.7, size=(60, 3))
    gold = rng.integers(0, 4, size=(60, 3)) * (rng.random((60, 3)) < 0.3)
    result = calibrate_thresholds(probs, gold, SENTIMENTS, metric=metric)
    aspects = ["a", "b", "c"]

    def score(thresholds):
        predictions = predictions_from_probabilities(probs, "absent_as_class", thresholds)
        return compute_absa_metrics(predictions, gold, aspects, "absent_as_class", SENTIMENTS)[metric]

    assert result.before == pytest.approx(score(None))
    assert result.after == pytest.approx(score(result.thresholds))
    assert result.after >= result.before


def test_calibration_metric_falls_back_to_joint_f1_for_the_loss():
    assert calibration_metric("eval_detection_micro_f1") == "detection_micro_f1"
    assert calibration_metric("loss") == calibration_metric(None) == "joint_micro_f1"


def test_calibration_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\[N, A, C\] and \[N, A\]"):
        calibrate_thresholds(np.zeros((3, 2, 4)), np.zeros((3, 3)), SENTIMENTS)


def test_cross_fitting_never_uses_a_row_to_set_its_own_threshold():
    probs = _probs([[0.6], [0.9], [0.6], [0.9]])
    gold_even_only = [["positive"], [None], [None], [None]]  # row 0 (even) mentioned; the odd half has none
    thresholds = cross_fitted_thresholds(probs, gold_even_only)
    assert thresholds.shape == (4, 1)
    # even rows get the odd half's setting (no mentions there: nothing improves, the default rule stays)
    assert np.isnan(thresholds[0, 0]) and np.isnan(thresholds[2, 0])
    # odd rows get the even half's: rows 0 and 2 look alike (P(none) 0.6), only row 0 is mentioned; marking both
    # (joint F1 2/3) beats marking neither (0), and 0.65 is the first cut of the grid that does it
    assert thresholds[1, 0] == thresholds[3, 0] == 0.65


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
    model.eval()
    pipe = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device="cpu", task=TASK)
    assert [e["aspect"] for e in pipe("pin trâu")] == ["a", "b"]
    model.config.detection_thresholds = [1.0, 0.0001]
    out = pipe("pin trâu", return_all_aspects=True)
    assert [e["mentioned"] for e in out] == [True, False]
    assert [e["mentioned"] for e in pipe("pin trâu", return_all_aspects=True, threshold={"b": 1.0})] == [True, True]
