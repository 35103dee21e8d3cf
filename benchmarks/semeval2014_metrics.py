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

from hf_visobert_absa.evaluation.protocol import semeval2014_metrics
from hf_visobert_absa.evaluation.thresholds import calibrate_thresholds

SENTIMENTS = ("positive", "negative", "neutral")


def protocol_metrics(
    probabilities: np.ndarray,
    gold: Sequence[Sequence[str | None]],
    thresholds: float | np.ndarray = 0.5,
    sentiments: Sequence[str] = SENTIMENTS,
) -> dict[str, float | None]:
    """Subtask 3 detection P/R/F1 and subtask 4 accuracies (module docstring) as fractions in [0, 1], computed
    by the library's [`~evaluation.protocol.semeval2014_metrics`]; a model without `conflict` has gold conflict
    scored as neutral for `accuracy_4way_conflict_as_neutral` and as wrong for `accuracy_4way`."""
    codes = {name: k for k, name in enumerate(sentiments, start=1)}

    def scored(conflict_code: int) -> dict:
        references = np.array([[codes.get(g, conflict_code) if g else 0 for g in row] for row in gold])
        return semeval2014_metrics(probabilities, references, list(sentiments), "absent_as_class", thresholds)

    m = scored(codes.get("conflict", codes["neutral"]))  # 4-pol: conflict is a class; 3-pol: scored as neutral
    without_conflict = m if "conflict" in codes else scored(0)  # 3-pol: gold conflict pairs left out
    out: dict[str, float | None] = {
        "semeval_detection_precision": m["category_precision"],
        "semeval_detection_recall": m["category_recall"],
        "semeval_detection_f1": m["category_f1"],
        "accuracy_3way": without_conflict["polarity_accuracy_3way"],
        "accuracy_binary": without_conflict["polarity_accuracy_binary"],
        "polarity_pairs": m["polarity_pairs"],
    }
    if "conflict" in codes:
        out.update(accuracy_4way=m["polarity_accuracy"], accuracy_4way_conflict_as_neutral=None)
    else:  # every gold-conflict pair is wrong under the strict 4-way reading
        strict = without_conflict["polarity_accuracy"] * without_conflict["polarity_pairs"] / m["polarity_pairs"]
        out.update(accuracy_4way=strict, accuracy_4way_conflict_as_neutral=m["polarity_accuracy"])
    return out


def mentioned_of(gold: Sequence[Sequence[str | None]]) -> np.ndarray:
    return np.array([[g is not None for g in row] for row in gold], dtype=bool)


def calibrated_thresholds(probabilities: np.ndarray, gold: Sequence[Sequence[str | None]]) -> np.ndarray:
    """The library's calibration (`evaluation.thresholds`, joint µF1 over all aspects) fitted on these rows: `[A]`
    thresholds on P(none), NaN where the default rule stays."""
    probabilities = np.asarray(probabilities)
    sentiments = (*SENTIMENTS, "conflict") if probabilities.shape[-1] == len(SENTIMENTS) + 2 else SENTIMENTS
    codes = {name: i + 1 for i, name in enumerate(sentiments)}
    canonical = np.array([[codes.get(g, codes["neutral"]) if g else 0 for g in row] for row in gold])
    chosen = calibrate_thresholds(probabilities, canonical, list(sentiments)).thresholds
    return np.array([np.nan if t is None else t for t in chosen])


def cross_fitted_thresholds(probabilities: np.ndarray, gold: Sequence[Sequence[str | None]]) -> np.ndarray:
    """Thresholds `[N, A]` for an honest estimate ON the calibration data: rows are split in two halves (even /
    odd index); each half gets the thresholds calibrated on the other half."""
    probabilities = np.asarray(probabilities)
    result = np.empty(probabilities.shape[:2])
    index = np.arange(len(probabilities))
    for part in (0, 1):
        fit, apply = index[index % 2 != part], index[index % 2 == part]
        result[apply] = calibrated_thresholds(probabilities[fit], [gold[i] for i in fit])
    return result


__all__ = [
    "SENTIMENTS",
    "calibrated_thresholds",
    "cross_fitted_thresholds",
    "error_breakdown",
    "mentioned_of",
    "protocol_metrics",
]


def error_breakdown(
    probabilities: np.ndarray,
    gold: Sequence[Sequence[str | None]],
    thresholds: float | np.ndarray = 0.5,
    sentiments: Sequence[str] = SENTIMENTS,
) -> dict[str, dict[str, float]]:
    """Where the gold-mentioned (sentence, category) pairs go wrong, per gold polarity and for sentences whose
    categories carry different polarities ("mixed") vs the rest: `pairs`, `missed` (predicted none), `wrong`
    (mentioned, wrong polarity; a 3-sentiment model scores gold conflict as neutral) and `right`, as shares."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    mentioned = probabilities[..., 0] < np.asarray(thresholds)
    index = {name: k for k, name in enumerate(sentiments, start=1)}
    groups: dict[str, list[str]] = {}
    for n, row in enumerate(gold):
        labels = [g for g in row if g is not None]
        mixed = "mixed sentences" if len(set(labels)) > 1 else "one-polarity sentences"
        for a, g in enumerate(row):
            if g is None:
                continue
            target = index.get(g, index.get("neutral"))
            predicted = 1 + int(probabilities[n, a, 1:].argmax())
            outcome = "missed" if not mentioned[n, a] else ("right" if predicted == target else "wrong")
            for key in (f"gold {g}", mixed, "all"):
                groups.setdefault(key, []).append(outcome)
    return {
        key: {"pairs": len(v), **{o: v.count(o) / len(v) for o in ("right", "missed", "wrong")}}
        for key, v in groups.items()
    }
