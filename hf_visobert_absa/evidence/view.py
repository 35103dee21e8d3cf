"""Evidence for people: a review with each predicted aspect's evidence words highlighted (HTML, for notebooks and
error analysis galleries)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..io_safety import write_text_atomic

#: Highlight colour per sentiment (others: grey); the opacity follows the word's weight.
COLOURS = {"positive": "46, 160, 67", "negative": "214, 39, 40", "neutral": "31, 119, 180", "conflict": "148, 103, 189"}


def evidence_html(text: str, entries: list[dict[str, Any]]) -> str:
    """One review as HTML: per aspect entry (as `pipeline(..., return_evidence=True)` returns them), the aspect,
    its sentiment and probability beside the text with that aspect's evidence words highlighted (stronger = more
    weight). In a notebook: `IPython.display.HTML(evidence_html(text, absa(text, return_evidence=True)))`.

    Example:

    ```python
    >>> entry = {"aspect": "Camera", "sentiment": "positive", "score": 0.9,
    ...          "evidence": [{"word": "đẹp", "start": 11, "end": 14, "weight": 0.6}]}
    >>> "<mark" in evidence_html("camera chụp đẹp", [entry])
    True
    ```
    """
    rows = [_aspect_row(text, entry) for entry in entries] or [f"<div>{html.escape(text)} <i>(no aspect)</i></div>"]
    return '<div class="absa-evidence" style="font-family:sans-serif;line-height:1.6">' + "".join(rows) + "</div>"


def _aspect_row(text: str, entry: dict[str, Any]) -> str:
    label = f"<b>{html.escape(entry['aspect'])}</b>: {html.escape(entry['sentiment'])} ({entry['score']:.2f})"
    return f'<div style="margin:2px 0">{label} &mdash; {_highlighted(text, entry)}</div>'


def _highlighted(text: str, entry: dict[str, Any]) -> str:
    words = sorted(entry.get("evidence") or [], key=lambda w: w["start"])
    strongest = max((w["weight"] for w in words), default=1.0) or 1.0
    colour = COLOURS.get(entry["sentiment"], "127, 127, 127")
    parts, cursor = [], 0
    for word in words:
        opacity = 0.25 + 0.65 * word["weight"] / strongest
        parts.append(html.escape(text[cursor : word["start"]]))
        parts.append(
            f'<mark style="background:rgba({colour}, {opacity:.2f})" title="{word["weight"]:.3f}">'
            f"{html.escape(text[word['start'] : word['end']])}</mark>"
        )
        cursor = word["end"]
    return "".join(parts) + html.escape(text[cursor:])


def evidence_gallery(records: list[dict[str, Any]], path: str | Path, title: str = "Evidence") -> Path:
    """Write an HTML page of reviews with their evidence, wrong predictions first: each record is
    `{"text", "entries" (predicted aspects with evidence), "gold" ({aspect: sentiment}), "correct" (bool)}`."""
    ordered = sorted(records, key=lambda r: r["correct"])
    sections = []
    for record in ordered:
        gold = ", ".join(f"{html.escape(a)}: {html.escape(s)}" for a, s in record["gold"].items()) or "no aspect"
        verdict = "correct" if record["correct"] else "WRONG"
        sections.append(
            f"<section><p><b>{verdict}</b> &mdash; gold: {gold}</p>{evidence_html(record['text'], record['entries'])}</section><hr>"
        )
    page = f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
    target = Path(path)
    write_text_atomic(target, page + "".join(sections))
    return target


__all__ = ["COLOURS", "evidence_gallery", "evidence_html"]
