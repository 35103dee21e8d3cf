"""The multi-label supervised contrastive loss over the projected review embeddings, and the original design's
soft-weighted variant (`mode="soft_agreement"`, for reproduction).

This file travels to the Hugging Face Hub next to the weights (a sibling of the losses): it imports only `torch`
and its siblings. Vectorised (no Python loop over the batch), computed in float32 for float16/bfloat16 inputs,
and exactly 0 with a finite zero gradient when no anchor has a positive.

References:
    - Khosla et al. "Supervised Contrastive Learning". NeurIPS 2020. arXiv:2004.11362.
    - Zhang & Wu. "Multi-Label Supervised Contrastive Learning" (MulSupCon). AAAI 2024.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from .configuration_visobert_absa import ASPECT_CONTRASTIVE_MODES, CONTRASTIVE_MODES

#: The configurable review-level modes plus `"supcon"` (single-label SupCon as published, for references and
#: tests); the aspect-level mode is [`aspect_sentiment_supcon_loss`].
SUPCON_MODES = (*(m for m in CONTRASTIVE_MODES if m not in ASPECT_CONTRASTIVE_MODES), "supcon")


def multilabel_supcon_loss(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    temperature: float = 0.1,
    mode: str = "mulsupcon",
    ignore_index: int = -100,
    num_classes: int | None = None,
    agreement_neutral_index: int = 2,
    agreement_base_weight: float = 0.1,
    *,
    candidates: torch.Tensor | None = None,
    candidate_labels: torch.Tensor | None = None,
    anchor_offset: int = 0,
) -> torch.Tensor:
    r"""Supervised contrastive loss (L_out form) for reviews that carry a SET of (aspect, sentiment) pairs.

    Each review i is represented by the set S_i of its mentioned (aspect, sentiment) pairs, a multi-hot row of
    `Y [B, A*C]`; a cell equal to `ignore_index` is not mentioned and contributes nothing (it is never
    "neutral"). With `s_ij = z_i . z_j / temperature` and the self-excluded
    `log p_ij = s_ij - logsumexp_{a != i} s_ia`:

    - `"mulsupcon"` (default): every (review i, pair k in S_i) is an anchor whose positives are the other
      reviews that contain k; `loss = -sum W * log p / #anchors with a positive`, `W = (Y * 1[n>0] / n) @ Y^T`.
      With one aspect it equals SupCon.
    - `"jaccard"`: positives weighted by |S_i ∩ S_j| / |S_i ∪ S_j|, normalised per anchor review.
    - `"any"`: positives are reviews that share at least one pair; `"exact"`: identical non-empty sets.
    - `"supcon"`: `labels` is `[B]`, one class per review (SupCon as published).
    - `"soft_agreement"`: the original design's soft-weighted loss, for reproduction only: every pair of reviews gets
      weight `base + sum_a [y_ia = y_ja] (1 + [both non-neutral]) / (2A)`, absent cells count as neutral, and
      `loss_i = -log(sum_j w_ij e^{s_ij} / sum_{j != i} e^{s_ij})`, averaged over all reviews.

    Args:
        embeddings (`torch.Tensor` of shape `[B, D]`): L2-normalised review embeddings.
        labels (`torch.Tensor` of shape `[B, A]`, or `[B]` for `"supcon"`): class index per aspect,
            `ignore_index` where the aspect is not mentioned.
        temperature (`float`, defaults to 0.1): softmax temperature tau.
        mode (`str`, defaults to `"mulsupcon"`): see above.
        ignore_index (`int`, defaults to -100): the "not mentioned" label value.
        num_classes (`int`, *optional*): number of sentiment classes C; inferred from the labels if omitted
            (pass it to avoid a host synchronisation).
        agreement_neutral_index (`int`, defaults to 2): the neutral class index, `"soft_agreement"` mode only.
        agreement_base_weight (`float`, defaults to 0.1): the weight every pair gets, `"soft_agreement"` mode only.
        candidates (`torch.Tensor` of shape `[N, D]`, *optional*): the whole batch the anchors are contrasted
            against, when `embeddings` holds only a shard of it (rows `anchor_offset .. anchor_offset + B - 1`
            of `candidates`), as under `torch.distributed` where each rank owns its local anchors and sees the
            gathered global batch. Each anchor's own column `anchor_offset + i` is masked out.
        candidate_labels (`torch.Tensor` of shape `[N, A]` or `[N]`): the labels of `candidates`; required with
            them.
        anchor_offset (`int`, defaults to 0): the row of `candidates` where this shard starts.

    Returns:
        `torch.Tensor`: a scalar; exactly 0 with a zero gradient when no anchor has a positive. With
        `candidates`, this shard's share of the full-batch loss: its anchors' terms divided by the normaliser of
        the whole candidate batch, so that the shares of all shards sum to the loss of the full batch.

    Raises:
        ValueError: unknown `mode`, non-positive `temperature`, shapes that do not match, or a shard that does
            not lie inside `candidates`.

    References:
        Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, arXiv:2004.11362.
        Zhang & Wu, "Multi-Label Supervised Contrastive Learning", AAAI 2024.

    Example:

    ```python
    >>> z = F.normalize(torch.randn(4, 8), dim=-1)
    >>> y = torch.tensor([[0, -100], [0, 1], [-100, 1], [2, -100]])
    >>> loss = multilabel_supcon_loss(z, y, num_classes=3)
    ```
    """
    loss_of_mode = _loss_of_mode(mode)
    _check_inputs(embeddings, labels, temperature)
    z = upcast_half(embeddings)  # anchors [B, D]
    if candidates is None:
        if candidate_labels is not None:
            raise ValueError("`candidate_labels` was given without `candidates`; pass both or neither.")
        candidates, candidate_labels, anchor_offset = z, labels, 0
    else:
        candidates, candidate_labels, anchor_offset = _check_candidates(
            z, labels, candidates, candidate_labels, anchor_offset
        )
    contrast = _contrast(z, labels, candidates, candidate_labels, anchor_offset, temperature)
    return loss_of_mode(
        contrast, _ModeOptions(ignore_index, num_classes, agreement_neutral_index, agreement_base_weight)
    )


def aspect_sentiment_supcon_loss(
    aspect_embeddings: torch.Tensor, sentiment_labels: torch.Tensor, temperature: float = 0.1, ignore_index: int = -100
) -> torch.Tensor:
    r"""Supervised contrastive loss over aspects, not reviews: every MENTIONED (review, aspect) cell of the batch is
    an anchor, represented by the L2-normalised projection of that aspect's own vector, and its positives are the
    other mentioned cells with the same sentiment, whatever their aspect or review (SupCon L_out over the M
    mentioned cells; not-mentioned cells take no part, neither as anchors nor in any denominator).

    One review that praises the food and blames the service gives two cells pulled towards opposite sentiment
    clusters, which a single review embedding cannot express. Sentiment-level supervised contrast of aspect
    representations as in Li et al., EMNLP 2021 (SCAPT).

    Args:
        aspect_embeddings (`torch.Tensor` of shape `[B, A, D]`): L2-normalised embeddings, one per (review, aspect).
        sentiment_labels (`torch.Tensor` of shape `[B, A]`): sentiment index 0..K-1 per cell, `ignore_index` where
            the aspect is not mentioned.
        temperature (`float`, defaults to 0.1): softmax temperature tau.
        ignore_index (`int`, defaults to -100): the "not mentioned" label value.

    Returns:
        `torch.Tensor`: a scalar; exactly 0 with a zero gradient when no mentioned cell has a positive.

    Raises:
        ValueError: shapes that do not match.

    References:
        Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, arXiv:2004.11362.
        Li et al., "Learning Implicit Sentiment in Aspect-based Sentiment Analysis with Supervised Contrastive
        Pre-Training", EMNLP 2021, arXiv:2111.02194.

    Example:

    ```python
    >>> z = F.normalize(torch.randn(2, 3, 8), dim=-1)
    >>> y = torch.tensor([[0, -100, 1], [0, 1, -100]])  # cells (0,0) and (1,0) are positives, so are (0,2), (1,1)
    >>> loss = aspect_sentiment_supcon_loss(z, y)
    ```
    """
    if aspect_embeddings.dim() != 3 or tuple(sentiment_labels.shape) != tuple(aspect_embeddings.shape[:2]):
        raise ValueError(
            f"`aspect_embeddings` must be [B, A, D] and `sentiment_labels` [B, A]; got "
            f"{tuple(aspect_embeddings.shape)} and {tuple(sentiment_labels.shape)}."
        )
    mentioned = sentiment_labels != ignore_index  # [B, A]
    cells = aspect_embeddings[mentioned]  # [M, D]
    if cells.shape[0] < 2:  # no pair to contrast; keep the graph for a finite zero gradient
        return upcast_half(aspect_embeddings).sum() * 0.0
    return multilabel_supcon_loss(
        cells, sentiment_labels[mentioned], temperature, mode="supcon", ignore_index=ignore_index
    )


def upcast_half(tensor: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32; float32/float64 unchanged (float64 keeps gradcheck exact). The losses' compute
    precision."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor


# ------------------------------------------------------------------------------------- inputs and similarities


def _check_inputs(embeddings: torch.Tensor, labels: torch.Tensor, temperature: float) -> None:
    if not isinstance(temperature, (int, float)) or temperature <= 0:
        raise ValueError(f"`temperature` got {temperature!r}; allowed: a number > 0.")
    if embeddings.dim() != 2 or labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"`embeddings` must be [B, D] and `labels` [B, ...] with the same B; got {tuple(embeddings.shape)} "
            f"and {tuple(labels.shape)}."
        )


def _check_candidates(
    z: torch.Tensor,
    labels: torch.Tensor,
    candidates: torch.Tensor,
    candidate_labels: torch.Tensor | None,
    anchor_offset: int,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Validate a shard of anchors against the candidate batch (shapes only: no host synchronisation)."""
    if candidate_labels is None:
        raise ValueError("`candidates` was given without `candidate_labels`; pass the labels of every candidate.")
    if candidates.dim() != 2 or candidates.shape[1] != z.shape[1] or candidate_labels.shape[0] != candidates.shape[0]:
        raise ValueError(
            f"`candidates` must be [N, D] with D = {z.shape[1]} and `candidate_labels` [N, ...] with the same N; "
            f"got {tuple(candidates.shape)} and {tuple(candidate_labels.shape)}."
        )
    if candidate_labels.shape[1:] != labels.shape[1:]:
        raise ValueError(
            f"`candidate_labels` has shape {tuple(candidate_labels.shape)} but `labels` has {tuple(labels.shape)}; "
            "they must agree beyond the batch dimension."
        )
    if not isinstance(anchor_offset, int) or anchor_offset < 0 or anchor_offset + z.shape[0] > candidates.shape[0]:
        raise ValueError(
            f"`anchor_offset` got {anchor_offset!r}; allowed: an int in [0, {candidates.shape[0] - z.shape[0]}] so "
            f"that the {z.shape[0]} anchors are rows of the {candidates.shape[0]} candidates."
        )
    return upcast_half(candidates), candidate_labels, anchor_offset


@dataclass(frozen=True)
class _Contrast:
    """`B` anchors against the `N` candidates they are rows `rows` of (`N == B` without a shard)."""

    sim: torch.Tensor  # [B, N], s_ij = z_i . c_j / tau
    log_denominator: torch.Tensor  # [B, 1], logsumexp of s_ia over the candidates a != i
    log_prob: torch.Tensor  # [B, N], s_ij - log_denominator_i
    self_mask: torch.Tensor  # [B, N], column j is anchor i itself
    rows: slice  # the anchors' rows among the candidates
    labels: torch.Tensor  # [B, A] or [B], the anchors' labels
    candidate_labels: torch.Tensor  # [N, A] or [N]


@dataclass(frozen=True)
class _ModeOptions:
    """The label settings of [`multilabel_supcon_loss`], as there."""

    ignore_index: int
    num_classes: int | None
    agreement_neutral_index: int
    agreement_base_weight: float


def _contrast(
    z: torch.Tensor,
    labels: torch.Tensor,
    candidates: torch.Tensor,
    candidate_labels: torch.Tensor,
    anchor_offset: int,
    temperature: float,
) -> _Contrast:
    """The similarities of the anchors `z` to the candidates, each anchor's own column excluded from its denominator."""
    rows = slice(anchor_offset, anchor_offset + z.shape[0])
    columns = torch.arange(candidates.shape[0], device=z.device)
    self_mask = columns.unsqueeze(0) == (columns[rows]).unsqueeze(1)  # [B, N], anchor i is column offset + i
    sim = (z @ candidates.T) / temperature  # [B, N]
    # Self-exclusion with the most negative finite value instead of -inf: identical for N >= 2 and keeps
    # a batch of one finite (its row then has no positive and contributes 0).
    sim_others = sim.masked_fill(self_mask, torch.finfo(sim.dtype).min)
    log_denominator = torch.logsumexp(sim_others, dim=1, keepdim=True)  # [B, 1]
    return _Contrast(sim, log_denominator, sim - log_denominator, self_mask, rows, labels, candidate_labels)


def _diagonal(contrast: _Contrast) -> torch.Tensor:
    """`[N, N]` boolean, True where a candidate meets itself."""
    return torch.eye(contrast.candidate_labels.shape[0], dtype=torch.bool, device=contrast.sim.device)


def _label_sets(contrast: _Contrast, options: _ModeOptions, mode: str) -> torch.Tensor:
    """The candidates' sets of (aspect, sentiment) pairs as multi-hot rows `[N, A*C]` in the loss dtype."""
    if contrast.labels.dim() != 2:
        raise ValueError(f"mode {mode!r} takes `labels` of shape [B, A]; got {tuple(contrast.labels.shape)}.")
    return _multi_hot(contrast.candidate_labels, options.ignore_index, options.num_classes).to(contrast.sim.dtype)


def _multi_hot(labels: torch.Tensor, ignore_index: int, num_classes: int | None) -> torch.Tensor:
    """`[B, A]` class indices -> `[B, A*C]` multi-hot rows of mentioned (aspect, sentiment) pairs."""
    valid = labels != ignore_index
    safe = labels.masked_fill(~valid, 0).long()
    if num_classes is None:
        num_classes = int(safe.max().item()) + 1 if safe.numel() else 1  # host sync; pass num_classes
    one_hot = F.one_hot(safe, num_classes) * valid.unsqueeze(-1)  # [B, A, C]
    return one_hot.reshape(labels.shape[0], -1)


def _overlaps(label_sets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`|S_i ∩ S_j|` `[N, N]` and `|S_i|` `[N]` from the multi-hot rows."""
    return label_sets @ label_sets.T, label_sets.sum(dim=1)


def _mean_over_positives(positives: torch.Tensor, contrast: _Contrast) -> torch.Tensor:
    """SupCon L_out from the boolean `[N, N]` positives of the candidate batch: mean over each anchor's positives,
    then over the anchors that have one (counted in the whole candidate batch)."""
    positives = positives.to(contrast.log_prob.dtype)
    num_pos = positives.sum(dim=1)  # [N]
    has_positive = (num_pos > 0).to(positives.dtype)
    rows = contrast.rows
    per_anchor = -(positives[rows] * contrast.log_prob).sum(dim=1) / num_pos[rows].clamp_min(1.0)  # [B]
    return (per_anchor * has_positive[rows]).sum() / has_positive.sum().clamp_min(1.0)


# ------------------------------------------------------------------------------------- one loss per mode


def _supcon_loss(contrast: _Contrast, options: _ModeOptions) -> torch.Tensor:
    """`"supcon"`: one class per review; positives share it."""
    labels = contrast.candidate_labels
    if contrast.labels.dim() != 1:
        raise ValueError(f"mode 'supcon' takes `labels` of shape [B]; got {tuple(contrast.labels.shape)}.")
    valid = labels != options.ignore_index
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    return _mean_over_positives(same & valid.unsqueeze(0) & valid.unsqueeze(1) & ~_diagonal(contrast), contrast)


def _mulsupcon_loss(contrast: _Contrast, options: _ModeOptions) -> torch.Tensor:
    """`"mulsupcon"`: one anchor per (review, pair), its positives the other reviews holding the pair."""
    y = _label_sets(contrast, options, "mulsupcon")  # [N, K]
    others = y.sum(dim=0, keepdim=True) - 1.0  # [1, K], reviews besides the anchor that hold pair k
    anchor = y * (others > 0).to(y.dtype)  # label-anchors that have a positive, [N, K]
    weights = (anchor[contrast.rows] / others.clamp_min(1.0)) @ y.T  # [B, N]
    weights = weights.masked_fill(contrast.self_mask, 0.0)
    return -(weights * contrast.log_prob).sum() / anchor.sum().clamp_min(1.0)


def _jaccard_loss(contrast: _Contrast, options: _ModeOptions) -> torch.Tensor:
    """`"jaccard"`: positives weighted by |S_i ∩ S_j| / |S_i ∪ S_j|, normalised per anchor review."""
    shared, sizes = _overlaps(_label_sets(contrast, options, "jaccard"))
    union = sizes.unsqueeze(0) + sizes.unsqueeze(1) - shared
    weights = (shared / union.clamp_min(1.0)).masked_fill(_diagonal(contrast), 0.0)  # [N, N]
    row_sum = weights.sum(dim=1, keepdim=True)
    weights = weights / row_sum.clamp_min(torch.finfo(weights.dtype).tiny)
    has_positive = (row_sum.squeeze(1) > 0).to(weights.dtype)  # [N]
    per_anchor = -(weights[contrast.rows] * contrast.log_prob).sum(dim=1)  # [B]
    return (per_anchor * has_positive[contrast.rows]).sum() / has_positive.sum().clamp_min(1.0)


def _any_loss(contrast: _Contrast, options: _ModeOptions) -> torch.Tensor:
    """`"any"`: positives share at least one pair."""
    shared, _ = _overlaps(_label_sets(contrast, options, "any"))
    return _mean_over_positives((shared > 0) & ~_diagonal(contrast), contrast)


def _exact_loss(contrast: _Contrast, options: _ModeOptions) -> torch.Tensor:
    """`"exact"`: positives hold the identical non-empty set of pairs."""
    shared, sizes = _overlaps(_label_sets(contrast, options, "exact"))
    identical = (shared == sizes.unsqueeze(1)) & (shared == sizes.unsqueeze(0)) & (sizes > 0).unsqueeze(1)
    return _mean_over_positives(identical & ~_diagonal(contrast), contrast)


def _soft_agreement_loss(contrast: _Contrast, options: _ModeOptions) -> torch.Tensor:
    """`"soft_agreement"`: the original design's soft-weighted loss, vectorised; the mean over reviews divides by `N`, so the
    shares of all shards of a batch sum to its loss."""
    sim = contrast.sim
    weights = _soft_agreement_weights(contrast.labels, contrast.candidate_labels, options, sim.dtype)  # [B, N]
    log_weights = torch.log(weights).masked_fill(contrast.self_mask, torch.finfo(sim.dtype).min)
    per_review = torch.logsumexp(sim + log_weights, dim=1) - contrast.log_denominator.squeeze(1)  # [B]
    batch, total = sim.shape
    loss = -per_review.mean() if total == batch else -per_review.sum() / total
    if total < 2:  # the original returns 0 for a batch of one; keep the graph for a finite zero gradient
        return loss * 0.0
    return loss


def _soft_agreement_weights(
    labels: torch.Tensor, candidate_labels: torch.Tensor, options: _ModeOptions, dtype: torch.dtype
) -> torch.Tensor:
    """`base + sum_a [y_ia = y_ja] (1 + [both non-neutral]) / (2A)`, absent cells counted as neutral: `[B, N]`."""
    if labels.dim() != 2:
        raise ValueError(f"mode 'soft_agreement' takes `labels` of shape [B, A]; got {tuple(labels.shape)}.")
    neutral = options.agreement_neutral_index
    y = labels.masked_fill(labels == options.ignore_index, neutral)  # [B, A]
    y_all = candidate_labels.masked_fill(candidate_labels == options.ignore_index, neutral)  # [N, A]
    match = (y.unsqueeze(1) == y_all.unsqueeze(0)).to(dtype)  # [B, N, A]
    both = (y != neutral).to(dtype).unsqueeze(1) * (y_all != neutral).to(dtype).unsqueeze(0)
    return (match * (1.0 + both)).sum(dim=-1) / (2.0 * labels.shape[1]) + options.agreement_base_weight


_LOSS_OF_MODE = {
    "mulsupcon": _mulsupcon_loss,
    "jaccard": _jaccard_loss,
    "any": _any_loss,
    "exact": _exact_loss,
    "soft_agreement": _soft_agreement_loss,
    "supcon": _supcon_loss,
}


def _loss_of_mode(mode: str) -> Callable[[_Contrast, _ModeOptions], torch.Tensor]:
    """The loss function of a review-level `mode`; a ValueError naming the allowed modes otherwise."""
    if mode not in SUPCON_MODES:
        hint = (
            " It contrasts per-aspect embeddings: use `aspect_sentiment_supcon_loss`."
            if mode in ASPECT_CONTRASTIVE_MODES
            else ""
        )
        raise ValueError(f"`mode` got {mode!r}; allowed: {', '.join(map(repr, SUPCON_MODES))}.{hint}")
    return _LOSS_OF_MODE[mode]


__all__ = ["SUPCON_MODES", "aspect_sentiment_supcon_loss", "multilabel_supcon_loss", "upcast_half"]
