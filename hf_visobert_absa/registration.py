"""Registration of the aspect-sentiment classes with the `transformers` auto classes.

Nothing is registered at import time: call [`register_auto_classes`] (the CLI, the pipeline helpers and the
training entry points do). Loading a saved model never needs it: the saved `config.json` carries `auto_map`
and the code files, so `AutoModel.from_pretrained(dir, trust_remote_code=True)` works without this package.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

from .hub.configuration_visobert_absa import ViSoBertAbsaConfig
from .hub.modeling_visobert_absa import ViSoBertAbsaModel

_registered = False


def register_auto_classes() -> None:
    """Make `AutoConfig`, `AutoModel` and `AutoModelForSequenceClassification` resolve `visobert_absa` to this
    package's classes, and mark the classes so that `save_pretrained` writes `auto_map` for all three and
    copies the code files next to the weights. Idempotent.

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
    AutoModel.register(ViSoBertAbsaConfig, ViSoBertAbsaModel, exist_ok=True)
    AutoModelForSequenceClassification.register(ViSoBertAbsaConfig, ViSoBertAbsaModel, exist_ok=True)
    ViSoBertAbsaConfig.register_for_auto_class()
    ViSoBertAbsaModel.register_for_auto_class("AutoModel")
    _registered = True


__all__ = ["register_auto_classes"]
