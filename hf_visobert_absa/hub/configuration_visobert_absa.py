"""Configuration of the ViSoBERT aspect-sentiment model (two heads on one encoder).

This file travels to the Hugging Face Hub next to the weights: it imports only the standard library, public
`transformers` names and its siblings (the label space, the encoder, the pipeline tasks: import their names from
the sibling that defines them).

The encoder default is the architecture of ViSoBERT (Nguyen et al., "ViSoBERT: A Pre-Trained Language Model
for Vietnamese Social Media Text Processing", EMNLP 2023, arXiv:2310.11166): XLM-RoBERTa, 12 layers,
hidden size 768, vocabulary of 15,004 tokens.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, ClassVar

from transformers import AutoConfig

try:  # transformers >= 5
    from transformers import PreTrainedConfig
except ImportError:  # transformers 4.x names it PretrainedConfig
    from transformers import PretrainedConfig as PreTrainedConfig

from .encoder_visobert_absa import encoder_config, encoder_max_tokens
from .labels_visobert_absa import (
    DEFAULT_ASPECTS,
    LABEL_SCHEMES,
    NONE_CLASS,
    RENAMED_LABEL_SCHEMES,
    SENTIMENTS,
    current_name,
    flat_labels,
    reject_value,
    scheme_class_names,
    scheme_detects_aspects,
    validate_aspects,
    validate_sentiments,
)
from .tasks_visobert_absa import HUB_CODE_REQUIRES

POOLINGS: tuple[str, ...] = ("cls", "mean", "pooler", "aspect_query", "aspect_prompt")
CONTRASTIVE_MODES: tuple[str, ...] = ("mulsupcon", "jaccard", "any", "exact", "soft_agreement", "aspect_sentiment")
#: Contrastive modes under the names older versions saved or took, mapped to today's (read with a `FutureWarning`).
RENAMED_CONTRASTIVE_MODES: dict[str, str] = {"seed": "soft_agreement"}
#: Contrastive modes over one embedding per (review, aspect) instead of one per review: they need a pooling that
#: gives each aspect its own vector.
ASPECT_CONTRASTIVE_MODES: tuple[str, ...] = ("aspect_sentiment",)
ASPECT_POOLINGS: tuple[str, ...] = ("aspect_query", "aspect_prompt")
#: The default pooling (the measured recipe, `hf_visobert_absa.training.recipe`): one learned query per aspect.
DEFAULT_POOLING = "aspect_query"

#: Fields a saved `config.json` must carry: they define the network and what its outputs mean, so loading a folder
#: never fills them with defaults (the default aspects would silently relabel every prediction). `sentiments` is not
#: among them: configs written before that field existed are three-way (positive, negative, neutral).
MODEL_DEFINING_FIELDS: tuple[str, ...] = (
    "text_config", "aspects", "label_scheme", "pooling", "head_hidden_size", "projection_dim",
)  # fmt: skip


class ViSoBertAbsaConfig(PreTrainedConfig):
    r"""Configuration of [`ViSoBertAbsaForAspectSentiment`]: an encoder, a classification head and a projection head.

    Args:
        text_config (`dict` or `PretrainedConfig`, *optional*):
            Configuration of the encoder; any `AutoConfig` model type (XLM-R, BERT, ...). Defaults to the
            ViSoBERT architecture ([`VISOBERT_ENCODER_CONFIG`]).
        aspects (`list[str]`, *optional*):
            Aspect names, one distribution per aspect. Defaults to the 11 phone-review aspects. Any non-empty
            names work (`FOOD#QUALITY`, `anecdotes/miscellaneous`, `Shop Service`, `Pin & sạc`); names that are
            empty or equal after stripping spaces are refused.
        sentiments (`list[str]`, *optional*):
            The sentiment classes, in class order; defaults to `["positive", "negative", "neutral"]` (also for
            configs saved before this field existed). E.g. SemEval-2014's four polarities
            `["positive", "negative", "neutral", "conflict"]`. Names are non-empty, distinct case-insensitively,
            not `"none"` and without `"="` (the flat-label separator). The `absent_as_neutral` scheme needs `"neutral"`.
        label_scheme (`str`, defaults to `"absent_as_class"`):
            `"absent_as_class"` (classes `none` + the sentiments), `"absent_as_neutral"` (the original design:
            not mentioned = neutral) or `"mentioned_only"` (the sentiments, not mentioned = -100, ignored). The
            old name `"seed"` of `"absent_as_neutral"` is still read, with a `FutureWarning`.
        pooling (`str`, defaults to `"aspect_query"`):
            `"cls"` (first token), `"mean"` (masked mean) or `"pooler"` (dense + tanh over the first token, as
            the original design's BERT pooler; the head owns this layer) or `"aspect_query"` (one learned query
            per aspect attends over the token states, so each aspect reads its own weighted average of the
            tokens; still one encoder pass. Scaled dot-product attention, Vaswani et al., NeurIPS 2017; a
            per-aspect query as in attention-based ACSA, Wang et al., EMNLP 2016) or `"aspect_prompt"` (one
            learned input vector per aspect after the first token: every layer conditions on the aspects, each
            is read from its own position; one pass, A fewer tokens of text, see `encoder_max_tokens`).
        aspect_query_heads (`int`, defaults to 1): with `pooling="aspect_query"`, the number of heads each
            aspect's query is split into (a divisor of the encoder's hidden size; multi-head attention, Vaswani
            et al., NeurIPS 2017): each head weighs the tokens on its own slice of the states.
        head_hidden_size (`int`, defaults to 512): hidden width of the classification head.
        classifier_dropout (`float`, defaults to 0.3): dropout between the two layers of that head.
        projection_dim (`int`, defaults to 256): size of the L2-normalised contrastive embedding.
        focal_gamma (`float`, defaults to 2.0): focusing parameter of the focal loss (Lin et al., 2017).
        focal_alpha (`list`, *optional*): class weights, `[C]` or `[A, C]`.
        contrastive_temperature (`float`, defaults to 0.1): temperature of the contrastive loss.
        contrastive_mode (`str`, *optional*): `None` picks `"aspect_sentiment"` where it applies (an aspect
            pooling, not the `absent_as_neutral` scheme, not across devices) and `"mulsupcon"` otherwise. Over the
            review embeddings, `"mulsupcon"`, `"jaccard"`, `"any"`, `"exact"` or `"soft_agreement"` (the original
            design's loss, for reproduction only: every pair of reviews a positive weighted by how many aspect
            labels it agrees on; its old name `"seed"` is still read, with a `FutureWarning`); or
            `"aspect_sentiment"`: over one embedding per mentioned (review, aspect), the projection of that
            aspect's own vector, whose positives are the other mentioned aspects of the batch with the same
            sentiment (needs `pooling="aspect_query"` or `"aspect_prompt"`, not the `absent_as_neutral` scheme).
        focal_weight (`float`, defaults to 0.8) and contrastive_weight (`float`, defaults to 0.2): weights of
            the combined objective `focal_weight * focal + contrastive_weight * contrastive`.
        contrastive_across_devices (`bool`, defaults to `False`): under `torch.distributed`, contrast each
            rank's anchors against the embeddings of every rank.
        detection_thresholds (`list`, *optional*): per aspect, a threshold on P(none) (mentioned when P(none) < it)
            or None (the default rule: mentioned when a sentiment is more probable than "none"), e.g. calibrated on
            validation data by `hf-visobert-absa train --calibrate_thresholds`; None means the default rule for
            every aspect. Only with `label_scheme="absent_as_class"`.
        base_model_name_or_path (`str`, *optional*): the pretrained encoder the model started from (set by
            `from_pretrained_encoder`; used by the model card).

    Raises:
        ValueError: a field holds a value that is not allowed; the message names the field, the value and
            what is allowed.

    Example:

    ```python
    >>> from hf_visobert_absa import ViSoBertAbsaConfig
    >>> config = ViSoBertAbsaConfig(aspects=["Battery", "Camera"], label_scheme="absent_as_class")
    >>> config.num_classes
    4
    ```
    """

    model_type = "visobert_absa"
    #: The encoder's config is a nested config of any `AutoConfig` model type.
    sub_configs: ClassVar[dict] = {"text_config": AutoConfig}
    #: Outputs that never reach `compute_metrics` (it gets the logits array alone).
    keys_to_ignore_at_inference: ClassVar[list[str]] = [
        "embeddings",
        "aspect_embeddings",
        "focal_loss",
        "contrastive_loss",
        "hidden_states",
        "attentions",
    ]

    def __init__(
        self,
        text_config: dict | PreTrainedConfig | None = None,
        aspects: list[str] | None = None,
        sentiments: list[str] | None = None,
        label_scheme: str = "absent_as_class",
        pooling: str = DEFAULT_POOLING,
        aspect_query_heads: int = 1,
        head_hidden_size: int = 512,
        classifier_dropout: float = 0.3,
        projection_dim: int = 256,
        focal_gamma: float = 2.0,
        focal_alpha: list | None = None,
        contrastive_temperature: float = 0.1,
        contrastive_mode: str | None = None,
        focal_weight: float = 0.8,
        contrastive_weight: float = 0.2,
        contrastive_across_devices: bool = False,
        detection_thresholds: list | None = None,
        base_model_name_or_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.text_config = encoder_config(text_config)
        self.aspects = list(DEFAULT_ASPECTS) if aspects is None else _as_list(aspects)
        self.sentiments = list(SENTIMENTS) if sentiments is None else _as_list(sentiments)
        label_scheme = current_name("label_scheme", label_scheme, RENAMED_LABEL_SCHEMES)
        contrastive_mode = current_name("contrastive_mode", contrastive_mode, RENAMED_CONTRASTIVE_MODES)
        self.label_scheme = label_scheme
        self.pooling = pooling
        self.aspect_query_heads = aspect_query_heads
        self.head_hidden_size = head_hidden_size
        self.classifier_dropout = classifier_dropout
        self.projection_dim = projection_dim
        self.focal_gamma = focal_gamma
        self.focal_alpha = _as_list(focal_alpha)
        self.contrastive_temperature = contrastive_temperature
        self.contrastive_across_devices = contrastive_across_devices
        if contrastive_mode is None:
            contrastive_mode = default_contrastive_mode(pooling, label_scheme, contrastive_across_devices)
        self.contrastive_mode = contrastive_mode
        self.focal_weight = focal_weight
        self.contrastive_weight = contrastive_weight
        self.detection_thresholds = detection_thresholds
        self.base_model_name_or_path = base_model_name_or_path
        self._validate()
        #: What the Hub code saved with this config runs on (written to config.json; derived, never read back).
        self.hub_code_requires = dict(HUB_CODE_REQUIRES)
        kwargs.pop("hub_code_requires", None)
        for derived in ("id2label", "label2id", "num_labels", "problem_type"):
            kwargs.pop(derived, None)  # the flat label view is derived from the aspects and sentiments
        flat = flat_labels(self.aspects, self.sentiments)
        super().__init__(
            id2label=dict(enumerate(flat)),
            label2id={label: i for i, label in enumerate(flat)},
            problem_type="multi_label_classification",
            **kwargs,
        )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The fields this config defines (its constructor's named arguments), e.g. to pick them from a dict."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        return tuple(p.name for p in parameters if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD)

    def to_diff_dict(self) -> dict[str, Any]:
        """The fields that differ from the defaults, with the encoder's config always in full: a nested config is
        otherwise written as its difference from ViSoBERT's, which an older reader would rebuild from the encoder
        type's own defaults instead."""
        config_dict = super().to_diff_dict()
        config_dict["text_config"] = self.text_config.to_dict()
        return config_dict

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        validate_aspects(self.aspects)
        if self.label_scheme not in LABEL_SCHEMES:
            reject_value("label_scheme", self.label_scheme, ", ".join(repr(s) for s in LABEL_SCHEMES))
        validate_sentiments(self.sentiments, self.label_scheme)
        if self.pooling not in POOLINGS:
            reject_value("pooling", self.pooling, ", ".join(repr(p) for p in POOLINGS))
        if self.contrastive_mode not in CONTRASTIVE_MODES:
            reject_value("contrastive_mode", self.contrastive_mode, ", ".join(repr(m) for m in CONTRASTIVE_MODES))
        self._validate_aspect_contrast()
        for name in ("head_hidden_size", "projection_dim", "aspect_query_heads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                reject_value(name, value, "a positive integer")
        if not _is_number(self.classifier_dropout) or not 0.0 <= self.classifier_dropout < 1.0:
            reject_value("classifier_dropout", self.classifier_dropout, "a number in [0, 1)")
        if not _is_number(self.focal_gamma) or self.focal_gamma < 0:
            reject_value("focal_gamma", self.focal_gamma, "a finite number >= 0 (0 gives cross-entropy)")
        if not _is_number(self.contrastive_temperature) or self.contrastive_temperature <= 0:
            reject_value("contrastive_temperature", self.contrastive_temperature, "a finite number > 0")
        for name in ("focal_weight", "contrastive_weight"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                reject_value(name, value, "a finite number >= 0")
        if self.focal_weight == 0 and self.contrastive_weight == 0:
            reject_value("focal_weight", 0, "a positive weight for at least one of focal_weight, contrastive_weight")
        if self.base_model_name_or_path is not None and not isinstance(self.base_model_name_or_path, str):
            reject_value(
                "base_model_name_or_path", self.base_model_name_or_path, "None or a Hub id / folder path (str)"
            )
        if not isinstance(self.contrastive_across_devices, bool):
            reject_value("contrastive_across_devices", self.contrastive_across_devices, "True or False")
        self._validate_alpha()
        self._validate_thresholds()
        if self.text_config.hidden_size % self.aspect_query_heads:
            reject_value(
                "aspect_query_heads",
                self.aspect_query_heads,
                f"a divisor of the encoder's hidden size {self.text_config.hidden_size}",
            )

    def _validate_aspect_contrast(self) -> None:
        """`contrastive_mode="aspect_sentiment"` needs a vector per aspect, sentiments that say "not mentioned"
        apart from neutral, and runs within each device's batch."""
        if self.contrastive_mode not in ASPECT_CONTRASTIVE_MODES:
            return
        if self.pooling not in ASPECT_POOLINGS:
            reject_value(
                "contrastive_mode", self.contrastive_mode, "a review-level mode with pooling=" + repr(self.pooling),
                "Use pooling='aspect_query' or 'aspect_prompt' (one vector per aspect), or another contrastive_mode.",
            )  # fmt: skip
        if self.label_scheme == "absent_as_neutral":
            reject_value(
                "contrastive_mode", self.contrastive_mode, "a review-level mode with label_scheme='absent_as_neutral'",
                "That scheme labels absent aspects neutral; use label_scheme='absent_as_class'.",
            )  # fmt: skip
        if self.contrastive_across_devices is True:
            reject_value(
                "contrastive_mode", self.contrastive_mode, "a review-level mode with contrastive_across_devices=True",
                "Set contrastive_across_devices=False: the aspect-level loss contrasts within each device's batch.",
            )  # fmt: skip

    def _validate_thresholds(self) -> None:
        thresholds = self.detection_thresholds
        if thresholds is None:
            return
        allowed = (
            f"None or a list of {len(self.aspects)} entries, one per aspect: a number in (0, 1] or None (the default "
            "rule, argmax)"
        )
        if not isinstance(thresholds, (list, tuple)) or len(thresholds) != len(self.aspects):
            reject_value("detection_thresholds", thresholds, allowed)
        if not all(t is None or (_is_number(t) and 0 < t <= 1) for t in thresholds):
            reject_value("detection_thresholds", thresholds, allowed)
        if not self.can_detect_aspects:
            reject_value("detection_thresholds", thresholds, "None", "Thresholds need label_scheme='absent_as_class'.")
        self.detection_thresholds = [None if t is None else float(t) for t in thresholds]

    @property
    def thresholds(self) -> list[float | None]:
        """Per aspect, the threshold on P(none) (`detection_thresholds`), or None: the default rule, argmax
        (`decision_visobert_absa.mentioned_mask`)."""
        return list(self.detection_thresholds or [None] * len(self.aspects))

    def _validate_alpha(self) -> None:
        alpha = self.focal_alpha
        if alpha is None:
            return
        num_classes = self.num_classes
        shape_help = (
            f"None, a list of {num_classes} class weights, or {len(self.aspects)} such lists (one per aspect); "
            "all weights finite and >= 0"
        )
        if _is_number(alpha):
            reject_value(
                "focal_alpha",
                alpha,
                shape_help,
                "A scalar alpha only rescales a softmax focal loss; scale `focal_weight` instead.",
            )
        if not isinstance(alpha, list) or not alpha:
            reject_value("focal_alpha", alpha, shape_help)
        if all(_is_number(x) for x in alpha):
            rows = [alpha]
            if len(alpha) != num_classes:
                reject_value(
                    "focal_alpha", alpha, shape_help, f"Label scheme {self.label_scheme!r} has {num_classes} classes."
                )
        else:
            rows = alpha
            if len(rows) != len(self.aspects) or not all(isinstance(r, list) and len(r) == num_classes for r in rows):
                reject_value("focal_alpha", alpha, shape_help)
        if not all(_is_number(x) and x >= 0 for r in rows for x in r):
            reject_value("focal_alpha", alpha, shape_help)

    # ------------------------------------------------------------------ derived values
    @property
    def class_names(self) -> tuple[str, ...]:
        """Names of the classes of every aspect, in logit order (`none` first under `absent_as_class`)."""
        return scheme_class_names(self.label_scheme, self.sentiments)

    @property
    def canonical_names(self) -> tuple[str, ...]:
        """Names of the canonical codes: 0 = `none`, 1..K = the sentiments (what data and metrics use)."""
        return (NONE_CLASS,) + tuple(self.sentiments)

    @property
    def num_aspects(self) -> int:
        return len(self.aspects)

    @property
    def num_sentiments(self) -> int:
        return len(self.sentiments)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def encoder_max_tokens(self) -> int | None:
        """The most tokens (special tokens included) the encoder's position embeddings can read, or `None` when
        the encoder config does not say. RoBERTa-family encoders number positions from the padding index + 1, so
        ViSoBERT's 514 positions hold 512 tokens; `pooling="aspect_prompt"` takes one position per aspect."""
        text_config = self.text_config
        limit = encoder_max_tokens(
            getattr(text_config, "model_type", None),
            getattr(text_config, "max_position_embeddings", None),
            getattr(text_config, "pad_token_id", 1),
        )
        if limit is None or self.pooling != "aspect_prompt":
            return limit
        return limit - self.num_aspects

    @property
    def can_detect_aspects(self) -> bool:
        """Whether predictions say which aspects a review mentions (only with a "none" class)."""
        return scheme_detects_aspects(self.label_scheme)

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> ViSoBertAbsaConfig:
        """`PretrainedConfig.from_dict` (what `from_pretrained` and `AutoConfig` use to read a `config.json`), which
        first refuses a dictionary that lacks a field of `MODEL_DEFINING_FIELDS`.

        Raises:
            ValueError: a model-defining field is missing; the message names it.
        """
        missing = [name for name in MODEL_DEFINING_FIELDS if name not in config_dict and name not in kwargs]
        if missing:
            raise ValueError(
                f"This visobert_absa config lacks {', '.join(repr(m) for m in missing)}, which define(s) the model; a "
                "missing field is never filled with a default. Add the field(s) to config.json with the values the "
                "model was trained with, or save the model again."
            )
        return super().from_dict(config_dict, **kwargs)

    @staticmethod
    def original_design_kwargs() -> dict[str, Any]:
        """The fields that make the original design: see [`ViSoBertAbsaConfig.original_design`]."""
        return {
            "label_scheme": "absent_as_neutral",
            "pooling": "pooler",
            "contrastive_mode": "soft_agreement",
            "focal_weight": 0.8,
            "contrastive_weight": 0.2,
            "focal_gamma": 2.0,
            "contrastive_temperature": 0.1,
            "head_hidden_size": 512,
            "classifier_dropout": 0.3,
            "projection_dim": 256,
        }

    @classmethod
    def original_design(cls, **overrides: Any) -> ViSoBertAbsaConfig:
        """The original design, exactly: not-mentioned aspects as neutral, pooler pooling, the soft-weighted
        contrastive loss, 0.8 focal + 0.2 contrastive, focal gamma 2, temperature 0.1.

        Kept for reproduction and comparison; its predictions cannot say which aspects a review mentions.

        Example:

        ```python
        >>> ViSoBertAbsaConfig.original_design(aspects=["Battery", "Camera"]).label_scheme
        'absent_as_neutral'
        ```
        """
        return cls(**{**cls.original_design_kwargs(), **overrides})


def default_contrastive_mode(pooling: str, label_scheme: str, across_devices: bool = False) -> str:
    """The contrastive mode a config gets when none is given: aspect-level contrast where the pooling gives each aspect
    its own vector (the measured recipe), the multi-label review-level loss (MulSupCon) otherwise."""
    if pooling in ASPECT_POOLINGS and label_scheme != "absent_as_neutral" and across_devices is not True:
        return "aspect_sentiment"
    return "mulsupcon"


def _as_list(value: Any) -> Any:
    """Tuples become lists (what config.json round-trips); anything else is left for validation to judge."""
    return list(value) if isinstance(value, tuple) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


__all__ = [
    "ASPECT_CONTRASTIVE_MODES",
    "ASPECT_POOLINGS",
    "CONTRASTIVE_MODES",
    "DEFAULT_POOLING",
    "MODEL_DEFINING_FIELDS",
    "POOLINGS",
    "RENAMED_CONTRASTIVE_MODES",
    "ViSoBertAbsaConfig",
    "default_contrastive_mode",
]
