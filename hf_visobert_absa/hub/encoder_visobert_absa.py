"""The encoder under the two heads: ViSoBERT's architecture (the default), how many tokens an encoder reads,
and loading an encoder (pretrained or from its config) without its pooler.

ViSoBERT: Nguyen et al., "ViSoBERT: A Pre-Trained Language Model for Vietnamese Social Media Text Processing",
EMNLP 2023, arXiv:2310.11166 (XLM-RoBERTa, 12 layers, hidden size 768, vocabulary of 15,004 tokens).

This file travels to the Hugging Face Hub next to the weights (a sibling of the configuration and modeling
files): it imports only the standard library and public `transformers` names.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers import logging as transformers_logging

from .labels_visobert_absa import reject_value

try:  # transformers >= 5
    from transformers import PreTrainedConfig
except ImportError:  # transformers 4.x names it PretrainedConfig
    from transformers import PretrainedConfig as PreTrainedConfig

logger = logging.getLogger(__name__)

#: ViSoBERT's encoder architecture (`uitnlp/visobert`) without the keys of the fine-tune it was saved with.
VISOBERT_ENCODER_CONFIG: dict[str, Any] = {
    "model_type": "xlm-roberta",
    "vocab_size": 15004,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 514,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
}


def encoder_config(text_config: Any) -> PreTrainedConfig:
    """The encoder's config object from what a config was given: None (ViSoBERT's architecture), a dict with a
    `model_type` (as config.json stores it) or a config object (kept as is).

    Raises:
        ValueError: anything else, or a dict without a known `model_type`.
    """
    allowed = "None (the ViSoBERT architecture), a dict with a `model_type`, or an encoder config object"
    if text_config is None:
        text_config = VISOBERT_ENCODER_CONFIG
    if isinstance(text_config, PreTrainedConfig):
        built = text_config
    elif isinstance(text_config, dict) and isinstance(text_config.get("model_type"), str):
        fields = {key: value for key, value in text_config.items() if key != "model_type"}
        try:
            built = AutoConfig.for_model(text_config["model_type"], **fields)
        except ValueError:
            reject_value(
                "text_config.model_type", text_config["model_type"],
                "an encoder type this transformers knows, e.g. 'xlm-roberta' or 'bert'",
            )  # fmt: skip
    else:
        reject_value("text_config", text_config, allowed)
    if not hasattr(built, "hidden_size"):
        reject_value("text_config", type(built).__name__, "an encoder configuration with a `hidden_size`",
                     "Pass the config of an encoder such as XLM-R or BERT.")  # fmt: skip
    return built


#: Encoder types whose position ids start after the padding index (`padding_idx + 1`).
_POSITION_OFFSET_TYPES = ("roberta", "xlm-roberta", "camembert", "xlm-roberta-xl", "data2vec-text")


def encoder_max_tokens(model_type: Any, max_position_embeddings: Any, pad_token_id: Any = 1) -> int | None:
    """The most tokens (special tokens included) an encoder's position embeddings can read, from its config's
    `model_type`, `max_position_embeddings` and `pad_token_id`; `None` when the positions are not an integer.
    RoBERTa-family encoders number positions from the padding index + 1 (514 positions hold 512 tokens).

    Example:

    ```python
    >>> encoder_max_tokens("xlm-roberta", 514, 1), encoder_max_tokens("bert", 512, 0)
    (512, 512)
    ```
    """
    if isinstance(max_position_embeddings, bool) or not isinstance(max_position_embeddings, int):
        return None
    if str(model_type or "") in _POSITION_OFFSET_TYPES:
        return max_position_embeddings - (int(pad_token_id or 0) + 1)
    return max_position_embeddings


#: Keys of a fine-tuned encoder's config that describe that fine-tune, not the encoder.
FINETUNE_KEYS = ("architectures", "id2label", "label2id", "problem_type", "finetuning_task", "num_labels")


def pretrained_encoder_config(name_or_path: str, hub_kwargs: dict[str, Any], refuse_model_type: str) -> dict[str, Any]:
    """The encoder config of a checkpoint as a dict, without the keys of a fine-tune (`architectures`, labels).

    Raises:
        ValueError: the checkpoint's `model_type` is `refuse_model_type` (a finished aspect-sentiment model, not
            an encoder); the message says how to load it instead.
    """
    local = {k: hub_kwargs.get(k) for k in ("revision", "cache_dir", "local_files_only")}
    config_dict, _ = PreTrainedConfig.get_config_dict(name_or_path, **local)
    if config_dict.get("model_type") == refuse_model_type:
        raise ValueError(
            f"`{name_or_path}` is already a visobert_absa model, not an encoder. Load it with "
            f"`ViSoBertAbsaForAspectSentiment.from_pretrained({name_or_path!r})`."
        )
    text_config = AutoConfig.from_pretrained(name_or_path, **hub_kwargs).to_dict()
    for key in FINETUNE_KEYS:
        text_config.pop(key, None)
    return text_config


#: A Hub id named in a model folder's own README (its model card): `from_pretrained("org/name")`-style usage.
_README_HUB_ID = re.compile(r"""(?:from_pretrained|SentenceTransformer)\(\s*['"]([A-Za-z0-9][\w.-]*/[\w.-]+)['"]""")


def encoder_name(name_or_path: str | os.PathLike) -> str:
    """What a saved config records as the encoder it started from, never a machine's path: a Hub id as given; for a
    local folder, the Hub id its own README (model card) loads it by, else `./<folder name>`."""
    path = Path(name_or_path)
    if not path.is_dir():
        return str(name_or_path)
    readme = path / "README.md"
    if readme.is_file():
        found = _README_HUB_ID.search(readme.read_text(encoding="utf-8", errors="ignore")[:200_000])
        if found:
            return found.group(1)
    return f"./{path.resolve().name}"


def check_encoder_weights(name_or_path: str, model_type: str, info: dict[str, Any]) -> None:
    """Refuse a checkpoint that does not hold every weight of the encoder (`info` from `output_loading_info`).

    Raises:
        ValueError: listing the missing keys and counting those of the wrong shape.
    """
    missing = sorted(info.get("missing_keys", []))
    mismatched = info.get("mismatched_keys", [])
    if missing or mismatched:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise ValueError(
            f"`{name_or_path}` does not hold the weights of a {model_type} encoder: "
            f"{len(missing)} encoder weights are missing ({shown})"
            + (f" and {len(mismatched)} have the wrong shape" if mismatched else "")
            + ". Pass a checkpoint saved by `AutoModel`/`...ForMaskedLM` of that architecture."
        )


def load_pretrained_encoder(name_or_path: str, hub_kwargs: dict[str, Any]) -> tuple[PreTrainedModel, dict[str, Any]]:
    """The pretrained encoder without its pooler, and its loading info. `transformers` reports the checkpoint's
    pooler weights (`pooler.dense ...`) as unused, which is deliberate here (the head pools by itself): its
    warnings are held back for the load (its public verbosity setting, restored after) and the keys that matter
    are logged here from the loading info."""
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        try:
            source, info = AutoModel.from_pretrained(
                name_or_path, output_loading_info=True, add_pooling_layer=False, **hub_kwargs
            )
        except TypeError:  # encoders without a pooler do not take `add_pooling_layer`
            source, info = AutoModel.from_pretrained(name_or_path, output_loading_info=True, **hub_kwargs)
    finally:
        transformers_logging.set_verbosity(verbosity)
    unexpected = sorted(info.get("unexpected_keys", []))
    unused_pooler = [key for key in unexpected if key.split(".")[0] == "pooler"]
    if unused_pooler:
        logger.info(
            "Not used from %s: the encoder's pooler (%s); the head pools by itself.",
            name_or_path,
            ", ".join(unused_pooler),
        )
    others = [key for key in unexpected if key not in unused_pooler]
    if others:
        logger.warning(
            "%s holds %d weights the encoder does not use: %s", name_or_path, len(others), ", ".join(others[:8])
        )
    return source, info


def encoder_from_config(text_config: Any) -> PreTrainedModel:
    """Build the encoder from its config with random weights; never downloads."""
    try:
        return AutoModel.from_config(text_config, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(text_config)


__all__ = [
    "FINETUNE_KEYS",
    "encoder_config",
    "encoder_name",
    "VISOBERT_ENCODER_CONFIG",
    "check_encoder_weights",
    "encoder_from_config",
    "encoder_max_tokens",
    "load_pretrained_encoder",
    "pretrained_encoder_config",
]
