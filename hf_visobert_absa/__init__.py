"""hf-visobert-absa: Vietnamese aspect-based sentiment analysis with a ViSoBERT encoder, a classification head
and a contrastive projection head trained together (0.8 focal + 0.2 contrastive, one forward pass).

Importing the package has no side effects: call `register_auto_classes()` to make the `transformers` auto
classes resolve `visobert_absa` in this process.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers; at run time they load on first use
    from .data.loading import load_absa_dataset
    from .data.tokenization import load_tokenizer, tokenize_dataset
    from .evaluation.collapse import collapse_warnings
    from .evaluation.int8 import int8_pipeline, quantize_int8
    from .evaluation.metrics import build_compute_metrics, compute_absa_metrics
    from .evaluation.protocol import semeval2014_metrics
    from .evaluation.sharded import score_texts_sharded, start_shard
    from .evaluation.thresholds import calibrate_thresholds
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
    from .hub.pipeline_visobert_absa import AspectSentimentPipeline, register_pipeline
    from .publishing.export import export_model
    from .registration import register_auto_classes
    from .training.arguments import AbsaTrainingArguments
    from .training.class_balance import init_bias_to_priors
    from .training.trainer import FocalContrastiveTrainer

__version__ = "0.1.0"

# Every public name loads on first use: `import hf_visobert_absa` imports neither torch nor transformers.
_LAZY = {
    "DEFAULT_ASPECTS": "hub.configuration_visobert_absa",
    "LABEL_SCHEMES": "hub.configuration_visobert_absa",
    "SENTIMENTS": "hub.configuration_visobert_absa",
    "ViSoBertAbsaConfig": "hub.configuration_visobert_absa",
    "flat_label": "hub.configuration_visobert_absa",
    "scheme_class_names": "hub.configuration_visobert_absa",
    "FocalLoss": "hub.losses",
    "MultiLabelSupConLoss": "hub.losses",
    "compute_absa_loss": "hub.losses",
    "focal_loss": "hub.losses",
    "multilabel_supcon_loss": "hub.losses",
    "AspectSentimentOutput": "hub.modeling_visobert_absa",
    "ViSoBertAbsaModel": "hub.modeling_visobert_absa",
    "register_auto_classes": "registration",
    "FocalContrastiveTrainer": "training.trainer",
    "AbsaTrainingArguments": "training.arguments",
    "init_bias_to_priors": "training.class_balance",
    "calibrate_thresholds": "evaluation.thresholds",
    "collapse_warnings": "evaluation.collapse",
    "AspectSentimentPipeline": "hub.pipeline_visobert_absa",
    "AspectSentimentTextClassificationPipeline": "hub.pipeline_visobert_absa",
    "register_pipeline": "hub.pipeline_visobert_absa",
    "export_model": "publishing.export",
    "load_absa_dataset": "data.loading",
    "tokenize_dataset": "data.tokenization",
    "load_tokenizer": "data.tokenization",
    "compute_absa_metrics": "evaluation.metrics",
    "build_compute_metrics": "evaluation.metrics",
    "quantize_int8": "evaluation.int8",
    "int8_pipeline": "evaluation.int8",
    "score_texts_sharded": "evaluation.sharded",
    "start_shard": "evaluation.sharded",
    "semeval2014_metrics": "evaluation.protocol",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AbsaTrainingArguments",
    "DEFAULT_ASPECTS",
    "LABEL_SCHEMES",
    "SENTIMENTS",
    "AspectSentimentOutput",
    "AspectSentimentPipeline",
    "AspectSentimentTextClassificationPipeline",
    "FocalContrastiveTrainer",
    "FocalLoss",
    "MultiLabelSupConLoss",
    "ViSoBertAbsaConfig",
    "ViSoBertAbsaModel",
    "build_compute_metrics",
    "calibrate_thresholds",
    "collapse_warnings",
    "compute_absa_loss",
    "compute_absa_metrics",
    "export_model",
    "flat_label",
    "focal_loss",
    "init_bias_to_priors",
    "int8_pipeline",
    "load_absa_dataset",
    "load_tokenizer",
    "multilabel_supcon_loss",
    "quantize_int8",
    "register_auto_classes",
    "register_pipeline",
    "score_texts_sharded",
    "start_shard",
    "scheme_class_names",
    "semeval2014_metrics",
    "tokenize_dataset",
]
