"""How much a prediction depends on its evidence: ERASER comprehensiveness and sufficiency.

DeYoung et al., "ERASER: A Benchmark to Evaluate Rationalized NLP Models", ACL 2020: for the predicted class c of
an aspect, with p(c | x) its probability on the review x and e the evidence words,

- comprehensiveness = p(c | x) - p(c | x without e): high when removing the evidence removes the prediction;
- sufficiency = p(c | x) - p(c | e alone): low when the evidence alone keeps the prediction.

Words are those of `word_spans` (the evidence's own unit). Removing words cuts their characters out of the text
(punctuation and the other words stay; runs of spaces become one); "the evidence alone" is its words in text order,
joined by spaces. `benchmarks/evidence.py` runs both against random words of the same count and leave-one-out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch

__all__ = [
    "evidence_size",
    "probabilities_of",
    "ranking_from_evidence",
    "with_words_removed",
    "with_words_only",
]


def with_words_removed(text: str, spans: Sequence[tuple[int, int]], drop: Sequence[int]) -> str:
    """`text` with the words `drop` (indices into `spans`) cut out; runs of spaces collapsed, ends stripped.

    Example:

    ```python
    >>> from hf_visobert_absa.hub.evidence_visobert_absa import word_spans
    >>> text = "Pin trâu, camera đẹp."
    >>> with_words_removed(text, word_spans(text), [1, 3])
    'Pin , camera .'
    ```
    """
    pieces, cursor = [], 0
    for index in sorted(set(drop)):
        start, end = spans[index]
        pieces.append(text[cursor:start])
        cursor = end
    pieces.append(text[cursor:])
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


def with_words_only(text: str, spans: Sequence[tuple[int, int]], keep: Sequence[int]) -> str:
    """The words `keep` (indices into `spans`) alone, in text order, joined by spaces."""
    return " ".join(text[spans[i][0] : spans[i][1]] for i in sorted(set(keep)))


def evidence_size(k: int | str, num_words: int) -> int:
    """How many words "top k" means for a review of `num_words` words: `k` itself (at most all of them), or for a
    share such as `"20%"` that share of the words, rounded, at least one."""
    if isinstance(k, str) and k.endswith("%"):
        return max(1, round(num_words * float(k[:-1]) / 100))
    return min(int(k), num_words)


def ranking_from_evidence(spans: Sequence[tuple[int, int]], evidence: list[dict[str, Any]]) -> list[int]:
    """Word indices best first: the evidence words in their order, then every other word in text order (a method
    that gives a word no positive weight ranks it after the evidence)."""
    index_of = {span: i for i, span in enumerate(spans)}
    ranked = [index_of[(w["start"], w["end"])] for w in evidence if (w["start"], w["end"]) in index_of]
    return ranked + [i for i in range(len(spans)) if i not in set(ranked)]


@torch.inference_mode()
def probabilities_of(
    model: Any, tokenizer: Any, texts: list[str], batch_size: int = 64, max_length: int = 128
) -> torch.Tensor:
    """Per-aspect class probabilities `[N, A, C]` of `texts` (an empty text scores as the tokenizer's special tokens
    alone), longest first in batches padded to their own longest."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = torch.empty(len(texts), model.config.num_aspects, model.config.num_classes)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in index], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        out[torch.tensor(index)] = logits.float().softmax(dim=-1)
    return out
