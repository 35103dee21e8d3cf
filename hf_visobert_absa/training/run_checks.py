"""Checks of a training run made before any long work: the arguments (before the data is read) and the training
split (before the model is built). Each raises `AbsaInputError`, one line and exit 2 from the CLI."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_number, check_positive
from ..errors import AbsaInputError
from ..io_safety import check_output_dir
from .arguments import AbsaTrainingArguments, DataArguments, ModelArguments, require_output_dir
from .aspect_prompts import PROMPT_INITS
from .learning_rates import parameter_learning_rates

logger = logging.getLogger(__name__)


def check_run_arguments(data_args: DataArguments, training_args: AbsaTrainingArguments) -> Path:
    """Every check of the arguments that needs no data and no model; creates and returns the output folder.

    Raises:
        `AbsaInputError`: no or an unusable `--output_dir` (a file, not writable, one of the data files), a
        number of epochs that trains nothing, a batch size below 1. (Inputs inside the folder and a folder that
        holds a run: `run_folder`, checked before the folder is created.)
    """
    require_output_dir(training_args.output_dir)
    epochs, steps = training_args.num_train_epochs, training_args.max_steps
    if steps <= 0 and not (isinstance(epochs, (int, float)) and math.isfinite(epochs) and epochs > 0):
        raise AbsaInputError(
            f"`--num_train_epochs` got {epochs!r}: that trains nothing and would save an untrained model. Pass a "
            "positive number of epochs (e.g. 3), or `--max_steps N`."
        )
    for flag in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        check_positive(getattr(training_args, flag), f"--{flag}")
    _check_optimizer_arguments(training_args)
    check_sample_limits(data_args)
    files = data_args.data_files()
    inputs = list(files.values()) if isinstance(files, dict) else [files]
    return check_output_dir(training_args.output_dir, inputs)


def run_inputs(data_args: DataArguments, model_args: ModelArguments) -> list[tuple[str, str | None]]:
    """Every path a training run reads, with the flag that names it: the data files, the model it continues, the
    tokenizer and the encoder (Hub ids among them are skipped by the checks that use this)."""
    files = data_args.data_files()
    named = [(f"--{split}_file", path) for split, path in files.items()] if isinstance(files, dict) else []
    return named + [(f"--{n}", getattr(model_args, n)) for n in ("model_name_or_path", "tokenizer", "encoder")]


def check_model_choices(model_args: ModelArguments) -> None:
    """The starting-value options of a fresh model, before the data and the encoder are loaded."""
    choices = {"classifier_bias_init": ("zeros", "priors"), "aspect_prompt_init": PROMPT_INITS}
    for name, allowed in choices.items():
        value = getattr(model_args, name)
        if value is not None and value not in allowed:
            raise AbsaInputError(f"`--{name}` got {value!r}; allowed: {' or '.join(map(repr, allowed))}.")
    pooling = model_args.resolved_pooling()
    for flag, needs in (("aspect_query_heads", "aspect_query"), ("aspect_prompt_init", "aspect_prompt")):
        if getattr(model_args, flag) is not None and pooling != needs:
            logger.warning("`--%s` has no effect with pooling %r (it applies to --pooling %s); it is ignored.",
                           flag, pooling, needs)  # fmt: skip


def check_validation_needs(training_args: AbsaTrainingArguments, has_validation: bool) -> None:
    """Options that work on the validation split, refused without one (after the data, before the model)."""
    calibrate = training_args.calibrate_thresholds == "true"
    if not has_validation and (calibrate or training_args.early_stopping_patience):
        flag = "--calibrate_thresholds" if calibrate else "--early_stopping_patience"
        raise AbsaInputError(f"`{flag}` needs a validation split: pass `--validation_file` (or a dev/validation file).")


def check_layer_decay_applies(model: Any, training_args: AbsaTrainingArguments) -> None:
    """`--layer_lr_decay` on an encoder without numbered layers, refused once the model is built (before training)."""
    if getattr(training_args, "layer_lr_decay", None) is None:
        return
    try:
        parameter_learning_rates([n for n, _ in model.named_parameters()], 1.0, None, training_args.layer_lr_decay)
    except ValueError as error:
        raise AbsaInputError(str(error)) from None


def _check_optimizer_arguments(training_args: AbsaTrainingArguments) -> None:
    """Values the optimizer or the seeding would refuse only after the data and the model are loaded (or, for
    `warmup_ratio`, accept and never finish warming up)."""
    args = training_args
    check_number(args.learning_rate, "--learning_rate", "a positive number such as 3e-5", low=0.0, low_open=True)
    if getattr(args, "head_learning_rate", None) is not None:
        check_number(
            args.head_learning_rate, "--head_learning_rate", "a positive number such as 1e-3", low=0.0, low_open=True
        )
    if getattr(args, "layer_lr_decay", None) is not None:
        check_number(
            args.layer_lr_decay, "--layer_lr_decay", "a factor in (0, 1] such as 0.8", low=0.0, high=1.0, low_open=True
        )
    check_number(args.warmup_ratio, "--warmup_ratio", "a share of the steps from 0 to 1 (e.g. 0.06)", low=0.0, high=1.0)
    check_number(args.weight_decay, "--weight_decay", "a number of at least 0 (e.g. 0.01)", low=0.0)
    check_number(args.max_grad_norm, "--max_grad_norm", "a number of at least 0 (0 turns clipping off)", low=0.0)
    check_number(args.seed, "--seed", "an integer from 0 to 2**32 - 1", low=0, high=2**32 - 1)
    check_number(args.min_train_steps, "--min_train_steps", "a whole number of at least 0 (0 turns it off)", low=0)
    check_number(args.large_data_rows, "--large_data_rows", "a whole number of at least 0 (0 turns it off)", low=0)
    check_number(
        args.large_data_epochs, "--large_data_epochs", "a positive number of epochs such as 15", low=0.0, low_open=True
    )
    if args.early_stopping_patience is not None:
        check_positive(args.early_stopping_patience, "--early_stopping_patience")
        if str(getattr(args.eval_strategy, "value", args.eval_strategy)) == "no":
            raise AbsaInputError(
                "`--early_stopping_patience` needs evaluations to count, but `--eval_strategy` is 'no'; use "
                "`--eval_strategy epoch` (the default) or drop `--early_stopping_patience`."
            )
    for flag in ("adam_beta1", "adam_beta2"):
        value = getattr(args, flag)
        check_number(value, f"--{flag}", "a number in [0, 1) such as 0.9", low=0.0, high=1.0)
        if value == 1.0:
            raise AbsaInputError(f"`--{flag}` got 1.0; allowed: a number in [0, 1) such as 0.9.")
    check_number(args.adam_epsilon, "--adam_epsilon", "a positive number such as 1e-8", low=0.0, low_open=True)
    if getattr(args, "neftune_noise_alpha", None) is not None:
        check_number(
            args.neftune_noise_alpha, "--neftune_noise_alpha", "a positive number such as 5", low=0.0, low_open=True
        )
    if not isinstance(args.dataloader_num_workers, int) or args.dataloader_num_workers < 0:
        raise AbsaInputError(
            f"`--dataloader_num_workers` got {args.dataloader_num_workers!r}; allowed: an integer of at least 0."
        )
    _check_selection_metric(args.metric_for_best_model)
    _check_scheduler(args)
    if args.push_to_hub:
        _check_can_push()
    if args.label_smoothing_factor:
        raise AbsaInputError(
            f"`--label_smoothing_factor` got {args.label_smoothing_factor!r}, which this model's loss does not use "
            "(the focal + contrastive objective ignores it); drop it (focal loss already softens confident targets: "
            "`--focal_gamma`)."
        )


def _check_scheduler(args: AbsaTrainingArguments) -> None:
    """Build the chosen learning-rate scheduler once on a dummy parameter: a scheduler that needs
    `--lr_scheduler_kwargs` (e.g. `cosine_with_min_lr`) is refused now, not when training starts."""
    import torch
    from transformers import get_scheduler

    name = str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    try:
        get_scheduler(name, optimizer=optimizer, num_warmup_steps=1, num_training_steps=10,
                      scheduler_specific_kwargs=dict(args.lr_scheduler_kwargs or {}))  # fmt: skip
    except (TypeError, ValueError, KeyError) as error:
        raise AbsaInputError(
            f"`--lr_scheduler_type {name}` cannot be built with `--lr_scheduler_kwargs` "
            f"{args.lr_scheduler_kwargs or {}!r}: {error}. Pass the keyword arguments it needs as JSON, e.g. "
            "`--lr_scheduler_kwargs '{\"min_lr\": 1e-6}'`."
        ) from None


def _check_can_push() -> None:
    """`--push_to_hub` uploads at the end of training: offline mode or no token is refused before it starts."""
    from ..publishing.push import PublishError, hub_offline, hub_token

    if hub_offline():
        raise AbsaInputError(
            "`--push_to_hub` needs the Hub, but offline mode is on (HF_HUB_OFFLINE=1): unset it, or train without "
            "`--push_to_hub` and publish later with push_to_hub.py."
        )
    try:
        hub_token()
    except PublishError as error:
        raise AbsaInputError(f"`--push_to_hub`: {error}") from None


def _check_selection_metric(name: str | None) -> None:
    """`--metric_for_best_model` must be a number the evaluation logs (else the Trainer fails after an epoch)."""
    from ..evaluation.metrics import METRIC_KEYS

    allowed = [*METRIC_KEYS, "loss", "focal_loss", "contrastive_loss"]
    if name is not None and name.removeprefix("eval_") not in allowed:
        raise AbsaInputError(
            f"`--metric_for_best_model` got {name!r}; allowed: one of {', '.join(allowed)} (with or without `eval_`)."
        )


def check_sample_limits(data_args: DataArguments) -> None:
    """`--max_train_samples` and friends: None (every row) or at least one row (0 used to mean every row)."""
    for flag in ("max_train_samples", "max_eval_samples", "max_test_samples"):
        if getattr(data_args, flag) is not None:
            check_positive(getattr(data_args, flag), f"--{flag}")


def check_trainable(labels: np.ndarray, label_scheme: str, file: str) -> None:
    """Refuse a training split in which every target is ignored (`-100`): e.g. `mentioned_only` on data where no
    aspect is mentioned would train at loss 0.0 and save an untrained model."""
    labels = np.asarray(labels)
    if labels.size == 0 or (labels == -100).all():
        raise AbsaInputError(
            f"Nothing to learn from {file} under `--label_scheme {label_scheme}`: "
            + (
                "it has no rows."
                if labels.size == 0
                else "no aspect is mentioned in any row, and this scheme trains only on mentioned aspects."
            )
            + " Check the labels (and `--label_aliases`), or use `--label_scheme absent_as_class`."
        )


__all__ = ["check_model_choices", "check_run_arguments", "check_trainable"]
