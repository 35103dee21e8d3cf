"""The training objective of the aspect-sentiment model: a softmax focal loss over per-aspect logits, combined
with the multi-label supervised contrastive loss over the projected review embeddings (defined in
`contrastive_visobert_absa.py`), and both as `nn.Module`s.

This file travels to the Hugging Face Hub: it imports only the standard library, `torch` and its siblings.

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

from .configuration_visobert_absa import ASPECT_CONTRASTIVE_MODES
from .contrastive_visobert_absa import aspect_sentiment_supcon_loss, multilabel_supcon_loss, upcast_half
from .cross_device_visobert_absa import gather_across_devices
from .labels_visobert_absa import SENTIMENTS

FOCAL_REDUCTIONS = ("mean", "sum", "none")


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
    x = upcast_half(logits)
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


def compute_absa_loss(
    logits: torch.Tensor,
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    config: Any,
    aspect_embeddings: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The combined objective `focal_weight * focal + contrastive_weight * contrastive` from ONE forward pass: the
    single implementation, which `ViSoBertAbsaForAspectSentiment.forward(labels=...)` calls.

    Args:
        logits (`torch.Tensor` of shape `[B, A, C]`): classification head output.
        embeddings (`torch.Tensor` of shape `[B, D]`): projection head output, L2-normalised.
        labels (`torch.Tensor` of shape `[B, A]`): class indices in the config's label scheme, -100 = ignored.
        config: an object with the fields of `ViSoBertAbsaConfig` (label_scheme, focal_gamma, focal_alpha,
            contrastive_temperature, contrastive_mode, focal_weight, contrastive_weight, and optionally
            contrastive_across_devices).
        aspect_embeddings (`torch.Tensor` of shape `[B, A, D]`, *optional*): the L2-normalised projection of each
            aspect's own vector; required by `contrastive_mode="aspect_sentiment"`, unused otherwise.

    Returns:
        `(loss, focal, contrastive)`, float32 scalars; `focal` and `contrastive` unweighted (see
        [`contrastive_term`]).

    Raises:
        ValueError: as [`contrastive_term`].
    """
    focal = focal_loss(logits, labels, gamma=config.focal_gamma, alpha=config.focal_alpha)
    if config.contrastive_weight == 0:
        contrastive = embeddings.sum().float() * 0.0  # keeps the graph: no unused parameters under DDP
    else:
        contrastive = contrastive_term(embeddings, labels, config, aspect_embeddings)
    loss = config.focal_weight * focal + config.contrastive_weight * contrastive
    return loss, focal, contrastive


def contrastive_labels(labels: torch.Tensor, label_scheme: str) -> torch.Tensor:
    """The labels the contrastive term sees, where a not-mentioned aspect is absent from the review's label set:
    under `absent_as_class` the "none" class (0) becomes -100 and the K sentiments shift to 0..K-1; `mentioned_only`
    labels (-100 already marks it) and `absent_as_neutral` labels (absent is neutral, as the original design did) are used as
    they are."""
    if label_scheme == "absent_as_class":
        return torch.where(labels > 0, labels - 1, torch.full_like(labels, -100))
    return labels


def contrastive_term(
    embeddings: torch.Tensor, labels: torch.Tensor, config: Any, aspect_embeddings: torch.Tensor | None = None
) -> torch.Tensor:
    """The unweighted contrastive term of [`compute_absa_loss`] (same arguments) from the scheme-coded `labels`
    `[B, A]`, seen through [`contrastive_labels`]: [`aspect_sentiment_supcon_loss`] over `aspect_embeddings` under
    `contrastive_mode="aspect_sentiment"`, else [`multilabel_supcon_loss`] over the review `embeddings`.

    With `config.contrastive_across_devices=True`, gradients enabled and `torch.distributed` running more than
    one process, each rank contrasts its local anchors against the embeddings of every rank (gathered with
    gradient, labels without, own column masked at `rank * B + i`) and returns its share of the global-batch
    loss times the world size, which undoes DDP's gradient averaging: the mean over ranks is the global-batch
    loss. Without gradients (evaluation, inference) each rank contrasts within its own batch, so a rank never
    waits for the others.

    Raises:
        ValueError: the ranks hold batches of different sizes (across devices), or
            `contrastive_mode="aspect_sentiment"` without `aspect_embeddings`.
    """
    sentiment_labels = contrastive_labels(labels, config.label_scheme)
    if config.contrastive_mode in ASPECT_CONTRASTIVE_MODES:
        if aspect_embeddings is None:
            raise ValueError(
                f"contrastive_mode={config.contrastive_mode!r} needs `aspect_embeddings` [B, A, D] (the projection "
                "of each aspect's own vector); `ViSoBertAbsaForAspectSentiment.forward` passes them."
            )
        return aspect_sentiment_supcon_loss(aspect_embeddings, sentiment_labels, config.contrastive_temperature)
    sentiments = [s.lower() for s in (getattr(config, "sentiments", None) or SENTIMENTS)]
    options = {
        "temperature": config.contrastive_temperature,
        "mode": config.contrastive_mode,
        "num_classes": len(sentiments),
        "agreement_neutral_index": sentiments.index("neutral")
        if "neutral" in sentiments
        else 0,  # `soft_agreement` mode only
    }
    gathered = None
    if getattr(config, "contrastive_across_devices", False) and torch.is_grad_enabled():
        gathered = gather_across_devices(embeddings, sentiment_labels)  # None without torch.distributed
    if gathered is None:
        return multilabel_supcon_loss(embeddings, sentiment_labels, **options)
    candidates, candidate_labels, anchor_offset, world_size = gathered
    share = multilabel_supcon_loss(
        embeddings, sentiment_labels, **options,
        candidates=candidates, candidate_labels=candidate_labels, anchor_offset=anchor_offset,
    )  # fmt: skip
    # The shares of all ranks sum to the global-batch loss; DDP averages gradients over ranks, so each rank's
    # share is scaled by the world size to make the averaged gradient that of the global loss.
    return share * world_size


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


__all__ = [
    "FOCAL_REDUCTIONS",
    "FocalLoss",
    "MultiLabelSupConLoss",
    "compute_absa_loss",
    "contrastive_labels",
    "contrastive_term",
    "focal_loss",
]
