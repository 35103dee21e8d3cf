"""Peak learning rate per parameter: the pretrained encoder's, the heads' own (`--head_learning_rate`), and
layer-wise decay down the encoder (`--layer_lr_decay`).

Layer-wise decay is the "discriminative fine-tuning" of ULMFiT (Howard & Ruder, ACL 2018), used for BERT by Sun
et al. ("How to Fine-Tune BERT for Text Classification?", CCL 2019): the top encoder layer keeps the base rate and
each layer below gets `decay` times the rate of the one above; the embeddings sit below the first layer. The
learning-rate schedule then scales every rate alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LAYER = re.compile(r"\.layer\.(\d+)\.")


def encoder_depths(names: Iterable[str]) -> dict[str, int]:
    """How many layers below the top each encoder parameter sits: 0 for the top layer (and for encoder parameters
    above the layers, such as a final norm), `L` for the embeddings of an `L`-layer encoder. Names outside
    `encoder.` are left out; an encoder without `.layer.<i>.` parameters gives an empty dict."""
    encoder = [name for name in names if name.startswith("encoder.")]
    layers = {name: int(match.group(1)) for name in encoder if (match := _LAYER.search(name))}
    if not layers:
        return {}
    top = max(layers.values())
    return {
        name: top - layers[name] if name in layers else (top + 1 if ".embeddings." in name else 0) for name in encoder
    }


def parameter_learning_rates(
    names: Iterable[str], base: float, head: float | None = None, layer_decay: float | None = None
) -> dict[str, float]:
    """The peak learning rate of every named parameter.

    Args:
        names: the model's parameter names; the pretrained encoder's start with `encoder.`, everything else
            (heads, pooler, aspect queries and prompts) is randomly initialised.
        base (`float`): the encoder's rate (its top layer's under `layer_decay`).
        head (`float`, *optional*): the rate of the randomly initialised parts; defaults to `base`.
        layer_decay (`float`, *optional*): in (0, 1]; each encoder layer gets `layer_decay` times the rate of the
            layer above it.

    Raises:
        ValueError: `layer_decay` is set and the encoder has no `.layer.<i>.` parameters to decay over.
    """
    names = list(names)
    depths = encoder_depths(names) if layer_decay is not None else {}
    if layer_decay is not None and not depths:
        raise ValueError(
            "`--layer_lr_decay` needs an encoder whose layers are named `.layer.<i>.` (BERT, RoBERTa, XLM-R and "
            "their kin); this encoder has none. Leave the option out for it."
        )
    rates = {}
    for name in names:
        if not name.startswith("encoder."):
            rates[name] = base if head is None else head
        else:
            rates[name] = base * layer_decay ** depths[name] if layer_decay is not None else base
    return rates
