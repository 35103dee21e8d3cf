"""The heads on the pooled encoder states: the classification head, the contrastive projection head, and the
BERT-style pooler of `pooling="pooler"`.

This file travels to the Hugging Face Hub next to the weights (a sibling of the modeling file): it imports only
`torch` and its siblings.

References:
    - Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
      NAACL 2019, arXiv:1810.04805 (the pooler).
    - Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, arXiv:2004.11362 (the projection head).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .configuration_visobert_absa import ViSoBertAbsaConfig


class ViSoBertAbsaPooler(nn.Module):
    """Dense + tanh over the first token's state (BERT's pooler, Devlin et al. 2019), used by `pooling="pooler"`.

    Args:
        hidden_size (`int`): the encoder's width H.
    """

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.Tanh()

    def forward(self, first_token: torch.Tensor) -> torch.Tensor:
        """`[B, H]` -> `[B, H]`."""
        return self.activation(self.dense(first_token))


class ViSoBertAbsaClassificationHead(nn.Module):
    """Dense (`head_hidden_size`) -> ReLU -> Dropout -> one distribution per aspect.

    Args:
        config ([`ViSoBertAbsaConfig`]): gives `head_hidden_size`, `classifier_dropout`, `num_aspects`, `num_classes`.
        hidden_size (`int`): the width H of the pooled vector.
    """

    def __init__(self, config: ViSoBertAbsaConfig, hidden_size: int) -> None:
        super().__init__()
        self.num_aspects, self.num_classes = config.num_aspects, config.num_classes
        self.dense = nn.Linear(hidden_size, config.head_hidden_size)
        self.activation = nn.ReLU()
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.out_proj = nn.Linear(config.head_hidden_size, config.num_aspects * config.num_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """`[B, H]` -> logits `[B, A, C]`."""
        hidden = self.dropout(self.activation(self.dense(pooled)))  # [B, head_hidden_size]
        return self.out_proj(hidden).view(-1, self.num_aspects, self.num_classes)  # [B, A, C]

    def per_aspect(self, vectors: torch.Tensor) -> torch.Tensor:
        """One vector per aspect `[B, A, H]` -> logits `[B, A, C]`, aspect a scored from its own vector only (the
        output rows of aspect a applied to vector a; the other aspects' rows are never computed)."""
        hidden = self.dropout(self.activation(self.dense(vectors)))  # [B, A, head_hidden_size]
        weight, bias = self.out_proj.weight, self.out_proj.bias
        if callable(weight):  # torch.ao dynamic quantization keeps packed int8 weights behind methods
            weight, bias = weight().dequantize(), bias()
        weight = weight.view(self.num_aspects, self.num_classes, -1)  # [A, C, head_hidden_size]
        bias = bias.view(self.num_aspects, self.num_classes)  # [A, C]
        return torch.einsum("bah,ach->bac", hidden, weight) + bias


class ViSoBertAbsaProjectionHead(nn.Module):
    """Linear projection to `projection_dim`, L2-normalised: the embedding the contrastive loss compares
    (Khosla et al. 2020, "Supervised Contrastive Learning", arXiv:2004.11362).

    Args:
        hidden_size (`int`): the width H of the pooled vector.
        projection_dim (`int`): the embedding size D.
    """

    def __init__(self, hidden_size: int, projection_dim: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, projection_dim)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """`[B, H]` -> unit-length `[B, D]`."""
        return F.normalize(self.dense(pooled), p=2, dim=-1)


__all__ = ["ViSoBertAbsaClassificationHead", "ViSoBertAbsaPooler", "ViSoBertAbsaProjectionHead"]
