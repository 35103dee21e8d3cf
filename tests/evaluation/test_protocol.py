"""SemEval-2014 protocol metrics: hand-computed cases for category detection and the three polarity variants."""

from __future__ import annotations

import numpy as np
import pytest

from hf_visobert_absa import compute_absa_metrics
from hf_visobert_absa.data.label_schemes import predictions_from_probabilities
from hf_visobert_absa.evaluation.protocol import format_protocol, semeval2014_metrics

FOUR = ["positive", "negative", "neutral", "conflict"]

# 2 sentences x 3 categories; classes none, positive, negative, neutral, conflict.
PROBABILITIES = np.array([
    [[0.10, 0.60, 0.10, 0.10, 0.10],   # gold positive, said mentioned + positive       -> right
     [0.70, 0.05, 0.20, 0.03, 0.02],   # gold negative, said absent; argmax(sent)=neg   -> right given gold
     [0.20, 0.10, 0.10, 0.15, 0.45]],  # gold none, said mentioned                      -> detection FP
    [[0.05, 0.40, 0.45, 0.05, 0.05],   # gold conflict; 4-way argmax negative            -> wrong
     [0.90, 0.03, 0.02, 0.04, 0.01],   # gold neutral, said absent; argmax(sent)=neutral -> right given gold
     [0.95, 0.01, 0.01, 0.02, 0.01]],  # gold none, said absent
])  # fmt: skip
GOLD = np.array([[1, 2, 0], [4, 3, 0]])


def test_hand_computed_values():
    m = semeval2014_metrics(PROBABILITIES, GOLD, FOUR)
    # detection: predicted {(0,0), (0,2), (1,0)}, gold {(0,0), (0,1), (1,0), (1,1)}: 2 hits
    assert (m["category_pairs_predicted"], m["category_pairs_gold"]) == (3, 4)
    assert m["category_precision"] == pytest.approx(2 / 3) and m["category_recall"] == pytest.approx(2 / 4)
    assert m["category_f1"] == pytest.approx(2 * 2 / (3 + 4))
    # 4-way over the 4 gold pairs: right, right, wrong (conflict -> negative), right
    assert (m["polarity_accuracy"], m["polarity_pairs"]) == (pytest.approx(3 / 4), 4)
    # 3-way: the conflict pair is removed
    assert (m["polarity_accuracy_3way"], m["polarity_pairs_3way"]) == (1.0, 3)
    # binary: the positive and the negative pair, argmax over positive/negative
    assert (m["polarity_accuracy_binary"], m["polarity_pairs_binary"]) == (1.0, 2)


def test_conflict_is_never_predicted_in_the_3way_variant():
    probabilities = np.array([[[0.0, 0.2, 0.1, 0.3, 0.4]]])  # conflict most probable
    m = semeval2014_metrics(probabilities, [[3]], FOUR)
    assert m["polarity_accuracy"] == 0.0 and m["polarity_accuracy_3way"] == 1.0  # neutral wins among three


def test_detection_equals_our_detection_micro():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(5), size=(50, 3))
    gold = rng.integers(0, 5, size=(50, 3))
    ours = compute_absa_metrics(
        predictions_from_probabilities(probabilities, "absent_as_class"), gold, list("abc"), sentiments=FOUR
    )
    m = semeval2014_metrics(probabilities, gold, FOUR)
    assert m["category_f1"] == pytest.approx(ours["detection_micro_f1"])
    assert m["category_precision"] == pytest.approx(ours["detection_micro_precision"])


def test_schemes_without_none_and_sets_without_the_variant_classes():
    probabilities = np.array([[[0.7, 0.2, 0.1]]])  # mentioned_only, 3 sentiments
    m = semeval2014_metrics(probabilities, [[1]], ["positive", "negative", "neutral"], "mentioned_only")
    assert m["category_f1"] is None and m["polarity_accuracy"] == 1.0 and m["polarity_accuracy_3way"] == 1.0
    two = semeval2014_metrics(np.array([[[0.1, 0.3, 0.6]]]), [[2]], ["good", "bad"])
    assert two["polarity_accuracy"] == 1.0 and two["polarity_accuracy_3way"] is None
    assert two["polarity_accuracy_binary"] is None and two["polarity_pairs_binary"] == 0
    assert "3-way n/a (0)" in format_protocol(two)


def test_shape_mismatch_is_refused():
    with pytest.raises(
        ValueError, match=r"have shape \(2, 3, 4\); expected \(2, 3, 5\) for references of shape \(2, 3\), 4 sentiments"
    ):
        semeval2014_metrics(PROBABILITIES[..., :4], GOLD, FOUR)


def test_format_names_the_protocol_and_the_counts():
    text = format_protocol(semeval2014_metrics(PROBABILITIES, GOLD, FOUR))
    assert text.startswith("SemEval-2014 protocol (Pontiki et al., 2014; beside the metrics above")
    assert "P 66.67  R 50.00  F1 57.14" in text
    assert "4-way 75.00 (4 pairs), 3-way 100.00 (3), binary 100.00 (2)" in text


def test_evaluate_offers_exactly_the_protocol_choices():
    from hf_visobert_absa.cli.evaluate import build_parser
    from hf_visobert_absa.evaluation.protocol import PROTOCOL_CHOICES

    action = next(a for a in build_parser()._actions if a.dest == "protocol")
    assert tuple(action.choices) == PROTOCOL_CHOICES and action.default == "auto"
