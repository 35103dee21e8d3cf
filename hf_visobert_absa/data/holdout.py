"""A validation split held out of the training file, for data that ships without one (SemEval-2014).

The flag follows the Hugging Face example scripts' `validation_split_percentage`; unlike their slice of the first
rows, the held-out rows are a seeded random sample (a fixed seed separate from the training seed, so runs with
different training seeds share one validation set). Rows keep their row numbers in the training file.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import AbsaInputError
from .parsed_file import ParsedFile

DEFAULT_SEED = 42


class TooFewRowsToHoldOut(AbsaInputError):
    """The training file is too small for the requested hold-out (nothing would be left to train on)."""


def _subset(parsed: ParsedFile, index: np.ndarray) -> ParsedFile:
    part = replace(
        parsed,
        texts=[parsed.texts[i] for i in index],
        mentions=[parsed.mentions[i] for i in index],
        rows=[parsed.rows[i] for i in index],
        lines=[parsed.lines[i] for i in index],
        targets=None if parsed.targets is None else [parsed.targets[i] for i in index],
        first_seen={},
    )
    for mention, row, line in zip(part.mentions, part.rows, part.lines, strict=True):
        for aspect in mention:
            part.first_seen.setdefault(aspect, (row, line))
    return part


def hold_out_validation(
    parsed: dict[str, ParsedFile], percentage: float, seed: int = DEFAULT_SEED
) -> tuple[dict[str, ParsedFile], dict[str, Any]]:
    r"""Move `percentage` % of the training rows (seeded random sample) into a new `validation` split.

    Args:
        parsed (`dict[str, ParsedFile]`): the files read, by split; needs `train` and no `validation`.
        percentage (`float`): share of the training rows to hold out, in (0, 100); rounded to whole rows, at
            least one.
        seed (`int`, defaults to 42): the seed of the sample.

    Returns:
        `(parsed, record)`: the splits in the order train, validation, others; and what was done
        (`from`, `file`, `percentage`, `seed`, `rows`, `train_rows_left`), for the dataset report.

    Raises:
        `AbsaInputError`: a percentage outside (0, 100), no training split, a validation split already given, or
        too few training rows to keep one on each side.
    """
    if isinstance(percentage, bool) or not isinstance(percentage, (int, float)) or not 0 < percentage < 100:
        raise AbsaInputError(
            f"`validation_split_percentage` got {percentage!r}; allowed: a number in (0, 100), e.g. 10 "
            "(command line: --validation_split_percentage 10)."
        )
    if "train" not in parsed:
        raise AbsaInputError("`validation_split_percentage` holds out part of the training split, but none was given.")
    if "validation" in parsed:
        raise AbsaInputError(
            f"`validation_split_percentage` got {percentage!r}, but a validation file is given too "
            f"({parsed['validation'].path}). Use one: drop the flag, or the validation file."
        )
    train = parsed["train"]
    total = len(train.texts)
    size = max(1, math.floor(total * percentage / 100 + 0.5))
    if size >= total:
        raise TooFewRowsToHoldOut(
            f"`validation_split_percentage` {percentage} of {total} training row(s) of {train.path} leaves none to "
            "train on; give more data or a smaller percentage."
        )
    order = np.random.default_rng(seed).permutation(total)
    held, kept = np.sort(order[:size]), np.sort(order[size:])
    out = {"train": _subset(train, kept), "validation": _subset(train, held)}
    out["validation"].notes, out["validation"].blank_lines = {}, 0
    out.update({split: p for split, p in parsed.items() if split != "train"})
    record = {
        "from": "train",
        "file": str(train.path),
        "percentage": float(percentage),
        "seed": int(seed),
        "rows": int(size),
        "train_rows_left": int(total - size),
    }
    return out, record


__all__ = ["DEFAULT_SEED", "TooFewRowsToHoldOut", "hold_out_validation"]
