"""The model card's numbers: reading a run's metrics JSON, the `model-index` entries (`huggingface_hub`
`EvalResult`) and the Markdown tables of the Evaluation section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult

from ..errors import AbsaInputError
from ..evaluation.metrics import RENAMED_METRIC_KEYS

#: (key in the metrics JSON, group, name, `model-index` metric type)
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("detection_micro_precision", "Aspect detection", "micro precision", "precision"),
    ("detection_micro_recall", "Aspect detection", "micro recall", "recall"),
    ("detection_micro_f1", "Aspect detection", "micro F1", "f1"),
    ("detection_macro_precision", "Aspect detection", "macro precision", "precision"),
    ("detection_macro_recall", "Aspect detection", "macro recall", "recall"),
    ("detection_macro_f1", "Aspect detection", "macro F1", "f1"),
    ("sentiment_accuracy", "Sentiment of mentioned aspects", "accuracy", "accuracy"),
    ("sentiment_macro_f1", "Sentiment of mentioned aspects", "macro F1", "f1"),
    ("joint_micro_precision", "Joint (aspect, sentiment)", "micro precision", "precision"),
    ("joint_micro_recall", "Joint (aspect, sentiment)", "micro recall", "recall"),
    ("joint_micro_f1", "Joint (aspect, sentiment)", "micro F1", "f1"),
    ("joint_macro_f1", "Joint (aspect, sentiment)", "macro F1", "f1"),
    ("absent_as_neutral_accuracy", "Absent counted as neutral (comparison only)", "accuracy", "accuracy"),
    ("absent_as_neutral_weighted_f1", "Absent counted as neutral (comparison only)", "weighted F1", "f1"),
)
_PREFIXES = ("eval_", "test_", "predict_")
#: Short group names for `model-index` metric names, by key prefix.
_INDEX_GROUPS = {
    "detection": "Aspect detection",
    "sentiment": "Sentiment",
    "joint": "Joint aspect-sentiment",
    "absent_as_neutral": "Absent as neutral",
}


def load_metrics(path: str | Path, split: str = "test") -> dict[str, Any]:
    """Read a run's metrics JSON as one flat dict of metric name -> value.

    Accepts a flat object (as `Trainer.evaluate` writes it; `eval_`/`test_`/`predict_` prefixes are dropped) or
    one object per split (`{"validation": {...}, "test": {...}}`, as `hf-visobert-absa train` writes it), from
    which `split` is taken.

    Raises:
        AbsaInputError: the file is not a JSON object, or it holds per-split metrics without `split`.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AbsaInputError(f"{path}: not readable as JSON ({error}). Fix or remove the file.") from error
    if not isinstance(raw, dict):
        raise AbsaInputError(f"{path}: expected a JSON object of metric names to values, got {type(raw).__name__}.")
    splits = [key for key, value in raw.items() if isinstance(value, dict) and key != "per_aspect"]
    if splits and not any(key in raw for key, *_ in METRICS) and not any(key.startswith(_PREFIXES) for key in raw):
        if split not in raw:
            raise AbsaInputError(
                f"{path}: holds metrics for the splits {splits}, not {split!r}. Pass the split the card should "
                f"report, e.g. `--dataset-split {splits[-1]}`."
            )
        raw = raw[split]
    metrics: dict[str, Any] = {}
    for key, value in raw.items():
        name = next((key[len(p) :] for p in _PREFIXES if key.startswith(p)), key)
        metrics.setdefault(RENAMED_METRIC_KEYS.get(name, name), value)  # files of older runs: today's names
    return metrics


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def eval_results(metrics: dict[str, Any], dataset_id: str, dataset_name: str, split: str) -> list[EvalResult]:
    primary = [key for key, *_ in METRICS if not key.startswith("absent_as_neutral") and _number(metrics.get(key))]
    results = []
    for key, _group, name, metric_type in METRICS:
        if not _number(metrics.get(key)) or (key.startswith("absent_as_neutral") and not primary):
            continue  # the absent-as-neutral number is never reported alone
        results.append(
            EvalResult(
                task_type="text-classification",
                task_name="Aspect-based sentiment analysis",
                dataset_type=dataset_id,
                dataset_name=dataset_name,
                dataset_split=split,
                metric_type=metric_type,
                metric_name=f"{_INDEX_GROUPS[next(p for p in _INDEX_GROUPS if key.startswith(p))]} {name}",
                metric_value=metrics[key],
            )
        )
    return results


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


#: Per-aspect columns that count examples: shown as integers.
_COUNT_COLUMNS = ("support", "predicted")


def _cell(values: dict[str, Any] | None, column: str) -> str:
    value = (values or {}).get(column)
    if not _number(value):
        return "n/a"
    return f"{int(value):,}" if column in _COUNT_COLUMNS else f"{value:.4f}"


def metrics_text(metrics: dict[str, Any] | None, split: str, dataset_name: str) -> str:
    if not metrics or not any(key in metrics for key, *_ in METRICS):
        return (
            "No evaluation metrics were found with this model (no metrics JSON in the run folder): none are reported."
        )
    rows = []
    for key, group, name, _ in METRICS:
        if key not in metrics:
            continue
        value = metrics[key]
        shown = f"{value:.4f}" if _number(value) else "n/a (this label scheme cannot detect aspects)"
        rows.append([group, name, shown])
    text = (
        f"On the `{split}` split of {dataset_name}; every number comes from the run's metrics file, scored on the saved "
        "model's predictions. Detection asks "
        "whether an aspect is mentioned; sentiment is scored only on aspects the reference mentions; joint counts an "
        "(aspect, sentiment) pair as right only when both are.\n\n" + markdown_table(["group", "metric", "value"], rows)
    )
    if any(key.startswith("absent_as_neutral") for key in metrics):
        text += (
            "\n\nThe absent-as-neutral row scores not-mentioned aspects as neutral, as the original design did. It is shown "
            "only to compare with that design: most (review, aspect) cells are not mentioned, so a predictor that "
            "calls every aspect neutral already scores high on it, and it says little about this model."
        )
    per_aspect = metrics.get("per_aspect")
    if isinstance(per_aspect, dict) and per_aspect:
        columns: list[str] = []
        for values in per_aspect.values():
            columns += [k for k, v in (values or {}).items() if _number(v) and k not in columns]
        rows = [[str(aspect)] + [_cell(values, c) for c in columns] for aspect, values in per_aspect.items()]
        text += "\n\nPer aspect:\n\n" + markdown_table(["aspect"] + columns, rows)
    return text


__all__ = ["METRICS", "eval_results", "load_metrics", "markdown_table", "metrics_text"]
