"""The one decision rule (`hub/decision_visobert_absa.py`): argmax by default, thresholds on P(none) per aspect,
the same in the pipeline, `label_schemes` and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hf_visobert_absa.data.label_schemes import check_thresholds, describe_rule, predictions_from_probabilities
from hf_visobert_absa.hub.decision_visobert_absa import mentioned_mask
from hf_visobert_absa.hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline
from tests.helpers import tiny_model, tiny_tokenizer

# none + positive, negative, neutral. Row 0: P(none) 0.4 but split sentiments -> argmax none, P(none)<0.5 mentioned.
PROBS = np.array([[[0.40, 0.20, 0.20, 0.20], [0.30, 0.60, 0.05, 0.05], [0.50, 0.50, 0.00, 0.00]]])


def test_argmax_is_the_default_and_ties_go_to_none():
    assert mentioned_mask(torch.from_numpy(PROBS)).tolist() == [[False, True, False]]
    assert predictions_from_probabilities(PROBS, "absent_as_class").tolist() == [[0, 1, 0]]


def test_a_threshold_decides_on_p_none_and_none_entries_keep_argmax():
    assert predictions_from_probabilities(PROBS, "absent_as_class", 0.5).tolist() == [[1, 1, 0]]
    assert predictions_from_probabilities(PROBS, "absent_as_class", [0.45, None, 0.6]).tolist() == [[1, 1, 1]]
    assert predictions_from_probabilities(PROBS, "absent_as_class", np.array([np.nan, 0.1, np.nan])).tolist() == [
        [0, 0, 0]
    ]


def test_argmax_marks_a_subset_of_what_p_none_below_half_marks():
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=(200, 5))
    argmax = predictions_from_probabilities(probs, "absent_as_class") != 0
    half = predictions_from_probabilities(probs, "absent_as_class", 0.5) != 0
    assert not (argmax & ~half).any() and (half & ~argmax).any()
    assert (argmax == (probs.argmax(-1) != 0)).all()


@pytest.mark.parametrize("bad", [0.0, 1.5, -1, "0.5", True, [0.5], [0.5, None, 2.0]])
def test_bad_threshold_settings_are_refused_with_what_is_allowed(bad):
    with pytest.raises(ValueError, match="allowed: None \\(argmax\\), a number in \\(0, 1\\]"):
        check_thresholds(bad, ["a", "b", "c"])


def test_rule_descriptions():
    assert describe_rule(None, ["a"]) == describe_rule([None], ["a"]) == "argmax"
    assert describe_rule(0.3, ["a"]) == "P(none) < 0.3"
    assert describe_rule([0.3, None], ["a", "b"]) == {"a": "P(none) < 0.3", "b": "argmax"}


def test_pipeline_applies_the_same_rule_as_label_schemes():
    model = tiny_model(5, aspects=["a", "b", "c"])
    model.eval()
    bias = model.classifier.out_proj.bias.data.view(3, model.config.num_classes)
    bias[:, 0] = torch.tensor([0.2, -1.0, 1.0])  # P(none) near the cut for "a": both rules can disagree
    pipe = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device="cpu", task=TASK)
    texts = ["pin trâu", "giao hàng nhanh", "kém", "camera xấu pin yếu"]
    for threshold in (None, 0.5, {"a": 0.9}):
        outputs = pipe(texts, return_all_aspects=True, **({} if threshold is None else {"threshold": threshold}))
        probs = np.array([[list(e["probabilities"].values()) for e in out] for out in outputs])
        limits = None if threshold is None else (threshold if isinstance(threshold, float) else [0.9, None, None])
        expected = predictions_from_probabilities(probs, "absent_as_class", limits) != 0
        assert [[e["mentioned"] for e in out] for out in outputs] == expected.tolist()
