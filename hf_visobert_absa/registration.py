"""Registration of the aspect-sentiment classes with the `transformers` auto classes.

Nothing is registered at import time. Saving never needs it: every `save_pretrained` writes `auto_map`,
`custom_pipelines` and the code files. Loading a saved model never needs it either:
`AutoModel.from_pretrained(dir, trust_remote_code=True)` works without this package. Call
[`register_auto_classes`] only to resolve `visobert_absa` through the Auto classes in this process without
`trust_remote_code`.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

from .hub.configuration_visobert_absa import ViSoBertAbsaConfig
from .hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment, ViSoBertAbsaForSequenceClassification

_registered = False


def register_auto_classes() -> None:
    """Make `AutoConfig`, `AutoModel` (the aspect-sentiment model) and `AutoModelForSequenceClassification` (its
    flat, multi-label view) resolve `visobert_absa` to this package's classes in this process, as a saved folder's
    `auto_map` does. Idempotent. (Saved folders carry `auto_map` and the code files whether or
    not this was called.)

    Example:

    ```python
    >>> from hf_visobert_absa import register_auto_classes
    >>> register_auto_classes()
    >>> AutoModel.from_pretrained("path/to/run")  # no trust_remote_code needed in this process
    ```
    """
    global _registered
    if _registered:
        return
    AutoConfig.register(ViSoBertAbsaConfig.model_type, ViSoBertAbsaConfig, exist_ok=True)
    AutoModel.register(ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment, exist_ok=True)
    AutoModelForSequenceClassification.register(
        ViSoBertAbsaConfig, ViSoBertAbsaForSequenceClassification, exist_ok=True
    )
    _registered = True


__all__ = ["register_auto_classes"]
