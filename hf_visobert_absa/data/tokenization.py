"""Load any encoder's tokenizer, including ViSoBERT's, so that it works under transformers 5 and saves cleanly.

ViSoBERT (Nguyen et al., "ViSoBERT: A Pre-Trained Language Model for Vietnamese Social Media Text Processing",
EMNLP 2023, arXiv:2310.11166) ships a SentencePiece BPE `tokenizer.json` but a `tokenizer_config.json` naming
`XLMRobertaTokenizer`, which transformers 5 builds on a Unigram model: `AutoTokenizer.from_pretrained` fails with
`TypeError: 'dict' object is not an instance of 'Sequence'`. [`load_tokenizer`] tries `AutoTokenizer` first and
falls back to `PreTrainedTokenizerFast` built from `tokenizer.json`, which keeps the BPE model, the special tokens
(`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, `<mask>`=15001) and the `<s> X </s>` template. When `AutoTokenizer`
loads but encodes differently from `tokenizer.json`, the file wins (it is what the model was trained with).
The returned tokenizer's `save_pretrained` writes files a plain `AutoTokenizer.from_pretrained` loads.
[`tokenize_dataset`] adds the token columns to the splits of `load_absa_dataset`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import AbsaInputError
from ..hub.encoder_visobert_absa import encoder_max_tokens

logger = logging.getLogger(__name__)

#: Sentences the loaded tokenizer must encode exactly like the raw `tokenizer.json`.
PROBE_TEXTS: tuple[str, ...] = (
    "Pin trâu, camera chụp đẹp",
    "Máy mượt, GIÁ hơi đắt!!! ship nhanh 😍 100% hài lòng",
    "Hello WORLD, màn hình 6,5 inch <mask> ok",
)
#: The files that make a folder hold a tokenizer: one of them must be present.
TOKENIZER_DEFINING_FILES: tuple[str, ...] = (
    "tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model",
    "spiece.model", "tokenizer.model",
)  # fmt: skip
#: Every file a saved tokenizer may consist of (the defining files plus their companions); export lets them travel.
TOKENIZER_FILES: tuple[str, ...] = (
    *TOKENIZER_DEFINING_FILES, "special_tokens_map.json", "added_tokens.json", "merges.txt",
)  # fmt: skip
_HUB_KWARGS = ("cache_dir", "revision", "token", "local_files_only", "subfolder")


def looks_like_local_path(name: str) -> bool:
    """A Hub id is `name` or `org/name`; anything else (`./x`, `/abs/x`, `a/b/c`, `~/x`, `a\\b`) is meant as a
    local path."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on") for v in
               ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))  # fmt: skip


def _hub_file(name_or_path: str, filename: str, kwargs: dict[str, Any]) -> Path | None:
    """A tokenizer/config file next to the tokenizer: in the local folder, or already in the Hub cache."""
    local = Path(name_or_path).expanduser() / kwargs.get("subfolder", "")
    if local.is_dir():
        return local / filename if (local / filename).is_file() else None
    try:
        from transformers.utils import cached_file

        hub_kwargs = {k: v for k, v in kwargs.items() if k in _HUB_KWARGS}
        found = cached_file(name_or_path, filename, _raise_exceptions_for_missing_entries=False, **hub_kwargs)
    except Exception:  # noqa: BLE001 - a missing optional file is not an error here
        return None
    return Path(found) if found else None


@contextlib.contextmanager
def _quiet_config_lookup(folder: Path) -> Iterator[None]:
    """`AutoTokenizer` reads a model folder's config.json to pick a class; a visobert_absa config (not a tokenizer
    architecture) makes it warn that a `visobert_absa` model is used as a model of type ``, which is noise here:
    the class comes from tokenizer_config.json. Raised to ERROR for that one call, for such folders only."""
    config = folder / "config.json"
    quiet = config.is_file() and '"visobert_absa"' in config.read_text(encoding="utf-8", errors="ignore")
    config_logger = logging.getLogger("transformers.configuration_utils")
    previous = config_logger.level
    if quiet:
        config_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        config_logger.setLevel(previous)


def _saved_as_generic_fast(folder: Path) -> bool:
    """A local folder whose tokenizer_config.json names the generic fast class and has a tokenizer.json."""
    config = folder / "tokenizer_config.json"
    if not (folder / "tokenizer.json").is_file() or not config.is_file():
        return False
    try:
        tokenizer_class = json.loads(config.read_text(encoding="utf-8")).get("tokenizer_class")
    except (OSError, ValueError, AttributeError):
        return False
    return tokenizer_class in ("TokenizersBackend", "PreTrainedTokenizerFast")


def _encodes_like_file(tokenizer: Any, tokenizer_json: Path) -> bool:
    from tokenizers import Tokenizer

    try:
        raw = Tokenizer.from_file(str(tokenizer_json))
    except Exception as exc:  # noqa: BLE001 - a file this `tokenizers` cannot read cannot be compared with
        logger.warning("Cannot read %s to check the tokenizer against it (%s).", tokenizer_json, exc)
        return True
    raw.no_padding()
    raw.no_truncation()
    return all(raw.encode(text).ids == tokenizer(text, verbose=False)["input_ids"] for text in PROBE_TEXTS)


def _not_found(name: str, exc: Exception) -> AbsaInputError:
    if _offline():
        reason = "offline mode is on (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE), and it is not in the local Hub cache"
    else:
        reason = "the Hugging Face Hub could not be reached or has no such repository, and it is not cached"
    return AbsaInputError(
        f"Could not load a tokenizer from {name!r}: it is not a local folder, {reason} ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else ''}). Fix: on a machine with network run "
        f"`hf download {name} --local-dir <folder>` and pass that folder, or pass the path of a local model folder "
        "that has tokenizer files (tokenizer.json, tokenizer_config.json, ...)."
    )


def _set_model_max_length(tokenizer: Any, name_or_path: str, kwargs: dict[str, Any]) -> None:
    """Replace transformers' "no limit" sentinel (1e30) by the encoder's position limit read from config.json."""
    if "model_max_length" in kwargs or tokenizer.model_max_length < 10**12:
        return
    config_file = _hub_file(name_or_path, "config.json", kwargs)
    if config_file is None:
        return
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    config = config.get("text_config") or config
    limit = encoder_max_tokens(
        config.get("model_type"), config.get("max_position_embeddings"), config.get("pad_token_id", 1)
    )
    if limit is not None and limit > 0:
        tokenizer.model_max_length = limit
        logger.info("Tokenizer model_max_length set to %d from %s.", tokenizer.model_max_length, config_file)


def load_tokenizer(name_or_path: str | os.PathLike, **kwargs: Any) -> Any:
    r"""Load the tokenizer of an encoder (a local folder or a Hub id), working around ViSoBERT's transformers-5 trap.

    Args:
        name_or_path (`str` or `os.PathLike`):
            A local folder with tokenizer files (e.g. `../shared/visobert`, an exported checkpoint) or a Hub id
            (e.g. `uitnlp/visobert`; needs network or the Hub cache).
        **kwargs:
            Passed to `from_pretrained` (`revision`, `cache_dir`, `local_files_only`, `model_max_length`, ...).
            `trust_remote_code` defaults to `False`: a checkpoint's custom model code is never needed for its
            tokenizer, and this avoids an interactive prompt.

    Returns:
        `PreTrainedTokenizerBase`: a fast tokenizer whose `save_pretrained` output loads with a plain
        `AutoTokenizer.from_pretrained`. When the files give no length limit, `model_max_length` is set from the
        folder's `config.json` (`max_position_embeddings`, minus 2 for RoBERTa-type encoders).

    Raises:
        `AbsaInputError`: the folder does not exist or has no tokenizer files; the Hub id cannot be fetched
        (offline, no network, unknown id) and is not cached; no loader can build the tokenizer.

    Example:

    ```python
    >>> from hf_visobert_absa.data.tokenization import load_tokenizer
    >>> tokenizer = load_tokenizer("../shared/visobert")
    >>> tokenizer.convert_ids_to_tokens(tokenizer("Pin trâu, camera chụp đẹp")["input_ids"])
    ['<s>', '▁Pin', '▁trâu', ',', '▁camera', '▁chụp', '▁đẹp', '</s>']
    ```
    """
    from transformers import PreTrainedTokenizerFast

    name, local = _tokenizer_source(name_or_path, kwargs.get("subfolder", ""))
    if _saved_as_generic_fast(local / kwargs.get("subfolder", "")):
        # Our own saves (and any generic fast tokenizer): no class to resolve, so no config.json lookup.
        kwargs.pop("trust_remote_code", None)
        tokenizer = PreTrainedTokenizerFast.from_pretrained(name, **kwargs)
    else:
        kwargs.setdefault("trust_remote_code", False)
        tokenizer = _auto_tokenizer_or_file(name, local, kwargs)
    _set_model_max_length(tokenizer, name, kwargs)
    return _compose_unicode_first(tokenizer)


def _tokenizer_source(name_or_path: str | os.PathLike, subfolder: str) -> tuple[str, Path]:
    """The name to load from and its local path; refuses a missing folder or one without tokenizer files."""
    name = str(name_or_path)
    local = Path(name).expanduser()
    if local.is_dir():
        folder = local / subfolder
        if not any((folder / f).is_file() for f in TOKENIZER_DEFINING_FILES):
            contents = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else "(missing)"
            raise AbsaInputError(
                f"{folder} has no tokenizer files (none of {', '.join(TOKENIZER_DEFINING_FILES)}); it holds {contents}. "
                "Pass the folder of the encoder or checkpoint that was saved with its tokenizer."
            )
        return str(local), local
    if looks_like_local_path(name):
        raise AbsaInputError(f"Tokenizer folder {name!r} does not exist. Pass an existing folder or a Hub id.")
    return name, local


def _auto_tokenizer_or_file(name: str, local: Path, kwargs: dict[str, Any]) -> Any:
    """`AutoTokenizer`'s tokenizer when it encodes like the `tokenizer.json`, else a `PreTrainedTokenizerFast` on
    that file (ViSoBERT under transformers 5); `kwargs` loses `trust_remote_code` on the fallback."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tokenizer, auto_error = None, None
    try:
        with _quiet_config_lookup(local):
            tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
    except OSError as exc:
        if not local.is_dir():
            raise _not_found(name, exc) from exc
        auto_error = exc
    except Exception as exc:  # noqa: BLE001 - e.g. ViSoBERT's TypeError; the fallback below decides
        auto_error = exc
    tokenizer_json = _hub_file(name, "tokenizer.json", kwargs)
    if tokenizer is not None and tokenizer_json is not None and not _encodes_like_file(tokenizer, tokenizer_json):
        logger.warning(
            "AutoTokenizer built %s for %s, which encodes differently from its tokenizer.json; using "
            "PreTrainedTokenizerFast on tokenizer.json instead.", type(tokenizer).__name__, name,
        )  # fmt: skip
        tokenizer = None
    if tokenizer is not None:
        return tokenizer
    if tokenizer_json is None:
        raise AbsaInputError(
            f"Could not load a tokenizer from {name!r}: AutoTokenizer failed ({type(auto_error).__name__}: "
            f"{auto_error}) and there is no tokenizer.json to fall back on."
        )
    if auto_error is not None:
        logger.info("AutoTokenizer could not load %s (%s); using PreTrainedTokenizerFast.", name, auto_error)
    kwargs.pop("trust_remote_code")
    return PreTrainedTokenizerFast.from_pretrained(name, **kwargs)


def _compose_unicode_first(tokenizer: Any) -> Any:
    """Put Unicode NFC composition in front of a fast tokenizer's normaliser.

    Vietnamese text often arrives decomposed (NFD: a base letter plus combining tone marks); ViSoBERT's
    normaliser does not compose it, so 'tốt' typed decomposed became '▁tôt' (tone lost). Both shared data sets
    hold such comments. With NFC first, decomposed and composed text give the same tokens; the change is part
    of `tokenizer.json`, so saved and exported tokenizers keep it.
    """
    from tokenizers import normalizers

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return tokenizer
    current = backend.normalizer
    if current is None:
        backend.normalizer = normalizers.NFC()
    elif "NFC" not in repr(current).split("(")[0] and not repr(current).startswith("Sequence(normalizers=[NFC"):
        backend.normalizer = normalizers.Sequence([normalizers.NFC(), current])
    return tokenizer


def wrap_xlmr_tokenizer(backend: Any, model_max_length: int = 128) -> Any:
    """A `tokenizers.Tokenizer` whose vocabulary starts with <s>, <pad>, </s>, <unk>, <mask> (ids 0-4) -> a
    `PreTrainedTokenizerFast` with XLM-R's special tokens and its `<s> X </s>` template."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=model_max_length,
    )


def tokenize_dataset(dataset_dict: Any, tokenizer: Any, max_length: int = 256, *, text_column: str = "text") -> Any:
    r"""Add `input_ids` and `attention_mask` (and `token_type_ids` when the tokenizer makes them) to every split.

    Tokenises with `datasets.map(batched=True)`, truncating at `max_length` tokens and padding nothing: pad each
    batch with `transformers.DataCollatorWithPadding` (labels `[A]` then stack to `[B, A]`).

    Args:
        dataset_dict (`datasets.DatasetDict` or `datasets.Dataset`): the output of [`load_absa_dataset`] or any
            dataset with a text column.
        tokenizer (`PreTrainedTokenizerBase`): e.g. from `tokenization.load_tokenizer`.
        max_length (`int`, *optional*, defaults to 256): the most tokens per text, special tokens included.
        text_column (`str`, *optional*, defaults to `"text"`): the column to tokenise.

    Returns:
        The same type as `dataset_dict`, with the token columns added (all other columns kept). Texts longer than
        `max_length` tokens keep their first `max_length` tokens; a warning says how many per split.

    Raises:
        `AbsaInputError`: `max_length` is not positive or exceeds `tokenizer.model_max_length`, or the text column
        is missing.

    Example:

    ```python
    >>> tokenized = tokenize_dataset(dsd, load_tokenizer("../shared/visobert"), max_length=256)
    >>> tokenized["train"][0]["input_ids"][:1]
    [0]
    ```
    """
    if not isinstance(max_length, int) or max_length < 1 or max_length > tokenizer.model_max_length:
        raise AbsaInputError(
            f"`max_length` got {max_length!r}; allowed: 1 to the tokenizer's model_max_length "
            f"({tokenizer.model_max_length})."
        )
    names = dataset_dict.column_names
    for split_columns in names.values() if isinstance(names, dict) else [names]:
        if text_column not in split_columns:
            raise AbsaInputError(f"No column {text_column!r} to tokenise; columns: {split_columns}.")

    def tokenize(batch: dict[str, list]) -> dict[str, list]:
        encoded = tokenizer(batch[text_column], truncation=True, max_length=max_length, padding=False)
        return {**encoded, _TRUNCATED: truncated_rows(encoded, max_length)}

    tokenized = dataset_dict.map(tokenize, batched=True, desc="Tokenizing")
    limit = tokenizer.model_max_length
    room = f" (the tokenizer allows {limit})" if max_length < limit < 1_000_000 else ""
    for split, part in tokenized.items() if isinstance(tokenized, dict) else [("dataset", tokenized)]:
        cut = int(sum(part[_TRUNCATED]))
        if cut:
            logger.warning(
                "%s: %d of %d texts are longer than max_length=%d tokens and were truncated: the model sees only "
                "their first %d tokens.%s",
                split, cut, part.num_rows, max_length, max_length, f" Raise `max_length`{room} to keep more." if room else "",
            )  # fmt: skip
    return tokenized.remove_columns(_TRUNCATED)


_TRUNCATED = "__truncated__"


def truncated_rows(encoded: Any, max_length: int) -> list[bool]:
    """Per text of a tokenizer output made with `truncation=True`, whether tokens were cut off. Fast tokenizers
    keep the cut tokens (`encoding.overflowing`), which is exact; for others, reaching `max_length` counts."""
    encodings = getattr(encoded, "encodings", None)
    if encodings:
        return [bool(encoding.overflowing) for encoding in encodings]
    return [len(ids) >= max_length for ids in encoded["input_ids"]]


__all__ = [
    "PROBE_TEXTS",
    "TOKENIZER_DEFINING_FILES",
    "TOKENIZER_FILES",
    "load_tokenizer",
    "looks_like_local_path",
    "tokenize_dataset",
    "truncated_rows",
    "wrap_xlmr_tokenizer",
]
