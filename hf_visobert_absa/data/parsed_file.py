"""What every file reader of `load_absa_dataset` produces and shares: the [`ParsedFile`] (texts, per-row aspect
mentions as canonical codes, provenance), the canonical codes of a sentiment set, user label aliases, and the
[`LabelReader`] that maps raw label cells to codes and refuses unknown ones with a ready-to-paste fix.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import SENTIMENTS
from .csv_table import where

#: Canonical codes of the DEFAULT sentiments; see [`canonical_codes`] for any set.
CANONICAL_CODES: dict[str, int] = {"none": 0, "positive": 1, "negative": 2, "neutral": 3}


def canonical_codes(sentiments: Sequence[str] | None = None) -> dict[str, int]:
    """Lower-cased name -> canonical code: `none` 0, then the sentiments 1..K (default positive, negative,
    neutral)."""
    names = SENTIMENTS if sentiments is None else sentiments
    return {"none": 0, **{name.lower(): k for k, name in enumerate(names, start=1)}}


def sentiments_text(sentiments: Sequence[str] | None = None) -> str:
    """`'positive', 'negative', 'neutral'` for messages."""
    return ", ".join(repr(s) for s in (SENTIMENTS if sentiments is None else sentiments))


#: Spellings of a missing value: never suggested as a new sentiment.
_MISSING_MARKERS = frozenset({"nan", "null", "none", "na", "n/a", "nil", "missing", "undefined"})


@dataclass
class ParsedFile:
    """One file read into texts and per-row aspect mentions (canonical codes 1..K; absent = not mentioned), and,
    for SemEval XML, per-row `targets` (see `hf_visobert_absa.data.semeval_xml`)."""

    path: Path
    format: str
    texts: list[str]
    mentions: list[dict[str, int]]
    rows: list[int]
    lines: list[int]
    declared_aspects: list[str] | None = None
    first_seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    aliases_applied: Counter = field(default_factory=Counter)
    others_tags: int = 0
    blank_lines: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    #: Per row, the annotated aspect terms / opinion targets (SemEval XML only; None for formats without them).
    targets: list[list[dict[str, Any]]] | None = None


def normalize_aliases(label_aliases: dict[str, Any] | None, sentiments: Sequence[str] | None = None) -> dict[str, int]:
    r"""Check `label_aliases` and key it the way cells are matched.

    Args:
        label_aliases (`dict[str, str | int]` or `None`): raw label -> meaning (a sentiment of `sentiments`,
            `"none"`, any case, or the codes 0-K as int or digit string).
        sentiments (`Sequence[str]`, *optional*): the configured sentiments (default positive, negative, neutral).

    Returns:
        `dict[str, int]`: stripped, lower-cased raw label -> canonical code.

    Raises:
        `AbsaInputError`: a target that is none of the above.
    """
    result: dict[str, int] = {}
    codes = canonical_codes(sentiments)
    top = len(codes) - 1
    for raw, target in (label_aliases or {}).items():
        code = None
        if isinstance(target, str):
            key = target.strip().lower()
            code = int(key) if key.isdigit() and int(key) <= top else codes.get(key)
        elif isinstance(target, int) and not isinstance(target, bool) and 0 <= target <= top:
            code = target
        if code is None:
            raise AbsaInputError(
                f"`label_aliases` maps {raw!r} to {target!r}; allowed targets: {sentiments_text(sentiments)}, "
                f"'none' (not mentioned) or the codes 0-{top}. Example: label_aliases={{{raw!r}: 'positive'}}."
            )
        result[str(raw).strip().lower()] = code
    return result


class LabelReader:
    """Maps raw label values to canonical codes; collects unknown values with where they occur."""

    def __init__(
        self,
        allowed: dict[str, int],
        allowed_text: str,
        aliases: dict[str, int],
        sentiments: Sequence[str] | None = None,
    ) -> None:
        self.allowed, self.allowed_text, self.aliases = allowed, allowed_text, aliases
        self.sentiments = list(SENTIMENTS if sentiments is None else sentiments)
        self.unknown: dict[str, list[tuple[int, int, str]]] = {}
        self.aliases_applied: Counter = Counter()

    def read(self, value: str, row: int, line: int, column: str) -> int | None:
        key = value.strip().lower()
        if key in self.aliases:
            self.aliases_applied[value] += 1
            return self.aliases[key]
        code = self.allowed.get(key)
        if code is None:
            self.unknown.setdefault(value, []).append((row, line, column))
        return code

    def raise_unknown(self, path: Path, what: str = "label") -> None:
        if not self.unknown:
            return
        names = [name for name in self.allowed if name]
        parts, fix = [], {}
        for value, places in self.unknown.items():
            row, line, column = places[0]
            parts.append(f"{value!r} in {len(places)} cell(s), first at row {row} (line {line}), column {column!r}")
            guess = difflib.get_close_matches(value.strip().lower(), names, n=1, cutoff=0.6)
            if not value.strip():
                fix[value] = "none"
            else:
                fix[value] = guess[0] if guess else "<" + "|".join(self.sentiments + ["none"]) + ">"
        aliases = json.dumps(fix, ensure_ascii=False)  # valid Python and JSON, ready to paste
        value, places = next(iter(self.unknown.items()))
        row, line, column = places[0]
        others = ""
        if len(self.unknown) > 1 or len(places) > 1:
            others = f" All unknown values in this file: {'; '.join(parts)}."
        raise AbsaInputError(
            f"Unknown {what} {value!r} in {where(path, row, line)}, column {column!r}. Allowed: {self.allowed_text}."
            f"{others} Labels are never mapped or dropped silently: if "
            f"{'they mean allowed labels' if len(fix) > 1 else 'it means an allowed label'}, pass "
            f"label_aliases={aliases} (command line: --label_aliases '{aliases}')"
            f"{self._sentiment_hint(value)}."
        )

    def _sentiment_hint(self, value: str) -> str:
        """For a word close to no allowed label (e.g. `conflict`), how to add it as a sentiment of its own."""
        word = value.strip()
        names = [name for name in self.allowed if name and not name.isdigit()]
        if (
            not word.isalpha()
            or word.lower() in _MISSING_MARKERS
            or difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.6)
        ):
            return ""
        extended = self.sentiments + [word.lower()]
        return (
            f"; if {word!r} is a sentiment of its own, add it to the sentiment set: sentiments={extended} "
            f"(command line: --sentiments {','.join(extended)})"
        )


__all__ = ["CANONICAL_CODES", "LabelReader", "ParsedFile", "canonical_codes", "normalize_aliases", "sentiments_text"]
