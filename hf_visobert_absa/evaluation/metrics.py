"""Aspect-based sentiment metrics that cannot flatter a model: detection, sentiment, joint pairs, per aspect.

Everything is scored on CANONICAL `[N, A]` arrays (0 = not mentioned, k = the k-th of the K configured
sentiments, by default 1 = positive, 2 = negative, 3 = neutral; see `label_schemes`), whatever label scheme
the model was trained with:

- **Aspect detection** — is the aspect mentioned? One binary decision per (review, aspect) cell; precision,
  recall and F1 micro-averaged over all cells and macro-averaged over aspects.
- **Sentiment** — accuracy and macro F1 over the cells whose GOLD aspect is mentioned. A predicted "none" on
  such a cell is wrong for accuracy; for macro F1 "none" acts as a fourth prediction class that is never a
  gold class: it is a false negative of the gold sentiment and is left out of the average.
- **Joint (aspect, sentiment) pairs** — a predicted pair is correct iff the gold has the same aspect with the
  same sentiment (the pair-level scoring of SemEval-2016 Task 5 slot 1+3, Pontiki et al., 2016). Micro P/R/F1
  over all pairs and macro over aspects. Joint recall equals sentiment accuracy by construction.
- **Absent-as-neutral** — the original design's number: "not mentioned" counted as neutral in BOTH arrays, then
  K-way accuracy and support-weighted F1 over every cell (`None` when the sentiments have no "neutral"). Most cells are absent, so this number stays high
  for a model that predicts nothing; its keys start with `absent_as_neutral_` and it is never reported alone.

Conventions (those of scikit-learn with `zero_division=0`, Pedregosa et al., JMLR 2011): a ratio whose
denominator is 0 is 0.0; F1 = 2·TP / (2·TP + FP + FN). Macro averages over aspects include every aspect (an
aspect nobody mentions or predicts scores 0.0, as in scikit-learn's multilabel macro average; its `support`
shows it). Sentiment macro F1 averages the sentiments present in the gold or predicted labels of the scored
cells (scikit-learn's default label set), so a perfect prediction scores 1.0 even where a sentiment is absent.

With the `absent_as_neutral` and `mentioned_only` schemes the model predicts every aspect as mentioned: detection metrics
are `None` (not applicable) and joint precision is computed over all `N x A` predicted pairs — honestly low.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.label_schemes import (
    IGNORE_INDEX,
    NONE,
    check_thresholds,
    decode_labels,
    neutral_code,
    predictions_from_logits,
)
from ..hub.labels_visobert_absa import LABEL_SCHEMES, SENTIMENTS, scheme_class_names, scheme_detects_aspects
from .metric_inputs import as_label_array, validate_metric_inputs

logger = logging.getLogger(__name__)

#: Folder of the `evaluate` module wrapping `compute_absa_metrics`: `evaluate.load(EVALUATE_MODULE_PATH)`.
EVALUATE_MODULE_PATH: str = str(Path(__file__).resolve().parent / "absa_metric")

#: Top-level keys of `compute_absa_metrics`, in display order (all but the counts are floats or `None`).
METRIC_KEYS: tuple[str, ...] = (
    "detection_micro_precision",
    "detection_micro_recall",
    "detection_micro_f1",
    "detection_macro_precision",
    "detection_macro_recall",
    "detection_macro_f1",
    "sentiment_accuracy",
    "sentiment_macro_f1",
    "joint_micro_precision",
    "joint_micro_recall",
    "joint_micro_f1",
    "joint_macro_precision",
    "joint_macro_recall",
    "joint_macro_f1",
    "absent_as_neutral_accuracy",
    "absent_as_neutral_weighted_f1",
)
#: Metric keys under the names older versions wrote (a run's `metrics.json`, recorded results), mapped to today's.
RENAMED_METRIC_KEYS: dict[str, str] = {
    "seed_style_accuracy": "absent_as_neutral_accuracy",
    "seed_style_weighted_f1": "absent_as_neutral_weighted_f1",
}


# ---------------------------------------------------------------------------------------------- arithmetic
def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise numerator / denominator with 0.0 where the denominator is 0 (zero_division=0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _prf(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 (= 2TP / (2TP + FP + FN) = 2TP / (n_pred + n_gold)) from counts."""
    return _ratio(tp, n_pred), _ratio(tp, n_gold), _ratio(2 * tp, n_pred + n_gold)


def _sentiment_macro_f1(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray) -> np.ndarray:
    """Macro F1 over the sentiments (last axis) present in gold or predictions; 0.0 where none is present."""
    present = (n_pred + n_gold) > 0
    f1 = _ratio(2 * tp, n_pred + n_gold)
    return _ratio((f1 * present).sum(-1), present.sum(-1))


def _f(value: Any) -> float:
    return float(value)


def confusion_matrices(predictions: Any, references: Any, sentiments: Sequence[str] | None = None) -> np.ndarray:
    """Per-aspect canonical confusion matrices.

    Args:
        predictions (`array-like` of shape `[N, A]`): canonical predicted codes (0..K).
        references (`array-like` of shape `[N, A]`): canonical gold codes (0..K).
        sentiments (`Sequence[str]`, *optional*): the K sentiments (default positive, negative, neutral).

    Returns:
        `np.ndarray` of shape `[A, K+1, K+1]`: `out[a, gold, predicted]` counts reviews; rows and columns are
        ordered none, then the sentiments.

    Raises:
        ValueError: the arrays are not `[N, A]` of codes 0..K or differ in shape.

    Example:

    ```python
    >>> int(confusion_matrices([[1, 0]], [[1, 2]])[1, 2, 0])  # aspect 2: gold negative, predicted none
    1
    ```
    """
    sentiments = list(SENTIMENTS if sentiments is None else sentiments)
    refs = as_label_array(references, "references", sentiments)
    columns = [f"column {i + 1}" for i in range(refs.shape[1])]
    preds, refs, _ = validate_metric_inputs(predictions, refs, columns, "absent_as_class", sentiments)
    num_aspects, size = refs.shape[1], len(sentiments) + 1
    flat = np.arange(num_aspects) * size * size + refs * size + preds  # [N, A] -> index into the A * C * C cells
    return np.bincount(flat.ravel(), minlength=size * size * num_aspects).reshape(num_aspects, size, size)


# ---------------------------------------------------------------------------------------------- metrics
def compute_absa_metrics(
    predictions: Any,
    references: Any,
    aspects: Sequence[str],
    label_scheme: str = "absent_as_class",
    sentiments: Sequence[str] | None = None,
) -> dict[str, Any]:
    r"""Scores canonical aspect-sentiment predictions against gold labels (see the module docstring).

    Args:
        predictions (`array-like` of shape `[N, A]`):
            Canonical predicted codes (0 = none, k = the k-th sentiment), e.g. from
            `label_schemes.predictions_from_logits(logits, label_scheme)`.
        references (`array-like` of shape `[N, A]`):
            Canonical gold codes (the `gold` column of `data.load_absa_dataset`), with real "none" cells.
        aspects (`Sequence[str]`): the `A` aspect names, in column order.
        label_scheme (`str`, defaults to `"absent_as_class"`):
            The scheme the model was trained with. Under `"absent_as_neutral"` and `"mentioned_only"` the model cannot say an
            aspect is absent, so every `detection_*` value is `None`.
        sentiments (`Sequence[str]`, *optional*): the K sentiments of codes 1..K (a config's `sentiments`);
            defaults to positive, negative, neutral.

    Returns:
        `dict[str, Any]`: the floats (or `None`) of `METRIC_KEYS`; the counts `num_examples`,
        `num_gold_mentions`, `num_predicted_mentions` (ints); and `per_aspect`, a dict aspect -> dict with
        `support` (gold mentions), `predicted` (predicted mentions), `detection_precision`,
        `detection_recall`, `detection_f1` (`None` when not applicable), `sentiment_accuracy`,
        `sentiment_macro_f1`, `joint_precision`, `joint_recall`, `joint_f1`. Every value is a plain Python
        number, so the dict goes straight to `json.dump`.

    Raises:
        ValueError: unknown `label_scheme`; arrays that are not 2-D, empty, of different shapes, hold values
            outside 0..K (the message gives the 1-based row and the aspect), or whose width differs from
            `len(aspects)`.

    Example:

    ```python
    >>> m = compute_absa_metrics([[1, 0], [2, 3]], [[1, 0], [2, 0]], aspects=["Battery", "Camera"])
    >>> m["detection_micro_precision"], m["detection_micro_recall"], m["sentiment_accuracy"]
    (0.6666666666666666, 1.0, 1.0)
    ```
    """
    sentiments = list(SENTIMENTS if sentiments is None else sentiments)
    preds, refs, aspects = validate_metric_inputs(predictions, references, aspects, label_scheme, sentiments)
    can_detect = scheme_detects_aspects(label_scheme)
    counts = _Counts.of(preds, refs, len(sentiments))
    detection = _prf(counts.det_tp, counts.n_pred, counts.n_gold)  # [A] each
    joint = _prf(counts.pair_tp, counts.n_pred, counts.n_gold)
    codes = np.arange(1, len(sentiments) + 1)
    neutral_accuracy, neutral_weighted_f1 = _absent_as_neutral_scores(
        preds, refs, preds != NONE, refs != NONE, codes, neutral_code(sentiments)
    )
    metrics: dict[str, Any] = {
        **_detection_metrics(counts, detection, can_detect),
        **_sentiment_and_joint_metrics(counts, joint),
        "absent_as_neutral_accuracy": neutral_accuracy,
        "absent_as_neutral_weighted_f1": neutral_weighted_f1,
        "num_examples": int(refs.shape[0]),
        "num_gold_mentions": int(counts.n_gold.sum()),
        "num_predicted_mentions": int(counts.n_pred.sum()),
    }
    sentiment_accuracy = _ratio(counts.pair_tp, counts.n_gold)
    sentiment_f1 = _sentiment_macro_f1(counts.sent_tp, counts.sent_pred, counts.sent_gold)
    metrics["per_aspect"] = _per_aspect(
        aspects, counts.n_gold, counts.n_pred, detection, joint, sentiment_accuracy, sentiment_f1, can_detect
    )
    return metrics


@dataclass(frozen=True)
class _Counts:
    """The counts every metric is a ratio of, per aspect `[A]`, and per aspect and sentiment `[A, K]`."""

    n_gold: np.ndarray  # [A] gold mentions
    n_pred: np.ndarray  # [A] predicted mentions
    det_tp: np.ndarray  # [A] mentions both predicted and gold
    pair_tp: np.ndarray  # [A] gold pairs predicted with the right sentiment
    sent_gold: np.ndarray  # [A, K] gold-mentioned cells of each sentiment
    sent_pred: np.ndarray  # [A, K] gold-mentioned cells predicted as each sentiment
    sent_tp: np.ndarray  # [A, K] of those, right

    @classmethod
    def of(cls, preds: np.ndarray, refs: np.ndarray, num_sentiments: int) -> _Counts:
        gold_m = refs != NONE  # [N, A] the aspect is mentioned in the gold
        pred_m = preds != NONE  # [N, A] the model says it is mentioned
        correct = gold_m & (preds == refs)  # [N, A] a gold pair predicted with the right sentiment
        codes = np.arange(1, num_sentiments + 1)
        return cls(
            n_gold=gold_m.sum(0),
            n_pred=pred_m.sum(0),
            det_tp=(gold_m & pred_m).sum(0),
            pair_tp=correct.sum(0),
            sent_gold=(refs[..., None] == codes).sum(0),
            sent_pred=(gold_m[..., None] & (preds[..., None] == codes)).sum(0),
            sent_tp=(correct[..., None] & (refs[..., None] == codes)).sum(0),
        )


def _detection_metrics(
    counts: _Counts, per_aspect: tuple[np.ndarray, np.ndarray, np.ndarray], can_detect: bool
) -> dict[str, float | None]:
    """The `detection_*` keys: micro over all cells, macro over aspects; `None` when the scheme cannot detect."""
    micro = _prf(counts.det_tp.sum(), counts.n_pred.sum(), counts.n_gold.sum())
    values = (*micro, *(score.mean() for score in per_aspect))
    names = [f"detection_{avg}_{name}" for avg in ("micro", "macro") for name in ("precision", "recall", "f1")]
    return {name: _f(value) if can_detect else None for name, value in zip(names, values, strict=True)}


def _sentiment_and_joint_metrics(counts: _Counts, joint: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, float]:
    """`sentiment_accuracy` / `sentiment_macro_f1` over gold-mentioned cells, and the `joint_*` pair scores."""
    sentiment_f1 = _sentiment_macro_f1(counts.sent_tp.sum(0), counts.sent_pred.sum(0), counts.sent_gold.sum(0))
    micro = _prf(counts.pair_tp.sum(), counts.n_pred.sum(), counts.n_gold.sum())
    values = (*micro, *(score.mean() for score in joint))
    names = [f"joint_{avg}_{name}" for avg in ("micro", "macro") for name in ("precision", "recall", "f1")]
    return {
        "sentiment_accuracy": _f(_ratio(counts.pair_tp.sum(), counts.n_gold.sum())),
        "sentiment_macro_f1": _f(sentiment_f1),
        **{name: _f(value) for name, value in zip(names, values, strict=True)},
    }


def _per_aspect(
    aspects: list[str],
    n_gold: np.ndarray,
    n_pred: np.ndarray,
    detection: tuple[np.ndarray, np.ndarray, np.ndarray],
    joint: tuple[np.ndarray, np.ndarray, np.ndarray],
    sentiment_accuracy: np.ndarray,
    sentiment_f1: np.ndarray,
    can_detect: bool,
) -> dict[str, dict[str, Any]]:
    """The per-aspect table: support, predicted mentions, detection / sentiment / joint scores (arrays `[A]`)."""
    (det_p, det_r, det_f), (pair_p, pair_r, pair_f) = detection, joint

    def det(value: Any) -> float | None:
        return _f(value) if can_detect else None

    return {
        aspect: {
            "support": int(n_gold[a]),
            "predicted": int(n_pred[a]),
            "detection_precision": det(det_p[a]),
            "detection_recall": det(det_r[a]),
            "detection_f1": det(det_f[a]),
            "sentiment_accuracy": _f(sentiment_accuracy[a]),
            "sentiment_macro_f1": _f(sentiment_f1[a]),
            "joint_precision": _f(pair_p[a]),
            "joint_recall": _f(pair_r[a]),
            "joint_f1": _f(pair_f[a]),
        }
        for a, aspect in enumerate(aspects)
    }


def _absent_as_neutral_scores(
    preds: np.ndarray, refs: np.ndarray, pred_m: np.ndarray, gold_m: np.ndarray, codes: np.ndarray, neutral: int | None
) -> tuple[float | None, float | None]:
    """Absent-as-neutral accuracy and weighted F1: none -> neutral in both arrays, every cell scored, K-way.
    `(None, None)` when the sentiments have no neutral."""
    if neutral is None:
        return None, None
    flat_preds = np.where(pred_m, preds, neutral).ravel()
    flat_refs = np.where(gold_m, refs, neutral).ravel()
    gold_count = (flat_refs[:, None] == codes).sum(0)  # [K]
    pred_count = (flat_preds[:, None] == codes).sum(0)
    true_pos = ((flat_refs == flat_preds)[:, None] & (flat_refs[:, None] == codes)).sum(0)
    f1 = _ratio(2 * true_pos, gold_count + pred_count)
    return _f((flat_refs == flat_preds).mean()), _f(_ratio((f1 * gold_count).sum(), gold_count.sum()))


# ---------------------------------------------------------------------------------------------- Trainer adapter
def _allowed_scheme_labels(label_scheme: str, sentiments: Sequence[str]) -> tuple[int, ...]:
    num_classes = len(scheme_class_names(label_scheme, sentiments))
    extra = (IGNORE_INDEX,) if label_scheme == "mentioned_only" else ()
    return tuple(range(num_classes)) + extra


def build_compute_metrics(
    config: Any, *, per_aspect: bool = False, threshold: float | Sequence[float | None] | None = None
) -> Callable[[Any], dict[str, float]]:
    r"""A `compute_metrics` callable for `Trainer`, scoring with `compute_absa_metrics`.

    The callable takes an `EvalPrediction` whose `predictions` are logits `[N, A, C]` (a tuple is accepted:
    its first element is used and a warning is logged once — list the other outputs in the config's
    `keys_to_ignore_at_inference` instead) and whose `label_ids` are the scheme-coded `labels` `[N, A]`.
    Logits become canonical predictions with `label_schemes.predictions_from_logits` (the same decision rule
    as the pipeline: argmax, or `threshold` on P(none) under `absent_as_class`).

    Label schemes: `absent_as_class` labels are canonical, so every metric is computed. `mentioned_only` labels
    keep absence (-100 -> "none"): everything but detection (not applicable) is computed. `absent_as_neutral` labels code
    an absent aspect as neutral, so from them only the `absent_as_neutral_*` numbers (they count absent as neutral
    anyway) and `num_examples` are exact; every other metric would be invented and is left out — run the
    `evaluate` command, which reads the canonical `gold` column, for the honest numbers of such a model.

    Trainer logs need flat floats: metrics that are `None` (not applicable) are DROPPED rather than logged as
    NaN, so `metric_for_best_model` naming one fails loudly instead of never improving. The counts are logged
    as floats. The per-aspect table is dropped unless `per_aspect=True`, which adds
    `per_aspect/<aspect>/<name>` keys (about ten per aspect).

    Args:
        config (`ViSoBertAbsaConfig` or any object with `aspects` and `label_scheme`, and optionally
            `sentiments`): the model's config.
        per_aspect (`bool`, defaults to `False`): also log the flattened per-aspect table.
        threshold (`float` or `Sequence[float | None]`, *optional*): under `absent_as_class` an aspect counts as
            mentioned when its P(none) is below this (one value, or one per aspect, None = argmax); None (the
            default) uses the config's `thresholds` (argmax unless calibrated).

    Returns:
        `Callable[[EvalPrediction], dict[str, float]]`.

    Raises:
        ValueError: (when called) logits that are not `[N, A, C]` for the config's aspects and classes, or
            labels outside the scheme's codes; the message names the shapes or the value.

    Example:

    ```python
    >>> trainer = FocalContrastiveTrainer(model=model, args=args, eval_dataset=val,
    ...                                   compute_metrics=build_compute_metrics(model.config))
    >>> trainer.evaluate()["eval_joint_micro_f1"]
    ```
    """
    aspects = list(config.aspects)
    label_scheme = config.label_scheme
    sentiments = list(getattr(config, "sentiments", None) or SENTIMENTS)
    if label_scheme not in LABEL_SCHEMES:
        raise ValueError(f"`label_scheme` got {label_scheme!r}; allowed: {', '.join(map(repr, LABEL_SCHEMES))}.")
    num_classes = len(scheme_class_names(label_scheme, sentiments))
    allowed = _allowed_scheme_labels(label_scheme, sentiments)
    if threshold is None:
        threshold = getattr(config, "thresholds", None) if scheme_detects_aspects(label_scheme) else None
    thresholds = check_thresholds(threshold, aspects)
    warned = False

    def compute_metrics(eval_prediction: Any) -> dict[str, float]:
        nonlocal warned
        logits, warned = _logits_of(eval_prediction.predictions, warned)
        labels = eval_prediction.label_ids
        labels = np.asarray(labels[0] if isinstance(labels, (tuple, list)) else labels)
        _check_eval_arrays(logits, labels, aspects, num_classes, allowed, label_scheme)
        predictions = predictions_from_logits(logits, label_scheme, thresholds)
        references = decode_labels(labels, label_scheme)
        metrics = compute_absa_metrics(predictions, references, aspects, label_scheme, sentiments)
        return _trainer_metrics(metrics, label_scheme, per_aspect)

    return compute_metrics


def _logits_of(predictions: Any, warned: bool) -> tuple[np.ndarray, bool]:
    """The logits of an `EvalPrediction`: the first element of a tuple of outputs, with a warning the first time."""
    if not isinstance(predictions, (tuple, list)):
        return np.asarray(predictions), warned
    if not warned:
        logger.warning(
            "compute_metrics received a tuple of %d model outputs; scoring its first element as the "
            "logits. List the other outputs in the config's `keys_to_ignore_at_inference`.",
            len(predictions),
        )
    return np.asarray(predictions[0]), True


def _check_eval_arrays(
    logits: np.ndarray,
    labels: np.ndarray,
    aspects: list[str],
    num_classes: int,
    allowed: tuple[int, ...],
    label_scheme: str,
) -> None:
    """Logits `[N, A, C]` for the config's aspects and classes, and labels `[N, A]` of the scheme's codes."""
    expected = f"[N, {len(aspects)}, {num_classes}] for {len(aspects)} aspects and scheme {label_scheme!r}"
    if logits.ndim != 3 or logits.shape[1:] != (len(aspects), num_classes):
        raise ValueError(f"`predictions` (logits) have shape {logits.shape}; expected {expected}.")
    if labels.shape != logits.shape[:2]:
        raise ValueError(f"`label_ids` have shape {labels.shape}; expected {logits.shape[:2]} to match the logits.")
    bad = ~np.isin(labels, allowed)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"`label_ids` hold {labels[row, col].item()!r} at row {row + 1} (1-based), aspect {aspects[col]!r}; "
            f"allowed under label scheme {label_scheme!r}: {list(allowed)}."
        )


def _trainer_metrics(metrics: dict[str, Any], label_scheme: str, per_aspect: bool) -> dict[str, float]:
    """Flat floats for the Trainer's logs: `None` dropped, only what the labels make exact under `absent_as_neutral`, and the
    per-aspect table as `per_aspect/<aspect>/<name>` keys when asked for."""
    if label_scheme == "absent_as_neutral":
        keep = {"absent_as_neutral_accuracy", "absent_as_neutral_weighted_f1", "num_examples"}
        return {k: float(v) for k, v in metrics.items() if k in keep and v is not None}
    flat = {k: float(v) for k, v in metrics.items() if k != "per_aspect" and v is not None}
    if per_aspect:
        for aspect, row in metrics["per_aspect"].items():
            flat.update({f"per_aspect/{aspect}/{k}": float(v) for k, v in row.items() if v is not None})
    return flat


__all__ = [
    "EVALUATE_MODULE_PATH",
    "METRIC_KEYS",
    "RENAMED_METRIC_KEYS",
    "build_compute_metrics",
    "compute_absa_metrics",
    "confusion_matrices",
]
