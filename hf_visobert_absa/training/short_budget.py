"""Short budgets: smaller batches when a run would make too few optimisation steps.

Adam(W) moves each weight by about one learning rate per step whatever the batch size (Kingma & Ba, ICLR 2015,
Section 2.1), so a run of a few dozen steps leaves the freshly initialised heads (and the encoder) far from where
they need to be. Measured on validation (docs/RESULTS.md, "Short budgets: batch size"): batch 16 instead of 32
raised joint µF1 by about 5 points on 1,500 training rows for 2 epochs (94 steps at 32) on phone_reviews and
UIT-ViSFD, and by 1.4 on SemEval-2014 at 3 epochs (258 steps); it was level at 5 epochs (430 steps) and lower at the
full 10 (860 steps). The rule: while the run would make fewer than `min_train_steps` (300 by default) steps, the
batch size is halved, down to `SMALLEST_BATCH_SIZE` (the smallest size measured). `--min_train_steps 0` turns it
off.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

logger = logging.getLogger(__name__)

#: The rule never halves below this batch size (the smallest one measured).
SMALLEST_BATCH_SIZE = 16


def optimizer_steps(rows: int, batch_size: int, epochs: float, accumulation: int = 1, processes: int = 1) -> int:
    """The number of optimisation steps `Trainer` makes for `rows` training rows (its own arithmetic: whole
    batches per process, one step per `accumulation` batches, at least one step per epoch)."""
    batches = math.ceil(rows / (batch_size * processes))
    return math.ceil(max(batches // accumulation, 1) * epochs)


def short_budget_batch_size(rows: int, args: Any) -> int:
    """The batch size the rule picks for `rows` training rows under `args` (its own when nothing changes)."""
    size = args.per_device_train_batch_size
    minimum = getattr(args, "min_train_steps", 0) or 0
    if args.max_steps > 0:  # the budget is given in steps: a smaller batch would not add any
        return size
    while size // 2 >= SMALLEST_BATCH_SIZE and _steps(rows, args, size) < minimum:
        size //= 2
    return size


def _steps(rows: int, args: Any, batch_size: int) -> int:
    return optimizer_steps(rows, batch_size, args.num_train_epochs, args.gradient_accumulation_steps, args.world_size)


def apply_short_budget_rule(args: Any, rows: int) -> Any:
    """`args` with the rule's batch size for `rows` training rows (the same object when nothing changes), logged."""
    size = short_budget_batch_size(rows, args)
    if size == args.per_device_train_batch_size:
        return args
    logger.warning(
        "Short budget: batch size %d gives only %d optimisation steps (fewer than --min_train_steps %d); training "
        "with batch size %d instead (%d steps). Pass --min_train_steps 0 to keep %d.",
        args.per_device_train_batch_size, _steps(rows, args, args.per_device_train_batch_size), args.min_train_steps,
        size, _steps(rows, args, size), args.per_device_train_batch_size,
    )  # fmt: skip
    return dataclasses.replace(args, per_device_train_batch_size=size)


__all__ = ["SMALLEST_BATCH_SIZE", "apply_short_budget_rule", "optimizer_steps", "short_budget_batch_size"]
