"""The UIT-ViSFD layout: a `label` column of `{ASPECT#Polarity};` items beside the review text (Phan et al., "SA2SL:
From Aspect-Based Sentiment Analysis to Social Listening System for Business Intelligence", KSEM 2021).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import SENTIMENTS
from .csv_table import CsvTable, where
from .parsed_file import LabelReader, ParsedFile, canonical_codes, sentiments_text

#: UIT-ViSFD's aspects in the order of its documentation; `OTHERS` carries no polarity in the data.
UIT_VISFD_ASPECTS: tuple[str, ...] = (
    "SCREEN", "CAMERA", "FEATURES", "BATTERY", "PERFORMANCE", "STORAGE", "DESIGN", "PRICE", "GENERAL", "SER&ACC",
    "OTHERS",
)  # fmt: skip
UIT_OTHERS = "OTHERS"
#: One `{...}` item of a label cell.
UIT_TAG = re.compile(r"\{([^{}]*)\}")
#: A whole label cell: `{...}` items, optionally separated by ';'.
UIT_LABEL = re.compile(r"^\s*(\{[^{}]*\}\s*;?\s*)+$")


def _bare_tag_code(
    tag: str, aspect: str, place: str, others_policy: str, codes: dict[str, int], sentiments: Sequence[str] | None
) -> int:
    """The code of a tag without a polarity: only `{OTHERS}` may stand alone, and `others_policy='neutral'` labels
    it neutral."""
    if aspect != UIT_OTHERS:
        raise AbsaInputError(
            f"Tag {{{tag}}} in {place} has no polarity. Allowed: "
            "{ASPECT#Positive|Negative|Neutral}; only {OTHERS} may stand alone."
        )
    if others_policy == "error":
        raise AbsaInputError(
            f"Tag {{OTHERS}} without polarity in {place}, and "
            "others_policy='error'. Pass others_policy='neutral' (OTHERS counts as mentioned, neutral) "
            "or others_policy='drop' (OTHERS is not an aspect)."
        )
    if "neutral" not in codes:
        raise AbsaInputError(
            f"Tag {{OTHERS}} in {place}: others_policy='neutral' "
            f"labels it neutral, but the sentiments ({sentiments_text(sentiments)}) have no 'neutral'. "
            "Pass others_policy='drop', or add 'neutral' to the sentiments."
        )
    return codes["neutral"]


def parse_uit(
    table: CsvTable,
    text_column: str,
    aliases: dict[str, int],
    others_policy: str,
    sentiments: Sequence[str] | None = None,
) -> ParsedFile:
    """UIT-ViSFD: `{ASPECT#Polarity};...` in the `label` column; `{OTHERS}` is handled by `others_policy`."""
    label = next((name for name in table.columns if name.lower() == "label"), None)
    if label is None:
        raise AbsaInputError(f"{table.path} has no `label` column (UIT-ViSFD layout); its columns are {table.columns}.")
    codes = canonical_codes(sentiments)
    allowed = {k: v for k, v in codes.items() if v}
    capitalised = ", ".join(repr(name.capitalize()) for name in (SENTIMENTS if sentiments is None else sentiments))
    reader = LabelReader(allowed, f"{capitalised} (any case) after '#'", aliases, sentiments)
    t, j = table.columns.index(text_column), table.columns.index(label)
    parsed = ParsedFile(table.path, "uit_visfd", [], [], [], [])
    parsed.ignored_columns = [name for name in table.columns if name not in (text_column, label)]
    for i, (record, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        value, row = record[j], i + 1
        if value.strip() and not UIT_LABEL.match(value):
            raise AbsaInputError(
                f"Malformed label {value!r} in {where(table.path, row, line)}, column {label!r}. Allowed: items "
                "like {BATTERY#Positive} separated by ';' (polarity Positive/Negative/Neutral; {OTHERS} alone)."
            )
        mention: dict[str, int] = {}
        for tag in UIT_TAG.findall(value):
            # the polarity follows the LAST '#': `{FOOD#QUALITY#Positive}` is aspect FOOD#QUALITY
            name, sep, polarity = tag.rpartition("#") if "#" in tag else (tag, "", "")
            aspect = name.strip().upper()
            if aspect == UIT_OTHERS and others_policy == "drop":
                parsed.others_tags += 1
                continue
            if not sep:
                place = f"{where(table.path, row, line)}, column {label!r}"
                code = _bare_tag_code(tag, aspect, place, others_policy, codes, sentiments)
                parsed.others_tags += 1
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


__all__ = ["UIT_LABEL", "UIT_OTHERS", "UIT_VISFD_ASPECTS", "parse_uit"]
