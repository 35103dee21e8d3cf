"""Tiny encoders and tokenizers built in code for the tests (never downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

WORDS = (
    "pin trâu yếu camera chụp đẹp xấu máy mạnh chậm lag màn hình sáng tối thiết kế sang đóng gói cẩn thận "
    "giá rẻ đắt shop tư vấn nhiệt tình giao hàng nhanh tốt ổn kém không rất hơi hài lòng sản phẩm"
).split()


def tiny_text_config(model_type: str = "xlm-roberta", vocab_size: int = 128, **overrides: Any) -> dict[str, Any]:
    """A 2-layer, 32-wide encoder config (transformers test style)."""
    config: dict[str, Any] = {
        "model_type": model_type,
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "max_position_embeddings": 130,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "type_vocab_size": 1,
    }
    if model_type in ("xlm-roberta", "roberta"):
        config.update({"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2})
    else:
        config.update({"pad_token_id": 1})
    config.update(overrides)
    return config


def tiny_tokenizer(model_max_length: int = 128):
    """A word-level fast tokenizer over a small Vietnamese vocabulary, with XLM-R special tokens and template."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    from hf_visobert_absa.demo import wrap_xlmr_tokenizer

    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    return wrap_xlmr_tokenizer(backend, model_max_length)


def tiny_model(seed: int = 0, text_config: dict[str, Any] | None = None, **config_kwargs: Any):
    """A `ViSoBertAbsaModel` on a tiny random encoder, deterministic for a seed."""
    import torch

    from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaModel

    torch.manual_seed(seed)
    config = ViSoBertAbsaConfig(text_config=text_config or tiny_text_config(), **config_kwargs)
    return ViSoBertAbsaModel(config)
