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

This module detects the layout, reads the wide CSVs and dispatches the others to their modules (`uit_visfd`,
`jsonl_file`, `semeval_xml`); what every reader shares is in `parsed_file`. Rows are numbered as in `data_csv`: the 1-based DATA row (header not counted), plus the line where it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import AbsaInputError
from .csv_table import CsvTable, read_csv_table
from .jsonl_file import parse_jsonl
from .parsed_file import (
    LabelReader,
    ParsedFile,
    canonical_codes,
    sentiments_text,
)
from .semeval_xml import parse_semeval_xml
from .uit_visfd import UIT_LABEL, parse_uit

FORMATS: tuple[str, ...] = ("auto", "wide_words", "wide_int", "uit_visfd", "jsonl", "semeval_xml")
OTHERS_POLICIES: tuple[str, ...] = ("neutral", "drop", "error")
#: Column names tried, case-insensitively and in this order, when `text_column` is not given.
TEXT_COLUMN_CANDIDATES: tuple[str, ...] = ("text", "data", "comment", "review", "sentence", "content")
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
XML_SUFFIXES = (".xml",)


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


def detect_csv_format(table: CsvTable, text_column: str) -> str:
    """`uit_visfd` when a `label` column holds `{ASPECT#Polarity};` strings (any of its first 50 values has a
    tag or a '#'); else `wide_int` when most non-empty aspect cells are integers, else `wide_words`."""
    label = next((name for name in table.columns if name.lower() == "label"), None)
    if label is not None:
        j = table.columns.index(label)
        sample = [row[j] for row in table.rows if row[j].strip()][:50]
        if any(UIT_LABEL.match(value) or "#" in value for value in sample):
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
    reader = LabelReader(allowed, allowed_text, aliases, sentiments)
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
        return parse_semeval_xml(path, aliases, sentiments)
    table = read_csv_table(path)
    text = find_text_column(path, table.columns, text_column)
    if fmt == "auto":
        fmt = detect_csv_format(table, text)
    if fmt == "uit_visfd":
        return parse_uit(table, text, aliases, others_policy, sentiments)
    return parse_wide(table, text, fmt, aliases, sentiments)


__all__ = [
    "FORMATS",
    "XML_SUFFIXES",
    "OTHERS_POLICIES",
    "TEXT_COLUMN_CANDIDATES",
    "find_text_column",
    "read_file",
]
