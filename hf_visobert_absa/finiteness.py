"""One finiteness check for model weights: after training (a run that diverged never reports success) and when a
saved model is loaded for `evaluate` / `predict` (a NaN model never writes empty predictions marked `ok`)."""

from __future__ import annotations

from typing import Any

from .errors import AbsaInputError


def non_finite_tensors(model: Any) -> list[str]:
    """Names of the parameters and buffers of `model` that hold a NaN or an infinity."""
    import torch

    named = [*model.named_parameters(), *model.named_buffers()]
    return [name for name, tensor in named if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]


def check_finite(model: Any, where: str, fix: str) -> None:
    """Raise `AbsaInputError` (one line, exit 2) naming how many tensors of `model` are not finite, and the fix."""
    bad = non_finite_tensors(model)
    if bad:
        shown = ", ".join(bad[:3]) + (", ..." if len(bad) > 3 else "")
        raise AbsaInputError(f"{where}: {len(bad)} weight tensor(s) hold NaN or infinity ({shown}). {fix}")


__all__ = ["check_finite", "non_finite_tensors"]
