"""Scoring across several processes launched by `torchrun` (or `accelerate launch`): each rank scores its share
of the batches, rank 0 assembles the results in input order.

    torchrun --nproc_per_node 2 -m hf_visobert_absa.cli.main predict --model MODEL --input in.csv --output out.csv

Every rank reads the same input and forms the same length-sorted batches ([`score_texts`]); batch `k` goes to
rank `k % world_size`. A review is therefore scored in the same batch, with the same padding, however many
processes there are, so the output of N processes is the output of one (bit for bit on the same hardware and
thread count). Only rank 0 writes. The engine is `torch.distributed`: gloo on CPUs, NCCL on GPUs (one GPU per
rank, `cuda:LOCAL_RANK`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..process_group import leave_process_group
from .inference import score_texts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shard:
    """This process's place among the processes that share the work.

    Args:
        rank (`int`): 0 .. world_size - 1; rank 0 assembles and writes.
        world_size (`int`): the number of processes (1 when not launched by `torchrun` / `accelerate launch`).
        device (`torch.device`): where this rank runs the model.
    """

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Whether this rank writes the output."""
        return self.rank == 0


def start_shard(device: str | None = None) -> Shard:
    r"""Join the process group that `torchrun` / `accelerate launch` set up through the environment
    (`WORLD_SIZE`, `RANK`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT`), or return a one-process shard.

    Args:
        device (`str`, *optional*): `"cpu"` or `"cuda"`; defaults to CUDA when available. With CUDA each rank
            takes `cuda:LOCAL_RANK` and the backend is NCCL; on CPUs it is gloo.

    Returns:
        [`Shard`].

    Example:

    ```python
    >>> shard = start_shard("cpu")   # under `torchrun --nproc_per_node 2`: Shard(rank=0 or 1, world_size=2, ...)
    ```
    """
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Shard(device=torch.device("cuda" if use_cuda else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    target = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(target)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")
    shard = Shard(torch.distributed.get_rank(), torch.distributed.get_world_size(), target)
    logger.info("rank %d of %d on %s", shard.rank, shard.world_size, target)
    return shard


def stop_shard(shard: Shard) -> None:
    """Wait for every rank, then leave the process group (nothing for a one-process shard)."""
    if shard.world_size > 1:
        leave_process_group()


def score_texts_sharded(
    model: torch.nn.Module,
    tokenizer,
    texts: Sequence[str],
    shard: Shard,
    batch_size: int = 64,
    max_length: int = 256,
) -> np.ndarray | None:
    r"""Class probabilities `[N, A, C]` for `texts` in input order, the batches shared among the ranks.

    Every rank must call it with the same `texts` (it is a collective call).

    Args:
        model: the model, on `shard.device`.
        tokenizer: its tokenizer.
        texts (`Sequence[str]`): the reviews (the same on every rank).
        shard ([`Shard`]): from [`start_shard`].
        batch_size (`int`, defaults to 64), max_length (`int`, defaults to 256): as in [`score_texts`].

    Returns:
        `np.ndarray` on rank 0 (float32, `[N, A, C]`), `None` on the other ranks.

    Example:

    ```python
    >>> probabilities = score_texts_sharded(model, tokenizer, texts, start_shard("cpu"))
    ```
    """
    position = (shard.rank, shard.world_size)
    probabilities, _ = score_texts(model, tokenizer, texts, batch_size, max_length, shard.device, shard=position)
    if shard.world_size == 1:
        return probabilities
    rows = np.flatnonzero(~np.isnan(probabilities[:, 0, 0])) if len(texts) else np.zeros(0, dtype=np.int64)
    gathered: list | None = [None] * shard.world_size if shard.is_main else None
    torch.distributed.gather_object((rows, probabilities[rows]), gathered, dst=0)
    if not shard.is_main:
        return None
    for rank_rows, rank_probabilities in gathered:
        probabilities[rank_rows] = rank_probabilities
    missing = int(np.isnan(probabilities[:, 0, 0]).sum())
    if missing:
        raise RuntimeError(
            f"{missing} of {len(texts)} reviews were scored by no rank; the ranks disagree on the input."
        )
    return probabilities


__all__ = ["Shard", "score_texts_sharded", "start_shard", "stop_shard"]
