"""Aspect-aware poolings: one vector per aspect from ONE encoder pass.

- `AspectQueryPooling` (`pooling="aspect_query"`): a learned query per aspect attends over the encoder's last token
  states; the aspects see the same token states and differ only in where their query looks.
- `AspectPromptPooling` (`pooling="aspect_prompt"`): a learned input vector per aspect is placed after the first
  token, so every encoder layer can condition on the aspect; each aspect is read from its own position of the
  last layer. The idea of aspect-conditioned encoding is that of the sentence-pair formulation (Sun et al.,
  "Utilizing BERT for Aspect-Based Sentiment Analysis via Constructing Auxiliary Sentence", NAACL 2019), which runs
  one encoder pass per aspect; here all aspects share one pass, as learned continuous prompts do (Li & Liang,
  "Prefix-Tuning", ACL 2021; Lester et al., "The Power of Scale for Parameter-Efficient Prompt Tuning",
  EMNLP 2021).

This file travels to the Hugging Face Hub: it imports only the standard library and `torch`.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class AspectQueryPooling(nn.Module):
    """Learned queries per aspect attend over the token states: `[B, L, H]` -> `[B, A, H]`.

    Scaled dot-product attention (Vaswani et al., NeurIPS 2017) with a learned query per aspect, as in
    attention-based aspect-category sentiment models (Wang et al., "Attention-based LSTM for Aspect-level
    Sentiment Classification", EMNLP 2016). With `num_heads` K > 1 the width splits into K heads of H / K, as in
    multi-head attention: each head of an aspect's query weighs the tokens on its own slice of the states, so one
    aspect can read several places (its target and the opinion words) at no extra parameter. Queries start near
    zero, so every aspect starts from the masked mean of the tokens and learns where to look.

    Args:
        num_aspects (`int`): A, one query each.
        hidden_size (`int`): H, the encoder's width.
        num_heads (`int`, *optional*, defaults to 1): K, a divisor of H.
    """

    def __init__(self, num_aspects: int, hidden_size: int, num_heads: int = 1) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"`num_heads` got {num_heads}; allowed: a divisor of the hidden size {hidden_size}.")
        self.num_heads = num_heads
        self.queries = nn.Parameter(torch.zeros(num_aspects, hidden_size))

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, hidden = hidden_states.shape
        heads = hidden_states.view(batch, length, self.num_heads, hidden // self.num_heads)  # [B, L, K, d]
        weights = self.attention(hidden_states, attention_mask)  # [B, A, K, L]
        return torch.einsum("bakl,blkd->bakd", weights, heads).reshape(batch, -1, hidden)

    def attention(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Each aspect's attention over the tokens, per head: `[B, L, H]` -> `[B, A, K, L]` (rows sum to 1;
        padding gets 0). Its mean over heads is the aspect's evidence (`evidence_visobert_absa`)."""
        batch, length, hidden = hidden_states.shape
        heads = hidden_states.view(batch, length, self.num_heads, hidden // self.num_heads)  # [B, L, K, d]
        queries = self.queries.to(hidden_states.dtype).view(-1, self.num_heads, hidden // self.num_heads)
        scores = torch.einsum("blkd,akd->bakl", heads, queries) / math.sqrt(heads.shape[-1])  # [B, A, K, L]
        if attention_mask is not None:
            keep = attention_mask[:, None, None, :].bool()
            scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
        return torch.softmax(scores, dim=-1)


class AspectPromptPooling(nn.Module):
    """One learned input vector ("prompt") per aspect, placed after the first token; the last layer's state at
    each prompt position is that aspect's vector.

    `insert`: token embeddings `[B, L, H]` -> `[B, 1 + A + (L - 1), H]` (and the attention mask, token types
    alike: prompts are attended, of type 0); `read`: last hidden states of that length -> `[B, A, H]`. The
    encoder then reads A more positions than the text has, so a text may use A fewer tokens.

    Args:
        num_aspects (`int`): A, one prompt each.
        hidden_size (`int`): H, the encoder's input width.
    """

    def __init__(self, num_aspects: int, hidden_size: int) -> None:
        super().__init__()
        self.prompts = nn.Parameter(torch.zeros(num_aspects, hidden_size))

    @property
    def num_aspects(self) -> int:
        return self.prompts.shape[0]

    def insert(
        self, embeddings: torch.Tensor, attention_mask: torch.Tensor | None, token_type_ids: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """The encoder's inputs with the prompts after the first token."""
        batch = embeddings.shape[0]
        prompts = self.prompts.to(embeddings.dtype).unsqueeze(0).expand(batch, -1, -1)  # [B, A, H]
        embeddings = torch.cat([embeddings[:, :1], prompts, embeddings[:, 1:]], dim=1)
        if attention_mask is not None:
            ones = attention_mask.new_ones(batch, self.num_aspects)
            attention_mask = torch.cat([attention_mask[:, :1], ones, attention_mask[:, 1:]], dim=1)
        if token_type_ids is not None:
            zeros = token_type_ids.new_zeros(batch, self.num_aspects)
            token_type_ids = torch.cat([token_type_ids[:, :1], zeros, token_type_ids[:, 1:]], dim=1)
        return embeddings, attention_mask, token_type_ids

    def read(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Last hidden states `[B, 1 + A + L - 1, H]` -> the aspects' states `[B, A, H]`."""
        return hidden_states[:, 1 : 1 + self.num_aspects]
