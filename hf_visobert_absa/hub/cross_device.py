"""Gathering every rank's embeddings for the contrastive term, so that each rank contrasts its anchors against
the global batch (the `contrastive_across_devices` option of `compute_absa_loss`).

Only the standard library and torch: this file travels to the Hub with `losses.py`.
"""

from __future__ import annotations

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
    """Concatenate `tensor` from every rank along dim 0; differentiable (its backward reduce-sums the gradient
    slices back to the rank that owns them)."""
    try:  # torch >= 2.13: the successor of torch.distributed.nn.functional.all_gather
        from torch.distributed._functional_collectives import all_gather_single
    except ImportError:
        all_gather_single = None
    if all_gather_single is not None:
        return all_gather_single(tensor.contiguous(), 0, torch.distributed.group.WORLD)
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tensor), dim=0)


__all__ = ["all_gather_rows", "gather_across_devices"]
