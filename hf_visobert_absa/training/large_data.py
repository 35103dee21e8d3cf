"""Large training sets: a longer schedule when the recipe's epochs would stop while validation still improves.

Measured on validation (docs/RESULTS.md, "Large training sets: 15 epochs"), seeds 0 and 1: on the whole
phone_reviews training split (11,930 reviews) 15 epochs beat the recipe's 10 by 1.0 joint µF1 and on UIT-ViSFD's
(7,786) by 0.6, in every seed and well beyond the seed spread, the 10-epoch runs still improving at their last
epochs; on SemEval-2014 restaurants (about 2,700 training sentences) 15 epochs gave nothing over 10 (the third
round's `aq_e15_lr5e-5`, best epochs 9, 13 and 6). The rule:
a run on at least `large_data_rows` training rows (5,000 by default, between the two sizes) that keeps the recipe's
own number of epochs trains for `large_data_epochs` (15) instead; the linear schedule stretches with it, and the best
epoch is still the one kept. A run given an epoch count other than the recipe's 10, or `--max_steps`, is left as
given; `--large_data_rows 0` turns the rule off.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from .recipe import TRAINING_RECIPE

logger = logging.getLogger(__name__)


def large_data_epochs(rows: int, args: Any) -> float:
    """The number of epochs the rule picks for `rows` training rows under `args` (their own when nothing changes)."""
    epochs = args.num_train_epochs
    threshold = getattr(args, "large_data_rows", 0) or 0
    longer = getattr(args, "large_data_epochs", epochs) or epochs
    if threshold <= 0 or rows < threshold or args.max_steps > 0:
        return epochs
    if epochs != TRAINING_RECIPE["num_train_epochs"] or longer <= epochs:  # the user chose the budget
        return epochs
    return longer


def apply_large_data_rule(args: Any, rows: int) -> Any:
    """`args` with the rule's epochs for `rows` training rows (the same object when nothing changes), logged."""
    epochs = large_data_epochs(rows, args)
    if epochs == args.num_train_epochs:
        return args
    kept = ", the best epoch on validation kept" if args.load_best_model_at_end else ""
    logger.warning(
        "Large training set: %d rows (at least --large_data_rows %d); training for %g epochs instead of %g%s. Pass "
        "--num_train_epochs to choose the budget, or --large_data_rows 0 to keep %g.",
        rows, args.large_data_rows, epochs, args.num_train_epochs, kept, args.num_train_epochs,
    )  # fmt: skip
    return dataclasses.replace(args, num_train_epochs=epochs)


__all__ = ["apply_large_data_rule", "large_data_epochs"]
