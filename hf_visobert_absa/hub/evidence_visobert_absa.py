"""Evidence: which words of a review an aspect's prediction rests on, as character spans of the ORIGINAL text.

Token scores (an aspect's attention over the tokens, or any attribution) become word scores: a word is a maximal
run of non-space characters with leading and trailing punctuation trimmed ([`word_spans`]), its score the sum of
the scores of the tokens that overlap it. `text[start:end]` is always the word as written (diacritics, emoji and
extra spaces included), whatever the tokenizer did to it.

Attention as evidence is a hypothesis, not a proof (Jain & Wallace, "Attention is not Explanation", NAACL 2019;
Wiegreffe & Pinter, "Attention is not not Explanation", EMNLP 2019): how faithful it is here is measured
(ERASER comprehensiveness and sufficiency, DeYoung et al., ACL 2020) by `benchmarks/evidence.py`.

This file travels to the Hugging Face Hub next to the weights (a sibling of the pipeline): it imports only the
standard library and `torch`.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Sequence
from typing import Any

import torch


def word_spans(text: str) -> list[tuple[int, int]]:
    """The words of `text` as `(start, end)` character offsets: maximal runs of non-space characters, leading and
    trailing punctuation (Unicode category P*) trimmed; a run of punctuation alone is not a word.

    Example:

    ```python
    >>> text = "Pin  trâu, camera đẹp 😍!"
    >>> [text[s:e] for s, e in word_spans(text)]
    ['Pin', 'trâu', 'camera', 'đẹp', '😍']
    ```
    """
    spans, start = [], None
    for index, char in enumerate(text + " "):
        if not char.isspace():
            start = index if start is None else start
            continue
        if start is not None:
            spans.append(_trim_punctuation(text, start, index))
            start = None
    return [span for span in spans if span[0] < span[1]]


def _trim_punctuation(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and unicodedata.category(text[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(text[end - 1]).startswith("P"):
        end -= 1
    return start, end


def word_scores(
    spans: Sequence[tuple[int, int]], token_offsets: Sequence[tuple[int, int] | None], token_scores: torch.Tensor
) -> torch.Tensor:
    """Token scores `[A, T]` -> word scores `[A, N]` (N = `len(spans)`): each word sums the tokens that overlap it.
    `token_offsets[t]` is token t's character range in the text, None for a special token (never counted)."""
    ends = [end for _, end in spans]
    owner = torch.full((len(token_offsets),), -1, dtype=torch.long)
    for t, offset in enumerate(token_offsets):
        if offset is not None and offset[0] < offset[1]:
            owner[t] = _word_at(spans, ends, offset)
    scores = token_scores.new_zeros(token_scores.shape[0], len(spans) + 1)  # the last column collects the unowned
    scores.index_add_(1, torch.where(owner >= 0, owner, len(spans)), token_scores.to(scores.dtype))
    return scores[:, :-1]


def _word_at(spans: Sequence[tuple[int, int]], ends: list[int], offset: tuple[int, int]) -> int:
    """The index of the first word that overlaps the character range `offset`, or -1 (punctuation, spaces)."""
    index = bisect.bisect_right(ends, offset[0])  # the first word that ends after the token starts
    return index if index < len(spans) and spans[index][0] < offset[1] else -1


def top_words(text: str, spans: Sequence[tuple[int, int]], scores: torch.Tensor, top_k: int) -> list[dict[str, Any]]:
    """One aspect's word scores `[N]` -> its `top_k` best words, best first: `{"word", "start", "end", "weight"}`
    (words with no positive score are left out)."""
    order = torch.argsort(scores, descending=True, stable=True)[:top_k].tolist()
    return [
        {"word": text[spans[i][0] : spans[i][1]], "start": spans[i][0], "end": spans[i][1], "weight": float(scores[i])}
        for i in order
        if scores[i] > 0
    ]


__all__ = ["top_words", "word_scores", "word_spans"]
