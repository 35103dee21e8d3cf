"""This process among those `torchrun` / `accelerate launch` started: who writes, waiting for the others, leaving.

Under several processes every rank runs the same command; only rank 0 writes the files that all of them would
otherwise write to the same place, the others wait for it at a barrier. A process that leaves a gloo or NCCL
group to the interpreter's exit can abort there ("terminate called without an active exception", pytorch
issue 190489): a command that joined a group leaves it before it returns.
"""

from __future__ import annotations


def _group_size() -> int:
    """The number of processes in the default group; 1 without one (or without `torch.distributed`)."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch without distributed support
        return 1
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """Whether this process writes the shared outputs: rank 0, or the only process."""
    if _group_size() == 1:
        return True
    import torch.distributed as dist

    return dist.get_rank() == 0


def wait_for_every_rank() -> None:
    """A barrier over the default group; nothing for one process."""
    if _group_size() > 1:
        import torch.distributed as dist

        dist.barrier()


def leave_process_group() -> None:
    """Wait for every rank, then destroy the default group (nothing when this process joined none)."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch without distributed support
        return
    if dist.is_available() and dist.is_initialized():
        wait_for_every_rank()
        dist.destroy_process_group()
