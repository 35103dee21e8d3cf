"""Token attributions for any pooling: Integrated Gradients through Captum.

Integrated Gradients (Sundararajan et al., "Axiomatic Attribution for Deep Networks", ICML 2017) integrates the
gradient of the predicted sentiment's probability along a straight path from a baseline input to the review, in the
input-embedding space. Captum (Kokhlikyan et al., "Captum: A unified and generic model interpretability library for
PyTorch", arXiv:2009.07896) provides it as `LayerIntegratedGradients`: a maintained implementation of the path,
the Riemann/Gauss-Legendre steps and the batching, rather than hand-written maths. Optional: the `[attribution]`
extra (`pip install 'hf-visobert-absa[attribution]'`); the pipeline's attention evidence never needs it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import torch

#: Interpolation steps of the path integral (Captum's default is 50; 16 costs about a third of that;
#: `benchmarks/evidence.py` records the time and the faithfulness it gives).
DEFAULT_STEPS = 16


def integrated_gradients(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    targets: torch.Tensor,
    n_steps: int = DEFAULT_STEPS,
) -> torch.Tensor:
    """Token scores `[B, A, L]`: for each aspect a with `targets[:, a] >= 0`, the Integrated Gradients of the
    probability of class `targets[:, a]` of aspect a, summed over the embedding width (0 where `targets` is -1).

    The baseline keeps the first token and the last real token (the special tokens around the text) and puts the
    padding token everywhere else. The signature is the pipeline's token scorer:
    `pipe(texts, return_evidence=True, evidence_method=integrated_gradients)`.

    Raises:
        ImportError: Captum is not installed; the message names the extra.
    """
    attr = _captum_attr()
    embeddings = model.get_input_embeddings()
    baseline = _baseline(input_ids, attention_mask, model.config.text_config.pad_token_id)
    scores = torch.zeros(*targets.shape, input_ids.shape[1], device=input_ids.device)
    for a in range(targets.shape[1]):
        rows = (targets[:, a] >= 0).nonzero().flatten()
        if rows.numel() == 0:
            continue
        method = attr.LayerIntegratedGradients(_aspect_probabilities(model, a), embeddings)
        found = method.attribute(
            input_ids[rows], baselines=baseline[rows], target=targets[rows, a],
            additional_forward_args=(attention_mask[rows],), n_steps=n_steps, internal_batch_size=n_steps,
        )  # fmt: skip
        scores[rows, a] = found.sum(dim=-1).detach().to(scores.dtype) * attention_mask[rows]
    return scores


def _aspect_probabilities(model: Any, aspect: int) -> Any:
    def probabilities(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return model(input_ids=input_ids, attention_mask=attention_mask).logits[:, aspect].float().softmax(dim=-1)

    return probabilities


def _baseline(input_ids: torch.Tensor, attention_mask: torch.Tensor, pad_token_id: int | None) -> torch.Tensor:
    """The padding token at every text position; the first token and the last real token kept."""
    baseline = torch.full_like(input_ids, pad_token_id if pad_token_id is not None else 0)
    last = attention_mask.sum(dim=1) - 1  # [B]
    rows = torch.arange(input_ids.shape[0], device=input_ids.device)
    baseline[:, 0] = input_ids[:, 0]
    baseline[rows, last] = input_ids[rows, last]
    return baseline


def captum_available() -> bool:
    """Whether Captum (the `[attribution]` extra) is installed."""
    return importlib.util.find_spec("captum") is not None


def _captum_attr() -> Any:
    try:
        from captum import attr
    except ImportError as error:
        raise ImportError(
            "Integrated Gradients needs Captum: pip install 'hf-visobert-absa[attribution]' (or pip install captum). "
            "The pipeline's default evidence (the model's aspect attention) does not."
        ) from error
    return attr


__all__ = ["DEFAULT_STEPS", "captum_available", "integrated_gradients"]
