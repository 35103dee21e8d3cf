"""Batched scoring of many reviews: length-sorted batches with dynamic padding, results in input order.

Used by the `evaluate` and `predict` commands and by training's final reports. (The `pipeline` serves
users; this is the bulk path for files.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ..data.tokenization import truncated_rows
from ..errors import AbsaInputError
from ..hub.windows_visobert_absa import FALLBACK_MAX_LENGTH, max_length_problem, stored_max_length

logger = logging.getLogger(__name__)


def check_max_length(max_length: int, config: Any, flag: str = "--max_length") -> int:
    """Refuse a truncation length the model cannot use: below `MIN_MAX_LENGTH` (3: the two special tokens and at
    least one token of text; the pipeline refuses the same) or beyond what the encoder's position embeddings read.

    Args:
        max_length (`int`): the requested length in tokens, special tokens included.
        config ([`ViSoBertAbsaConfig`]): the model's config (its `encoder_max_tokens` is the limit).
        flag (`str`, defaults to `"--max_length"`): the option named in the message.

    Returns:
        `int`: `max_length`, unchanged.

    Raises:
        AbsaInputError: the value is below `MIN_MAX_LENGTH` (3) or above the encoder's limit; the message names
            the limit.
    """
    limit = config.encoder_max_tokens
    problem = max_length_problem(max_length, flag)
    if problem is not None:
        raise AbsaInputError(problem)
    if limit is not None and max_length > limit:
        raise AbsaInputError(
            f"`{flag}` got {max_length}, but this model's encoder reads at most {limit} tokens "
            f"(max_position_embeddings {config.text_config.max_position_embeddings}). Pass `{flag} {limit}` or less."
        )
    return max_length


def resolve_max_length(requested: int | None, config: Any, tokenizer: Any, flag: str = "--max_length") -> int:
    """The truncation length to score with: `requested` when given (checked by [`check_max_length`]), else the
    length the model was trained with, which training stores as the tokenizer's `model_max_length` — the same
    default the pipeline uses. A stored value beyond the encoder's limit is clamped to it, with a warning.

    Example:

    ```python
    >>> resolve_max_length(None, model.config, tokenizer)  # trained with --max_length 64
    64
    ```
    """
    if requested is not None:
        return check_max_length(requested, config, flag)
    limit = config.encoder_max_tokens
    stored = stored_max_length(tokenizer)
    if stored is None:
        return limit or FALLBACK_MAX_LENGTH
    if limit is not None and stored > limit:
        logger.warning(
            "The tokenizer's model_max_length (%d) is beyond what the encoder reads (%d tokens); scoring with %d.",
            stored, limit, limit,
        )  # fmt: skip
        return limit
    return stored


@torch.inference_mode()
def score_texts(
    model: torch.nn.Module,
    tokenizer,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 256,
    device: str | torch.device | None = None,
    progress: bool = False,
    shard: tuple[int, int] = (0, 1),
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities `[N, A, C]` and embeddings `[N, D]` for `texts`, in input order.

    Texts are sorted by token length so each batch pads only to its own longest review (dynamic padding),
    then the results are put back in input order.

    Args:
        model: a `ViSoBertAbsaForAspectSentiment` (or a remote-code copy); put in eval mode here.
        tokenizer: its tokenizer.
        texts: the reviews.
        batch_size (`int`, defaults to 64): reviews per forward pass.
        max_length (`int`, defaults to 256): truncation length in tokens.
        device: where to run; defaults to the model's device.
        shard (`tuple[int, int]`, defaults to `(0, 1)`): `(rank, world_size)`: score only the length-sorted
            batches `k` with `k % world_size == rank`; the rows of the other batches are NaN. Every rank forms the
            same batches, so a review is scored in the same batch, with the same padding, whatever the number of
            processes (see [`~evaluation.sharded.score_texts_sharded`]).
        progress (`bool`, defaults to `False`): show a tqdm progress bar over the batches.

    Returns:
        `(probabilities, embeddings)`, float32 arrays. A text longer than `max_length` tokens is scored on its
        first `max_length` tokens, and a warning counts such texts.

    Raises:
        AbsaInputError: `max_length` is below `MIN_MAX_LENGTH` (3) or beyond the encoder's position embeddings.
    """
    check_max_length(max_length, model.config, "max_length")
    model.eval()
    if device is None:
        device = getattr(model, "device", None) or next(model.parameters()).device
    device = torch.device(device)
    config = model.config
    rank, world_size = shard
    fill = np.empty if world_size == 1 else lambda shape, dtype: np.full(shape, np.nan, dtype=dtype)
    probabilities = fill((len(texts), config.num_aspects, config.num_classes), dtype=np.float32)
    embeddings = fill((len(texts), config.projection_dim), dtype=np.float32)
    if len(texts) == 0:
        return probabilities, embeddings
    encoded = _encode(tokenizer, texts, max_length, warn=rank == 0)
    order = np.argsort(-np.array([len(ids) for ids in encoded["input_ids"]]), kind="stable")  # longest first
    starts = range(rank * batch_size, len(order), world_size * batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="Scoring", unit="batch")
    for start in starts:
        index = order[start : start + batch_size]
        output = model(**_padded_batch(tokenizer, encoded, index, device))
        probabilities[index] = torch.softmax(output.logits.float(), dim=-1).cpu().numpy()
        embeddings[index] = output.embeddings.float().cpu().numpy()
    return probabilities, embeddings


def _encode(tokenizer, texts: Sequence[str], max_length: int, warn: bool) -> Any:
    """Token ids of `texts`, truncated to `max_length`; with `warn`, a warning counts the truncated texts."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    cut = sum(truncated_rows(encoded, max_length))
    if cut and warn:
        logger.warning(
            "%d of %d texts are longer than max_length=%d tokens and were truncated: only their first %d tokens "
            "are scored.", cut, len(texts), max_length, max_length,
        )  # fmt: skip
    return encoded


def _padded_batch(tokenizer, encoded: Any, index: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
    """The rows `index` of `encoded`, padded to their longest, as the model's input tensors on `device`."""
    features = [{k: encoded[k][i] for k in encoded.keys()} for i in index]
    batch = tokenizer.pad(features, return_tensors="pt")
    return {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}


def predict_probabilities(
    model: torch.nn.Module,
    tokenizer,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 256,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Class probabilities `[N, A, C]` for `texts`, in input order (see [`score_texts`])."""
    return score_texts(model, tokenizer, texts, batch_size, max_length, device, progress)[0]


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of at most `size` items (the last may be shorter)."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


__all__ = ["check_max_length", "chunked", "predict_probabilities", "resolve_max_length", "score_texts"]
