"""The model card (README.md) of an exported aspect-sentiment model.

Card data (the YAML block, including `model-index`) is built with `huggingface_hub.ModelCardData` and
`EvalResult` from the run's metrics; the body is the Jinja template `model_card_template.md.jinja` beside this
file, rendered with `ModelCard.from_template`. Everything shown comes from the model config, the run's metrics
JSON, its training arguments and what training recorded about its data (`card_facts`); rendering is
deterministic (no dates; versions only as passed in). Metrics tables: `card_metrics`; citations and dataset
descriptions: `card_references`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from ..hub.labels_visobert_absa import flat_label, scheme_class_names
from ..hub.tasks_visobert_absa import HUB_CODE_REQUIRES
from .card_facts import describe_encoder, hub_id, is_visobert
from .card_metrics import eval_results, markdown_table, metrics_text
from .card_references import (
    ASPECT_CONTRAST_CITATION,
    CITATIONS,
    CONTRASTIVE_NOTES,
    KNOWN_DATASETS,
    VISOBERT_CITATION,
    DatasetInfo,
    pooling_note,
)
from .hub_files import CODE_FILES

TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md.jinja")

#: Minimum versions to load an exported model (the floors of pyproject's dependencies; a test keeps them equal).
MIN_VERSIONS: dict[str, str] = {"torch": "2.4", "transformers": "5.20", "tokenizers": "0.21", "safetensors": "0.4"}


def _or_list(names: list[str]) -> str:
    """`positive, negative or neutral`."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _code(text: str) -> str:
    """`text` as Markdown inline code, exactly (a name holding backticks gets a longer fence)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _scheme_note(label_scheme: str) -> str:
    if label_scheme == "absent_as_class":
        return "`none` means the review does not mention the aspect; the pipeline reports the aspects where a sentiment is more probable than `none` (or whose P(none) is below a threshold, when one is set)."
    if label_scheme == "absent_as_neutral":
        return (
            "Trained as the original design: a not-mentioned aspect counts as `neutral`, so `neutral` mixes "
            '"not mentioned" and "neutral opinion"; every aspect is returned.'
        )
    return "Trained on mentioned aspects only (absent aspects ignored by the loss): every aspect gets a sentiment."


#: Language names for the card's first sentence, by ISO 639-1 code.
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English"}


def build_card_data(
    config: Any,
    metrics: dict[str, Any] | None = None,
    *,
    model_name: str,
    dataset: str | None = None,
    dataset_split: str = "test",
    base_model: str | None = None,
    license: str | None = None,
    language: str | None = None,
) -> ModelCardData:
    """The card's YAML block: language, library, pipeline tag, tags, base model (a Hub id only, never a local
    path), datasets and `model-index`."""
    info = KNOWN_DATASETS.get(dataset or "")
    dataset_name = info.name if info else (dataset or "unspecified")
    results = eval_results(metrics or {}, dataset or "unspecified", dataset_name, dataset_split) if metrics else []
    tags = ["aspect-based-sentiment-analysis", "custom_code"] + (["visobert"] if is_visobert(config) else [])
    return ModelCardData(
        language=language,
        license=license,
        library_name="transformers",
        pipeline_tag="text-classification",  # served by the folder's own text-classification pipeline
        tags=tags + ["focal-loss", "contrastive-learning"],
        base_model=hub_id(base_model or getattr(config, "base_model_name_or_path", None)),
        datasets=[dataset] if dataset else None,
        metrics=sorted({r.metric_type for r in results}) or None,
        model_name=model_name,
        eval_results=results or None,
    )


def _a_review(language_name: str | None) -> str:
    if not language_name:
        return "a review"
    return ("an " if language_name[0] in "AEIOU" else "a ") + f"{language_name} review"


def _dataset_text(info: DatasetInfo | None, dataset: str | None, training_data: dict[str, Any]) -> str:
    if info:
        text = info.description
    elif dataset:
        text = f"Dataset: `{dataset}`."
    elif isinstance(training_data.get("data_files"), dict) and training_data["data_files"]:
        files = ", ".join(f"{split} `{Path(str(path)).name}`" for split, path in training_data["data_files"].items())
        text = f"Data files recorded by `train` (names only; pass `--dataset` to describe and cite the data): {files}."
    else:
        text = "The training data was not recorded with this export."
    subsets = training_data.get("subsets") or {}
    used = [f"the first {s['used']} of {s['of']} {split} rows" for split, s in subsets.items() if isinstance(s, dict)]
    if used:
        text += " This model was trained and evaluated on a subset: " + ", ".join(used) + "."
    return text


def _data_fields(
    config: Any, info: DatasetInfo | None, dataset: str | None, training_data: dict[str, Any],
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The card's fields about the data: its description (with the subset used), domain and limitations (with the
    collapse warnings and the calibration the run recorded)."""
    notes = list(info.notes) if info else []
    if not config.can_detect_aspects:
        notes.append(
            f"Trained with the `{config.label_scheme}` label scheme: it cannot tell a not-mentioned aspect from a mentioned one."
        )
    notes += [f"Warning recorded at training time: {w}" for w in (metrics or {}).get("warnings") or []]
    calibration = (metrics or {}).get("calibration")
    if calibration:
        notes.append(
            f"The decision rule was calibrated on the validation split for {calibration['metric']}: "
            f"{calibration['before']:.4f} -> {calibration['after']:.4f} there (an in-sample gain; expect less on new data)."
        )
    return {
        "dataset_text": _dataset_text(info, dataset, training_data),
        "domain": info.domain if info else "the data described above",
        "limitation_notes": notes,
    }


def _training_text(training: dict[str, Any] | None, training_source: str | None) -> str:
    if not training:
        return "The training hyper-parameters were not recorded with this export."
    training = dict(training)
    refit = training.pop("refit", None)
    return (
        (f"From `{training_source}`:\n\n" if training_source else "")
        + markdown_table(["hyper-parameter", "value"], [[f"`{k}`", f"`{v}`"] for k, v in training.items()])
        + (_refit_text(refit) if isinstance(refit, dict) else "")
    )


def _refit_text(refit: dict[str, Any]) -> str:
    """What a refit after selection did (`training/refit.py`), for the card."""
    epochs = refit.get("epochs", refit.get("selected_epoch", 0))
    return (
        f"\n\nRefit after selection: epoch {refit.get('selected_epoch', 0):g} scored best on the "
        f"{refit.get('held_out_rows')} rows held out from the training file; this model was then trained again from "
        f"the same initial weights on all {refit.get('rows')} rows for {epochs:g} epochs. Its validation numbers are "
        "those of the selection model: this model has trained on those rows."
    )


def _settings_text(metrics: dict[str, Any] | None, max_tokens: int) -> str:
    """How the metrics were computed, and whether the pipeline's defaults reproduce them (the thresholds are the
    model's own, which the pipeline uses by default)."""
    if not metrics or "max_length" not in metrics:
        return ""
    max_length, rule = metrics["max_length"], metrics.get("decision_rule", "argmax")
    legacy = "decision_rule" not in metrics and "threshold" in metrics  # a run before argmax became the default
    if legacy and not isinstance(metrics["threshold"], list):
        shown = f"`threshold={metrics['threshold']}` (pass it to the pipeline to reproduce them)"
    elif legacy or isinstance(rule, dict):
        shown = "the per-aspect decision rule saved with the model (thresholds on P(none), argmax elsewhere)"
    elif rule == "argmax":
        shown = "the default decision rule (an aspect is mentioned when a sentiment is more probable than `none`)"
    else:
        shown = f"the decision rule {rule}"
    text = f"Computed with `max_length={max_length}` tokens and {shown}"
    if max_length == max_tokens:
        return text + ", the pipeline's defaults.\n\n"
    return (
        text
        + f"; the pipeline reads {max_tokens} tokens by default: pass `max_length={max_length}` to reproduce them.\n\n"
    )


def _citations_text(config: Any, info: DatasetInfo | None, dataset: str | None) -> str:
    citations = ([VISOBERT_CITATION] if is_visobert(config) else []) + list(CITATIONS)
    citations += [ASPECT_CONTRAST_CITATION] if config.contrastive_mode == "aspect_sentiment" else []
    citations += [info.bibtex] if info and info.bibtex else []
    text = "```bibtex\n" + "\n\n".join(citations) + "\n```"
    if dataset == "phone_reviews":
        text += "\n\nThe phone-review data comes from the public repository https://github.com/hjsad1994/BERT (cite it by URL)."
    return text


def _requirements_text(exported_with: dict[str, str] | None) -> str:
    versions = "\n".join(f"- `{name}>={version}`" for name, version in MIN_VERSIONS.items())
    if exported_with:
        versions += "\n\nExported with " + ", ".join(f"`{k}=={v}`" for k, v in exported_with.items()) + "."
    return "Python >= 3.10 and\n\n" + versions


def _label_fields(config: Any, example: str | None) -> dict[str, Any]:
    """The card's fields about aspects, classes and the usage example, from the model's own config."""
    classes = scheme_class_names(config.label_scheme, getattr(config, "sentiments", None))
    aspects = list(config.aspects)
    sentiments = [c for c in classes if c != "none"]
    rows = [[str(i), _code(a), ", ".join(_code(flat_label(a, c)) for c in classes)] for i, a in enumerate(aspects)]
    example_output = {"aspect": aspects[0], "sentiment": sentiments[0]}
    return {
        "num_aspects": len(aspects),
        "aspect_list": ", ".join(aspects),
        "can_detect": config.can_detect_aspects,
        "label_scheme": config.label_scheme,
        "class_list": ", ".join(f"`{c}`" for c in classes),
        "sentiment_list": _or_list(list(getattr(config, "sentiments", None) or sentiments)),
        "scheme_note": _scheme_note(config.label_scheme),
        "aspects_table": markdown_table(["#", "aspect", "flat labels"], rows),
        "example_literal": json.dumps(example or "Write a review here.", ensure_ascii=False),
        "example_output": json.dumps(example_output, ensure_ascii=False)[:-1] + ', "score": <probability>}',
        "flat_example": json.dumps(flat_label(aspects[0], sentiments[0]), ensure_ascii=False),
        "first_aspect": json.dumps(aspects[0], ensure_ascii=False),
        "first_sentiment": json.dumps(sentiments[0], ensure_ascii=False),
    }


def _architecture_fields(config: Any, num_parameters: int | None) -> dict[str, Any]:
    return {
        "encoder": describe_encoder(config),
        "pooling": f"`{config.pooling}` ({pooling_note(config)})",
        "has_aspect_attention": config.pooling == "aspect_query",
        "hidden_size": config.text_config.hidden_size,
        "head_hidden_size": config.head_hidden_size,
        "classifier_dropout": config.classifier_dropout,
        "num_classes": config.num_classes,
        "projection_dim": config.projection_dim,
        "projection_role": (
            "one embedding per aspect, from the aspect's own vector, which the contrastive loss compares"
            if config.contrastive_mode == "aspect_sentiment"
            else "the review embedding the contrastive loss compares"
        ),
        "focal_weight": config.focal_weight,
        "contrastive_weight": config.contrastive_weight,
        "focal_gamma": config.focal_gamma,
        "focal_alpha": config.focal_alpha,
        "contrastive_temperature": config.contrastive_temperature,
        "contrastive_mode": config.contrastive_mode,
        "contrastive_note": CONTRASTIVE_NOTES.get(config.contrastive_mode, config.contrastive_mode),
        "num_parameters": f"{num_parameters:,}" if num_parameters else None,
    }


def _license_text(license: str | None) -> str:
    if license:
        return f"`{license}`."
    return (
        "not stated by the exporter (pass `--license`, e.g. `apache-2.0`); the encoder's and the training data's "
        "own licences apply."
    )


def _usage_fields(
    model_name: str,
    repo_id: str | None,
    revision: str,
    code_files: list[str] | None,
    exported_with: dict[str, str] | None,
) -> dict[str, Any]:
    """The card's fields about loading the model: its name and Hub location, the code files and the versions."""
    return {
        "model_name": model_name,
        "repo_id": repo_id or "ORG/NAME",
        "revision": revision,
        "code_files": "`, `".join(code_files or sorted(CODE_FILES)),
        "transformers_range": HUB_CODE_REQUIRES["transformers"],
        "torch_range": HUB_CODE_REQUIRES["torch"],
        "requirements": _requirements_text(exported_with),
    }


def render_model_card(
    config: Any,
    *,
    metrics: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    training_source: str | None = None,
    training_data: dict[str, Any] | None = None,
    language: str | None = None,
    model_name: str = "Aspect-sentiment model",
    repo_id: str | None = None,
    revision: str = "COMMIT_SHA",
    dataset: str | None = None,
    dataset_split: str = "test",
    base_model: str | None = None,
    license: str | None = None,
    num_parameters: int | None = None,
    max_tokens: int = 512,
    code_files: list[str] | None = None,
    exported_with: dict[str, str] | None = None,
    template_path: str | Path | None = None,
) -> ModelCard:
    r"""Render the README.md of an exported model from the config, the run's records and the arguments only.

    Args:
        config: the model config (read through its attributes only).
        metrics (`dict`, *optional*): the run's metrics (see [`load_metrics`]); the card shows exactly these, and
            their `max_length`/`threshold` when recorded.
        training (`dict`, *optional*): hyper-parameters to list; `training_source` names the file they came from.
        training_data (`dict`, *optional*): what training recorded about its data (`language`, `example_review`,
            `subsets`; see `card_facts.read_training_data`).
        language (`str`, *optional*): ISO 639-1 code; defaults to the one recorded in `training_data`.
        model_name, repo_id, revision: shown in the title and the usage example (`revision` should be replaced by
            a commit hash; the default is a visible placeholder).
        dataset (`str`, *optional*): `"phone_reviews"`, `"uit_visfd"` (described and cited) or any Hub dataset id.
        dataset_split, base_model, license, num_parameters, code_files: shown as given (`base_model`: Hub ids only).
        max_tokens (`int`, defaults to 512): the pipeline's default window in tokens.
        exported_with (`dict`, *optional*): library versions used for the export (injected, so tests stay fixed).
        template_path (`str`, *optional*): another Jinja template; defaults to [`TEMPLATE_PATH`].

    Returns:
        `huggingface_hub.ModelCard`; `str(card)` is the README text and `ModelCard.load` parses it back.

    Example:

    ```python
    >>> card = render_model_card(model.config, metrics=load_metrics("run/metrics.json"), dataset="phone_reviews")
    >>> card.save("exported/README.md")
    ```
    """
    info = KNOWN_DATASETS.get(dataset or "")
    training_data = training_data or {}
    language = language or training_data.get("language")
    card_data = build_card_data(
        config, metrics, model_name=model_name, dataset=dataset, dataset_split=dataset_split,
        base_model=base_model, license=license, language=language,
    )  # fmt: skip
    evaluated_on = info.name if info else (dataset or "the evaluation data")
    card = {
        **_usage_fields(model_name, repo_id, revision, code_files, exported_with),
        "a_review": _a_review(LANGUAGE_NAMES.get(language or "")),
        **_label_fields(config, training_data.get("example_review")),
        **_architecture_fields(config, num_parameters),
        **_data_fields(config, info, dataset, training_data, metrics),
        "max_tokens": max_tokens,
        "training_table": _training_text(training, training_source),
        "metrics_text": _settings_text(metrics, max_tokens) + metrics_text(metrics, dataset_split, evaluated_on),
        "license_text": _license_text(license),
        "citations": _citations_text(config, info, dataset),
    }
    return ModelCard.from_template(card_data, template_path=str(template_path or TEMPLATE_PATH), card=card)


def card_summary(card: ModelCard) -> str:
    """A few lines describing a rendered card (for `--dry-run` output)."""
    data = card.data.to_dict()
    lines = [
        f"model card: {card.data.model_name}",
        f"  language={data.get('language')} library_name={data.get('library_name')} pipeline_tag={data.get('pipeline_tag')}",
        f"  base_model={data.get('base_model')} datasets={data.get('datasets')} license={data.get('license')}",
        f"  tags={data.get('tags')}",
    ]
    results = card.data.eval_results or []
    lines.append(f"  model-index: {len(results)} results")
    lines += [f"    {r.metric_name}: {r.metric_value}" for r in results]
    return "\n".join(lines)


__all__ = [
    "MIN_VERSIONS",
    "TEMPLATE_PATH",
    "LANGUAGE_NAMES",
    "build_card_data",
    "card_summary",
    "render_model_card",
]
