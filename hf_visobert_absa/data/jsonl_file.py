"""The JSON-lines layout: one object a line, `{"text": "...", "aspects": {"Battery": "positive", ...}}`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import AbsaInputError
from .csv_table import decode_utf8, where
from .parsed_file import LabelReader, ParsedFile, canonical_codes, sentiments_text


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"the key {repeated[0]!r} is given twice in one object; keep one")
    return dict(pairs)


def _lone_surrogate(value: Any) -> str | None:
    """The first lone UTF-16 surrogate (`"\\ud800"` escapes decode to one; no UTF-8 file can hold it) in `value`."""
    if isinstance(value, str):
        return next((c for c in value if "\ud800" <= c <= "\udfff"), None)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        return next((found for item in value if (found := _lone_surrogate(item))), None)
    return None


def read_json_line(raw: str, place: str) -> Any:
    """One JSON value of a JSONL line, or `AbsaInputError` naming `place`: invalid JSON, a key repeated in one object,
    nesting too deep to read, or a lone surrogate escape (text no UTF-8 output can hold)."""
    try:
        value = json.loads(raw, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise AbsaInputError(f"{place} is not valid JSON ({exc.msg} at column {exc.colno}).") from None
    except ValueError as exc:
        raise AbsaInputError(f"{place}: {exc}.") from None
    except RecursionError:
        raise AbsaInputError(f"{place}: the JSON is nested too deeply to read; flatten it.") from None
    surrogate = _lone_surrogate(value)
    if surrogate is not None:
        raise AbsaInputError(
            f"{place} holds the escape \\u{ord(surrogate):04x}, half of a surrogate pair (not a character); write the "
            "character itself, or its full pair of escapes."
        )
    return value


def jsonl_text_key(text_column: str | None) -> str:
    """The JSON key holding the review text in a JSONL file: `text_column`, else `"text"` (train and predict)."""
    return text_column or "text"


def parse_jsonl(
    path: Path, text_column: str | None, aliases: dict[str, int], sentiments: Sequence[str] | None = None
) -> ParsedFile:
    """JSON lines `{"text": ..., "aspects": {aspect: sentiment}}`; values are sentiment words, 0-K or null."""
    text_key = jsonl_text_key(text_column)
    codes = canonical_codes(sentiments)
    top = len(codes) - 1
    allowed = dict(codes, **{"": 0})
    reader = LabelReader(
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
        record = read_json_line(raw, where(path, row, number))
        if not isinstance(record, dict) or not isinstance(record.get("aspects", {}), dict | type(None)):
            raise AbsaInputError(
                f"{where(path, row, number)} must be an object like "
                '{"text": "...", "aspects": {"Battery": "positive"}}; got ' + raw.strip()[:80]
            )
        if "aspects" not in record:
            raise AbsaInputError(f'{where(path, row, number)} has no "aspects" object; keys: {sorted(record)}.')
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


__all__ = ["jsonl_text_key", "parse_jsonl"]
