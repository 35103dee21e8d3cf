"""The checks every metric runs on its inputs: `[N, A]` arrays of canonical codes (0 = none, k = the k-th
sentiment), the same shape on both sides, one column per named aspect. Each refusal is one `ValueError` that
names the array, the row, the aspect and what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..hub.labels_visobert_absa import LABEL_SCHEMES, SENTIMENTS


def canonical_help(sentiments: Sequence[str]) -> str:
    """What canonical codes mean for `sentiments`: `"canonical codes 0=none, 1=positive, ..."`."""
    return "canonical codes 0=none, " + ", ".join(f"{k}={name}" for k, name in enumerate(sentiments, start=1))


def as_label_array(values: Any, name: str, sentiments: Sequence[str] = SENTIMENTS) -> np.ndarray:
    """`values` -> int64 `[N, A]` of canonical codes, or a `ValueError` saying what is wrong and where."""
    try:
        array = np.asarray(values)
    except ValueError as err:  # ragged nested lists
        raise ValueError(
            f"`{name}` must be a rectangular [N, A] array; got rows of different lengths ({err})."
        ) from err
    if array.ndim == 3:
        raise ValueError(
            f"`{name}` has shape {array.shape}, which looks like logits [N, A, C]; expected labels [N, A]. "
            "Decode logits first: `label_schemes.predictions_from_logits(logits, label_scheme)`."
        )
    if array.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D [N, A] array (reviews x aspects); got shape {array.shape}.")
    if array.shape[0] == 0:
        raise ValueError(f"`{name}` holds no reviews (shape {array.shape}); there is nothing to score.")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"`{name}` holds {array[row, col].item()!r} at row {row + 1} (1-based), column {col + 1}; "
                f"allowed: whole numbers, {canonical_help(sentiments)}."
            )
    elif array.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must hold integers ({canonical_help(sentiments)}); got dtype {array.dtype}.")
    return array.astype(np.int64)


def check_range(array: np.ndarray, name: str, aspects: Sequence[str], sentiments: Sequence[str]) -> None:
    """Refuse a code outside 0..K, naming the row and the aspect."""
    bad = (array < 0) | (array > len(sentiments))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"`{name}` holds {int(array[row, col])} at row {row + 1} (1-based), aspect {aspects[col]!r}; "
            f"allowed: {canonical_help(sentiments)}. Scheme-coded labels (absent_as_neutral's 0..2, -100) must be decoded first with "
            "`label_schemes.decode_labels(labels, label_scheme)`."
        )


def validate_metric_inputs(
    predictions: Any, references: Any, aspects: Sequence[str], label_scheme: str, sentiments: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The two `[N, A]` code arrays and the aspect list, checked against each other; a `ValueError` saying what is
    wrong and where otherwise."""
    if label_scheme not in LABEL_SCHEMES:
        raise ValueError(f"`label_scheme` got {label_scheme!r}; allowed: {', '.join(map(repr, LABEL_SCHEMES))}.")
    if isinstance(aspects, str) or not all(isinstance(a, str) for a in aspects):
        raise ValueError(f"`aspects` must be a list of aspect names (strings); got {aspects!r}.")
    if isinstance(sentiments, str) or not sentiments or not all(isinstance(s, str) for s in sentiments):
        raise ValueError(f"`sentiments` must be a non-empty list of sentiment names; got {sentiments!r}.")
    aspects = list(aspects)
    preds = as_label_array(predictions, "predictions", sentiments)
    refs = as_label_array(references, "references", sentiments)
    if preds.shape != refs.shape:
        raise ValueError(
            f"`predictions` has shape {preds.shape} but `references` has shape {refs.shape}; both must be "
            "[N, A] with the same reviews and aspects, in the same order."
        )
    if preds.shape[1] != len(aspects):
        raise ValueError(
            f"The arrays have {preds.shape[1]} aspect columns but `aspects` names {len(aspects)}: {aspects}. "
            "Pass the aspect list the model and the data use (e.g. `model.config.aspects`)."
        )
    check_range(preds, "predictions", aspects, sentiments)
    check_range(refs, "references", aspects, sentiments)
    return preds, refs, aspects


__all__ = ["as_label_array", "canonical_help", "check_range", "validate_metric_inputs"]
