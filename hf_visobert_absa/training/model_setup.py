"""The model a training run starts from: a fresh one around a pretrained encoder (label scheme, sentiments and the
heads' starting values as the flags choose) or a trained one to continue, with the flags checked against it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from ..errors import AbsaInputError
from ..hub.configuration_visobert_absa import ViSoBertAbsaConfig
from ..hub.labels_visobert_absa import LABEL_SCHEMES, SENTIMENTS, scheme_class_names
from .arguments import DEFAULT_ENCODER, DataArguments, ModelArguments
from .aspect_prompts import init_prompts_from_names
from .class_balance import balanced_focal_alpha, init_bias_to_priors


def resolve_label_scheme(model_args: ModelArguments, checkpoint_config: ViSoBertAbsaConfig | None = None) -> str:
    if checkpoint_config is not None:
        return checkpoint_config.label_scheme
    if model_args.label_scheme:
        if model_args.label_scheme not in LABEL_SCHEMES:
            raise AbsaInputError(
                f"`--label_scheme` got {model_args.label_scheme!r}; allowed: {', '.join(LABEL_SCHEMES)}."
            )
        return model_args.label_scheme
    return "absent_as_neutral" if model_args.original_design else "absent_as_class"


def build_model(
    model_args: ModelArguments,
    aspects: list[str],
    train_labels: np.ndarray | None,
    sentiments: list[str] | None = None,
    tokenizer: Any = None,
):
    """A fresh model around the pretrained encoder (its starting values as `model_args` choose; the aspect names'
    prompts need the `tokenizer`), or a trained model to continue from."""
    from ..hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment

    if model_args.model_name_or_path:
        model = ViSoBertAbsaForAspectSentiment.from_pretrained(model_args.model_name_or_path)
        if list(model.config.aspects) != list(aspects):
            raise AbsaInputError(
                f"The model at {model_args.model_name_or_path} was trained on aspects {list(model.config.aspects)} "
                f"but the data has {list(aspects)}. Pass `--aspects` in the model's order or start from an encoder."
            )
        model.train()
        return model
    kwargs: dict[str, Any] = ViSoBertAbsaConfig.original_design_kwargs() if model_args.original_design else {}
    kwargs.update(model_args.config_overrides())
    kwargs["aspects"] = list(aspects)
    if sentiments is not None:
        kwargs["sentiments"] = list(sentiments)
    if model_args.focal_alpha == "balanced":
        if train_labels is None:
            raise AbsaInputError("`--focal_alpha balanced` needs a training split.")
        scheme = kwargs.get("label_scheme", "absent_as_class")
        kwargs["focal_alpha"] = balanced_focal_alpha(train_labels, len(scheme_class_names(scheme, sentiments)))
    try:
        model = ViSoBertAbsaForAspectSentiment.from_pretrained_encoder(
            model_args.encoder, trust_remote_code=model_args.trust_remote_code, **kwargs
        )
    except OSError as error:
        raise AbsaInputError(
            f"Could not load the encoder {model_args.encoder!r}: {error}. Pass `--encoder` a local folder of a "
            "pretrained encoder, or run with network access to the Hugging Face Hub."
        ) from None
    except ValueError as error:  # a config value the encoder rules out, or a folder that is not an encoder
        raise AbsaInputError(as_flag_message(str(error))) from None
    if model_args.bias_init() == "priors":
        if train_labels is None:
            raise AbsaInputError("`--classifier_bias_init priors` needs a training split.")
        init_bias_to_priors(model, train_labels)
    if model.aspect_prompts is not None and model_args.aspect_prompt_init in (None, "names") and tokenizer is not None:
        init_prompts_from_names(model, tokenizer)
    return model


def as_flag_message(message: str) -> str:
    """A config message that starts with a field `train` sets from a flag, named as that flag (`--pooling`)."""
    field = re.match(r"`(\w+)` got", message)
    if field and field.group(1) in {f.name for f in dataclasses.fields(ModelArguments)}:
        return f"`--{field.group(1)}`" + message[len(field.group(1)) + 2 :]
    return message


def resolve_sentiments(data_args: DataArguments, checkpoint_config: ViSoBertAbsaConfig | None = None) -> list[str]:
    """The sentiment set: a continued model's own (a different `--sentiments` is an error), else the flag's, else
    the default positive, negative, neutral."""
    given = data_args.sentiment_list()
    if checkpoint_config is not None:
        own = list(checkpoint_config.sentiments)
        if given is not None and given != own:
            raise AbsaInputError(
                f"`--sentiments` {given} differs from the sentiments of the model being continued, {own}; its "
                "classification head is fixed. Drop `--sentiments`, or start from an encoder with `--encoder`."
            )
        return own
    return given if given is not None else list(SENTIMENTS)


def refuse_ignored_flags(model_args: ModelArguments) -> None:
    """Continuing a trained model: its config fixes the architecture and loss, so such flags are an error."""
    ignored = sorted(model_args.config_overrides()) + (["original_design"] if model_args.original_design else [])
    if model_args.focal_alpha == "balanced":
        ignored.append("focal_alpha")
    if model_args.classifier_bias_init is not None:
        ignored.append("classifier_bias_init")
    if model_args.encoder != DEFAULT_ENCODER:  # the continued model carries its own encoder
        ignored.append("encoder")
    if ignored:
        raise AbsaInputError(
            f"`--model_name_or_path` continues a trained model whose config fixes the architecture and loss; "
            f"these flags would be ignored: {', '.join('--' + name for name in ignored)}. Drop them, or start "
            "from an encoder with `--encoder` to change them."
        )


__all__ = ["as_flag_message", "build_model", "refuse_ignored_flags", "resolve_label_scheme", "resolve_sentiments"]
