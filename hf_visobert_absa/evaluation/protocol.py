"""The SemEval-2014 Task 4 protocol metrics for aspect categories, reported BESIDE this project's metrics.

Published results on SemEval ABSA data use the task's own two numbers (Pontiki et al., "SemEval-2014 Task 4:
Aspect Based Sentiment Analysis", SemEval 2014), which this module computes so that a model can be put next to
them. They are not the headline (see `metrics`): subtask 4 is scored on the GOLD categories, so it never
counts a mentioned category the model missed.

- **Subtask 3, aspect category detection** — precision, recall and F1, micro-averaged over (sentence, category)
  pairs: a predicted pair is correct iff the gold sentence has that category. The predicted categories are the
  ones the model calls mentioned (the decision rule of `label_schemes`), so the numbers equal
  `detection_micro_*` of `compute_absa_metrics`. `None` for models that cannot say "not mentioned" (`absent_as_neutral`,
  `mentioned_only`).
- **Subtask 4, aspect category polarity** — accuracy GIVEN the gold categories: for every gold (sentence,
  category) pair, the predicted polarity is the argmax of the model's probabilities over the sentiment classes
  only (the "none" class is ignored, so a category the model thinks absent still gets a polarity), compared
  with the gold polarity. Three variants, as in Sun et al., "Utilizing BERT for Aspect-Based Sentiment Analysis
  via Constructing Auxiliary Sentence", NAACL 2019 (section 4.2):

  - `polarity_accuracy`: every gold pair, argmax over all K sentiments (on SemEval-2014's positive, negative,
    neutral, conflict: the official 4-way accuracy);
  - `polarity_accuracy_3way`: gold pairs whose polarity is positive, negative or neutral (conflict pairs
    removed), argmax over those three (conflict cannot be predicted);
  - `polarity_accuracy_binary`: gold positive and negative pairs only, argmax over positive and negative.

  A variant whose classes are not all in the sentiment set is `None`; one with no gold pair is `None` too (its
  pair count says 0).

Example:

```python
>>> from hf_visobert_absa.evaluation.protocol import semeval2014_metrics
>>> probabilities = [[[0.1, 0.2, 0.6, 0.1, 0.0], [0.9, 0.02, 0.03, 0.04, 0.01]]]  # [N=1, A=2, C=5]
>>> m = semeval2014_metrics(probabilities, [[2, 4]], ["positive", "negative", "neutral", "conflict"])
>>> m["category_f1"], m["polarity_accuracy"], m["polarity_pairs"]
(0.6666666666666666, 0.5, 2)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.label_schemes import predictions_from_probabilities
from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import scheme_detects_aspects

#: Where `evaluate` and training put these numbers: `metrics[PROTOCOL_KEY]`.
PROTOCOL_KEY = "semeval2014_protocol"
#: Values of the `--protocol` flag of `train` and `evaluate`.
PROTOCOL_CHOICES: tuple[str, ...] = ("auto", "semeval2014", "none")
#: The classes of the two reduced polarity variants (Sun et al., 2019).
THREE_WAY: tuple[str, ...] = ("positive", "negative", "neutral")
BINARY: tuple[str, ...] = ("positive", "negative")


def _polarity_accuracy(
    sentiment_probabilities: np.ndarray, references: np.ndarray, classes: list[int] | None
) -> tuple[float | None, int]:
    """Accuracy of the argmax over the sentiment indices `classes` (0-based) on the gold pairs whose gold
    polarity is one of them; `(None, 0)` when `classes` is None or no pair qualifies."""
    if classes is None:
        return None, 0
    gold = references - 1  # [N, A] sentiment index, -1 = not mentioned
    mask = np.isin(gold, classes)
    pairs = int(mask.sum())
    if not pairs:
        return None, 0
    subset = np.asarray(classes)
    predicted = subset[sentiment_probabilities[..., subset].argmax(axis=-1)]  # [N, A]
    return float((predicted == gold)[mask].mean()), pairs


def _indices(sentiments: Sequence[str], names: Sequence[str]) -> list[int] | None:
    lowered = [s.lower() for s in sentiments]
    return [lowered.index(n) for n in names] if all(n in lowered for n in names) else None


def _category_detection(
    probabilities: np.ndarray, references: np.ndarray, label_scheme: str, threshold: Any
) -> dict[str, Any]:
    """Subtask 3, micro over (sentence, category) pairs: every value `None` when the scheme cannot detect aspects."""
    result: dict[str, Any] = dict.fromkeys(
        ("category_precision", "category_recall", "category_f1", "category_pairs_gold", "category_pairs_predicted")
    )
    if scheme_detects_aspects(label_scheme):
        predicted = predictions_from_probabilities(probabilities, label_scheme, threshold) != 0
        gold = references != 0
        hits, n_pred, n_gold = int((predicted & gold).sum()), int(predicted.sum()), int(gold.sum())
        result.update(
            category_precision=hits / n_pred if n_pred else 0.0,
            category_recall=hits / n_gold if n_gold else 0.0,
            category_f1=2 * hits / (n_pred + n_gold) if n_pred + n_gold else 0.0,
            category_pairs_gold=n_gold,
            category_pairs_predicted=n_pred,
        )
    return result


def semeval2014_metrics(
    probabilities: Any,
    references: Any,
    sentiments: Sequence[str],
    label_scheme: str = "absent_as_class",
    threshold: float | Sequence[float | None] | None = None,
) -> dict[str, Any]:
    r"""SemEval-2014 subtask 3 (category detection) and subtask 4 (polarity given the gold categories); the
    definitions are in the module docstring.

    Args:
        probabilities (`array-like` of shape `[N, A, C]`): the model's class probabilities (softmax), classes in
            the config's order (`none` first under `absent_as_class`, then the sentiments).
        references (`array-like` of shape `[N, A]`): canonical gold codes (0 none, k the k-th sentiment).
        sentiments (`Sequence[str]`): the K sentiments, in class order (`config.sentiments`).
        label_scheme (`str`, defaults to `"absent_as_class"`): the model's scheme; detection is `None` unless it
            is `absent_as_class`.
        threshold (`float` or one per aspect, *optional*): P(none) below it = mentioned (detection only); None
            (or a None entry) = the default rule, argmax.

    Returns:
        `dict[str, Any]`: `category_precision`, `category_recall`, `category_f1` (float or `None`),
        `category_pairs_gold`, `category_pairs_predicted` (int or `None`); `polarity_accuracy`,
        `polarity_accuracy_3way`, `polarity_accuracy_binary` (float or `None`) with `polarity_pairs`,
        `polarity_pairs_3way`, `polarity_pairs_binary` (int); `sentiments` (the K names).

    Raises:
        ValueError: shapes that do not fit (`[N, A, C]` probabilities for `[N, A]` references and K sentiments).
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    references = np.asarray(references, dtype=np.int64)
    offset = 1 if scheme_detects_aspects(label_scheme) else 0  # the "none" class
    expected = (*references.shape, len(sentiments) + offset) if references.ndim == 2 else None
    if probabilities.shape != expected:
        raise ValueError(
            f"`probabilities` have shape {probabilities.shape}; expected {expected} for references of shape "
            f"{references.shape}, {len(sentiments)} sentiments and label scheme {label_scheme!r}."
        )
    result = _category_detection(probabilities, references, label_scheme, threshold)
    sentiment_probabilities = probabilities[..., offset:]
    every = list(range(len(sentiments)))
    for suffix, classes in (
        ("", every),
        ("_3way", _indices(sentiments, THREE_WAY)),
        ("_binary", _indices(sentiments, BINARY)),
    ):
        accuracy, pairs = _polarity_accuracy(sentiment_probabilities, references, classes)
        result[f"polarity_accuracy{suffix}"] = accuracy
        result[f"polarity_pairs{suffix}"] = pairs
    result["sentiments"] = list(sentiments)
    return result


def wants_protocol(protocol: str, report: Any) -> bool:
    """Whether to report the protocol metrics: `"auto"` when a file of the `DatasetReport` is SemEval XML,
    `"semeval2014"` always, `"none"` never.

    Raises:
        `AbsaInputError`: another value.
    """
    if protocol not in PROTOCOL_CHOICES:
        raise AbsaInputError(f"`--protocol` got {protocol!r}; allowed: {', '.join(PROTOCOL_CHOICES)}.")
    if protocol == "auto":
        return any(split.format == "semeval_xml" for split in report.splits.values())
    return protocol == "semeval2014"


def format_protocol(protocol: dict[str, Any]) -> str:
    """The protocol numbers as two lines under a heading that says they are for comparison."""

    def number(value: Any) -> str:
        return "n/a" if value is None else f"{100 * float(value):.2f}"

    k = len(protocol.get("sentiments") or []) or "K"
    return "\n".join([
        "SemEval-2014 protocol (Pontiki et al., 2014; beside the metrics above, for comparison with published results):",
        f"  category detection (subtask 3), micro over (sentence, category): P {number(protocol['category_precision'])}"
        f"  R {number(protocol['category_recall'])}  F1 {number(protocol['category_f1'])}",
        f"  polarity accuracy given the gold categories (subtask 4): {k}-way {number(protocol['polarity_accuracy'])}"
        f" ({protocol['polarity_pairs']} pairs), 3-way {number(protocol['polarity_accuracy_3way'])}"
        f" ({protocol['polarity_pairs_3way']}), binary {number(protocol['polarity_accuracy_binary'])}"
        f" ({protocol['polarity_pairs_binary']})",
    ])  # fmt: skip


__all__ = [
    "BINARY",
    "PROTOCOL_CHOICES",
    "PROTOCOL_KEY",
    "THREE_WAY",
    "format_protocol",
    "semeval2014_metrics",
    "wants_protocol",
]
