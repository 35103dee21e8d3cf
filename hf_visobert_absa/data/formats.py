"""Readers for the review-file layouts that `load_absa_dataset` understands.

Each reader turns one file into a [`ParsedFile`]: the texts, the aspects each row mentions with their canonical
sentiment (k = the k-th of the configured sentiments, by default 1 = positive, 2 = negative, 3 = neutral; see
`label_schemes`), and where every row came from. Sentiment words are matched case-insensitively against the
configured set (e.g. `conflict` once `sentiments` has it); anything else stops loading. The layouts:

- `wide_words`: a CSV with a text column and one column per aspect holding `Positive`/`Negative`/`Neutral`
  (any case) or an empty cell for "not mentioned" (the phone_reviews layout).
- `wide_int`: the same shape, cells coded 0 = not mentioned, k = the k-th sentiment (1..K).
- `uit_visfd`: a `label` column of `{ASPECT#Polarity};` items and the text in `comment` (UIT-ViSFD, Phan et al.,
  "SA2SL: From Aspect-Based Sentiment Analysis to Social Listening System for Business Intelligence", KSEM 2021).
- `jsonl`: one JSON object a line, `{"text": "...", "aspects": {"Battery": "positive", ...}}`.
- `semeval_xml`: SemEval-2014/2015/2016 ABSA XML (see `semeval_xml`).

Rows are numbered as in `data_csv`: the 1-based DATA row (header not counted), plus the line where it starts.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AbsaInputError
from ..hub.configuration_visobert_absa import SENTIMENTS
from .csv_table import CsvTable, decode_utf8, read_csv_table, where

FORMATS: tuple[str, ...] = ("auto", "wide_words", "wide_int", "uit_visfd", "jsonl", "semeval_xml")
OTHERS_POLICIES: tuple[str, ...] = ("neutral", "drop", "error")
#: UIT-ViSFD's aspects in the order of its documentation; `OTHERS` carries no polarity in the data.
UIT_VISFD_ASPECTS: tuple[str, ...] = (
    "SCREEN", "CAMERA", "FEATURES", "BATTERY", "PERFORMANCE", "STORAGE", "DESIGN", "PRICE", "GENERAL", "SER&ACC",
    "OTHERS",
)  # fmt: skip
UIT_OTHERS = "OTHERS"
#: Column names tried, case-insensitively and in this order, when `text_column` is not given.
TEXT_COLUMN_CANDIDATES: tuple[str, ...] = ("text", "data", "comment", "review", "sentence", "content")
#: Canonical codes of the DEFAULT sentiments; see [`canonical_codes`] for any set.
CANONICAL_CODES: dict[str, int] = {"none": 0, "positive": 1, "negative": 2, "neutral": 3}
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
XML_SUFFIXES = (".xml",)


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
_UIT_TAG = re.compile(r"\{([^{}]*)\}")
_UIT_LABEL = re.compile(r"^\s*(\{[^{}]*\}\s*;?\s*)+$")


@dataclass
class ParsedFile:
    """One file read into texts and per-row aspect mentions (canonical codes 1..K; absent = not mentioned)."""

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


def normalize_aliases(
    label_aliases: dict[str, Any] | None, sentiments: Sequence[str] | None = None
) -> dict[str, int]:
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


class _LabelReader:
    """Maps raw label values to canonical codes; collects unknown values with where they occur."""

    def __init__(
        self, allowed: dict[str, int], allowed_text: str, aliases: dict[str, int], sentiments: Sequence[str] | None = None
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


def find_text_column(path: Path, columns: list[str], text_column: str | None) -> str:
    r"""The ONE text-column rule of `train`, `evaluate` and `predict`.

    `text_column` when given (exact name, surrounding spaces ignored); otherwise the first name of
    `TEXT_COLUMN_CANDIDATES` (in that priority order, not the file's column order) that is a column, ignoring
    case. A file with columns `comment,text` is read from `text` by every command.

    Args:
        path (`Path`): the file, named in messages.
        columns (`list[str]`): its header, as read.
        text_column (`str` or `None`): the user's choice.

    Returns:
        `str`: the column name exactly as it appears in `columns`.

    Raises:
        `AbsaInputError`: no such column, with a hint when only the case differs.
    """
    stripped = {name.strip(): name for name in columns}
    if text_column is not None:
        if text_column.strip() in stripped:
            return stripped[text_column.strip()]
        hint = [name for name in columns if name.strip().lower() == text_column.strip().lower()]
        raise AbsaInputError(
            f"{path} has no text column {text_column!r}; its columns are {columns}."
            + (f" Did you mean text_column={hint[0]!r}?" if hint else " Pass text_column=<one of them>.")
        )
    lowered = {name.strip().lower(): name for name in reversed(columns)}
    for candidate in TEXT_COLUMN_CANDIDATES:
        if candidate in lowered:
            return lowered[candidate]
    raise AbsaInputError(
        f"{path} has no text column: none of {list(TEXT_COLUMN_CANDIDATES)} among its columns {columns}. "
        "Pass text_column=<the column holding the review text>."
    )


def jsonl_text_key(text_column: str | None) -> str:
    """The JSON key holding the review text in a JSONL file: `text_column`, else `"text"` (train and predict)."""
    return text_column or "text"


def detect_csv_format(table: CsvTable, text_column: str) -> str:
    """`uit_visfd` when a `label` column holds `{ASPECT#Polarity};` strings (any of its first 50 values has a
    tag or a '#'); else `wide_int` when most non-empty aspect cells are integers, else `wide_words`."""
    label = next((name for name in table.columns if name.lower() == "label"), None)
    if label is not None:
        j = table.columns.index(label)
        sample = [row[j] for row in table.rows if row[j].strip()][:50]
        if any(_UIT_LABEL.match(value) or "#" in value for value in sample):
            return "uit_visfd"
    indices = [j for j, name in enumerate(table.columns) if name != text_column]
    digits = other = 0
    for row in table.rows:
        for j in indices:
            value = row[j].strip()
            if value:
                if value.isdigit():
                    digits += 1
                else:
                    other += 1
    return "wide_int" if digits > other else "wide_words"


def parse_wide(
    table: CsvTable, text_column: str, fmt: str, aliases: dict[str, int], sentiments: Sequence[str] | None = None
) -> ParsedFile:
    """Wide CSV: every column except the text column is an aspect."""
    codes = canonical_codes(sentiments)
    if fmt == "wide_int":
        allowed = {str(code): code for code in codes.values()}
        allowed_text = "0 (not mentioned), " + ", ".join(f"{c} ({n})" for n, c in codes.items() if c)
    else:
        allowed = dict(codes, **{"": 0})
        allowed_text = f"{sentiments_text(sentiments)} (any case), or an empty cell / 'none' for not mentioned"
    reader = _LabelReader(allowed, allowed_text, aliases, sentiments)
    t = table.columns.index(text_column)
    aspect_idx = [(j, name) for j, name in enumerate(table.columns) if j != t]
    if not aspect_idx:
        raise AbsaInputError(f"{table.path} has a text column {text_column!r} but no aspect columns.")
    parsed = ParsedFile(table.path, fmt, [], [], [], [], declared_aspects=[name for _, name in aspect_idx])
    for i, (record, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        mention: dict[str, int] = {}
        for j, name in aspect_idx:
            code = reader.read(record[j], i + 1, line, name)
            if code:
                mention[name] = code
        parsed.texts.append(record[t])
        parsed.mentions.append(mention)
        parsed.rows.append(i + 1)
        parsed.lines.append(line)
    reader.raise_unknown(table.path, "label")
    parsed.aliases_applied = reader.aliases_applied
    parsed.blank_lines = table.blank_lines
    return parsed


def parse_uit(
    table: CsvTable, text_column: str, aliases: dict[str, int], others_policy: str, sentiments: Sequence[str] | None = None
) -> ParsedFile:
    """UIT-ViSFD: `{ASPECT#Polarity};...` in the `label` column; `{OTHERS}` is handled by `others_policy`."""
    label = next((name for name in table.columns if name.lower() == "label"), None)
    if label is None:
        raise AbsaInputError(f"{table.path} has no `label` column (UIT-ViSFD layout); its columns are {table.columns}.")
    codes = canonical_codes(sentiments)
    allowed = {k: v for k, v in codes.items() if v}
    capitalised = ", ".join(repr(name.capitalize()) for name in (SENTIMENTS if sentiments is None else sentiments))
    reader = _LabelReader(allowed, f"{capitalised} (any case) after '#'", aliases, sentiments)
    t, j = table.columns.index(text_column), table.columns.index(label)
    parsed = ParsedFile(table.path, "uit_visfd", [], [], [], [])
    parsed.ignored_columns = [name for name in table.columns if name not in (text_column, label)]
    for i, (record, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        value, row = record[j], i + 1
        if value.strip() and not _UIT_LABEL.match(value):
            raise AbsaInputError(
                f"Malformed label {value!r} in {where(table.path, row, line)}, column {label!r}. Allowed: items "
                "like {BATTERY#Positive} separated by ';' (polarity Positive/Negative/Neutral; {OTHERS} alone)."
            )
        mention: dict[str, int] = {}
        for tag in _UIT_TAG.findall(value):
            # the polarity follows the LAST '#': `{FOOD#QUALITY#Positive}` is aspect FOOD#QUALITY
            name, sep, polarity = tag.rpartition("#") if "#" in tag else (tag, "", "")
            aspect = name.strip().upper()
            if aspect == UIT_OTHERS and others_policy == "drop":
                parsed.others_tags += 1
                continue
            if not sep:
                if aspect != UIT_OTHERS:
                    raise AbsaInputError(
                        f"Tag {{{tag}}} in {where(table.path, row, line)}, column {label!r} has no polarity. Allowed: "
                        "{ASPECT#Positive|Negative|Neutral}; only {OTHERS} may stand alone."
                    )
                if others_policy == "error":
                    raise AbsaInputError(
                        f"Tag {{OTHERS}} without polarity in {where(table.path, row, line)}, column {label!r}, and "
                        "others_policy='error'. Pass others_policy='neutral' (OTHERS counts as mentioned, neutral) "
                        "or others_policy='drop' (OTHERS is not an aspect)."
                    )
                if "neutral" not in codes:
                    raise AbsaInputError(
                        f"Tag {{OTHERS}} in {where(table.path, row, line)}, column {label!r}: others_policy='neutral' "
                        f"labels it neutral, but the sentiments ({sentiments_text(sentiments)}) have no 'neutral'. "
                        "Pass others_policy='drop', or add 'neutral' to the sentiments."
                    )
                parsed.others_tags += 1
                code = codes["neutral"]
            else:
                code = reader.read(polarity, row, line, label)
                if code is None:
                    continue
            if aspect in mention and mention[aspect] != code:
                raise AbsaInputError(
                    f"Aspect {aspect} gets two different polarities in {where(table.path, row, line)}, column "
                    f"{label!r}: {value!r}. Keep one tag per aspect."
                )
            mention[aspect] = code
            parsed.first_seen.setdefault(aspect, (row, line))
        parsed.texts.append(record[t])
        parsed.mentions.append(mention)
        parsed.rows.append(row)
        parsed.lines.append(line)
    reader.raise_unknown(table.path, "polarity")
    parsed.aliases_applied = reader.aliases_applied
    parsed.blank_lines = table.blank_lines
    return parsed


def parse_jsonl(
    path: Path, text_column: str | None, aliases: dict[str, int], sentiments: Sequence[str] | None = None
) -> ParsedFile:
    """JSON lines `{"text": ..., "aspects": {aspect: sentiment}}`; values are sentiment words, 0-K or null."""
    text_key = jsonl_text_key(text_column)
    codes = canonical_codes(sentiments)
    top = len(codes) - 1
    allowed = dict(codes, **{"": 0})
    reader = _LabelReader(
        allowed, f"{sentiments_text(sentiments)}, 'none' (any case), 0-{top} or null", aliases, sentiments
    )
    parsed = ParsedFile(path, "jsonl", [], [], [], [])
    text_seen = False
    pieces = decode_utf8(path).split("\n")  # not splitlines(): JSON strings may hold U+2028 and friends
    if pieces and not pieces[-1].strip():
        pieces.pop()  # the newline that ends the last line
    for number, raw in enumerate(pieces, start=1):
        if not raw.strip():
            parsed.blank_lines += 1
            continue
        row = len(parsed.rows) + 1
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise AbsaInputError(
                f"{where(path, row, number)} is not valid JSON ({exc.msg} at column {exc.colno})."
            ) from None
        if not isinstance(record, dict) or not isinstance(record.get("aspects", {}), dict | type(None)):
            raise AbsaInputError(
                f"{where(path, row, number)} must be an object like "
                '{"text": "...", "aspects": {"Battery": "positive"}}; got ' + raw.strip()[:80]
            )
        if "aspects" not in record:
            raise AbsaInputError(f"{where(path, row, number)} has no \"aspects\" object; keys: {sorted(record)}.")
        text = record.get(text_key)
        text_seen |= text_key in record
        if text is not None and not isinstance(text, str):
            raise AbsaInputError(f"{where(path, row, number)}: {text_key!r} must be a string, got {text!r}.")
        mention: dict[str, int] = {}
        for aspect, value in (record["aspects"] or {}).items():
            if value is None:
                code = 0
            elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= top:
                code = value
            else:
                code = reader.read(value if isinstance(value, str) else json.dumps(value), row, number, aspect)
            if code:
                mention[aspect] = code
            parsed.first_seen.setdefault(aspect, (row, number))
        parsed.texts.append(text or "")
        parsed.mentions.append(mention)
        parsed.rows.append(row)
        parsed.lines.append(number)
    if not parsed.rows:
        raise AbsaInputError(f"{path} is empty: no JSON lines.")
    if not text_seen:
        raise AbsaInputError(
            f"{path}: no row has a {text_key!r} key. Pass text_column=<the key holding the review text>."
        )
    reader.raise_unknown(path, "sentiment")
    parsed.aliases_applied = reader.aliases_applied
    return parsed


def read_file(
    path: Path,
    fmt: str,
    text_column: str | None,
    aliases: dict[str, int],
    others_policy: str,
    sentiments: Sequence[str] | None = None,
) -> ParsedFile:
    r"""Read one file in the named layout, or detect the layout (`fmt="auto"`).

    Args:
        path (`Path`): the CSV, TSV, JSONL or SemEval XML file.
        fmt (`str`): one of `FORMATS`.
        text_column (`str` or `None`): the text column / JSON key; `None` tries `TEXT_COLUMN_CANDIDATES`.
        aliases (`dict[str, int]`): the output of [`normalize_aliases`].
        others_policy (`str`): one of `OTHERS_POLICIES` (UIT-ViSFD only).
        sentiments (`Sequence[str]`, *optional*): the sentiment set (default positive, negative, neutral).

    Returns:
        [`ParsedFile`]: texts, per-row mentions and provenance; aspects are not yet put in an order.

    Raises:
        `AbsaInputError`: for every kind of bad input, naming the file, row, line, column and value.
    """
    if fmt == "jsonl" or (fmt == "auto" and path.suffix.lower() in JSONL_SUFFIXES):
        return parse_jsonl(path, text_column, aliases, sentiments)
    if fmt == "semeval_xml" or (fmt == "auto" and path.suffix.lower() in XML_SUFFIXES):
        from .semeval_xml import parse_semeval_xml

        return parse_semeval_xml(path, aliases, sentiments)
    table = read_csv_table(path)
    text = find_text_column(path, table.columns, text_column)
    if fmt == "auto":
        fmt = detect_csv_format(table, text)
    if fmt == "uit_visfd":
        return parse_uit(table, text, aliases, others_policy, sentiments)
    return parse_wide(table, text, fmt, aliases, sentiments)


__all__ = [
    "CANONICAL_CODES",
    "FORMATS",
    "XML_SUFFIXES",
    "canonical_codes",
    "sentiments_text",
    "OTHERS_POLICIES",
    "TEXT_COLUMN_CANDIDATES",
    "find_text_column",
    "jsonl_text_key",
    "UIT_VISFD_ASPECTS",
    "ParsedFile",
    "normalize_aliases",
    "read_file",
]
