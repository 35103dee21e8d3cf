"""Argument checks shared by the CLI commands: each raises `AbsaInputError` (exit 2) with the flag, the value,
what is allowed and how to fix it, before any model or data is loaded."""

from __future__ import annotations

import math
from typing import Any

from .errors import AbsaInputError


def check_threshold(value: Any, flag: str = "--threshold") -> float:
    """A probability threshold: a finite number in [0, 1] (NaN would silently mark no aspect ever)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise AbsaInputError(
            f"`{flag}` got {value!r}; allowed: a number from 0 to 1 (an aspect is mentioned when P(none) < "
            "threshold; 0.5 is the default)."
        )
    return float(value)


def check_positive(value: Any, flag: str) -> int:
    """A count such as a batch size: an integer of at least 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise AbsaInputError(f"`{flag}` got {value!r}; allowed: an integer of at least 1.")
    return value


def check_number(
    value: Any, flag: str, allowed: str, *, low: float, high: float = math.inf, low_open: bool = False
) -> float:
    """A finite number in `[low, high]` (`(low, high]` with `low_open`); `allowed` says it in words."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or value > high or value < low or (low_open and value == low):
        raise AbsaInputError(f"`{flag}` got {value!r}; allowed: {allowed}.")
    return float(value)


__all__ = ["check_number", "check_positive", "check_threshold"]
