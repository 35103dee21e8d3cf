"""The losses' compute precision: half-precision inputs are computed in float32.

This file travels to the Hugging Face Hub next to the weights (a sibling of the losses): it imports only `torch`.
"""

from __future__ import annotations

import torch


def upcast_half(tensor: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32; float32/float64 unchanged (float64 keeps gradcheck exact)."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor


__all__ = ["upcast_half"]
