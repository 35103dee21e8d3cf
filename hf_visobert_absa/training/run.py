"""The training run behind `hf-visobert-absa train`: data -> model -> FocalContrastiveTrainer -> honest reports.

Writes into `output_dir`: Trainer checkpoints (Hub-loadable: `auto_map` + code files), `model/` (the best
model and its tokenizer), `metrics.json` (every evaluated split), `predictions_<split>.csv`,
`dataset_report.json`, `log_history.json` and PNG plots under `plots/`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..data.label_schemes import DEFAULT_THRESHOLD
from ..errors import AbsaInputError
from ..hub.configuration_visobert_absa import LABEL_SCHEMES, SENTIMENTS, ViSoBertAbsaConfig, scheme_class_names
from .arguments import AbsaTrainingArguments, DataArguments, ModelArguments

logger = logging.getLogger(__name__)

#: The metric that picks the best checkpoint when the user keeps the default, per label scheme. Under
#: `seed` the Trainer's labels cannot tell absent from neutral, so selection falls back to the loss.
SELECTION_METRIC = {
    "absent_as_class": ("joint_micro_f1", True),
    "mentioned_only": ("sentiment_macro_f1", True),
    "seed": ("loss", False),
}


def balanced_focal_alpha(labels: np.ndarray, num_classes: int) -> list[list[float]]:
    """Per-aspect class weights `n_a / (C * count[a, c])` from scheme-coded training labels `[N, A]`
    (-100 ignored); a class never seen as a target gets weight 1.0 (its weight is never used)."""
    labels = np.asarray(labels)
    alpha = []
    for column in labels.T:
        valid = column[column != -100]
        counts = np.bincount(valid, minlength=num_classes).astype(float)
        total = counts.sum()
        row = [float(total / (num_classes * c)) if c > 0 else 1.0 for c in counts]
        alpha.append(row)
    return alpha


def resolve_label_scheme(model_args: ModelArguments, checkpoint_config: ViSoBertAbsaConfig | None = None) -> str:
    if checkpoint_config is not None:
        return checkpoint_config.label_scheme
    if model_args.label_scheme:
        if model_args.label_scheme not in LABEL_SCHEMES:
            raise AbsaInputError(
                f"`--label_scheme` got {model_args.label_scheme!r}; allowed: {', '.join(LABEL_SCHEMES)}."
            )
        return model_args.label_scheme
    return "seed" if model_args.seed_preset else "absent_as_class"


def build_model(
    model_args: ModelArguments,
    aspects: list[str],
    train_labels: np.ndarray | None,
    sentiments: list[str] | None = None,
):
    """A fresh model around the pretrained encoder, or a trained model to continue from."""
    from ..hub.modeling_visobert_absa import ViSoBertAbsaModel

    if model_args.model_name_or_path:
        model = ViSoBertAbsaModel.from_pretrained(model_args.model_name_or_path)
        if list(model.config.aspects) != list(aspects):
            raise AbsaInputError(
                f"The model at {model_args.model_name_or_path} was trained on aspects {list(model.config.aspects)} "
                f"but the data has {list(aspects)}. Pass `--aspects` in the model's order or start from an encoder."
            )
        model.train()
        return model
    kwargs: dict[str, Any] = ViSoBertAbsaConfig.seed_preset_kwargs() if model_args.seed_preset else {}
    kwargs.update(model_args.config_overrides())
    kwargs["aspects"] = list(aspects)
    if sentiments is not None:
        kwargs["sentiments"] = list(sentiments)
    if model_args.focal_alpha == "balanced":
        if train_labels is None:
            raise AbsaInputError("`--focal_alpha balanced` needs a training split.")
        scheme = kwargs.get("label_scheme", "absent_as_class")
        kwargs["focal_alpha"] = balanced_focal_alpha(train_labels, len(scheme_class_names(scheme, sentiments)))
    try:
        return ViSoBertAbsaModel.from_pretrained_encoder(
            model_args.encoder, trust_remote_code=model_args.trust_remote_code, **kwargs
        )
    except OSError as error:
        raise AbsaInputError(
            f"Could not load the encoder {model_args.encoder!r}: {error}. Pass `--encoder` a local folder of a "
            "pretrained encoder, or run with network access to the Hugging Face Hub."
        ) from None


def resolve_sentiments(data_args: DataArguments, checkpoint_config: ViSoBertAbsaConfig | None = None) -> list[str]:
    """The sentiment set: a continued model's own (a different `--sentiments` is an error), else the flag's, else
    the default positive, negative, neutral."""
    given = data_args.sentiment_list()
    if checkpoint_config is not None:
        own = list(checkpoint_config.sentiments)
        if given is not None and given != own:
            raise AbsaInputError(
                f"`--sentiments` {given} differs from the sentiments of the model being continued, {own}; its "
                "classification head is fixed. Drop `--sentiments`, or start from an encoder with `--encoder`."
            )
        return own
    return given if given is not None else list(SENTIMENTS)


def _refuse_ignored_flags(model_args: ModelArguments) -> None:
    """Continuing a trained model: its config fixes the architecture and loss, so such flags are an error."""
    ignored = sorted(model_args.config_overrides()) + (["seed_preset"] if model_args.seed_preset else [])
    if model_args.focal_alpha == "balanced":
        ignored.append("focal_alpha")
    if ignored:
        raise AbsaInputError(
            f"`--model_name_or_path` continues a trained model whose config fixes the architecture and loss; "
            f"these flags would be ignored: {', '.join('--' + name for name in ignored)}. Drop them, or start "
            "from an encoder with `--encoder` to change them."
        )


#: Written into the run folder while a run that got past input checking has not finished; removed on success.
INCOMPLETE_MARKER = "RUN_INCOMPLETE.txt"


def run_training(
    model_args: ModelArguments, data_args: DataArguments, training_args: AbsaTrainingArguments
) -> dict[str, Any]:
    """Train, select the best checkpoint on validation, score every evaluation split, write the reports.

    Every input (arguments, data files, encoder, `--max_length` against the encoder's positions) is checked
    before the run folder is written to, so bad input leaves nothing behind. A run that fails later leaves its
    folder (its checkpoints resume with `--resume`) marked by `RUN_INCOMPLETE.txt`, which names the error.

    Returns:
        `dict` with `metrics` (split -> metrics), `output_dir`, `model_dir`, `train_seconds`, `report`.
    """
    datasets, report = _load_data(model_args, data_args)
    tokenizer, model = _load_model(model_args, data_args, datasets, report)
    output_dir = Path(training_args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    marker = output_dir / INCOMPLETE_MARKER
    marker.write_text("This run has not finished (or it failed); its model and reports are missing or partial.\n")
    report.to_json(output_dir / "dataset_report.json")
    logger.info("Dataset report:\n%s", report.format())
    try:
        result = _train_and_report(model, tokenizer, datasets, report, data_args, training_args)
    except BaseException as error:
        marker.write_text(
            f"This run failed: {type(error).__name__}: {error}\nIts model and reports are missing or partial. "
            "Fix the cause and run the same command with `--resume` to continue from the last complete checkpoint.\n"
        )
        raise
    marker.unlink()
    return result


def _load_data(model_args: ModelArguments, data_args: DataArguments):
    """Read and check the data (and a checkpoint's config when continuing one); apply the `--max_*_samples`
    subsets and record them in the report."""
    from ..data.loading import load_absa_dataset, name_aspect_source
    from ..evaluation.inference import load_model_config

    checkpoint_config = None
    if model_args.model_name_or_path:
        # one read of the checkpoint's config: a clear error for anything that is not a saved visobert_absa model
        checkpoint_config = load_model_config(model_args.model_name_or_path, "--model_name_or_path", allow_hub=True)
        _refuse_ignored_flags(model_args)
    label_scheme = resolve_label_scheme(model_args, checkpoint_config)
    sentiments = resolve_sentiments(data_args, checkpoint_config)
    aspects = data_args.aspect_list()
    aspects_from_model = checkpoint_config is not None and aspects is None
    if aspects_from_model:
        aspects = list(checkpoint_config.aspects)
    try:
        datasets, report = load_absa_dataset(
            data_args.data_files(),
            format=data_args.format,
            aspects=aspects,
            sentiments=sentiments,
            label_scheme=label_scheme,
            text_column=data_args.text_column,
            label_aliases=data_args.alias_map(),
            others_policy=data_args.others_policy,
            drop_problems=data_args.drop_problems,
        )
    except AbsaInputError as error:
        if aspects_from_model:
            raise name_aspect_source(error, f"those of the model {model_args.model_name_or_path}") from None
        raise
    if "train" not in datasets:
        raise AbsaInputError("No training split found: pass `--train_file` or a `--data_dir` with a train file.")
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples,
              "test": data_args.max_test_samples}  # fmt: skip
    for split, limit in limits.items():
        if split in datasets and limit:
            total = len(datasets[split])
            datasets[split] = datasets[split].select(range(min(limit, total)))
            report.subsets[split] = {"used": len(datasets[split]), "of": total}
    return datasets, report


def _load_model(model_args: ModelArguments, data_args: DataArguments, datasets, report):
    """The tokenizer and the model; `--max_length` checked against the encoder and stored as the tokenizer's
    `model_max_length`, the default length of `evaluate`, `predict` and the pipeline."""
    from ..data.tokenization import load_tokenizer
    from ..evaluation.inference import check_max_length

    tokenizer_source = model_args.tokenizer or model_args.model_name_or_path or model_args.encoder
    tokenizer = load_tokenizer(tokenizer_source)
    model = build_model(
        model_args, list(report.aspects), np.asarray(datasets["train"]["labels"]), list(report.sentiments)
    )
    check_max_length(data_args.max_length, model.config)
    tokenizer.model_max_length = data_args.max_length
    return tokenizer, model


def _train_and_report(model, tokenizer, datasets, report, data_args: DataArguments, training_args) -> dict[str, Any]:
    """Train with the Trainer, save `model/` (one save path: a complete Hub folder) and write the reports."""
    from transformers import DataCollatorWithPadding

    from ..data.loading import tokenize_dataset
    from ..evaluation.metrics import build_compute_metrics
    from .checkpointing import CrashSafeCheckpointCallback, last_complete_checkpoint
    from .trainer import FocalContrastiveTrainer

    output_dir = Path(training_args.output_dir)
    tokenized = tokenize_dataset(datasets, tokenizer, max_length=data_args.max_length)
    has_validation = "validation" in tokenized
    updates: dict[str, Any] = {}
    if not has_validation:
        updates.update(eval_strategy="no", load_best_model_at_end=False)
    elif training_args.metric_for_best_model == "joint_micro_f1":
        metric, greater = SELECTION_METRIC[model.config.label_scheme]
        updates.update(metric_for_best_model=metric, greater_is_better=greater)
    if updates:
        training_args = dataclasses.replace(training_args, **updates)
    trainer = FocalContrastiveTrainer(
        model=model,
        args=training_args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"] if has_validation else None,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=build_compute_metrics(model.config),
        callbacks=[CrashSafeCheckpointCallback()],
    )
    resume_from = None
    if training_args.resume:
        # only checkpoints whose save completed (a crash mid-save leaves one that is never picked)
        resume_from = last_complete_checkpoint(str(output_dir))
        logger.info("Resuming from %s", resume_from or "scratch (no checkpoint found)")
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from)
    train_seconds = time.perf_counter() - started

    model_dir = output_dir / "model"
    trainer.save_model(str(model_dir))  # config + code files + safetensors + the tokenizer (processing_class)
    _write_training_records(model_dir, training_args, data_args, model.config, report, datasets["train"])
    history = trainer.state.log_history
    (output_dir / "log_history.json").write_text(json.dumps(history, indent=2))
    metrics = write_reports(trainer.model, tokenizer, datasets, output_dir, data_args.max_length, history)
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return {
        "metrics": metrics,
        "output_dir": str(output_dir),
        "model_dir": str(model_dir),
        "train_seconds": train_seconds,
        "report": report,
    }


def _write_training_records(model_dir: Path, training_args, data_args: DataArguments, config, report, train) -> None:
    """JSON records of how the model was trained, read by the model card (`training_args.bin` is a pickle)."""
    from ..publishing.card_facts import training_data_facts

    recorded = json.loads(training_args.to_json_string())
    recorded.update(max_length=data_args.max_length, label_scheme=config.label_scheme)
    for name in ("max_train_samples", "max_eval_samples", "max_test_samples"):
        if getattr(data_args, name):
            recorded[name] = getattr(data_args, name)
    (model_dir / "training_args.json").write_text(json.dumps(recorded, indent=2))
    facts = training_data_facts(list(train["text"]), np.asarray(train["gold"]), report.subsets)
    record = {"data_files": _describe_files(data_args.data_files()), **facts, "report": report.to_dict()}
    (model_dir / "training_data.json").write_text(json.dumps(record, ensure_ascii=False, indent=2))


def _describe_files(files: dict[str, str] | str) -> dict[str, str] | str:
    return {k: str(v) for k, v in files.items()} if isinstance(files, dict) else str(files)


def write_reports(model, tokenizer, datasets, output_dir: Path, max_length: int, history: list[dict]) -> dict:
    """Score the validation and test splits against the canonical `gold` labels and write metrics.json,
    predictions_<split>.csv and the plots."""
    from ..data.label_schemes import predictions_from_probabilities
    from ..evaluation.inference import predict_probabilities
    from ..evaluation.metrics import compute_absa_metrics
    from ..evaluation.plots import plot_confusion_matrices, plot_per_aspect_f1, plot_training_curves

    config = model.config
    aspects = list(config.aspects)
    plots = output_dir / "plots"
    plots.mkdir(exist_ok=True)
    all_metrics: dict[str, Any] = {}
    for split in ("validation", "test"):
        if split not in datasets:
            continue
        texts = list(datasets[split]["text"])
        gold = np.asarray(datasets[split]["gold"], dtype=np.int64)
        probabilities = predict_probabilities(model, tokenizer, texts, max_length=max_length)
        predictions = predictions_from_probabilities(probabilities, config.label_scheme)
        metrics = compute_absa_metrics(predictions, gold, aspects, config.label_scheme, config.sentiments)
        # how these numbers were computed: the settings the saved model's pipeline uses by default
        metrics.update(max_length=max_length, threshold=DEFAULT_THRESHOLD)
        all_metrics[split] = metrics
        names = config.canonical_names
        _write_predictions_csv(output_dir / f"predictions_{split}.csv", texts, gold, predictions, aspects, names)
        plot_confusion_matrices(predictions, gold, aspects, plots / f"confusion_{split}.png", sentiments=config.sentiments)
        plot_per_aspect_f1(metrics, plots / f"per_aspect_f1_{split}.png")
    plot_training_curves(history, plots / "training_curves.png")
    (output_dir / "metrics.json").write_text(json.dumps(all_metrics, indent=2))
    return all_metrics


def _write_predictions_csv(path: Path, texts, gold, predictions, aspects, names) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"] + [f"gold_{a}" for a in aspects] + [f"pred_{a}" for a in aspects])
        for text, gold_row, pred_row in zip(texts, gold, predictions, strict=True):
            writer.writerow([text] + [names[g] for g in gold_row] + [names[p] for p in pred_row])


__all__ = ["balanced_focal_alpha", "build_model", "run_training", "write_reports"]
