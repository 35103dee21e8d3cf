"""The training run behind `hf-visobert-absa train`: data -> model -> FocalContrastiveTrainer -> honest reports.

Writes into `output_dir`: Trainer checkpoints (Hub-loadable: `auto_map` + code files), `model/` (the best
model and its tokenizer; after a refit, the refit model), `metrics.json` (every evaluated split),
`predictions_<split>.csv`, `dataset_report.json`, `log_history.json` (`refit_log_history.json` too after a refit)
and PNG plots under `plots/`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..data.label_schemes import predictions_from_probabilities
from ..errors import AbsaInputError
from ..evaluation.thresholds import (
    AUTO_CALIBRATION_RANGE,
    DEFAULT_CALIBRATION_METRIC,
    Calibration,
    calibrate_thresholds,
    calibration_metric,
)
from ..finiteness import check_finite
from ..io_safety import check_output_dir, write_json_atomic
from ..model_folder import validate_model_folder
from ..process_group import is_main_process, wait_for_every_rank
from .arguments import AbsaTrainingArguments, DataArguments, ModelArguments
from .model_setup import build_model, refuse_ignored_flags, resolve_label_scheme, resolve_sentiments
from .recipe import HOLDOUT_PERCENTAGE
from .refit import check_refit_possible
from .reports import save_records, write_reports
from .run_checks import (
    check_layer_decay_applies,
    check_model_choices,
    check_run_arguments,
    check_trainable,
    check_validation_needs,
    run_inputs,
)
from .run_folder import refuse_existing_run, refuse_inputs_inside, run_lock

logger = logging.getLogger(__name__)

#: The metric that picks the best checkpoint when the user keeps the default, per label scheme. Under
#: `absent_as_neutral` the Trainer's labels cannot tell absent from neutral, so selection falls back to the loss.
SELECTION_METRIC = {
    "absent_as_class": ("joint_micro_f1", True),
    "mentioned_only": ("sentiment_macro_f1", True),
    "absent_as_neutral": ("loss", False),
}


def _load_data(model_args: ModelArguments, data_args: DataArguments, checkpoint_config: Any) -> tuple[Any, Any]:
    """The splits and the dataset report, with the model's aspects when it continues a trained model."""
    from ..data.holdout import TooFewRowsToHoldOut
    from ..data.loading import load_absa_dataset, name_aspect_source

    label_scheme = resolve_label_scheme(model_args, checkpoint_config)
    sentiments = resolve_sentiments(data_args, checkpoint_config)
    aspects = data_args.aspect_list()
    aspects_from_model = checkpoint_config is not None and aspects is None
    if aspects_from_model:
        aspects = list(checkpoint_config.aspects)
    files = data_args.data_files()
    options = dict(
        format=data_args.format, aspects=aspects, sentiments=sentiments, label_scheme=label_scheme,
        text_column=data_args.text_column, label_aliases=data_args.alias_map(), others_policy=data_args.others_policy,
        drop_problems=data_args.drop_problems, validation_split_seed=data_args.validation_split_seed,
    )  # fmt: skip
    percentage, automatic = holdout_percentage(data_args, files)
    try:
        try:
            datasets, report = load_absa_dataset(files, validation_split_percentage=percentage, **options)
        except TooFewRowsToHoldOut as error:
            if not automatic:
                raise
            logger.warning("%s Training on every row, without a validation split to pick the best epoch.", error)
            datasets, report = load_absa_dataset(files, **options)
    except AbsaInputError as error:
        if aspects_from_model:
            raise name_aspect_source(error, f"those of the model {model_args.model_name_or_path}") from None
        raise
    if automatic and report.validation_split:
        logger.warning(
            "No validation file: %d of the training rows (%g%%, seed %d) are held out to pick the best epoch; pass "
            "`--validation_file FILE` to use your own, or `--validation_split_percentage 0` to train on every row.",
            report.validation_split["rows"], percentage, data_args.validation_split_seed,
        )  # fmt: skip
    if "train" not in datasets:
        raise AbsaInputError("No training split found: pass `--train_file` or a `--data_dir` with a train file.")
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples,
              "test": data_args.max_test_samples}  # fmt: skip
    for split, limit in limits.items():
        if split in datasets and limit:
            total = len(datasets[split])
            datasets[split] = datasets[split].select(range(min(limit, total)))
            report.subsets[split] = {"used": len(datasets[split]), "of": total}  # recorded for the model card
    check_trainable(np.asarray(datasets["train"]["labels"]), label_scheme, report.splits["train"].file)
    return datasets, report


def holdout_percentage(data_args: DataArguments, files: dict[str, str]) -> tuple[float | None, bool]:
    """The share of the training file to hold out for selection, and whether the recipe chose it: the flag's
    (0 = none), else the recipe's `HOLDOUT_PERCENTAGE` when there is a training file and no validation file."""
    given = data_args.validation_split_percentage
    if given is not None:
        return (None if given == 0 else given), False
    if "validation" in files or "train" not in files:
        return None, False
    return HOLDOUT_PERCENTAGE, True


def _selection_updates(training_args: AbsaTrainingArguments, has_validation: bool, label_scheme: str) -> Any:
    """`training_args` with evaluation off when there is no validation split, and the scheme's default metric."""
    updates: dict[str, Any] = {}
    if not has_validation:
        updates.update(eval_strategy="no", load_best_model_at_end=False)
    elif training_args.metric_for_best_model == "joint_micro_f1":
        metric, greater = SELECTION_METRIC[label_scheme]
        updates.update(metric_for_best_model=metric, greater_is_better=greater)
    return dataclasses.replace(training_args, **updates) if updates else training_args


#: Written into the run folder while a run that got past input checking has not finished; removed on success.
INCOMPLETE_MARKER = "RUN_INCOMPLETE.txt"


def run_training(
    model_args: ModelArguments, data_args: DataArguments, training_args: AbsaTrainingArguments
) -> dict[str, Any]:
    """Train, select the best checkpoint on validation, score every evaluation split, write the reports.

    Every argument is checked before the data is read, and the data before the model is built. `training_args.seed`
    is set before the model is built, so the heads' initialisation (and everything else) follows `--seed`.
    Bad input (up to a `--max_length` beyond the encoder's positions) leaves no run folder behind when this run
    created it; a run that fails later keeps its folder (checkpoints resume with `--resume`), marked by
    `RUN_INCOMPLETE.txt`, which names the error.

    Returns:
        `dict` with `metrics` (split -> metrics), `output_dir`, `model_dir`, `train_seconds`, `report`.
    """
    created = not Path(training_args.output_dir or ".").exists()
    if training_args.output_dir:  # before the folder is created or locked: what the run reads, what it would replace
        refuse_inputs_inside(training_args.output_dir, run_inputs(data_args, model_args))
        refuse_existing_run(
            training_args.output_dir, training_args.resume or bool(training_args.resume_from_checkpoint)
        )
    wait_for_every_rank()  # under torchrun: no rank creates the folder before every rank has looked
    main = is_main_process()
    with contextlib.ExitStack() as stack:
        if main and training_args.output_dir:  # one run at a time writes into the folder, until this one ends
            stack.enter_context(run_lock(check_output_dir(training_args.output_dir)))
        try:
            prepared = _prepare(model_args, data_args, training_args)
        except AbsaInputError:
            if main and created and training_args.output_dir and Path(training_args.output_dir).is_dir():
                shutil.rmtree(training_args.output_dir)  # only what this run made: nothing half-made is left
            raise
        return _run_marked(prepared, data_args, training_args, main)


def _run_marked(prepared: tuple, data_args: DataArguments, training_args: AbsaTrainingArguments, main: bool) -> dict:
    """Train and report (`prepared`: what `_prepare` returns) with `RUN_INCOMPLETE.txt` in the folder until the run
    has finished (it names the error)."""
    output_dir, model, tokenizer, datasets, report, protocol, resume_from = prepared
    marker = output_dir / INCOMPLETE_MARKER
    if main:
        marker.write_text("This run has not finished (or it failed); its model and reports are missing or partial.\n")
    try:
        result = _train_and_report(model, tokenizer, datasets, report, data_args, training_args, protocol, resume_from)
    except BaseException as error:
        if main:
            marker.write_text(
                f"This run failed: {type(error).__name__}: {error}\nIts model and reports are missing or partial. "
                "Fix the cause and run the same command with `--resume` to continue from the last complete "
                "checkpoint.\n"
            )
        raise
    if main:
        marker.unlink()
    wait_for_every_rank()  # every rank returns once the folder is complete
    return result


def _prepare(model_args: ModelArguments, data_args: DataArguments, training_args: AbsaTrainingArguments) -> tuple:
    """Every check, then the data, the tokenizer and the model; `--max_length` checked against the encoder and
    stored as the tokenizer's `model_max_length`, the default length of `evaluate`, `predict` and the pipeline; the
    checkpoint to resume from (checked once, here) comes last."""
    from transformers import set_seed

    from ..data.tokenization import load_tokenizer
    from ..evaluation.inference import check_max_length
    from ..evaluation.protocol import wants_protocol

    output_dir = check_run_arguments(data_args, training_args)
    check_model_choices(model_args)
    checkpoint_config = None
    if model_args.model_name_or_path:
        # one read of the checkpoint's config: a clear error for anything that is not a saved visobert_absa model
        checkpoint_config = validate_model_folder(model_args.model_name_or_path, "--model_name_or_path", allow_hub=True)
        refuse_ignored_flags(model_args)
    datasets, report = _load_data(model_args, data_args, checkpoint_config)
    check_validation_needs(training_args, "validation" in datasets)
    check_refit_possible(training_args.refit_after_selection, bool(report.validation_split))
    protocol = wants_protocol(data_args.protocol, report)
    tokenizer = load_tokenizer(model_args.tokenizer or model_args.model_name_or_path or model_args.encoder)
    set_seed(training_args.seed)  # before the heads are initialised: `--seed` governs the whole run
    labels = np.asarray(datasets["train"]["labels"])
    model = build_model(model_args, list(report.aspects), labels, list(report.sentiments), tokenizer)
    check_max_length(data_args.max_length, model.config)
    check_layer_decay_applies(model, training_args)
    resume_from = resume_checkpoint(training_args, model.config)  # one that cannot be resumed: refused before training
    tokenizer.model_max_length = data_args.max_length
    if is_main_process():
        report.to_json(output_dir / "dataset_report.json")
    logger.info("Dataset report:\n%s", report.format())
    return output_dir, model, tokenizer, datasets, report, protocol, resume_from


def _train_and_report(
    model, tokenizer, datasets, report, data_args: DataArguments, training_args, protocol: bool,
    resume_from: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Train (from `resume_from`, checked by `_prepare`), calibrate thresholds when asked, refit on the held-out
    rows too when the rule says so (`refit.py`), save `model/` (one save path: a complete Hub folder), score."""
    from ..data.tokenization import tokenize_dataset

    output_dir = Path(training_args.output_dir)
    tokenized = tokenize_dataset(datasets, tokenizer, max_length=data_args.max_length)
    training_args = _selection_updates(training_args, "validation" in tokenized, model.config.label_scheme)
    refitting = _refit_wanted(training_args, data_args, report, len(tokenized["train"]))
    initial = copy.deepcopy(model) if refitting else None  # the refit starts from the same initial weights
    trainer, train_seconds = _train(model, tokenizer, tokenized, training_args, resume_from)
    training_args = trainer.args  # what was trained with (the short-budget rule may have changed the batch size)
    _check_trained(trainer.model)
    calibration = _calibrate_if_asked(trainer.model, tokenizer, datasets, data_args, training_args)
    selection, refit_record, trained_rows = None, None, datasets["train"]
    if initial is not None:
        selection = trainer.model
        trainer, refit_record, trained_rows, seconds = _refit(initial, trainer, tokenizer, tokenized, datasets)
        train_seconds += seconds
        trainer.model.config.detection_thresholds = selection.config.detection_thresholds
        _check_trained(trainer.model)
    model_dir = output_dir / "model"
    trainer.save_model(str(model_dir))  # every rank calls it, the Trainer lets one write
    result = {"metrics": {}, "output_dir": str(output_dir), "model_dir": str(model_dir), "train_seconds": train_seconds}
    if not is_main_process():  # under torchrun, rank 0 writes the records and the reports
        return {**result, "report": report}
    history = trainer.state.log_history
    if refit_record is not None:  # log_history.json stays the selection run's, with its evaluations
        write_json_atomic(output_dir / "refit_log_history.json", history)
        history = refit_record.pop("selection_log_history")
    save_records(trainer, tokenizer, model_dir, training_args, data_args, report, trained_rows, refit_record)
    write_json_atomic(output_dir / "log_history.json", history)
    metrics = write_reports(
        trainer.model, tokenizer, datasets, output_dir, data_args.max_length, history, protocol,
        calibration, validation_model=selection, refit=refit_record,
    )  # fmt: skip
    write_json_atomic(model_dir / "metrics.json", metrics)
    return {**result, "metrics": metrics, "report": report}


def _check_trained(model: Any) -> None:
    check_finite(
        model, "training diverged", "Lower `--learning_rate` (and `--head_learning_rate`), keep gradient "
        "clipping on (`--max_grad_norm 1.0`), and run again; no model was saved.",
    )  # fmt: skip


def _calibrate_if_asked(model, tokenizer, datasets, data_args: DataArguments, training_args) -> Calibration | None:
    """`--calibrate_thresholds` on the validation split (see `calibrate_model_thresholds`), or None."""
    mode = training_args.calibrate_thresholds
    if mode == "true" or (mode == "auto" and "validation" in datasets and model.config.can_detect_aspects):
        metric = calibration_metric(training_args.metric_for_best_model)
        return calibrate_model_thresholds(
            model, tokenizer, datasets["validation"], data_args.max_length, metric, only_if_collapsed=mode == "auto"
        )
    return None


def _refit_wanted(training_args, data_args: DataArguments, report, train_rows: int) -> bool:
    """Whether this run refits on training + held-out rows after selection (`refit.refit_applies`)."""
    from .refit import refit_applies

    automatic = holdout_percentage(data_args, data_args.data_files())[1]
    limited = bool(data_args.max_train_samples or data_args.max_eval_samples)
    held_out = bool(report.validation_split) and training_args.eval_strategy != "no"
    return refit_applies(training_args.refit_after_selection, held_out, automatic, limited, train_rows)


def _refit(initial, trainer, tokenizer, tokenized, datasets) -> tuple[Any, dict[str, Any], Any, float]:
    """The refit (`refit.refit`) on the tokenized training + held-out rows: its trainer, the record of what it did
    (with the selection run's log history), the raw rows it trained on, and its seconds."""
    from datasets import concatenate_datasets
    from transformers import DataCollatorWithPadding

    from .refit import refit

    rows = concatenate_datasets([tokenized["train"], tokenized["validation"]])
    started = time.perf_counter()
    second, selected, epochs = refit(
        initial, trainer, rows, data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer
    )
    record = {
        "selected_epoch": selected, "epochs": epochs, "held_out_rows": len(tokenized["validation"]), "rows": len(rows),
        "selection_best_metric": trainer.state.best_metric, "selection_log_history": trainer.state.log_history,
    }  # fmt: skip
    trained = concatenate_datasets([datasets["train"], datasets["validation"]])
    return second, record, trained, time.perf_counter() - started


def _train(
    model: Any, tokenizer: Any, tokenized: Any, training_args: AbsaTrainingArguments, resume_from: str | None = None
) -> tuple[Any, float]:
    """Build the `FocalContrastiveTrainer` (crash-safe checkpoints) and train, resuming when asked."""
    from transformers import DataCollatorWithPadding

    from ..evaluation.metrics import build_compute_metrics
    from .trainer import FocalContrastiveTrainer

    has_validation = "validation" in tokenized
    trainer = FocalContrastiveTrainer(
        model=model,
        args=training_args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"] if has_validation else None,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=build_compute_metrics(model.config),
        callbacks=_callbacks(training_args, has_validation),
    )
    if training_args.resume or resume_from:
        logger.info("Resuming from %s", resume_from or "scratch (no checkpoint found)")
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from)
    return trainer, time.perf_counter() - started


def resume_checkpoint(training_args: AbsaTrainingArguments, config: Any) -> str | None:
    """The checkpoint to resume from: `--resume_from_checkpoint PATH` (which must be a complete checkpoint), else with
    `--resume` the last complete one in `--output_dir`; either must have been trained on this run's aspects and
    sentiments. None: train from scratch."""
    from .checkpointing import checkpoint_status, last_complete_checkpoint

    given = training_args.resume_from_checkpoint
    if isinstance(given, str) and given:
        complete, reason = checkpoint_status(given) if Path(given).is_dir() else (False, "it is not a folder")
        if not complete:
            raise AbsaInputError(
                f"`--resume_from_checkpoint` {given} cannot be resumed from: {reason}. Pass a complete "
                "`checkpoint-N` folder, or `--resume` to take the last complete one in `--output_dir`."
            )
        chosen = given
    elif training_args.resume:
        chosen = last_complete_checkpoint(str(training_args.output_dir))  # a checkpoint cut mid-save is never picked
    else:
        return None
    if chosen:
        _check_same_labels(Path(chosen), config)
    return chosen


def _check_same_labels(checkpoint: Path, config: Any) -> None:
    """A checkpoint trained on other aspects or sentiments would write new names over its heads: refused."""
    import json

    saved = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    for field in ("aspects", "sentiments", "label_scheme", "pooling"):
        mine = getattr(config, field)
        mine = list(mine) if isinstance(mine, (list, tuple)) else mine
        if field in saved and saved[field] != mine:
            raise AbsaInputError(
                f"The checkpoint {checkpoint} was trained with {field} {saved[field]!r}, but this run has {mine!r}; "
                "resuming would put new names on its heads. Resume with the same data and flags, or start a new "
                "`--output_dir`."
            )


def _callbacks(training_args: AbsaTrainingArguments, has_validation: bool) -> list:
    from transformers import EarlyStoppingCallback

    from .checkpointing import CrashSafeCheckpointCallback

    callbacks: list = [CrashSafeCheckpointCallback()]
    if training_args.early_stopping_patience and has_validation:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=training_args.early_stopping_patience))
    return callbacks


def calibrate_model_thresholds(
    model, tokenizer, validation, max_length: int, metric: str = DEFAULT_CALIBRATION_METRIC,
    only_if_collapsed: bool = False,
) -> Calibration | None:  # fmt: skip
    """Tune the per-aspect decision rule on the validation split for `metric`, all aspects together (see
    [`~evaluation.thresholds.calibrate_thresholds`]: never worse there than the default rule), and store it in
    `model.config.detection_thresholds` (None when the default rule stays everywhere). With `only_if_collapsed`
    (`--calibrate_thresholds auto`), only when the default rule's validation mentions are outside
    `AUTO_CALIBRATION_RANGE` times the gold ones; otherwise nothing changes and None is returned."""
    from ..evaluation.collapse import mention_ratio
    from ..evaluation.inference import predict_probabilities

    if not model.config.can_detect_aspects:
        raise AbsaInputError(
            f"`--calibrate_thresholds` needs label_scheme 'absent_as_class' (the model uses "
            f"{model.config.label_scheme!r}, which cannot say that an aspect is absent)."
        )
    probabilities = predict_probabilities(model, tokenizer, list(validation["text"]), max_length=max_length)
    gold = np.asarray(validation["gold"])
    ratio = mention_ratio(predictions_from_probabilities(probabilities, "absent_as_class"), gold) or 0.0
    low, high = AUTO_CALIBRATION_RANGE
    if only_if_collapsed and low <= ratio <= high:
        logger.info("Validation mentions are %.2fx the gold ones under the default rule: no calibration needed.", ratio)
        return None
    calibration = calibrate_thresholds(probabilities, gold, model.config.sentiments, metric)
    calibration.aspects = list(model.config.aspects)
    model.config.detection_thresholds = calibration.thresholds if calibration.changed else None
    log = logger.warning if only_if_collapsed else logger.info
    log(
        "Decision rule calibrated on validation for %s (default rule: %.2fx the gold mentions): %.4f -> %.4f; "
        "thresholds on P(none) per aspect (None = the default rule): %s",
        metric, ratio, calibration.before, calibration.after,
        dict(zip(model.config.aspects, calibration.thresholds, strict=True)),
    )  # fmt: skip
    calibration.mention_ratio_before = ratio
    return calibration


__all__ = [
    "calibrate_model_thresholds",
    "run_training",
]
