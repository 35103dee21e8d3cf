"""Batched scoring of many reviews: length-sorted batches with dynamic padding, results in input order.

Used by the `evaluate` and `predict` commands and by training's final reports. (The `pipeline` serves
users; this is the bulk path for files.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.loading import truncated_rows
from ..data.tokenization import looks_like_local_path
from ..errors import AbsaInputError

logger = logging.getLogger(__name__)

_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_WHAT_TO_PASS = "Pass the `model/` folder of a `hf-visobert-absa train` run or an exported model."


def load_model_config(name_or_path: str | Path, flag: str = "--model", *, allow_hub: bool = False) -> Any:
    r"""Check that `name_or_path` is a saved visobert_absa model and return its validated config.

    Args:
        name_or_path (`str` or `Path`): a model folder (or, with `allow_hub`, a Hub model id).
        flag (`str`, *optional*, defaults to `"--model"`): the option the user gave it with, named in messages.
        allow_hub (`bool`, *optional*, defaults to `False`): a name that is not a local path is looked up on the Hub.

    Returns:
        [`ViSoBertAbsaConfig`]: the model's configuration.

    Raises:
        `AbsaInputError`: the folder does not exist or has no `config.json`, the file is not valid JSON, the model
        is of another type (e.g. a bare encoder), a field holds an invalid value, or there are no safetensors
        weights (pickled weights are refused: unpickling can run arbitrary code).

    Example:

    ```python
    >>> load_model_config("runs/phone/model").aspects[:2]
    ['Battery', 'Camera']
    ```
    """
    from transformers import PretrainedConfig

    from ..hub.configuration_visobert_absa import ViSoBertAbsaConfig

    path = Path(str(name_or_path))
    local = path.is_dir()
    if local:
        config_path = path / "config.json"
        if not config_path.is_file():
            raise AbsaInputError(f"`{flag}` {name_or_path} is not a model folder: it has no config.json. {_WHAT_TO_PASS}")
        try:
            config_dict = json.loads(config_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise AbsaInputError(f"`{flag}` {name_or_path}: config.json is not valid JSON ({error}).") from None
    elif allow_hub and not path.exists() and not looks_like_local_path(str(name_or_path)):
        try:
            config_dict, _ = PretrainedConfig.get_config_dict(str(name_or_path))
        except OSError as error:
            raise AbsaInputError(
                f"`{flag}` {name_or_path} is not a local folder and could not be loaded from the Hub: {error} "
                f"{_WHAT_TO_PASS}"
            ) from None
    else:
        state = "is a file, not a folder" if path.exists() else "does not exist"
        raise AbsaInputError(f"`{flag}` {name_or_path} {state}. {_WHAT_TO_PASS}")
    model_type = config_dict.get("model_type") if isinstance(config_dict, dict) else None
    if model_type != "visobert_absa":
        raise AbsaInputError(
            f"`{flag}` {name_or_path} holds a {model_type!r} model, not a visobert_absa model. {_WHAT_TO_PASS}"
            + (" To start from a pretrained encoder, pass it as `--encoder` instead." if flag == "--model_name_or_path" else "")
        )
    if local and not any(path.glob("*.safetensors")):
        pickles = sorted(p.name for p in path.iterdir() if p.suffix in _PICKLE_SUFFIXES)
        raise AbsaInputError(
            f"`{flag}` {name_or_path} has no model.safetensors"
            + (
                f", only pickled weights ({', '.join(pickles)}); visobert_absa models load weights only from "
                "safetensors, because unpickling a file can run arbitrary code. Convert a file you trust once with "
                "`safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')`."
                if pickles
                else ": the weights are missing. Save the model again (`model.save_pretrained(folder)`)."
            )
        )
    try:
        return ViSoBertAbsaConfig.from_pretrained(str(name_or_path))
    except (TypeError, ValueError) as error:
        raise AbsaInputError(
            f"`{flag}` {name_or_path}: config.json holds an invalid value: {error} Fix config.json or save the model "
            "again."
        ) from None


@torch.inference_mode()
def score_texts(
    model: torch.nn.Module,
    tokenizer,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 256,
    device: str | torch.device | None = None,
    shard: tuple[int, int] = (0, 1),
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities `[N, A, C]` and embeddings `[N, D]` for `texts`, in input order.

    Texts are sorted by token length so each batch pads only to its own longest review (dynamic padding),
    then the results are put back in input order.

    Args:
        model: a `ViSoBertAbsaModel` (or a remote-code copy); put in eval mode here.
        tokenizer: its tokenizer.
        texts: the reviews.
        batch_size (`int`, defaults to 64): reviews per forward pass.
        max_length (`int`, defaults to 256): truncation length in tokens.
        device: where to run; defaults to the model's device.
        shard (`tuple[int, int]`, defaults to `(0, 1)`): `(rank, world_size)`: score only the length-sorted
            batches `k` with `k % world_size == rank`; the rows of the other batches are NaN. Every rank forms the
            same batches, so a review is scored in the same batch, with the same padding, whatever the number of
            processes (see [`~evaluation.sharded.score_texts_sharded`]).

    Returns:
        `(probabilities, embeddings)`, float32 arrays. A text longer than `max_length` tokens is scored on its
        first `max_length` tokens, and a warning counts such texts.
    """
    model.eval()
    device = torch.device(device) if device is not None else getattr(model, "device", None) or next(model.parameters()).device
    config = model.config
    rank, world_size = shard
    fill = np.empty if world_size == 1 else lambda shape, dtype: np.full(shape, np.nan, dtype=dtype)
    probabilities = fill((len(texts), config.num_aspects, config.num_classes), dtype=np.float32)
    embeddings = fill((len(texts), config.projection_dim), dtype=np.float32)
    if len(texts) == 0:
        return probabilities, embeddings
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    cut = sum(truncated_rows(encoded, max_length))
    if cut and rank == 0:
        logger.warning(
            "%d of %d texts are longer than max_length=%d tokens and were truncated: only their first %d tokens "
            "are scored.", cut, len(texts), max_length, max_length,
        )  # fmt: skip
    lengths = np.array([len(ids) for ids in encoded["input_ids"]])
    order = np.argsort(-lengths, kind="stable")
    for start in range(rank * batch_size, len(order), world_size * batch_size):
        index = order[start : start + batch_size]
        features = [{k: encoded[k][i] for k in encoded.keys()} for i in index]
        batch = tokenizer.pad(features, return_tensors="pt")
        batch = {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        output = model(**batch)
        probabilities[index] = torch.softmax(output.logits.float(), dim=-1).cpu().numpy()
        embeddings[index] = output.embeddings.float().cpu().numpy()
    return probabilities, embeddings


def predict_probabilities(
    model: torch.nn.Module,
    tokenizer,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 256,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Class probabilities `[N, A, C]` for `texts`, in input order (see [`score_texts`])."""
    return score_texts(model, tokenizer, texts, batch_size, max_length, device)[0]


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


__all__ = ["chunked", "load_model_config", "predict_probabilities", "score_texts"]
