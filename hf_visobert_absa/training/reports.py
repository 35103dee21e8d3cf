"""What a finished training run writes beside its model: the records of how it was trained (`training_args.json`,
`training_data.json`, no secrets) and the reports of how it scores (`metrics.json`, `predictions_<split>.csv`,
plots).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..io_safety import atomic_path, atomic_write, write_json_atomic
from ..model_folder import save_tokenizer
from .arguments import DataArguments

logger = logging.getLogger(__name__)


def save_records(
    trainer: Any, tokenizer: Any, model_dir: Path, training_args: Any, data_args: DataArguments, report: Any, train: Any,
    refit: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Beside the saved best model: its tokenizer (the one save path: a complete Hub folder), and JSON records of
    how it was trained (no secret: every `*_token` is dropped; the model card reads these, `training_args.bin` is
    a pickle): the arguments with the subset sizes and, after a refit (`refit.py`), what it did; and the data's
    language, an example review and the subsets. `train` is every row the saved model trained on."""
    from ..publishing.card_facts import training_data_facts
    from .trainer import secret_fields

    save_tokenizer(tokenizer, model_dir)
    recorded = json.loads(training_args.to_json_string())
    for name in secret_fields(training_args):
        recorded.pop(name, None)
    recorded = {k: _no_machine_path(v) for k, v in recorded.items()}  # the folder may be published as it is
    _resave_arguments_without_paths(training_args, model_dir / "training_args.bin")
    recorded.update(max_length=data_args.max_length, label_scheme=trainer.model.config.label_scheme)
    for name in ("max_train_samples", "max_eval_samples", "max_test_samples"):
        if getattr(data_args, name):
            recorded[name] = getattr(data_args, name)
    if refit is not None:
        recorded["refit"] = refit
    write_json_atomic(model_dir / "training_args.json", recorded)
    facts = training_data_facts(list(train["text"]), np.asarray(train["gold"]), report.subsets)
    write_json_atomic(
        model_dir / "training_data.json",
        {"data_files": _describe_files(data_args.data_files()), **facts, "report": _no_machine_path(report.to_dict())},
    )


def _resave_arguments_without_paths(training_args: Any, path: Path) -> None:
    """The Trainer pickles its arguments beside the model (`training_args.bin`, `output_dir` and all): saved again
    from a copy whose absolute paths are `./<name>` and whose `*_token` fields are None."""
    import copy
    import dataclasses

    import torch

    from .trainer import secret_fields

    if not path.is_file():
        return
    clean = copy.copy(training_args)
    for field in dataclasses.fields(clean):
        value = getattr(clean, field.name, None)
        if field.name in secret_fields(clean):
            setattr(clean, field.name, None)
        elif isinstance(value, str):
            setattr(clean, field.name, _no_machine_path(value))
    with atomic_path(path) as tmp:
        torch.save(clean, tmp)


def _describe_files(files: dict[str, str] | str) -> dict[str, str] | str:
    """The data files by name only: a saved folder holds no path of the machine it was trained on."""
    return {k: Path(str(v)).name for k, v in files.items()} if isinstance(files, dict) else Path(str(files)).name


def _no_machine_path(value: Any) -> Any:
    """Every absolute path in `value` (nested too; e.g. `output_dir`, a report's `file`) as `./<its last part>`."""
    if isinstance(value, dict):
        return {k: _no_machine_path(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_machine_path(v) for v in value]
    if isinstance(value, str) and value.startswith("/") and len(value) > 1:
        return f"./{Path(value).name}"
    return value


def _plots_folder(output_dir: Path) -> Path | None:
    """`output_dir/plots`, created; None, with a warning, when matplotlib is not installed."""
    from ..evaluation.plots import PLOTS_EXTRA, plotting_available

    if not plotting_available():
        logger.warning("matplotlib is not installed: the plots/ folder is not drawn (%s).", PLOTS_EXTRA)
        return None
    plots = output_dir / "plots"
    plots.mkdir(exist_ok=True)
    return plots


def _split_metrics(
    config: Any, split: str, probabilities: Any, predictions: Any, gold: Any, thresholds: Any, max_length: int,
    protocol: bool, calibration: Any,
) -> dict[str, Any]:  # fmt: skip
    """One split's metrics with how they were computed (the settings the saved model's pipeline uses by default),
    its collapse warnings, the calibration and the protocol numbers; logged as a table."""
    from ..data.label_schemes import describe_rule
    from ..evaluation.collapse import collapse_warnings
    from ..evaluation.metrics import compute_absa_metrics
    from ..evaluation.protocol import PROTOCOL_KEY, format_protocol, semeval2014_metrics
    from ..evaluation.table import format_metrics_table

    aspects = list(config.aspects)
    metrics = compute_absa_metrics(predictions, gold, aspects, config.label_scheme, config.sentiments)
    metrics["max_length"] = max_length
    if config.can_detect_aspects:
        metrics["decision_rule"] = describe_rule(thresholds, aspects)
        metrics["warnings"] = collapse_warnings(predictions, gold, split, aspects)
    if calibration is not None:
        metrics["calibration"] = calibration.to_dict()
    if protocol:
        metrics[PROTOCOL_KEY] = semeval2014_metrics(
            probabilities, gold, config.sentiments, config.label_scheme, thresholds
        )
    logger.info("%s metrics:\n%s", split, format_metrics_table(metrics))
    if protocol:
        logger.info("%s", format_protocol(metrics[PROTOCOL_KEY]))
    return metrics


def write_reports(
    model, tokenizer, datasets, output_dir: Path, max_length: int, history: list[dict], protocol: bool = False,
    calibration: Any = None, validation_model: Any = None, refit: dict[str, Any] | None = None,
) -> dict:  # fmt: skip
    """Score the validation and test splits against the canonical `gold` labels and write metrics.json,
    predictions_<split>.csv and the plots; with `protocol`, each split's metrics also hold the SemEval-2014
    protocol numbers under `semeval2014_protocol` (see `evaluation.protocol`). Each split also records its collapse
    `warnings` (see `evaluation.collapse`) and, when the decision rule was calibrated, `calibration` (validation
    score before -> after). After a refit (`refit`, see `refit.py`) the validation split is scored with
    `validation_model`, the selection model, because `model` trained on those rows; its metrics say so."""
    plots = _plots_folder(output_dir)
    all_metrics: dict[str, Any] = {}
    for split in ("validation", "test"):
        if split not in datasets:
            continue
        scored = validation_model if split == "validation" and validation_model is not None else model
        metrics = _score_split(scored, tokenizer, datasets[split], split, output_dir, max_length, protocol,
                               calibration, plots)  # fmt: skip
        if refit is not None and split == "validation":
            metrics["scored_model"] = (
                f"the selection run's model (epoch {refit['selected_epoch']:g}), before the refit on these rows "
                "too; the saved model was not scored on them"
            )
        all_metrics[split] = metrics
    if plots is not None:
        from ..evaluation.plots import plot_training_curves

        plot_training_curves(history, plots / "training_curves.png")
    write_json_atomic(output_dir / "metrics.json", all_metrics)
    return all_metrics


def _score_split(
    model, tokenizer, dataset, split: str, output_dir: Path, max_length: int, protocol: bool, calibration: Any,
    plots: Path | None,
) -> dict[str, Any]:  # fmt: skip
    """One split's metrics (`_split_metrics`), its predictions_<split>.csv and its plots."""
    from ..data.label_schemes import predictions_from_probabilities
    from ..evaluation.inference import predict_probabilities
    from ..evaluation.plots import plot_confusion_matrices, plot_per_aspect_f1

    config = model.config
    aspects = list(config.aspects)
    texts = list(dataset["text"])
    gold = np.asarray(dataset["gold"], dtype=np.int64)
    probabilities = predict_probabilities(model, tokenizer, texts, max_length=max_length)
    thresholds = config.thresholds if config.can_detect_aspects else None
    predictions = predictions_from_probabilities(probabilities, config.label_scheme, thresholds)
    metrics = _split_metrics(config, split, probabilities, predictions, gold, thresholds, max_length, protocol,
                             calibration)  # fmt: skip
    _write_predictions_csv(output_dir / f"predictions_{split}.csv", texts, gold, predictions, aspects,
                           config.canonical_names)  # fmt: skip
    if plots is not None:
        plot_confusion_matrices(predictions, gold, aspects, plots / f"confusion_{split}.png",
                                sentiments=config.sentiments)  # fmt: skip
        plot_per_aspect_f1(metrics, plots / f"per_aspect_f1_{split}.png")
    return metrics


def _write_predictions_csv(path: Path, texts, gold, predictions, aspects, names) -> None:
    import csv

    with atomic_write(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"] + [f"gold_{a}" for a in aspects] + [f"pred_{a}" for a in aspects])
        for text, gold_row, pred_row in zip(texts, gold, predictions, strict=True):
            writer.writerow([text] + [names[g] for g in gold_row] + [names[p] for p in pred_row])


__all__ = ["save_records", "write_reports"]
