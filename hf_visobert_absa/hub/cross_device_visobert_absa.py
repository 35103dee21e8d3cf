"""Gathering every rank's embeddings for the contrastive term, so that each rank contrasts its anchors against
the global batch (the `contrastive_across_devices` option of `compute_absa_loss`).

Only the standard library and torch: this file travels to the Hub with `losses_visobert_absa.py`.
"""

from __future__ import annotations

from typing import Any

import torch


def gather_across_devices(
    embeddings: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, int, int] | None:
    """Gather every rank's embeddings (with gradient) and labels (without) for the contrastive term.

    Returns `(candidates [W*B, D], candidate_labels [W*B, A], anchor_offset, world_size)`, or `None` when
    `torch.distributed` is not initialised or runs a single process. Candidates are ordered by rank, so this
    rank's own rows start at `rank * B`. Raises `ValueError` when the ranks hold batches of different sizes.
    """
    dist = torch.distributed
    if not dist.is_available() or not dist.is_initialized():
        return None
    world_size = dist.get_world_size()
    if world_size < 2:
        return None
    rank = dist.get_rank()
    batch = embeddings.shape[0]
    # The collectives need equal shapes on every rank; comparing the batch sizes is the one host sync.
    sizes = all_gather_rows(torch.tensor([batch], dtype=torch.long, device=embeddings.device)).tolist()
    if any(size != batch for size in sizes):
        raise ValueError(
            f"`contrastive_across_devices=True` needs the same per-device batch size on every rank; got {sizes} "
            "(rank order). Keep `accelerate`'s default `even_batches=True`, or set `dataloader_drop_last=True`, "
            "or turn the option off."
        )
    candidates = all_gather_rows(embeddings)  # [W*B, D], differentiable: backward sums every rank's gradients
    candidate_labels = all_gather_rows(labels.detach())  # [W*B, A]
    return candidates, candidate_labels, rank * batch, world_size


def all_gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate `tensor` from every rank along dim 0; differentiable (its backward sums every rank's gradient
    and hands each rank the slice of its own rows)."""
    return _GatherRows.apply(tensor.contiguous())


class _GatherRows(torch.autograd.Function):
    """All-gather along dim 0 with the public collectives: forward `all_gather`, backward `all_reduce` (sum) and
    the rank's own slice. Equal row counts on every rank (checked by the caller)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        dist = torch.distributed
        ctx.rank, ctx.rows = dist.get_rank(), tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor)
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        torch.distributed.all_reduce(grad)  # every rank's loss depends on every rank's rows
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


__all__ = ["all_gather_rows", "gather_across_devices"]
