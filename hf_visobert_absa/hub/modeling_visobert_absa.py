"""ViSoBERT aspect-sentiment model: one encoder forward pass feeds two heads.

    input_ids [B, L] -> encoder -> hidden [B, L, H] -> pooled [B, H]
        pooled -> Linear(H, 512) -> ReLU -> Dropout(0.3) -> Linear(512, A*C) -> logits [B, A, C]
        pooled -> Linear(H, 256) -> L2 normalise                            -> embeddings [B, 256]
    with `pooling="aspect_query"`: hidden -> one attention-pooled vector per aspect [B, A, H]; the same head
    scores each aspect from its own vector (logits[b, a] = head(vector[b, a])[a]); pooled = their mean.
    with `pooling="aspect_prompt"`: A learned input vectors follow the first token, the encoder reads
    [B, 1 + A + L - 1] positions and each aspect's vector is the last layer at its own position; as above after.
    loss = focal_weight * focal(logits) + contrastive_weight * contrastive(embeddings)   (one backward)

This file travels to the Hugging Face Hub: it imports only the standard library, `torch`, public
`transformers` names and its siblings by `from .sibling import X`.

References:
    - Nguyen et al., "ViSoBERT: A Pre-Trained Language Model for Vietnamese Social Media Text Processing",
      EMNLP 2023, arXiv:2310.11166.
    - Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, arXiv:1708.02002.
    - Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, arXiv:2004.11362.
    - Zhang & Wu, "Multi-Label Supervised Contrastive Learning", AAAI 2024.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.utils import ModelOutput

from .configuration_visobert_absa import ASPECT_CONTRASTIVE_MODES, ViSoBertAbsaConfig
from .encoder_visobert_absa import (
    check_encoder_weights,
    encoder_from_config,
    encoder_name,
    load_pretrained_encoder,
    pretrained_encoder_config,
)
from .heads_visobert_absa import ViSoBertAbsaClassificationHead, ViSoBertAbsaPooler, ViSoBertAbsaProjectionHead
from .losses_visobert_absa import compute_absa_loss
from .pooling_visobert_absa import AspectPromptPooling, AspectQueryPooling
from .tasks_visobert_absa import ABSA_TASK, PIPELINE_TASKS

# isort: split
# transformers 4.x copies a local folder's code one level deep: only the siblings the loaded file imports itself.
# This file is the one `AutoModel` loads, so it also names the siblings that its siblings import (tested).
from .contrastive_visobert_absa import upcast_half  # noqa: F401
from .cross_device_visobert_absa import gather_across_devices  # noqa: F401
from .decision_visobert_absa import mentioned_mask  # noqa: F401
from .evidence_visobert_absa import word_spans  # noqa: F401
from .labels_visobert_absa import reject_value  # noqa: F401
from .windows_visobert_absa import check_text  # noqa: F401

logger = logging.getLogger(__name__)

#: File endings of pickled weights, never loaded.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


@dataclass
class AspectSentimentOutput(ModelOutput):
    """Output of [`ViSoBertAbsaForAspectSentiment`].

    Args:
        loss (`torch.FloatTensor`, *optional*): the combined objective, when `labels` are given.
        logits (`torch.FloatTensor` of shape `[B, A, C]`): per-aspect class scores.
        embeddings (`torch.FloatTensor` of shape `[B, projection_dim]`): L2-normalised review embeddings.
        aspect_embeddings (`torch.FloatTensor` of shape `[B, A, projection_dim]`, *optional*): L2-normalised
            projections of each aspect's own vector, with `contrastive_mode="aspect_sentiment"`.
        focal_loss (`torch.FloatTensor`, *optional*): the focal term (unweighted), when `labels` are given.
        contrastive_loss (`torch.FloatTensor`, *optional*): the contrastive term (unweighted).
        hidden_states (`tuple[torch.FloatTensor]`, *optional*): the encoder's hidden states, on request.
        attentions (`tuple[torch.FloatTensor]`, *optional*): the encoder's attentions, on request.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    embeddings: torch.FloatTensor | None = None
    aspect_embeddings: torch.FloatTensor | None = None
    focal_loss: torch.FloatTensor | None = None
    contrastive_loss: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class ViSoBertAbsaPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading plumbing shared by the aspect-sentiment models."""

    config_class = ViSoBertAbsaConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True
    # The loss is a mean computed here: the Trainer must keep dividing it by the accumulation steps.
    accepts_loss_kwargs = False

    def _init_weights(self, module: nn.Module) -> None:
        std = getattr(self.config.text_config, "initializer_range", 0.02)
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, AspectQueryPooling):
            nn.init.normal_(module.queries, mean=0.0, std=std)
        elif isinstance(module, AspectPromptPooling):
            nn.init.normal_(module.prompts, mean=0.0, std=std)


class ViSoBertAbsaForAspectSentiment(ViSoBertAbsaPreTrainedModel):
    r"""Aspect-category sentiment model with a classification head and a contrastive projection head fed by one
    encoder forward pass.

    Args:
        config ([`ViSoBertAbsaConfig`]): the model configuration. The encoder is built from
            `config.text_config` with random weights (never downloaded here); use
            [`ViSoBertAbsaForAspectSentiment.from_pretrained_encoder`] to start from pretrained encoder weights, or
            `from_pretrained` to load a trained aspect-sentiment model.

    Example:

    ```python
    >>> from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment
    >>> config = ViSoBertAbsaConfig(text_config={"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
    ...     "num_attention_heads": 4, "intermediate_size": 37, "vocab_size": 99})
    >>> model = ViSoBertAbsaForAspectSentiment(config)
    >>> out = model(input_ids=torch.tensor([[2, 5, 7, 3]]))
    >>> tuple(out.logits.shape), tuple(out.embeddings.shape)
    ((1, 11, 4), (1, 256))
    ```
    """

    #: The auto class a saved folder maps to this class (its `auto_map` key).
    auto_class_name = "AutoModel"

    def __init__(self, config: ViSoBertAbsaConfig) -> None:
        super().__init__(config)
        self.encoder = encoder_from_config(config.text_config)
        hidden = config.text_config.hidden_size
        # Dense + tanh over the first token, as BERT's pooler; owned by the head so MLM checkpoints (which have no
        # trained pooler) and DDP (no unused parameters) both work.
        self.pooler = ViSoBertAbsaPooler(hidden) if config.pooling == "pooler" else None
        self.classifier = ViSoBertAbsaClassificationHead(config, hidden)
        self.projection = ViSoBertAbsaProjectionHead(hidden, config.projection_dim)
        self.aspect_pooling = (
            AspectQueryPooling(config.num_aspects, hidden, config.aspect_query_heads)
            if config.pooling == "aspect_query"
            else None
        )
        self.aspect_prompts = (
            AspectPromptPooling(config.num_aspects, hidden) if config.pooling == "aspect_prompt" else None
        )
        self.post_init()

    @property
    def scores_each_aspect(self) -> bool:
        """Whether each aspect is scored from its own vector (`aspect_query`, `aspect_prompt`)."""
        return self.aspect_pooling is not None or self.aspect_prompts is not None

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.encoder.set_input_embeddings(value)

    def pool(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """`[B, L, H]` -> `[B, H]` by the configured pooling (under `aspect_query`: the mean of the aspects'
        vectors, the review vector the projection head reads)."""
        if self.scores_each_aspect:
            return self.aspect_vectors(hidden_states, attention_mask).mean(dim=1)
        if self.config.pooling == "mean":
            if attention_mask is None:
                return hidden_states.mean(dim=1)
            mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)  # [B, L, 1]
            return (hidden_states * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
        first = hidden_states[:, 0]  # [B, H]
        if self.pooler is not None:
            return self.pooler(first)
        return first

    def pool_and_classify(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states `[B, L, H]` (as `encode` returns them) -> (review vector `[B, H]`, logits `[B, A, C]`)."""
        pooled, logits, _ = self.pool_classify_per_aspect(hidden_states, attention_mask)
        return pooled, logits

    def pool_classify_per_aspect(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """As [`pool_and_classify`], plus the aspects' own vectors `[B, A, H]` (`None` unless `scores_each_aspect`)."""
        if not self.scores_each_aspect:
            pooled = self.pool(hidden_states, attention_mask)  # [B, H]
            return pooled, self.classifier(pooled), None
        per_aspect = self.aspect_vectors(hidden_states, attention_mask)  # [B, A, H]
        return per_aspect.mean(dim=1), self.classifier.per_aspect(per_aspect), per_aspect  # [B, H], [B, A, C]

    def aspect_vectors(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """`[B, L, H]` -> one vector per aspect `[B, A, H]` (`aspect_query` or `aspect_prompt` only)."""
        if self.aspect_prompts is not None:
            return self.aspect_prompts.read(hidden_states)
        return self.aspect_pooling(hidden_states, attention_mask)

    def encode(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **flags: Any,
    ) -> tuple[Any, torch.Tensor | None]:
        """The ONE encoder pass: (the encoder's output, the attention mask its positions use). Under
        `aspect_prompt` the aspects' prompts are inserted after the first token first (see
        [`AspectPromptPooling`]), so both are A positions longer than the input."""
        inputs: dict[str, Any] = {
            "input_ids": input_ids,
            "inputs_embeds": inputs_embeds,
            "token_type_ids": token_type_ids,
        }
        if self.aspect_prompts is not None:
            if position_ids is not None:
                raise ValueError(
                    "`position_ids` cannot be given with pooling='aspect_prompt' (the prompts shift them)."
                )
            embeds = inputs_embeds if inputs_embeds is not None else self.get_input_embeddings()(input_ids)
            embeds, attention_mask, token_type_ids = self.aspect_prompts.insert(embeds, attention_mask, token_type_ids)
            inputs = {"inputs_embeds": embeds, "token_type_ids": token_type_ids}
        inputs.update(attention_mask=attention_mask, position_ids=position_ids, **flags)
        encoded = self.encoder(**{k: v for k, v in inputs.items() if v is not None}, return_dict=True)
        return encoded, attention_mask

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> AspectSentimentOutput | tuple:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `[B, L]`): token ids.
            attention_mask (`torch.LongTensor` of shape `[B, L]`, *optional*): 1 for tokens, 0 for padding.
            token_type_ids, position_ids, inputs_embeds: passed to the encoder when given.
            labels (`torch.LongTensor` of shape `[B, A]`, *optional*): one class index per aspect in the
                config's label scheme (`-100` = ignored). When given, the combined loss is returned.
            output_attentions, output_hidden_states, return_dict: as in every `transformers` model.

        Returns:
            [`AspectSentimentOutput`] (or a tuple when `return_dict=False`).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        flags = {"output_attentions": True} if output_attentions else {}
        if output_hidden_states:
            flags["output_hidden_states"] = True
        encoded, attention_mask = self.encode(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **flags
        )
        pooled, logits, per_aspect = self.pool_classify_per_aspect(encoded.last_hidden_state, attention_mask)
        embeddings = self.projection(pooled)  # [B, D], unit length
        aspect_embeddings = None
        if per_aspect is not None and self.config.contrastive_mode in ASPECT_CONTRASTIVE_MODES:
            aspect_embeddings = self.projection(per_aspect)  # [B, A, D], unit length

        loss = focal = contrastive = None
        if labels is not None:
            loss, focal, contrastive = compute_absa_loss(logits, embeddings, labels, self.config, aspect_embeddings)

        output = AspectSentimentOutput(
            loss=loss,
            logits=logits,
            embeddings=embeddings,
            aspect_embeddings=aspect_embeddings,
            focal_loss=focal,
            contrastive_loss=contrastive,
            hidden_states=getattr(encoded, "hidden_states", None),
            attentions=getattr(encoded, "attentions", None),
        )
        return output if return_dict else output.to_tuple()

    @torch.no_grad()
    def logits_and_token_weights(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ONE pass for evidence: (logits `[B, A, C]`, each aspect's attention over the input tokens `[B, A, L]`,
        the mean of its heads), with `pooling="aspect_query"`, the pooling that has one.

        Raises:
            ValueError: another pooling; the message names the attribution method that works for any pooling.
        """
        if self.aspect_pooling is None:
            raise ValueError(
                f"Attention evidence needs pooling='aspect_query' (this model uses {self.config.pooling!r}): use "
                "an attribution such as hf_visobert_absa.integrated_gradients ([attribution] extra)."
            )
        encoded, mask = self.encode(input_ids, attention_mask)
        hidden = encoded.last_hidden_state  # [B, L, H]
        weights = self.aspect_pooling.attention(hidden, mask).mean(dim=2)  # [B, A, L]
        _, logits, _ = self.pool_classify_per_aspect(hidden, mask)
        return logits, weights

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any
    ) -> ViSoBertAbsaForAspectSentiment:
        """`PreTrainedModel.from_pretrained`, but weights load ONLY from safetensors.

        Unpickling a `pytorch_model.bin` (or any `.bin`/`.pt`/`.pth`/`.ckpt`/`.pkl`) can run arbitrary code, so
        it is refused with a message that names the files and shows how to convert a file you trust once.

        Raises:
            ValueError: `use_safetensors=False` was passed.
            OSError: a local folder holds pickled weights and no safetensors file.
        """
        if kwargs.get("use_safetensors") is False:
            raise ValueError(
                "`use_safetensors=False` is not allowed: visobert_absa models load weights only from safetensors, "
                "because unpickling a checkpoint can run arbitrary code."
            )
        kwargs["use_safetensors"] = True
        folder = Path(str(pretrained_model_name_or_path))
        if folder.is_dir():
            subfolder = folder / kwargs.get("subfolder", "")
            has_safetensors = any(subfolder.glob("*.safetensors"))
            pickles = sorted(p.name for p in subfolder.iterdir() if p.suffix in PICKLE_SUFFIXES)
            if pickles and not has_safetensors:
                raise OSError(
                    f"{subfolder} holds only pickled weights ({', '.join(pickles)}) and no model.safetensors. "
                    "visobert_absa models load weights only from safetensors: unpickling a file can run arbitrary "
                    'code. If you trust the file, convert it once: python -c "import torch; from safetensors.torch '
                    f"import save_file; save_file(torch.load('{subfolder / pickles[0]}', weights_only=True), "
                    f"'{subfolder / 'model.safetensors'}')\""
                )
        return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        """`PreTrainedModel.save_pretrained`, writing a complete Hub model folder whether or not anything was
        registered in this process: `config.json` with `auto_map` (AutoConfig, AutoModel,
        AutoModelForSequenceClassification) and `custom_pipelines`, safetensors weights, and the Hub code files
        (this file and every sibling it imports: configuration, heads, losses, pipeline, ...), so that `AutoModel.from_pretrained(folder,
        trust_remote_code=True)` and `pipeline(model=folder, trust_remote_code=True)` work in a process without
        this package. Save the tokenizer into the same folder."""
        # A relative import: `transformers` copies a saved module's relative imports next to it, so the pipeline
        # file travels with the modeling file (into every saved folder and every remote-code copy).
        from .pipeline_visobert_absa import AspectSentimentPipeline

        config = self.config
        # Saving copies this file (and, recursively, the siblings it imports) beside the weights once the classes
        # are registered for an auto class; the public registration call, made here rather than at import.
        type(config).register_for_auto_class()
        type(self).register_for_auto_class(type(self).auto_class_name)
        kept = {name: getattr(config, name, None) for name in ("auto_map", "custom_pipelines")}
        module = _module_name(ViSoBertAbsaForAspectSentiment)
        config.auto_map = {
            **(kept["auto_map"] or {}),
            "AutoConfig": f"{_module_name(type(config))}.{type(config).__name__}",
            "AutoModel": f"{module}.{ViSoBertAbsaForAspectSentiment.__name__}",
            "AutoModelForSequenceClassification": f"{module}.{ViSoBertAbsaForSequenceClassification.__name__}",
        }
        task = {
            **PIPELINE_TASKS[ABSA_TASK],
            "impl": f"{_module_name(AspectSentimentPipeline)}.{AspectSentimentPipeline.__name__}",
        }
        config.custom_pipelines = {ABSA_TASK: task}
        try:
            super().save_pretrained(save_directory, *args, **kwargs)
        finally:
            # the in-memory config stays as it was: `pipeline(task, model=<this object>)` keeps using the registry
            config.custom_pipelines = kept["custom_pipelines"]
            if kept["custom_pipelines"] is None:
                del config.custom_pipelines

    @classmethod
    def from_pretrained_encoder(
        cls,
        name_or_path: str,
        *,
        revision: str | None = None,
        cache_dir: str | None = None,
        local_files_only: bool = False,
        trust_remote_code: bool = False,
        **config_kwargs: Any,
    ) -> ViSoBertAbsaForAspectSentiment:
        """Build the aspect-sentiment model around a pretrained encoder and copy its weights strictly.

        Works for a bare encoder checkpoint (`XLMRobertaModel`, `BertModel`, ...) and for a masked-LM
        checkpoint whose keys carry a `roberta.`/`bert.` prefix (as `uitnlp/visobert` does): the encoder is
        loaded with `AutoModel`, which maps those prefixes, and every encoder weight must be found.

        Args:
            name_or_path (`str`): a Hub id (default encoder: `uitnlp/visobert`) or a local folder.
            revision, cache_dir, local_files_only, trust_remote_code: passed to `from_pretrained`.
            **config_kwargs: fields of [`ViSoBertAbsaConfig`] (aspects, label_scheme, pooling, ...).

        Returns:
            [`ViSoBertAbsaForAspectSentiment`] in train mode, heads randomly initialised.

        Raises:
            ValueError: the checkpoint lacks encoder weights (e.g. it is not an encoder of the configured
                architecture); the message lists the missing keys.

        Example:

        ```python
        >>> model = ViSoBertAbsaForAspectSentiment.from_pretrained_encoder("uitnlp/visobert", label_scheme="absent_as_class")
        ```
        """
        hub_kwargs = {
            "revision": revision,
            "cache_dir": cache_dir,
            "local_files_only": local_files_only,
            "trust_remote_code": trust_remote_code,
        }
        text_config = pretrained_encoder_config(
            name_or_path, hub_kwargs, refuse_model_type=ViSoBertAbsaConfig.model_type
        )
        source_name = encoder_name(name_or_path)  # no machine path goes into a saved config
        text_config["_name_or_path"] = source_name
        config = ViSoBertAbsaConfig(text_config=text_config, base_model_name_or_path=source_name, **config_kwargs)
        model = cls(config)
        source, info = load_pretrained_encoder(name_or_path, hub_kwargs)
        check_encoder_weights(name_or_path, text_config["model_type"], info)
        model.encoder.load_state_dict(source.state_dict(), strict=True)
        model.train()
        logger.info("Copied %d encoder tensors from %s", len(source.state_dict()), name_or_path)
        return model


class ViSoBertAbsaForSequenceClassification(ViSoBertAbsaForAspectSentiment):
    r"""The text-classification view of [`ViSoBertAbsaForAspectSentiment`] (the same weights): one multi-label logit per
    (aspect, sentiment) pair, labelled `"{aspect}={sentiment}"` (`config.id2label`), whose sigmoid is the model's
    probability of that pair (its per-aspect softmax). `AutoModelForSequenceClassification` loads a saved folder as
    this class, so transformers' own `pipeline("text-classification", model=folder, trust_remote_code=True)`
    scores every pair (`config.problem_type` is `"multi_label_classification"`; pass `top_k=None` for all of them).

    For inference only: train [`ViSoBertAbsaForAspectSentiment`], whose `labels` are one class per aspect.
    """

    auto_class_name = "AutoModelForSequenceClassification"

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple:
        """Returns `SequenceClassifierOutput` with `logits` `[B, A * K]`: the log-odds of each (aspect, sentiment)."""
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output = super().forward(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, return_dict=True,
        )  # fmt: skip
        logits = pair_log_odds(output.logits, self.config.can_detect_aspects)
        flat = SequenceClassifierOutput(logits=logits, hidden_states=output.hidden_states, attentions=output.attentions)
        return flat if return_dict else flat.to_tuple()


def pair_log_odds(logits: torch.Tensor, has_none_class: bool) -> torch.Tensor:
    """`[B, A, C]` class scores -> `[B, A * K]` log-odds of each (aspect, sentiment) probability under the aspect's
    softmax (the "none" class, where there is one, is left out): `sigmoid` of the result gives the probabilities back."""
    probabilities = logits.double().softmax(dim=-1)[..., 1 if has_none_class else 0 :]  # [B, A, K]
    return torch.special.logit(probabilities.flatten(1), eps=1e-12).to(logits.dtype)


def _module_name(cls: type) -> str:
    return cls.__module__.rsplit(".", 1)[-1]


__all__ = [
    "PICKLE_SUFFIXES",
    "AspectSentimentOutput",
    "ViSoBertAbsaForSequenceClassification",
    "ViSoBertAbsaForAspectSentiment",
    "ViSoBertAbsaPreTrainedModel",
]
