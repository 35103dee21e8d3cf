"""One-screen text table of the metrics of `metrics.compute_absa_metrics` (or a Trainer's `eval_*` dict).

Order: aspect detection, sentiment on gold-mentioned aspects, joint (aspect, sentiment) pairs, the
absent-as-neutral line — labelled "absent-as-neutral (for comparison only)" — then the per-aspect table.
Missing or `None` values print as `n/a` with the reason, never as a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_LABEL_WIDTH = 38
_NA_DETECTION = "n/a (this label scheme cannot say an aspect is absent)"
_NA_ABSENT_AS_NEUTRAL = (
    "n/a (absent_as_neutral labels count absent as neutral; score the `gold` column with `hf-visobert-absa evaluate`)"
)
_PER_ASPECT_COLUMNS = (
    ("support", "support"),
    ("detection_f1", "det F1"),
    ("sentiment_accuracy", "sent acc"),
    ("sentiment_macro_f1", "sent F1"),
    ("joint_precision", "joint P"),
    ("joint_recall", "joint R"),
    ("joint_f1", "joint F1"),
)


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.4f}"


def _count(value: Any) -> str:
    return "n/a" if value is None else f"{int(value):,}"


def _detect_prefix(metrics: Mapping[str, Any]) -> str:
    for anchor in ("absent_as_neutral_accuracy", "sentiment_accuracy", "joint_micro_f1"):
        for key in metrics:
            if isinstance(key, str) and key.endswith(anchor):
                return key[: -len(anchor)]
    return ""


def _per_aspect_rows(metrics: Mapping[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    nested = metrics.get(f"{prefix}per_aspect")
    if isinstance(nested, Mapping):
        return {str(k): dict(v) for k, v in nested.items()}
    rows: dict[str, dict[str, Any]] = {}
    head = f"{prefix}per_aspect/"
    for key, value in metrics.items():
        if isinstance(key, str) and key.startswith(head) and "/" in key[len(head) :]:
            aspect, name = key[len(head) :].rsplit("/", 1)
            rows.setdefault(aspect, {})[name] = value
    return rows


def format_metrics_table(metrics: Mapping[str, Any], *, prefix: str | None = None, per_aspect: bool = True) -> str:
    r"""Renders ABSA metrics as a one-screen text table.

    Args:
        metrics (`Mapping[str, Any]`):
            The dict of `compute_absa_metrics`, or the flat dict of a `Trainer` evaluation
            (`build_compute_metrics`, keys such as `eval_joint_micro_f1`, per-aspect keys
            `eval_per_aspect/<aspect>/<name>` when logged).
        prefix (`str`, *optional*):
            Prefix of the keys (`"eval_"`, `"test_"`); found from the `absent_as_neutral_accuracy` key when omitted.
        per_aspect (`bool`, defaults to `True`): append the per-aspect table when the metrics have one.

    Returns:
        `str`: the table, lines joined by `"\n"`, no trailing newline.

    Raises:
        ValueError: `metrics` holds none of the ABSA metric keys under `prefix`.

    Example:

    ```python
    >>> from hf_visobert_absa.evaluation.metrics import compute_absa_metrics
    >>> print(format_metrics_table(compute_absa_metrics([[1, 0]], [[1, 3]], ["Battery", "Camera"])))
    ```
    """
    prefix = _detect_prefix(metrics) if prefix is None else prefix
    _check_metric_keys(metrics, prefix)

    def get(name: str) -> Any:
        return metrics.get(f"{prefix}{name}")

    lines = _summary_lines(get)
    rows = _per_aspect_rows(metrics, prefix) if per_aspect else {}
    if rows:
        lines += ["", *_per_aspect_lines(rows)]
    return "\n".join(lines)


def _check_metric_keys(metrics: Mapping[str, Any], prefix: str) -> None:
    known = ("detection_micro_f1", "sentiment_accuracy", "joint_micro_f1", "absent_as_neutral_accuracy")
    if not any(f"{prefix}{k}" in metrics for k in known):
        raise ValueError(
            f"`metrics` holds none of the ABSA metric keys {[prefix + k for k in known]}; got keys "
            f"{sorted(map(str, metrics))[:12]}. Pass the dict of `compute_absa_metrics` or of a Trainer evaluation "
            "with `build_compute_metrics`, and `prefix=` matching its keys (e.g. 'eval_')."
        )


def _summary_lines(get: Callable[[str], Any]) -> list[str]:
    """Counts, detection, sentiment, joint and absent-as-neutral lines; `get(name)` reads one metric."""
    absent_as_neutral_only = get("sentiment_accuracy") is None and get("absent_as_neutral_accuracy") is not None
    na_other = _NA_ABSENT_AS_NEUTRAL if absent_as_neutral_only else "n/a"
    header_prf = f"{'':<{_LABEL_WIDTH}}{'precision':>11}{'recall':>11}{'F1':>11}"
    counts = [(k, get(k)) for k in ("num_examples", "num_gold_mentions", "num_predicted_mentions")]
    lines = []
    if any(v is not None for _, v in counts):
        lines.append("  ".join(f"{k[4:].replace('_', ' ')}: {_count(v)}" for k, v in counts if v is not None))
    return lines + [
        header_prf,
        _prf_row(get, "Aspect detection, micro", "detection_micro", _NA_DETECTION),
        _prf_row(get, "Aspect detection, macro over aspects", "detection_macro", _NA_DETECTION),
        f"{'':<{_LABEL_WIDTH}}{'accuracy':>11}{'macro F1':>11}",
        _sentiment_row(get, na_other),
        header_prf,
        _prf_row(get, "Joint (aspect, sentiment), micro", "joint_micro", na_other),
        _prf_row(get, "Joint (aspect, sentiment), macro", "joint_macro", na_other),
        "absent-as-neutral (for comparison only): "
        f"accuracy {_number(get('absent_as_neutral_accuracy'))}, weighted F1 {_number(get('absent_as_neutral_weighted_f1'))}",
    ]


def _prf_row(get: Callable[[str], Any], label: str, group: str, na: str) -> str:
    """`label`, then the precision, recall and F1 of `group` (e.g. `"joint_micro"`), or `na` when all are missing."""
    values = [get(f"{group}_{m}") for m in ("precision", "recall", "f1")]
    if all(v is None for v in values):
        return f"{label:<{_LABEL_WIDTH}}{na}"
    return f"{label:<{_LABEL_WIDTH}}" + "".join(f"{_number(v):>11}" for v in values)


def _sentiment_row(get: Callable[[str], Any], na: str) -> str:
    accuracy, macro_f1 = get("sentiment_accuracy"), get("sentiment_macro_f1")
    label = "Sentiment on gold-mentioned aspects"
    if accuracy is None and macro_f1 is None:
        return f"{label:<{_LABEL_WIDTH}}{na}"
    return f"{label:<{_LABEL_WIDTH}}{_number(accuracy):>11}{_number(macro_f1):>11}"


def _per_aspect_lines(rows: dict[str, dict[str, Any]]) -> list[str]:
    """The per-aspect table: a header, then one line per aspect."""
    name_width = max(12, *(len(a) + 2 for a in rows))
    lines = [f"{'Aspect':<{name_width}}" + "".join(f"{title:>10}" for _, title in _PER_ASPECT_COLUMNS)]
    for aspect, row in rows.items():
        cells = (f"{(_count if key == 'support' else _number)(row.get(key)):>10}" for key, _ in _PER_ASPECT_COLUMNS)
        lines.append(f"{aspect:<{name_width}}" + "".join(cells))
    return lines


__all__ = ["format_metrics_table"]
