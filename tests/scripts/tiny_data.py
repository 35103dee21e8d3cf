"""The tiny model, batch and examples shared by the distributed, numerics and resumption scripts and tests."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tiny import WORDS, tiny_model  # noqa: E402

ASPECTS = ["Battery", "Camera", "Price"]
BATCH = 8  # global batch of `full_batch()`

#: Canonical labels (0 none, 1 positive, 2 negative, 3 neutral) for Battery, Camera, Price. Rank 0 gets rows
#: 0-3, rank 1 rows 4-7: rows 4, 5 and 6 repeat rows 0, 2 and 1, so identical label sets only meet ACROSS ranks.
CANONICAL_LABELS = [
    [1, 0, 2],
    [1, 1, 0],
    [0, 2, 2],
    [3, 0, 1],
    [1, 0, 2],
    [0, 2, 2],
    [1, 1, 0],
    [2, 3, 1],
]


def build_model(overrides: dict) -> torch.nn.Module:
    """The same tiny model on every rank and in the single-process reference."""
    model = tiny_model(seed=0, aspects=ASPECTS, classifier_dropout=0.0, pooling="mean", **overrides)
    model.train()
    return model


def full_batch(label_scheme: str = "absent_as_class") -> dict[str, torch.Tensor]:
    """A fixed padded batch of `BATCH` reviews labelled with `CANONICAL_LABELS` in the given scheme."""
    generator = torch.Generator().manual_seed(1234)
    lengths = torch.tensor([9, 7, 12, 5, 12, 8, 6, 10])
    input_ids = torch.randint(5, 60, (BATCH, 12), generator=generator)
    attention_mask = (torch.arange(12).unsqueeze(0) < lengths.unsqueeze(1)).long()
    input_ids = input_ids.masked_fill(attention_mask == 0, 1)  # <pad> = 1
    input_ids[:, 0] = 0  # <s>
    canonical = torch.tensor(CANONICAL_LABELS)
    if label_scheme == "mentioned_only":
        labels = torch.where(canonical > 0, canonical - 1, torch.full_like(canonical, -100))
    else:
        labels = canonical
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def tiny_examples(tokenizer, count: int = 16, seed: int = 7) -> list[dict]:
    """`count` tokenised reviews with canonical labels (absent_as_class), deterministic for a seed; a list of
    dicts the `Trainer` takes as a dataset with `DataCollatorWithPadding`."""
    generator = torch.Generator().manual_seed(seed)
    examples = []
    for _ in range(count):
        length = int(torch.randint(3, 9, (1,), generator=generator))
        words = [WORDS[int(i)] for i in torch.randint(0, len(WORDS), (length,), generator=generator)]
        encoded = tokenizer(" ".join(words))
        labels = torch.randint(0, 4, (len(ASPECTS),), generator=generator).tolist()
        examples.append(
            {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": labels}
        )
    return examples
