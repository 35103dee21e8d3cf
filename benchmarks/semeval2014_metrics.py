"""SemEval-2014 Task 4 protocol metrics and per-aspect detection thresholds, from saved class probabilities.

Probabilities are `[N, A, C]` in the `absent_as_class` order: `none`, then the sentiments (`sentiments`,
default positive, negative, neutral). Gold is, per sentence and aspect, the file's polarity (`conflict`
included) or None.

Protocol (Pontiki et al., SemEval 2014; Sun et al., NAACL 2019 for the 3-way and binary variants):
- subtask 3, category detection: precision, recall, F1, micro over (sentence, category) pairs; a pair is
  predicted when P(none) < threshold.
- subtask 4, category polarity GIVEN the gold categories: for every gold (sentence, category) the prediction is
  the argmax over the sentiment classes only (P(none) ignored). `accuracy_4way`: all gold pairs, a gold
  `conflict` is right only when `conflict` is predicted (impossible for a 3-sentiment model);
  `accuracy_4way_conflict_as_neutral`: the same with gold `conflict` scored as `neutral` (the issue's
  measured starting point uses this); `accuracy_3way`: gold `conflict` pairs removed, argmax over
  positive/negative/neutral; `accuracy_binary`: only gold positive/negative pairs, argmax over those two.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hf_visobert_absa.evaluation.thresholds import calibrate_thresholds

SENTIMENTS = ("positive", "negative", "neutral")


def _argmax_over(probabilities: np.ndarray, sentiments: Sequence[str], allowed: Sequence[str]) -> list[str]:
    columns = [1 + list(sentiments).index(name) for name in allowed]
    return [allowed[i] for i in probabilities[:, columns].argmax(axis=-1)]


def protocol_metrics(
    probabilities: np.ndarray,
    gold: Sequence[Sequence[str | None]],
    thresholds: float | np.ndarray = 0.5,
    sentiments: Sequence[str] = SENTIMENTS,
) -> dict[str, float]:
    """Subtask 3 detection P/R/F1 and subtask 4 accuracies (module docstring) as fractions in [0, 1]."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    goldmentioned_of = mentioned_of(gold)
    predicted = probabilities[..., 0] < np.asarray(thresholds)
    tp = int((predicted & goldmentioned_of).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(goldmentioned_of.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    pairs = [(n, a, g) for n, row in enumerate(gold) for a, g in enumerate(row) if g is not None]
    probs = np.array([probabilities[n, a] for n, a, _ in pairs]).reshape(len(pairs), -1)
    labels = [g for _, _, g in pairs]
    full = _argmax_over(probs, sentiments, list(sentiments))
    three = [s for s in ("positive", "negative", "neutral") if s in sentiments]
    binary = ("positive", "negative")
    keep3 = [i for i, g in enumerate(labels) if g != "conflict"]
    keep2 = [i for i, g in enumerate(labels) if g in binary]
    pred3 = _argmax_over(probs[keep3], sentiments, three)
    pred2 = _argmax_over(probs[keep2], sentiments, binary)
    as_neutral = ["neutral" if g == "conflict" else g for g in labels]
    return {
        "semeval_detection_precision": precision,
        "semeval_detection_recall": recall,
        "semeval_detection_f1": f1,
        "accuracy_4way": float(np.mean([p == g for p, g in zip(full, labels, strict=True)])),
        "accuracy_4way_conflict_as_neutral": float(np.mean([p == g for p, g in zip(full, as_neutral, strict=True)])),
        "accuracy_3way": float(np.mean([pred3[j] == labels[i] for j, i in enumerate(keep3)])),
        "accuracy_binary": float(np.mean([pred2[j] == labels[i] for j, i in enumerate(keep2)])),
        "polarity_pairs": len(pairs),
    }


def mentioned_of(gold: Sequence[Sequence[str | None]]) -> np.ndarray:
    return np.array([[g is not None for g in row] for row in gold], dtype=bool)


def cross_fitted_thresholds(probabilities: np.ndarray, gold: Sequence[Sequence[str | None]]) -> np.ndarray:
    """Thresholds `[N, A]` for an honest estimate ON the calibration data: rows are split in two halves (even /
    odd index); each half gets the thresholds calibrated on the other half."""
    probabilities = np.asarray(probabilities)
    result = np.empty(probabilities.shape[:2])
    index = np.arange(len(probabilities))
    for part in (0, 1):
        fit, apply = index[index % 2 != part], index[index % 2 == part]
        result[apply] = calibrate_thresholds(probabilities[fit], mentioned_of([gold[i] for i in fit]))
    return result


__all__ = ["SENTIMENTS", "cross_fitted_thresholds", "mentioned_of", "protocol_metrics"]
