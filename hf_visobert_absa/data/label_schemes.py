"""Conversions between the CANONICAL per-aspect coding and each label scheme's class indices.

Canonical coding (what data loaders keep as `gold` and what metrics score), for the configured sentiments
`s_1..s_K` (`ViSoBertAbsaConfig.sentiments`, default positive, negative, neutral):
    0 = not mentioned ("none"), k = sentiment `s_k` (so by default 1 = positive, 2 = negative, 3 = neutral).

Scheme coding (what the model is trained on, `labels` [A] per review):
    - `absent_as_class`: identical to canonical (classes none, s_1..s_K).
    - `absent_as_neutral`: k - 1 for sentiment k; not mentioned -> the index of "neutral", as the original design.
    - `mentioned_only`: k - 1 for sentiment k; not mentioned -> -100 (ignored).

Predictions decode back to canonical; under `absent_as_neutral` and `mentioned_only` every aspect comes out "mentioned",
because those schemes cannot say otherwise (detection metrics are then not applicable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..hub.labels_visobert_absa import LABEL_SCHEMES, NONE_CLASS, SENTIMENTS, scheme_detects_aspects

#: Canonical codes of the DEFAULT sentiment set; with other sets use [`canonical_names`].
NONE, POSITIVE, NEGATIVE, NEUTRAL = 0, 1, 2, 3
CANONICAL_NAMES: tuple[str, ...] = (NONE_CLASS, *SENTIMENTS)
IGNORE_INDEX = -100


def canonical_names(sentiments: Sequence[str] | None = None) -> tuple[str, ...]:
    """The names of the canonical codes: `("none", *sentiments)` (default sentiments when `None`)."""
    return (NONE_CLASS,) + tuple(SENTIMENTS if sentiments is None else sentiments)


def neutral_code(sentiments: Sequence[str] | None = None) -> int | None:
    """The canonical code of "neutral" (case-insensitive) in `sentiments`, or `None` when the set has none."""
    names = [s.lower() for s in (SENTIMENTS if sentiments is None else sentiments)]
    return names.index("neutral") + 1 if "neutral" in names else None


def _check_scheme(label_scheme: str) -> None:
    if label_scheme not in LABEL_SCHEMES:
        raise ValueError(f"`label_scheme` got {label_scheme!r}; allowed: {', '.join(map(repr, LABEL_SCHEMES))}.")


def encode_labels(canonical: np.ndarray, label_scheme: str, sentiments: Sequence[str] | None = None) -> np.ndarray:
    """Canonical `[..., A]` (0..K) -> the scheme's class indices (with -100 under `mentioned_only`).
    `sentiments` (default positive, negative, neutral) matters only under `absent_as_neutral`, which needs "neutral"."""
    _check_scheme(label_scheme)
    canonical = np.asarray(canonical, dtype=np.int64)
    if label_scheme == "absent_as_class":
        return canonical.copy()
    if label_scheme == "absent_as_neutral":
        neutral = neutral_code(sentiments)
        if neutral is None:
            raise ValueError(
                f"label_scheme 'absent_as_neutral' needs a 'neutral' sentiment; the sentiments are {list(sentiments)}."
            )
        return np.where(canonical == NONE, neutral - 1, canonical - 1)
    return np.where(canonical == NONE, IGNORE_INDEX, canonical - 1)


def decode_labels(encoded: np.ndarray, label_scheme: str) -> np.ndarray:
    """The scheme's class indices -> canonical. Under `absent_as_neutral` a "neutral" may have been "not mentioned": the
    result is canonical neutral, which is why such references cannot score detection."""
    _check_scheme(label_scheme)
    encoded = np.asarray(encoded, dtype=np.int64)
    if label_scheme == "absent_as_class":
        return encoded.copy()
    return np.where(encoded == IGNORE_INDEX, NONE, encoded + 1)


def predictions_from_probabilities(
    probabilities: np.ndarray, label_scheme: str, threshold: float | Sequence[float | None] | None = None
) -> np.ndarray:
    """`[N, A, C]` class probabilities -> canonical predictions `[N, A]`, by the ONE decision rule
    ([`hub.decision_visobert_absa.mentioned_mask`], which the pipeline applies too).

    Under `absent_as_class` an aspect is mentioned when some sentiment is more probable than "none" (`threshold`
    None, the default), or when P(none) < `threshold` (a float, or one value per aspect `[A]` where None / NaN
    keeps the default rule); its sentiment is the most probable of the K sentiments. Under `absent_as_neutral` and
    `mentioned_only` every aspect gets its most probable sentiment (those schemes cannot detect).
    """
    import torch

    from ..hub.decision_visobert_absa import mentioned_mask

    _check_scheme(label_scheme)
    probabilities = np.asarray(probabilities)
    if not scheme_detects_aspects(label_scheme):
        return probabilities.argmax(axis=-1).astype(np.int64) + 1
    if isinstance(threshold, np.ndarray):  # [A] or [N, A] limits; NaN = the default rule
        threshold = torch.from_numpy(np.where(np.equal(threshold, None), np.nan, threshold).astype(np.float64))
    mentioned = mentioned_mask(torch.from_numpy(np.asarray(probabilities, dtype=np.float64)), threshold).numpy()
    sentiment = probabilities[..., 1:].argmax(axis=-1) + 1
    return np.where(mentioned, sentiment, NONE).astype(np.int64)


def check_thresholds(
    threshold: float | Sequence[float | None] | None, aspects: Sequence[str]
) -> float | list[float | None] | None:
    """A decision-rule setting, checked: None (argmax everywhere), a number in (0, 1], or one entry per aspect
    (a number in (0, 1], or None / NaN for argmax).

    Raises:
        ValueError: any other value; the message names it and what is allowed.
    """
    allowed = f"None (argmax), a number in (0, 1], or {len(aspects)} such entries (None = argmax), one per aspect"
    if threshold is None:
        return None
    if isinstance(threshold, np.ndarray):
        threshold = threshold.tolist()

    def entry(value: Any) -> float | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ValueError(f"`threshold` got {threshold!r}; allowed: {allowed} of {list(aspects)}.")
        return float(value)

    if isinstance(threshold, (list, tuple)):
        if len(threshold) != len(aspects):
            raise ValueError(f"`threshold` got {threshold!r}; allowed: {allowed} of {list(aspects)}.")
        return [entry(t) for t in threshold]
    value = entry(threshold)
    if value is None:
        raise ValueError(f"`threshold` got {threshold!r}; allowed: {allowed} of {list(aspects)}.")
    return value


def describe_rule(threshold: float | Sequence[float | None] | None, aspects: Sequence[str]) -> str | dict[str, Any]:
    """How detections were decided, for reports: `"argmax"`, `"P(none) < t"`, or per aspect."""
    if threshold is None or (isinstance(threshold, (list, tuple)) and all(t is None for t in threshold)):
        return "argmax"
    if isinstance(threshold, (int, float)):
        return f"P(none) < {float(threshold):g}"
    return {a: "argmax" if t is None else f"P(none) < {float(t):g}" for a, t in zip(aspects, threshold, strict=True)}


def predictions_from_logits(
    logits: np.ndarray, label_scheme: str, threshold: float | Sequence[float | None] | None = None
) -> np.ndarray:
    """`[N, A, C]` logits -> canonical predictions `[N, A]` (softmax, then
    [`predictions_from_probabilities`])."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return predictions_from_probabilities(shifted / shifted.sum(axis=-1, keepdims=True), label_scheme, threshold)


__all__ = [
    "CANONICAL_NAMES",
    "IGNORE_INDEX",
    "canonical_names",
    "check_thresholds",
    "describe_rule",
    "neutral_code",
    "NEGATIVE",
    "NEUTRAL",
    "NONE",
    "POSITIVE",
    "decode_labels",
    "encode_labels",
    "predictions_from_logits",
    "predictions_from_probabilities",
]
