"""The pipeline's texts and windows: input texts checked, each cut into windows of token ids that the encoder can
read (one, truncated, or overlapping windows with `long_text="chunk"`), and the windows' distributions
combined back into one per text.

This file travels to the Hugging Face Hub next to the weights (a sibling of the pipeline): it imports only the
standard library and `torch`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else repr(value[:40])
    return f"a value of type {type(value).__name__} ({value!r:.40})"


def check_text(value: Any, index: int) -> str:
    """`value` when it is a non-empty string; else a `ValueError` naming input `index` and how to fix it."""
    if isinstance(value, str) and value.strip():
        surrogate = next((i for i, c in enumerate(value) if "\ud800" <= c <= "\udfff"), None)
        if surrogate is None:
            return value
        raise ValueError(
            f"Input {index} holds a lone surrogate (\\u{ord(value[surrogate]):04x} at character {surrogate}), half of a "
            "UTF-16 pair that is not a character; decode the text properly or remove that character."
        )
    hint = ' Wrap a `datasets.Dataset` as `KeyDataset(dataset, "text")`.' if isinstance(value, dict) else ""
    raise ValueError(
        f"Input {index} is {_describe(value)}; every input must be a non-empty review text (`str`). "
        f"Remove input {index} or replace it with its text.{hint}"
    )


#: The shortest window, in tokens: the two special tokens (`<s>`, `</s>`) and at least one token of text. Training,
#: `evaluate`, `predict` and the pipeline refuse anything shorter, so a model never saves a length its pipeline refuses.
MIN_MAX_LENGTH = 3
#: The window when neither the tokenizer nor the encoder says how long (`evaluate` and `predict` fall back to it too).
FALLBACK_MAX_LENGTH = 512


def max_length_problem(value: Any, flag: str = "max_length") -> str | None:
    """Why `value` cannot be a window length (`max_length`), or `None` when it can.

    Args:
        value (`Any`): the requested length in tokens, special tokens included.
        flag (`str`, defaults to `"max_length"`): the argument or option named in the message.

    Returns:
        `str | None`: the message for the caller's error (`ValueError` or a subclass), or `None` for an integer
        >= `MIN_MAX_LENGTH`. The encoder's upper limit is checked where the config is known.

    Example:

    ```python
    >>> max_length_problem(2, "--max_length")
    '`--max_length` got 2; allowed: an integer >= 3 (tokens per window: two special tokens and at least one token of text).'
    ```
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_MAX_LENGTH:
        return (
            f"`{flag}` got {value!r}; allowed: an integer >= {MIN_MAX_LENGTH} (tokens per window: two special tokens "
            "and at least one token of text)."
        )
    return None


def stored_max_length(tokenizer: Any) -> int | None:
    """The tokenizer's `model_max_length` (where training stores its `max_length`) when it is a usable window
    length: an integer from `MIN_MAX_LENGTH` up to below 1,000,000 (transformers' "no limit" is about 1e30);
    else `None`. The encoder's limit is the caller's to apply."""
    stored = getattr(tokenizer, "model_max_length", None)
    if isinstance(stored, bool) or not isinstance(stored, int) or not MIN_MAX_LENGTH <= stored < 1_000_000:
        return None
    return stored


def checked_stream(items: Iterable[Any]) -> Iterator[str]:
    """The texts of a list, generator or map-style dataset, each checked by [`check_text`] as it is read."""
    if isinstance(items, torch.utils.data.Dataset) and hasattr(items, "__len__"):
        for index in range(len(items)):  # map-style datasets such as `KeyDataset`
            yield check_text(items[index], index)
        return
    for index, item in enumerate(items):
        yield check_text(item, index)


class TextWindowsMixin:
    """Window planning and aggregation for [`AspectSentimentPipeline`]; reads `self.tokenizer`, `self.model.config`
    and `self.can_detect`, and reports truncation through the pipeline's `_warn_truncation`."""

    # ------------------------------------------------------------------ tokenization into windows
    def _window_length(self, max_length: int | None) -> int:
        """Tokens per window: `max_length` when given, else the tokenizer's `model_max_length` (training stores
        its `max_length` there), capped by what the encoder's position embeddings can read."""
        limit = self.model.config.encoder_max_tokens
        if max_length is not None:
            if limit is not None and max_length > limit:
                raise ValueError(
                    f"`max_length` got {max_length}; this model's encoder reads at most {limit} tokens "
                    f"(max_position_embeddings). Pass max_length <= {limit}."
                )
            return max_length
        stored = stored_max_length(self.tokenizer)
        if stored is None or (limit is not None and stored > limit):
            return limit or FALLBACK_MAX_LENGTH
        return stored

    def _special_tokens(self, text: str) -> tuple[list[int], list[int], list[int]]:
        """`text` -> (prefix, content ids, suffix): the tokenizer's single-sequence template around the text."""
        full = self.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"]
        ids = self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        for start in range(len(full) - len(ids) + 1):
            if full[start : start + len(ids)] == ids:
                return full[:start], ids, full[start + len(ids) :]
        raise ValueError(
            "The tokenizer puts special tokens inside the text; the pipeline cannot split it into windows."
        )

    def _window_plan(
        self, specials: int, long_text: str, max_length: int | None, stride: int | None
    ) -> tuple[int, int]:
        """(text tokens per window, tokens shared by consecutive windows), checked."""
        window = self._window_length(max_length)
        content = window - specials
        if content < 1:
            raise ValueError(f"`max_length` got {window}; it leaves no room for text after the special tokens.")
        overlap = 0
        if long_text == "chunk":
            overlap = content // 4 if stride is None else stride
            if overlap >= content:
                raise ValueError(
                    f"`stride` got {overlap}; allowed: fewer than {content} tokens (the window minus special tokens)."
                )
        return content, overlap

    def _window_starts(self, num_ids: int, content: int, overlap: int, long_text: str, specials: int) -> list[int]:
        """Where each window of a text's `num_ids` content tokens starts."""
        # Windows over the token ids (not the tokenizer's overflow support, which differs between versions):
        # each holds `content` tokens, consecutive windows share `overlap`, the last one reaches the end.
        starts = [0]
        while starts[-1] + content < num_ids:
            starts.append(starts[-1] + content - overlap)
        if long_text == "truncate" and len(starts) > 1:
            self._warn_truncation(num_ids + specials, content + specials)
            starts = starts[:1]
        return starts

    def _tokenize_many(
        self,
        texts: list[str],
        long_text: str = "truncate",
        max_length: int | None = None,
        stride: int | None = None,
        with_offsets: bool = False,
    ) -> tuple[list[list[int]], list[int], list[list[tuple[int, int] | None]] | None]:
        """`texts` -> (the token ids of every window, text after text; the number of windows of each text; with
        `with_offsets`, each window token's character range in its text, None for special tokens), from ONE call
        of the tokenizer (a fast tokenizer encodes the batch in Rust)."""
        if with_offsets and not getattr(self.tokenizer, "is_fast", False):
            raise ValueError(
                "`return_evidence=True` needs a fast tokenizer (it maps tokens to character offsets); this one is "
                f"{type(self.tokenizer).__name__}. Load the tokenizer with `AutoTokenizer.from_pretrained(..., use_fast=True)`."
            )
        prefix, _, suffix = self._special_tokens(texts[0])  # the single-sequence template, the same for every text
        content, overlap = self._window_plan(len(prefix) + len(suffix), long_text, max_length, stride)
        windows: list[list[int]] = []
        counts: list[int] = []
        offsets: list[list[tuple[int, int] | None]] = []
        encoded = self.tokenizer(
            texts, add_special_tokens=False, verbose=False, return_attention_mask=False, return_token_type_ids=False,
            **({"return_offsets_mapping": True} if with_offsets else {}),
        )  # fmt: skip
        for n, ids in enumerate(encoded["input_ids"]):
            starts = self._window_starts(len(ids), content, overlap, long_text, len(prefix) + len(suffix))
            windows.extend(prefix + ids[start : start + content] + suffix for start in starts)
            counts.append(len(starts))
            if with_offsets:
                spans = [tuple(span) for span in encoded["offset_mapping"][n]]
                pad = ([None] * len(prefix), [None] * len(suffix))
                offsets.extend(pad[0] + spans[start : start + content] + pad[1] for start in starts)
        return windows, counts, offsets if with_offsets else None

    # ------------------------------------------------------------------ windows back to texts
    def _aggregate(self, probabilities: torch.Tensor, how: str) -> torch.Tensor:
        """`[W, A, C]` window distributions -> `[A, C]`."""
        if probabilities.shape[0] == 1:
            return probabilities[0]
        if how == "mean":
            return probabilities.mean(dim=0)
        best = self._strongest_window(probabilities)  # [A]
        return probabilities[best, torch.arange(probabilities.shape[1])]  # [A, C]

    def _strongest_window(self, probabilities: torch.Tensor) -> torch.Tensor:
        """`[W, A, C]` -> per aspect, the window that mentions it most clearly (lowest P(none); most confident
        without a "none" class), as `_aggregate(..., "max")` chooses."""
        strength = -probabilities[..., 0] if self.can_detect else probabilities.max(dim=-1).values  # [W, A]
        return strength.argmax(dim=0)

    def _aggregate_many(self, probabilities: torch.Tensor, counts: list[int], how: str) -> torch.Tensor:
        """`[W, A, C]` distributions of consecutive windows, `counts[n]` of them for text n -> `[N, A, C]`."""
        if len(counts) == probabilities.shape[0]:
            return probabilities  # one window per text: nothing to combine
        parts = probabilities.split(counts)
        return torch.stack([self._aggregate(part, how) for part in parts])


__all__ = [
    "FALLBACK_MAX_LENGTH",
    "MIN_MAX_LENGTH",
    "TextWindowsMixin",
    "check_text",
    "checked_stream",
    "max_length_problem",
    "stored_max_length",
]
