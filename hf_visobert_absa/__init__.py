"""hf-visobert-absa: Vietnamese aspect-based sentiment analysis with a ViSoBERT encoder, a classification head
and a contrastive projection head trained together (0.8 focal + 0.2 contrastive, one forward pass).

Importing the package has no side effects: call `register_auto_classes()` to make the `transformers` auto
classes resolve `visobert_absa` in this process.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:  # the one version source is pyproject.toml
    __version__ = version("hf-visobert-absa")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

#: The public API, by the module that defines it. Every name loads on first use: `import hf_visobert_absa` imports
#: neither torch nor transformers.
_PUBLIC: dict[str, tuple[str, ...]] = {
    "hub.configuration_visobert_absa": ("ViSoBertAbsaConfig",),
    "hub.labels_visobert_absa": ("DEFAULT_ASPECTS", "LABEL_SCHEMES", "SENTIMENTS", "flat_label", "scheme_class_names"),
    "hub.losses_visobert_absa": ("FocalLoss", "MultiLabelSupConLoss", "compute_absa_loss", "focal_loss"),
    "hub.contrastive_visobert_absa": ("multilabel_supcon_loss",),
    "hub.modeling_visobert_absa": (
        "AspectSentimentOutput", "ViSoBertAbsaForSequenceClassification", "ViSoBertAbsaForAspectSentiment",
    ),
    "hub.pipeline_visobert_absa": ("AspectSentimentPipeline", "register_pipeline"),
    "registration": ("register_auto_classes",),
    "model_folder": ("save_tokenizer",),
    "training.trainer": ("FocalContrastiveTrainer",),
    "training.arguments": ("AbsaTrainingArguments",),
    "training.class_balance": ("init_bias_to_priors",),
    "evaluation.thresholds": ("calibrate_thresholds",),
    "evaluation.collapse": ("collapse_warnings",),
    "evaluation.metrics": ("build_compute_metrics", "compute_absa_metrics"),
    "evaluation.int8": ("int8_pipeline", "quantize_int8"),
    "evaluation.sharded": ("score_texts_sharded", "start_shard"),
    "evaluation.protocol": ("semeval2014_metrics",),
    "publishing.export": ("export_model",),
    "evidence.attribution": ("integrated_gradients",),
    "evidence.view": ("evidence_gallery", "evidence_html"),
    "data.loading": ("load_absa_dataset",),
    "data.tokenization": ("load_tokenizer", "tokenize_dataset"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name in _MODULE_OF:
        return getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
