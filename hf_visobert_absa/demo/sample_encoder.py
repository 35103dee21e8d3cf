"""The demo's default encoder, built in code: a small BPE tokenizer trained on the sample's reviews and a 2-layer
XLM-R configuration (random weights), so that the demo runs offline in well under a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..data.tokenization import wrap_xlmr_tokenizer

#: XLM-R's special tokens, in id order.
SPECIAL_TOKENS: tuple[str, ...] = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def train_sample_tokenizer(texts: Sequence[str], vocab_size: int = 2000, model_max_length: int = 128) -> Any:
    """Trains a small BPE tokenizer on `texts`, shaped like XLM-R/ViSoBERT's (Metaspace word boundaries, special
    tokens `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, `<mask>`=4, sequences framed as `<s> X </s>`).

    Text is NFC-normalised and lower-cased (the sample is too small to learn cased variants separately);
    Vietnamese diacritics are kept, since they change the meaning of a word.

    Args:
        texts (`Sequence[str]`): the training texts.
        vocab_size (`int`, defaults to 2000): upper bound on the vocabulary (a small sample yields fewer merges).
        model_max_length (`int`, defaults to 128): longest input in tokens, special tokens included.

    Returns:
        `transformers.PreTrainedTokenizerFast`; `save_pretrained` writes a folder that
        `AutoTokenizer.from_pretrained` loads without this package.

    Example:

    ```python
    >>> tok = train_sample_tokenizer(["Pin trâu, camera đẹp.", "Pin yếu."])
    >>> tok.convert_ids_to_tokens(tok("Pin trâu")["input_ids"])
    ['<s>', '▁pin', '▁trâu', '</s>']
    ```
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])
    backend.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    backend.train_from_iterator(list(texts), trainer=trainer)
    return wrap_xlmr_tokenizer(backend, model_max_length)


def small_encoder_config(vocab_size: int, model_max_length: int = 128) -> dict[str, Any]:
    """The demo's encoder: XLM-R with 2 layers of width 128 and 4 heads (the whole model has about 0.55 M parameters
    with the sample's vocabulary of about 1,200 tokens), small enough to train from scratch on one CPU core in well
    under a minute."""
    return {
        "model_type": "xlm-roberta",
        "vocab_size": vocab_size,
        "hidden_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 256,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # XLM-R numbers positions from pad_token_id + 1: room for `model_max_length` tokens.
        "max_position_embeddings": model_max_length + 2,
        "type_vocab_size": 1,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
    }


__all__ = ["SPECIAL_TOKENS", "small_encoder_config", "train_sample_tokenizer"]
