"""hf-visobert-absa: Vietnamese aspect-based sentiment analysis with a ViSoBERT encoder, a classification head
and a contrastive projection head trained together (0.8 focal + 0.2 contrastive, one forward pass).

Importing the package has no side effects: call `register_auto_classes()` to make the `transformers` auto
classes resolve `visobert_absa` in this process.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .hub.configuration_visobert_absa import (
    DEFAULT_ASPECTS,
    LABEL_SCHEMES,
    SENTIMENTS,
    ViSoBertAbsaConfig,
    flat_label,
    scheme_class_names,
)
from .hub.losses import FocalLoss, MultiLabelSupConLoss, compute_absa_loss, focal_loss, multilabel_supcon_loss
from .hub.modeling_visobert_absa import AspectSentimentOutput, ViSoBertAbsaModel
from .registration import register_auto_classes

__version__ = "0.1.0"

# Heavier or optional parts load on first use.
_LAZY = {
    "FocalContrastiveTrainer": "training.trainer",
    "AspectSentimentPipeline": "hub.pipeline_visobert_absa",
    "register_pipeline": "hub.pipeline_visobert_absa",
    "export_model": "publishing.export",
    "load_absa_dataset": "data.loading",
    "tokenize_dataset": "data.tokenization",
    "load_tokenizer": "data.tokenization",
    "compute_absa_metrics": "evaluation.metrics",
    "build_compute_metrics": "evaluation.metrics",
    "semeval2014_metrics": "evaluation.protocol",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_ASPECTS",
    "LABEL_SCHEMES",
    "SENTIMENTS",
    "AspectSentimentOutput",
    "AspectSentimentPipeline",
    "FocalContrastiveTrainer",
    "FocalLoss",
    "MultiLabelSupConLoss",
    "ViSoBertAbsaConfig",
    "ViSoBertAbsaModel",
    "build_compute_metrics",
    "compute_absa_loss",
    "compute_absa_metrics",
    "export_model",
    "flat_label",
    "focal_loss",
    "load_absa_dataset",
    "load_tokenizer",
    "multilabel_supcon_loss",
    "register_auto_classes",
    "register_pipeline",
    "scheme_class_names",
    "semeval2014_metrics",
    "tokenize_dataset",
]
