"""`FocalContrastiveTrainer`: the `transformers.Trainer` that trains the two-head model with its combined loss.

One forward pass per step gives logits and embeddings; the model computes both losses from it
(`losses.compute_absa_loss`, the single implementation of the objective) and the Trainer runs one backward.
The focal and contrastive terms are logged beside `loss` (`focal_loss`, `contrastive_loss`) and at evaluation
(`eval_focal_loss`, `eval_contrastive_loss`).

Gradient accumulation: the model returns a per-micro-batch mean, so the Trainer divides it by the number of
accumulation steps (`loss_is_scaled_for_ga = False`). With the default `absent_as_class` and with `absent_as_neutral`
every (review, aspect) cell counts, so accumulating k equal micro-batches gives the gradient of one k-times
larger batch for the focal term. Accumulation does not enlarge the contrastive batch: each micro-batch is
contrasted within itself.

Secrets: `Trainer` pickles its `TrainingArguments` into `training_args.bin` in every checkpoint and saved model.
This subclass writes that file with every `*_token` field (`hub_token`) set to `None`, so a token passed on the
command line never reaches disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import os
from collections.abc import Iterator
from typing import Any

import torch
from transformers import Trainer

from .large_data import apply_large_data_rule
from .learning_rates import parameter_learning_rates
from .short_budget import apply_short_budget_rule

logger = logging.getLogger(__name__)

_COMPONENTS = ("focal_loss", "contrastive_loss")


def _length(dataset: Any) -> int | None:
    """The number of rows of `dataset`; None when there is none or it has no length (an iterable dataset: the
    budget rules then leave the run as given)."""
    try:
        return len(dataset) if dataset is not None else None
    except TypeError:
        return None


class FocalContrastiveTrainer(Trainer):
    """A `Trainer` whose `compute_loss` runs `focal_weight * focal + contrastive_weight * contrastive` from one
    forward pass and logs both terms.

    Use it exactly like `Trainer`; `compute_metrics` receives the logits array `[N, A, C]` (the model's
    config lists embeddings and loss terms in `keys_to_ignore_at_inference`).

    Example:

    ```python
    >>> trainer = FocalContrastiveTrainer(model=model, args=args, train_dataset=train,
    ...                                   data_collator=DataCollatorWithPadding(tokenizer))
    >>> trainer.train()
    ```
    """

    #: The model returns a per-batch mean: the Trainer divides it by the accumulation steps.
    loss_is_scaled_for_ga = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """`Trainer.__init__` with the budget rules of `AbsaTrainingArguments`: on at least `args.large_data_rows`
        rows the recipe's epochs become `args.large_data_epochs` (`large_data.apply_large_data_rule`), and a run
        that would make fewer than `args.min_train_steps` optimisation steps trains with a smaller batch
        (`short_budget.apply_short_budget_rule`)."""
        bound = inspect.signature(Trainer.__init__).bind(self, *args, **kwargs)
        training_args, rows = bound.arguments.get("args"), _length(bound.arguments.get("train_dataset"))
        if getattr(training_args, "large_data_rows", 0) and rows is not None:
            training_args = apply_large_data_rule(training_args, rows)
        if getattr(training_args, "min_train_steps", 0) and rows is not None:
            training_args = apply_short_budget_rule(training_args, rows)
        bound.arguments["args"] = training_args
        super().__init__(*bound.args[1:], **bound.kwargs)
        self._component_sums: dict[str, dict[str, torch.Tensor]] = {"train": {}, "eval": {}}
        self._component_counts: dict[str, int] = {"train": 0, "eval": 0}

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """`Trainer._save` with the tokens of `self.args` hidden while `training_args.bin` is pickled."""
        with tokens_hidden(self.args):
            super()._save(output_dir, state_dict=state_dict)

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        """`Trainer._push_from_checkpoint` (it needs the token to upload), then `training_args.bin` rewritten
        without it."""
        super()._push_from_checkpoint(checkpoint_folder)
        if self.args.should_save:
            with tokens_hidden(self.args):
                torch.save(self.args, os.path.join(self.args.output_dir, "training_args.bin"))

    def create_optimizer(self, model: torch.nn.Module | None = None) -> torch.optim.Optimizer:
        """The Trainer's optimizer; with `args.head_learning_rate` set, the randomly initialised parts (heads,
        pooler, aspect queries: every parameter outside `encoder.`) get that peak learning rate, and with
        `args.layer_lr_decay` each encoder layer gets that factor times the rate of the layer above
        (`learning_rates.parameter_learning_rates`); the schedule scales every rate alike."""
        head_lr = getattr(self.args, "head_learning_rate", None)
        layer_decay = getattr(self.args, "layer_lr_decay", None)
        if (head_lr is None and layer_decay is None) or self.optimizer is not None:
            return super().create_optimizer(model)
        opt_model = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(opt_model))
        named = [(n, p) for n, p in opt_model.named_parameters() if p.requires_grad]
        rates = parameter_learning_rates([n for n, _ in named], self.args.learning_rate, head_lr, layer_decay)
        groups: dict[tuple[float, bool], list[torch.nn.Parameter]] = {}
        for name, parameter in named:
            groups.setdefault((rates[name], name in decay), []).append(parameter)
        param_groups = [
            {"params": params, "lr": lr, "weight_decay": self.args.weight_decay if decays else 0.0}
            for (lr, decays), params in groups.items()
        ]
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
        self.optimizer = optimizer_cls(param_groups, **optimizer_kwargs)
        return self.optimizer

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        """One forward pass with `labels`; the model computes the combined loss and both terms."""
        if "labels" not in inputs:
            raise ValueError(
                "`labels` are missing from the batch: FocalContrastiveTrainer needs per-aspect labels [B, A]. "
                "Keep the `labels` column (see `hf_visobert_absa.data.loading.load_absa_dataset`)."
            )
        outputs = model(**inputs)
        phase = "train" if model.training else "eval"
        self._record(phase, outputs)
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    def _record(self, phase: str, outputs: Any) -> None:
        sums = self._component_sums[phase]
        for name in _COMPONENTS:
            value = getattr(outputs, name, None)
            if value is None:
                continue
            value = value.detach().float()
            if phase == "train":
                # Same scaling as the loss the Trainer accumulates: per micro-batch / accumulation steps.
                value = value / self.current_gradient_accumulation_steps
            sums[name] = sums[name] + value if name in sums else value
        if phase == "eval":
            self._component_counts[phase] += 1

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Adds the means of the loss terms collected since the last log (`focal_loss`, `contrastive_loss`,
        and `eval_`-prefixed at evaluation)."""
        if "loss" in logs and self._component_sums["train"]:
            steps = max(self.state.global_step - getattr(self, "_components_last_step", 0), 1)
            for name, total in self._component_sums["train"].items():
                logs[name] = self._gather_mean(total) / steps
            self._component_sums["train"] = {}
            self._components_last_step = self.state.global_step
        prefix = next(
            (
                k[: -len("loss")]
                for k in logs
                if k.endswith("_loss")
                and "_" not in k[: -len("_loss")]
                and k[: -len("_loss")] not in ("focal", "contrastive")
            ),
            None,
        )
        if prefix and self._component_sums["eval"]:
            count = max(self._component_counts["eval"], 1)
            for name, total in self._component_sums["eval"].items():
                logs[f"{prefix}{name}"] = self._gather_mean(total) / count
            self._component_sums["eval"] = {}
            self._component_counts["eval"] = 0
        super().log(logs, start_time)

    def _gather_mean(self, value: torch.Tensor) -> float:
        if self.args.world_size > 1:
            value = self.accelerator.gather(value.reshape(1)).mean()
        return float(value.item())


def secret_fields(args: Any) -> list[str]:
    """The names of the fields of a `TrainingArguments` that hold a secret (every `*_token`, e.g. `hub_token`)."""
    return [f.name for f in dataclasses.fields(args) if f.name.endswith("_token")]


@contextlib.contextmanager
def tokens_hidden(args: Any) -> Iterator[None]:
    """Set every `*_token` field of `args` to `None` for the duration of the block (e.g. while it is pickled),
    then restore it."""
    saved = {name: getattr(args, name) for name in secret_fields(args) if getattr(args, name, None) is not None}
    for name in saved:
        setattr(args, name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(args, name, value)


__all__ = ["FocalContrastiveTrainer", "secret_fields", "tokens_hidden"]
