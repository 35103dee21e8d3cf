"""Refit after selection: train again on the training rows AND the rows held out from them, then save that model.

A hold-out carved from the training file buys model selection with a tenth of the training data. Once the run has
been selected and scored, the held-out rows can go back: a second run from the same initial weights, on every row,
with the same arguments, trains the whole budget (`--refit_epochs all`, the default) or stops at the selected
epoch (`selected`), and that model is saved. This is the refit of model selection on held-out data (Hastie,
Tibshirani and Friedman, The Elements of Statistical Learning, 2nd ed., Section 7.10; scikit-learn's
`GridSearchCV(refit=True)`). The validation numbers a refit run reports are those of the selection model, scored
before the refit, because the final model has trained on those rows.

`--refit_after_selection auto` (the recipe's value: `recipe.py`) refits when the validation split is the recipe's
own hold-out (no validation file, no `--validation_split_percentage`, no `--max_train_samples` /
`--max_eval_samples`) and the training split is smaller than `REFIT_BELOW_ROWS` rows, where a tenth of the data
matters most and a second run costs least; `true` refits whenever the validation rows were held out from the
training file; `false` never. Evidence (docs/RESULTS.md, "Refit after selection"): on SemEval-2014, scored on an
outer validation set that no arm saw, the whole-budget refit beat the selected model in every seed, while a refit
that stopped at the selected epoch inherited the noise of a 274-sentence selection.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from transformers import TrainerCallback

from ..errors import AbsaInputError
from .recipe import REFIT_BELOW_ROWS

logger = logging.getLogger(__name__)


def check_refit_possible(mode: str, held_out: bool) -> None:
    """`--refit_after_selection true` needs validation rows held out from the training file: refused otherwise.

    Raises:
        AbsaInputError: `mode` is `true` and the validation rows are not held out from the training file.
    """
    if mode == "true" and not held_out:
        raise AbsaInputError(
            "`--refit_after_selection true` trains again on the training rows plus the validation rows held out from "
            "them, but this run has no such hold-out (a validation file, or none at all): drop --validation_file, or "
            "pass --refit_after_selection false."
        )


def refit_applies(mode: str, held_out: bool, automatic_holdout: bool, limited: bool, train_rows: int) -> bool:
    """Whether this run refits: always with `true` (a hold-out checked before), never with `false`; with `auto`
    when the hold-out is the recipe's own, no sample limit is set, and the training split (after the hold-out) has
    fewer than `REFIT_BELOW_ROWS` rows."""
    if mode == "false" or not held_out:
        return False
    if mode == "true":
        return True
    return automatic_holdout and not limited and train_rows < REFIT_BELOW_ROWS


def selected_epoch(state: Any, best_kept: bool = True) -> float:
    """The epoch of the model the selection run kept: that of the best checkpoint (`state.best_global_step`) when
    `best_kept` (`load_best_model_at_end`), else (or when none was selected) the last epoch trained."""
    best = getattr(state, "best_global_step", None)
    if best and best_kept:
        for entry in state.log_history:
            if entry.get("step") == best and "epoch" in entry:
                return float(entry["epoch"])
    return float(state.epoch or 0.0)


class StopAtEpochCallback(TrainerCallback):
    """Stops training once `epoch` epochs are done (the schedule itself stays that of the full budget)."""

    def __init__(self, epoch: float) -> None:
        self.epoch = epoch

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.epoch is not None and state.epoch >= self.epoch - 1e-6:
            control.should_training_stop = True
        return control


def refit_arguments(trained_args: Any) -> Any:
    """The selection run's arguments as it trained with them (after the budget rules), for a run without
    evaluation, selection or checkpoints, and with the budget rules off so that it repeats the same schedule."""
    return dataclasses.replace(
        trained_args, eval_strategy="no", load_best_model_at_end=False, save_strategy="no", min_train_steps=0,
        large_data_rows=0, resume=False, resume_from_checkpoint=None,
    )  # fmt: skip


def refit(initial_model: Any, trainer: Any, rows: Any, **trainer_kwargs: Any) -> tuple[Any, float, float]:
    """Train `initial_model` (a copy of the selection run's model taken before it trained) on `rows` (tokenized
    training + held-out rows) with `trainer`'s arguments: for the whole budget (`refit_epochs="all"`), or up to
    the epoch `trainer` selected (`"selected"`). Returns the new trainer, the selected epoch and the epochs trained.
    `trainer_kwargs` go to the Trainer (collator, processing class)."""
    from .trainer import FocalContrastiveTrainer

    selected = selected_epoch(trainer.state, trainer.args.load_best_model_at_end)
    up_to_selected = getattr(trainer.args, "refit_epochs", "all") == "selected"
    budget = float(trainer.state.num_train_epochs or trainer.args.num_train_epochs)
    epochs = selected if up_to_selected else budget
    logger.warning(
        "Refit after selection: epoch %g of %g was the best on the %d held-out rows (the validation numbers reported "
        "are that model's); training again from the same initial weights on all %d rows (training + held-out) for "
        "%g epochs, and saving that model. Pass --refit_after_selection false to keep the selected model instead.",
        selected, budget, len(trainer.eval_dataset), len(rows), epochs,
    )  # fmt: skip
    callbacks = [StopAtEpochCallback(selected)] if up_to_selected else []
    second = FocalContrastiveTrainer(
        model=initial_model, args=refit_arguments(trainer.args), train_dataset=rows, callbacks=callbacks,
        **trainer_kwargs,
    )  # fmt: skip
    second.train()
    return second, selected, float(second.state.epoch or 0.0)


#: `--refit_epochs` values: the selection run's whole budget, or up to the epoch it selected.
REFIT_EPOCHS = ("all", "selected")


def check_refit_epochs(value: str) -> None:
    """Refuse a `--refit_epochs` other than `all` or `selected`.

    Raises:
        AbsaInputError: naming the value and what is allowed.
    """
    if value not in REFIT_EPOCHS:
        raise AbsaInputError(
            f"`--refit_epochs` got {value!r}; allowed: all (default: the whole budget) or selected (up to the epoch "
            "picked on the hold-out), e.g. --refit_epochs all."
        )


__all__ = [
    "REFIT_EPOCHS",
    "StopAtEpochCallback",
    "check_refit_epochs",
    "check_refit_possible",
    "refit",
    "refit_applies",
    "refit_arguments",
    "selected_epoch",
]
