"""Exceptions with messages meant for users: what was wrong, where, what is allowed and how to fix it."""

from __future__ import annotations


class AbsaInputError(ValueError):
    """Bad input from the user (a file, a row, an argument). The CLI turns it into exit code 2.

    The message names the file, the 1-based row, the column and the value where they apply, what is allowed,
    and how to fix it.
    """


__all__ = ["AbsaInputError"]
