"""The two training losses of the aspect-sentiment model: a softmax focal loss over per-aspect logits and a
multi-label supervised contrastive loss over the projected review embeddings.

This file travels to the Hugging Face Hub: it imports only the standard library and `torch`.

Both losses are vectorised (no Python loop over the batch or the aspects, no host synchronisation),
computed in float32 when given float16/bfloat16 inputs, and return exactly 0 with a finite zero gradient
when nothing in the batch is valid.

References:
    - Lin, Goyal, Girshick, He, Dollár. "Focal Loss for Dense Object Detection". ICCV 2017. arXiv:1708.02002.
    - Khosla et al. "Supervised Contrastive Learning". NeurIPS 2020. arXiv:2004.11362.
    - Zhang & Wu. "Multi-Label Supervised Contrastive Learning" (MulSupCon). AAAI 2024.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .configuration_visobert_absa import CONTRASTIVE_MODES
from .cross_device import gather_across_devices

FOCAL_REDUCTIONS = ("mean", "sum", "none")
#: The configurable modes plus `"supcon"` (single-label SupCon as published, for references and tests).
SUPCON_MODES = (*CONTRASTIVE_MODES, "supcon")


def _upcast(tensor: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32; float32/float64 unchanged (float64 keeps gradcheck exact)."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor


def focal_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    gamma: float = 2.0,
    alpha: torch.Tensor | list | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Softmax focal loss `FL = -alpha_t * (1 - p_t)^gamma * log p_t` over every valid (review, aspect) cell.

    Args:
        logits (`torch.Tensor` of shape `[B, A, C]` or `[N, C]`): unnormalised class scores.
        labels (`torch.Tensor` of shape `[B, A]` or `[N]`): class index per cell, `ignore_index` where the
            cell does not count.
        gamma (`float`, defaults to 2.0): focusing parameter; 0 gives cross-entropy.
        alpha (`torch.Tensor` or `list`, *optional*): class weights `[C]`, or `[A, C]` per aspect and class
            (`alpha_t = alpha[a, y]`). A scalar is rejected: with softmax it only rescales the loss.
        ignore_index (`int`, defaults to -100): label value of cells that do not count.
        reduction (`str`, defaults to `"mean"`): `"mean"` = sum of cell losses / number of valid cells (not
            divided by the sum of `alpha_t`), `"sum"`, or `"none"` (per cell, 0 at ignored cells).

    Returns:
        `torch.Tensor`: a scalar (or `labels`-shaped for `"none"`), float32 for half-precision inputs.

    Raises:
        ValueError: unknown `reduction`, negative `gamma`, mismatched shapes, or a scalar/ill-shaped `alpha`.

    References:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, arXiv:1708.02002.

    Example:

    ```python
    >>> logits = torch.tensor([[[2.0, 0.5, -1.0]]])
    >>> round(focal_loss(logits.double(), torch.tensor([[0]]), gamma=2.0).item(), 9)
    0.01109275
    ```
    """
    if reduction not in FOCAL_REDUCTIONS:
        raise ValueError(f"`reduction` got {reduction!r}; allowed: {', '.join(map(repr, FOCAL_REDUCTIONS))}.")
    if not isinstance(gamma, (int, float)) or isinstance(gamma, bool) or gamma < 0:
        raise ValueError(f"`gamma` got {gamma!r}; allowed: a number >= 0.")
    if logits.shape[:-1] != labels.shape:
        raise ValueError(
            f"`labels` has shape {tuple(labels.shape)} but `logits` has {tuple(logits.shape)}; "
            "labels must have the shape of logits without its last (class) dimension."
        )
    x = _upcast(logits)
    valid = labels != ignore_index  # [B, A]
    safe_labels = labels.masked_fill(~valid, 0).long()
    log_p = F.log_softmax(x, dim=-1)
    log_pt = log_p.gather(-1, safe_labels.unsqueeze(-1)).squeeze(-1)  # [B, A]
    loss = -log_pt
    if gamma != 0:
        # 1 - p_t = -expm1(log p_t): exact near p_t = 1, clamped so that gamma < 1 has a finite gradient.
        one_minus_pt = (-torch.expm1(log_pt)).clamp_min(torch.finfo(x.dtype).tiny)
        loss = loss * one_minus_pt.pow(gamma)
    if alpha is not None:
        loss = loss * _alpha_per_cell(alpha, x, safe_labels)
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / valid.sum().clamp_min(1).to(loss.dtype)


def _alpha_per_cell(alpha: torch.Tensor | list, x: torch.Tensor, safe_labels: torch.Tensor) -> torch.Tensor:
    alpha_t = torch.as_tensor(alpha, dtype=x.dtype, device=x.device)
    num_classes = x.shape[-1]
    if alpha_t.dim() == 1 and alpha_t.shape[0] == num_classes:
        return alpha_t[safe_labels]
    if alpha_t.dim() == 2 and x.dim() == 3 and tuple(alpha_t.shape) == (x.shape[1], num_classes):
        per_aspect = alpha_t.unsqueeze(0).expand(x.shape[0], -1, -1)  # [B, A, C]
        return per_aspect.gather(-1, safe_labels.unsqueeze(-1)).squeeze(-1)
    raise ValueError(
        f"`alpha` has shape {tuple(alpha_t.shape)}; allowed: None, [C] = [{num_classes}]"
        + (f", or [A, C] = [{x.shape[1]}, {num_classes}]" if x.dim() == 3 else "")
        + ". A scalar alpha only rescales a softmax focal loss; scale the loss weight instead."
    )


def multilabel_supcon_loss(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    temperature: float = 0.1,
    mode: str = "mulsupcon",
    ignore_index: int = -100,
    num_classes: int | None = None,
    seed_neutral_index: int = 2,
    seed_base_weight: float = 0.1,
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
    - `"seed"`: the original design's soft-weighted loss, for reproduction only: every pair of reviews gets
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
        seed_neutral_index (`int`, defaults to 2): the neutral class index, `"seed"` mode only.
        seed_base_weight (`float`, defaults to 0.1): the weight every pair gets, `"seed"` mode only.
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
    if mode not in SUPCON_MODES:
        raise ValueError(f"`mode` got {mode!r}; allowed: {', '.join(map(repr, SUPCON_MODES))}.")
    if not isinstance(temperature, (int, float)) or temperature <= 0:
        raise ValueError(f"`temperature` got {temperature!r}; allowed: a number > 0.")
    if embeddings.dim() != 2 or labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"`embeddings` must be [B, D] and `labels` [B, ...] with the same B; got {tuple(embeddings.shape)} "
            f"and {tuple(labels.shape)}."
        )
    z = _upcast(embeddings)  # anchors [B, D]
    batch = z.shape[0]
    if candidates is None:
        if candidate_labels is not None:
            raise ValueError("`candidate_labels` was given without `candidates`; pass both or neither.")
        cands, all_labels, offset = z, labels, 0
    else:
        cands, all_labels, offset = _check_candidates(z, labels, candidates, candidate_labels, anchor_offset)
    total = cands.shape[0]  # N; N == B without candidates
    rows = slice(offset, offset + batch)  # this shard's rows among the N candidates
    # self_mask[i, j]: column j is anchor i itself (global column offset + i).
    columns = torch.arange(total, device=z.device)
    self_mask = columns.unsqueeze(0) == (columns[rows]).unsqueeze(1)  # [B, N]
    sim = (z @ cands.T) / temperature  # [B, N]
    # Self-exclusion with the most negative finite value instead of -inf: identical for N >= 2 and keeps
    # a batch of one finite (its row then has no positive and contributes 0).
    sim_others = sim.masked_fill(self_mask, torch.finfo(sim.dtype).min)
    log_prob = sim - torch.logsumexp(sim_others, dim=1, keepdim=True)  # [B, N]

    if mode == "seed":
        return _seed_soft_loss(
            sim, sim_others, labels, all_labels, ignore_index, seed_neutral_index, seed_base_weight, self_mask
        )

    eye = torch.eye(total, dtype=torch.bool, device=z.device)  # [N, N], label-only matrices below
    if mode == "supcon":
        if labels.dim() != 1:
            raise ValueError(f"mode 'supcon' takes `labels` of shape [B]; got {tuple(labels.shape)}.")
        valid = all_labels != ignore_index
        positives = (
            (all_labels.unsqueeze(0) == all_labels.unsqueeze(1)) & valid.unsqueeze(0) & valid.unsqueeze(1) & ~eye
        )
        return _mean_over_positives(positives.to(z.dtype), log_prob, rows)

    if labels.dim() != 2:
        raise ValueError(f"mode {mode!r} takes `labels` of shape [B, A]; got {tuple(labels.shape)}.")
    y = _multi_hot(all_labels, ignore_index, num_classes).to(z.dtype)  # [N, A*C]

    if mode == "mulsupcon":
        counts = y.sum(dim=0, keepdim=True)  # [1, K]
        others = counts - 1.0  # reviews besides the anchor that hold pair k
        anchor = y * (others > 0).to(y.dtype)  # label-anchors that have a positive, [N, K]
        weights = (anchor[rows] / others.clamp_min(1.0)) @ y.T  # [B, N]
        weights = weights.masked_fill(self_mask, 0.0)
        total_loss = -(weights * log_prob).sum()
        return total_loss / anchor.sum().clamp_min(1.0)

    shared = y @ y.T  # |S_i ∩ S_j|, [N, N]
    sizes = y.sum(dim=1)
    if mode == "jaccard":
        union = sizes.unsqueeze(0) + sizes.unsqueeze(1) - shared
        weights = (shared / union.clamp_min(1.0)).masked_fill(eye, 0.0)
        row_sum = weights.sum(dim=1, keepdim=True)
        weights = weights / row_sum.clamp_min(torch.finfo(weights.dtype).tiny)
        has_positive = (row_sum.squeeze(1) > 0).to(z.dtype)  # [N]
        per_anchor = -(weights[rows] * log_prob).sum(dim=1)
        return (per_anchor * has_positive[rows]).sum() / has_positive.sum().clamp_min(1.0)
    if mode == "any":
        positives = (shared > 0) & ~eye
    else:  # exact
        identical = (shared == sizes.unsqueeze(1)) & (shared == sizes.unsqueeze(0)) & (sizes > 0).unsqueeze(1)
        positives = identical & ~eye
    return _mean_over_positives(positives.to(z.dtype), log_prob, rows)


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
    return _upcast(candidates), candidate_labels, anchor_offset


def _multi_hot(labels: torch.Tensor, ignore_index: int, num_classes: int | None) -> torch.Tensor:
    """`[B, A]` class indices -> `[B, A*C]` multi-hot rows of mentioned (aspect, sentiment) pairs."""
    valid = labels != ignore_index
    safe = labels.masked_fill(~valid, 0).long()
    if num_classes is None:
        num_classes = int(safe.max().item()) + 1 if safe.numel() else 1  # host sync; pass num_classes
    one_hot = F.one_hot(safe, num_classes) * valid.unsqueeze(-1)  # [B, A, C]
    return one_hot.reshape(labels.shape[0], -1)


def _mean_over_positives(positives: torch.Tensor, log_prob: torch.Tensor, rows: slice) -> torch.Tensor:
    """SupCon L_out: mean over each anchor's positives, then over the anchors that have one.

    `positives` is `[N, N]` over the candidate batch, `log_prob` `[B, N]` for the anchors in `rows`; the mean
    over anchors divides by the number of anchors with a positive in the whole candidate batch.
    """
    num_pos = positives.sum(dim=1)  # [N]
    has_positive = (num_pos > 0).to(log_prob.dtype)
    per_anchor = -(positives[rows] * log_prob).sum(dim=1) / num_pos[rows].clamp_min(1.0)  # [B]
    return (per_anchor * has_positive[rows]).sum() / has_positive.sum().clamp_min(1.0)


def _seed_soft_loss(
    sim: torch.Tensor,
    sim_others: torch.Tensor,
    labels: torch.Tensor,
    all_labels: torch.Tensor,
    ignore_index: int,
    neutral_index: int,
    base_weight: float,
    self_mask: torch.Tensor,
) -> torch.Tensor:
    """The original design's soft-weighted contrastive loss, vectorised (absent cells count as neutral).

    `sim` is `[B, N]`: the anchors' rows against the `N` candidates whose labels are `all_labels`; the mean over
    reviews divides by `N`, so the shares of all shards of a batch sum to its loss.
    """
    if labels.dim() != 2:
        raise ValueError(f"mode 'seed' takes `labels` of shape [B, A]; got {tuple(labels.shape)}.")
    batch, num_aspects = labels.shape
    total = all_labels.shape[0]
    y = labels.masked_fill(labels == ignore_index, neutral_index)  # [B, A]
    y_all = all_labels.masked_fill(all_labels == ignore_index, neutral_index)  # [N, A]
    match = (y.unsqueeze(1) == y_all.unsqueeze(0)).to(sim.dtype)  # [B, N, A]
    both = (y != neutral_index).to(sim.dtype).unsqueeze(1) * (y_all != neutral_index).to(sim.dtype).unsqueeze(0)
    weights = (match * (1.0 + both)).sum(dim=-1) / (2.0 * num_aspects) + base_weight  # [B, N]
    log_weights = torch.log(weights).masked_fill(self_mask, torch.finfo(sim.dtype).min)
    numerator = torch.logsumexp(sim + log_weights, dim=1)
    denominator = torch.logsumexp(sim_others, dim=1)
    per_review = numerator - denominator  # [B]
    loss = -per_review.mean() if total == batch else -per_review.sum() / total
    if total < 2:  # the original returns 0 for a batch of one; keep the graph for a finite zero gradient
        return loss * 0.0
    return loss


def compute_absa_loss(
    logits: torch.Tensor, embeddings: torch.Tensor, labels: torch.Tensor, config: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The combined objective `focal_weight * focal + contrastive_weight * contrastive` from ONE forward pass.

    The single implementation of the objective: `ViSoBertAbsaModel.forward(labels=...)` calls it and the
    Trainer uses the loss the model returns.

    Args:
        logits (`torch.Tensor` of shape `[B, A, C]`): classification head output.
        embeddings (`torch.Tensor` of shape `[B, D]`): projection head output, L2-normalised.
        labels (`torch.Tensor` of shape `[B, A]`): class indices in the config's label scheme, -100 = ignored.
        config: an object with the fields of `ViSoBertAbsaConfig` (label_scheme, focal_gamma, focal_alpha,
            contrastive_temperature, contrastive_mode, focal_weight, contrastive_weight, and optionally
            contrastive_across_devices).

    Returns:
        `(loss, focal, contrastive)`, float32 scalars; `focal` and `contrastive` unweighted.

    Raises:
        ValueError: `contrastive_across_devices=True` and the ranks hold batches of different sizes.

    With `config.contrastive_across_devices=True`, gradients enabled and `torch.distributed` running more than
    one process, each rank contrasts its local anchors against the embeddings of every rank (gathered with
    gradient, labels without, own column masked at `rank * B + i`) and returns its share of the global-batch
    loss times the world size, which undoes DDP's gradient averaging: the mean over ranks of the returned
    `contrastive` is the global-batch loss. Every rank must hold the same batch size. Without gradients
    (evaluation, inference) each rank contrasts within its own batch, so a rank never waits for the others.

    For the contrastive term a not-mentioned aspect is absent from the review's label set: under
    `absent_as_class` the "none" class (0) is dropped and the K sentiments are shifted to 0..K-1; under
    `mentioned_only` -100 already marks it; under `seed` absent aspects are labelled neutral by that scheme
    itself, as the original design did.
    """
    focal = focal_loss(logits, labels, gamma=config.focal_gamma, alpha=config.focal_alpha)
    sentiments = [s.lower() for s in (getattr(config, "sentiments", None) or ("positive", "negative", "neutral"))]
    num_sentiments = len(sentiments)
    neutral_index = sentiments.index("neutral") if "neutral" in sentiments else 0  # `seed` mode only
    if config.label_scheme == "absent_as_class":
        sentiment_labels = torch.where(labels > 0, labels - 1, torch.full_like(labels, -100))
    else:
        sentiment_labels = labels
    gathered = None
    if getattr(config, "contrastive_across_devices", False) and torch.is_grad_enabled():
        gathered = gather_across_devices(embeddings, sentiment_labels)
    if config.contrastive_weight == 0:
        contrastive = embeddings.sum().float() * 0.0  # keeps the graph: no unused parameters under DDP
    elif gathered is None:
        contrastive = multilabel_supcon_loss(
            embeddings,
            sentiment_labels,
            temperature=config.contrastive_temperature,
            mode=config.contrastive_mode,
            num_classes=num_sentiments,
            seed_neutral_index=neutral_index,
        )
    else:
        candidates, candidate_labels, anchor_offset, world_size = gathered
        share = multilabel_supcon_loss(
            embeddings,
            sentiment_labels,
            temperature=config.contrastive_temperature,
            mode=config.contrastive_mode,
            num_classes=num_sentiments,
            seed_neutral_index=neutral_index,
            candidates=candidates,
            candidate_labels=candidate_labels,
            anchor_offset=anchor_offset,
        )
        # The shares of all ranks sum to the global-batch loss; DDP averages gradients over ranks, so each
        # rank's share is scaled by the world size to make the averaged gradient that of the global loss.
        contrastive = share * world_size
    loss = config.focal_weight * focal + config.contrastive_weight * contrastive
    return loss, focal, contrastive


class FocalLoss(nn.Module):
    """[`focal_loss`] as a module. Args as there.

    References:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, arXiv:1708.02002.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: list | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return focal_loss(logits, labels, self.gamma, self.alpha, self.ignore_index, self.reduction)

    def get_config_dict(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "alpha": self.alpha, "reduction": self.reduction}

    @property
    def citation(self) -> str:
        return "Lin et al., Focal Loss for Dense Object Detection, ICCV 2017, arXiv:1708.02002"


class MultiLabelSupConLoss(nn.Module):
    """[`multilabel_supcon_loss`] as a module. Args as there.

    References:
        Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, arXiv:2004.11362.
        Zhang & Wu, "Multi-Label Supervised Contrastive Learning", AAAI 2024.
    """

    def __init__(
        self,
        temperature: float = 0.1,
        mode: str = "mulsupcon",
        ignore_index: int = -100,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        self.temperature = temperature
        self.mode = mode
        self.ignore_index = ignore_index
        self.num_classes = num_classes

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return multilabel_supcon_loss(
            embeddings, labels, self.temperature, self.mode, self.ignore_index, self.num_classes
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "mode": self.mode}

    @property
    def citation(self) -> str:
        return (
            "Khosla et al., Supervised Contrastive Learning, NeurIPS 2020, arXiv:2004.11362; "
            "Zhang & Wu, Multi-Label Supervised Contrastive Learning, AAAI 2024"
        )


__all__ = ["FocalLoss", "MultiLabelSupConLoss", "compute_absa_loss", "focal_loss", "multilabel_supcon_loss"]
