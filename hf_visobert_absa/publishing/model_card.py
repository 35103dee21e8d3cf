"""The model card (README.md) of an exported aspect-sentiment model.

Card data (the YAML block, including `model-index`) is built with `huggingface_hub.ModelCardData` and
`EvalResult` from the run's metrics; the body is the Jinja template `model_card_template.md.jinja` beside this
file, rendered with `ModelCard.from_template`. Everything shown comes from the model config, the run's metrics
JSON and its training arguments; rendering is deterministic (no dates; versions only as passed in).

References (cited in every card):
    - Nguyen et al., "ViSoBERT", EMNLP 2023, arXiv:2310.11166. - Lin et al., "Focal Loss", ICCV 2017,
      arXiv:1708.02002. - Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, arXiv:2004.11362.
    - Zhang & Wu, "Multi-Label Supervised Contrastive Learning", AAAI 2024.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..errors import AbsaInputError
from ..hub.configuration_visobert_absa import flat_label, scheme_class_names
from .hub_files import CODE_FILES

TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md.jinja")

#: Minimum versions to load an exported model (the floors of pyproject's dependencies; a test keeps them equal).
MIN_VERSIONS: dict[str, str] = {"torch": "2.4", "transformers": "5.20", "tokenizers": "0.21", "safetensors": "0.4"}

#: (key in the metrics JSON, group, name, `model-index` metric type)
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("detection_micro_precision", "Aspect detection", "micro precision", "precision"),
    ("detection_micro_recall", "Aspect detection", "micro recall", "recall"),
    ("detection_micro_f1", "Aspect detection", "micro F1", "f1"),
    ("detection_macro_precision", "Aspect detection", "macro precision", "precision"),
    ("detection_macro_recall", "Aspect detection", "macro recall", "recall"),
    ("detection_macro_f1", "Aspect detection", "macro F1", "f1"),
    ("sentiment_accuracy", "Sentiment of mentioned aspects", "accuracy", "accuracy"),
    ("sentiment_macro_f1", "Sentiment of mentioned aspects", "macro F1", "f1"),
    ("joint_micro_precision", "Joint (aspect, sentiment)", "micro precision", "precision"),
    ("joint_micro_recall", "Joint (aspect, sentiment)", "micro recall", "recall"),
    ("joint_micro_f1", "Joint (aspect, sentiment)", "micro F1", "f1"),
    ("joint_macro_f1", "Joint (aspect, sentiment)", "macro F1", "f1"),
    ("seed_style_accuracy", "Seed-style, absent counted as neutral (comparison only)", "accuracy", "accuracy"),
    ("seed_style_weighted_f1", "Seed-style, absent counted as neutral (comparison only)", "weighted F1", "f1"),
)
_PREFIXES = ("eval_", "test_", "predict_")
#: Short group names for `model-index` metric names, by key prefix.
_INDEX_GROUPS = {
    "detection": "Aspect detection",
    "sentiment": "Sentiment",
    "joint": "Joint aspect-sentiment",
    "seed_style": "Seed-style (absent as neutral)",
}


@dataclass(frozen=True)
class DatasetInfo:
    """What the card says about a training/evaluation dataset."""

    name: str
    description: str
    domain: str
    bibtex: str | None = None
    notes: tuple[str, ...] = ()


KNOWN_DATASETS: dict[str, DatasetInfo] = {
    "phone_reviews": DatasetInfo(
        name="Vietnamese smartphone reviews (11 aspects)",
        description=(
            "Vietnamese smartphone e-commerce reviews labelled per aspect (Battery, Camera, Performance, Display, "
            "Design, Packaging, Price, Shop_Service, Shipping, General, Others) as positive, negative, neutral or not "
            "mentioned, from the public repository "
            "[hjsad1994/BERT](https://github.com/hjsad1994/BERT) (no licence stated there)."
        ),
        domain="Vietnamese smartphone e-commerce reviews",
        notes=(
            "Part of the phone-review test set nearly duplicates training reviews (shared word 5-grams), so scores "
            "on it run higher than on independent data; compare with UIT-ViSFD.",
            "In the phone-review data `Others` is only ever neutral: the model never saw another sentiment for it.",
        ),
    ),
    "uit_visfd": DatasetInfo(
        name="UIT-ViSFD",
        description=(
            "UIT-ViSFD, the Vietnamese Smartphone Feedback Dataset (ten aspects plus OTHERS), Phan et al., KSEM "
            "2021; free for research use."
        ),
        domain="Vietnamese smartphone feedback",
        bibtex=(
            "@inproceedings{phan2021sa2sl,\n  title = {SA2SL: From Aspect-Based Sentiment Analysis to Social Listening "
            "System for Business Intelligence},\n  author = {Phan, Luong Luc and others},\n  booktitle = {Knowledge "
            "Science, Engineering and Management (KSEM)},\n  year = {2021}\n}"
        ),
    ),
}

CITATIONS = (
    "@inproceedings{nguyen2023visobert,\n  title = {ViSoBERT: A Pre-Trained Language Model for Vietnamese Social "
    "Media Text Processing},\n  author = {Nguyen, Quoc-Nam and Phan, Thang Chau and Nguyen, Duc-Vu and Nguyen, Kiet "
    "Van},\n  booktitle = {Proceedings of EMNLP 2023},\n  year = {2023},\n  eprint = {2310.11166},\n  archivePrefix = {arXiv}\n}",
    "@inproceedings{lin2017focal,\n  title = {Focal Loss for Dense Object Detection},\n  author = {Lin, Tsung-Yi and "
    "Goyal, Priya and Girshick, Ross and He, Kaiming and Doll{\\'a}r, Piotr},\n  booktitle = {ICCV},\n  year = {2017},\n"
    "  eprint = {1708.02002},\n  archivePrefix = {arXiv}\n}",
    "@inproceedings{khosla2020supcon,\n  title = {Supervised Contrastive Learning},\n  author = {Khosla, Prannay and "
    "others},\n  booktitle = {NeurIPS},\n  year = {2020},\n  eprint = {2004.11362},\n  archivePrefix = {arXiv}\n}",
    "@inproceedings{zhang2024mulsupcon,\n  title = {Multi-Label Supervised Contrastive Learning},\n  author = {Zhang, "
    "Pingyue and Wu, Mengyue},\n  booktitle = {AAAI},\n  year = {2024}\n}",
)

_CONTRASTIVE_NOTES = {
    "mulsupcon": "MulSupCon: each (aspect, sentiment) pair of a review is an anchor whose positives share that pair",
    "jaccard": "reviews weighted by the Jaccard overlap of their (aspect, sentiment) sets",
    "any": "reviews sharing at least one (aspect, sentiment) pair are positives",
    "exact": "reviews with identical (aspect, sentiment) sets are positives",
    "seed": "the original design's soft-weighted loss, kept for reproduction",
}
_POOLING_NOTES = {"cls": "first token", "mean": "masked mean of the tokens", "pooler": "dense + tanh over the first token"}


def load_metrics(path: str | Path, split: str = "test") -> dict[str, Any]:
    """Read a run's metrics JSON as one flat dict of metric name -> value.

    Accepts a flat object (as `Trainer.evaluate` writes it; `eval_`/`test_`/`predict_` prefixes are dropped) or
    one object per split (`{"validation": {...}, "test": {...}}`, as `hf-visobert-absa train` writes it), from
    which `split` is taken.

    Raises:
        AbsaInputError: the file is not a JSON object, or it holds per-split metrics without `split`.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AbsaInputError(f"{path}: not readable as JSON ({error}). Fix or remove the file.") from error
    if not isinstance(raw, dict):
        raise AbsaInputError(f"{path}: expected a JSON object of metric names to values, got {type(raw).__name__}.")
    splits = [key for key, value in raw.items() if isinstance(value, dict) and key != "per_aspect"]
    if splits and not any(key in raw for key, *_ in METRICS) and not any(
        key.startswith(_PREFIXES) for key in raw
    ):
        if split not in raw:
            raise AbsaInputError(
                f"{path}: holds metrics for the splits {splits}, not {split!r}. Pass the split the card should "
                f"report, e.g. `--dataset-split {splits[-1]}`."
            )
        raw = raw[split]
    metrics: dict[str, Any] = {}
    for key, value in raw.items():
        name = next((key[len(p) :] for p in _PREFIXES if key.startswith(p)), key)
        metrics.setdefault(name, value)
    return metrics


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _eval_results(metrics: dict[str, Any], dataset_id: str, dataset_name: str, split: str) -> list[EvalResult]:
    primary = [key for key, *_ in METRICS if not key.startswith("seed_style") and _number(metrics.get(key))]
    results = []
    for key, _group, name, metric_type in METRICS:
        if not _number(metrics.get(key)) or (key.startswith("seed_style") and not primary):
            continue  # the seed-style number is never reported alone
        results.append(
            EvalResult(
                task_type="text-classification",
                task_name="Aspect-based sentiment analysis",
                dataset_type=dataset_id,
                dataset_name=dataset_name,
                dataset_split=split,
                metric_type=metric_type,
                metric_name=f"{_INDEX_GROUPS[next(p for p in _INDEX_GROUPS if key.startswith(p))]} {name}",
                metric_value=metrics[key],
            )
        )
    return results


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _or_list(names: list[str]) -> str:
    """`positive, negative or neutral`."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _code(text: str) -> str:
    """`text` as Markdown inline code, exactly (a name holding backticks gets a longer fence)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _metrics_text(metrics: dict[str, Any] | None, split: str, dataset_name: str) -> str:
    if not metrics or not any(key in metrics for key, *_ in METRICS):
        return "No evaluation metrics were found with this model (no metrics JSON in the run folder): none are reported."
    rows = []
    for key, group, name, _ in METRICS:
        if key not in metrics:
            continue
        value = metrics[key]
        shown = f"{value:.4f}" if _number(value) else "n/a (this label scheme cannot detect aspects)"
        rows.append([group, name, shown])
    text = (
        f"On the `{split}` split of {dataset_name}; every number comes from the run's metrics file. Detection asks "
        "whether an aspect is mentioned; sentiment is scored only on aspects the reference mentions; joint counts an "
        "(aspect, sentiment) pair as right only when both are.\n\n" + _table(["group", "metric", "value"], rows)
    )
    if any(key.startswith("seed_style") for key in metrics):
        text += (
            "\n\nThe seed-style row scores not-mentioned aspects as neutral, as the original design did. It is shown "
            "only to compare with that design: most (review, aspect) cells are not mentioned, so a predictor that "
            "calls every aspect neutral already scores high on it, and it says little about this model."
        )
    per_aspect = metrics.get("per_aspect")
    if isinstance(per_aspect, dict) and per_aspect:
        columns: list[str] = []
        for values in per_aspect.values():
            columns += [k for k, v in (values or {}).items() if _number(v) and k not in columns]
        rows = [
            [str(aspect)] + [f"{values[c]:.4f}" if _number((values or {}).get(c)) else "n/a" for c in columns]
            for aspect, values in per_aspect.items()
        ]
        text += "\n\nPer aspect:\n\n" + _table(["aspect"] + columns, rows)
    return text


def _scheme_note(label_scheme: str) -> str:
    if label_scheme == "absent_as_class":
        return "`none` means the review does not mention the aspect; the pipeline reports the aspects whose P(none) is below the threshold."
    if label_scheme == "seed":
        return ("Trained as the original design: a not-mentioned aspect counts as `neutral`, so `neutral` mixes "
                "\"not mentioned\" and \"neutral opinion\"; every aspect is returned.")
    return "Trained on mentioned aspects only (absent aspects ignored by the loss): every aspect gets a sentiment."


def build_card_data(
    config: Any,
    metrics: dict[str, Any] | None = None,
    *,
    model_name: str,
    dataset: str | None = None,
    dataset_split: str = "test",
    base_model: str | None = None,
    license: str | None = None,
) -> ModelCardData:
    """The card's YAML block: language, library, pipeline tag, tags, base model, datasets and `model-index`."""
    info = KNOWN_DATASETS.get(dataset or "")
    dataset_name = info.name if info else (dataset or "unspecified")
    results = _eval_results(metrics or {}, dataset or "unspecified", dataset_name, dataset_split) if metrics else []
    return ModelCardData(
        language="vi",
        license=license,
        library_name="transformers",
        pipeline_tag="text-classification",
        tags=["aspect-based-sentiment-analysis", "custom_code", "visobert", "focal-loss", "contrastive-learning"],
        base_model=base_model or getattr(config, "base_model_name_or_path", None) or None,
        datasets=[dataset] if dataset else None,
        metrics=sorted({r.metric_type for r in results}) or None,
        model_name=model_name,
        eval_results=results or None,
    )


def render_model_card(
    config: Any,
    *,
    metrics: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    training_source: str | None = None,
    model_name: str = "ViSoBERT aspect-sentiment model",
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
    r"""Render the README.md of an exported model.

    Args:
        config: the model config (read through its attributes only).
        metrics (`dict`, *optional*): the run's metrics (see [`load_metrics`]); the card shows exactly these.
        training (`dict`, *optional*): hyper-parameters to list; `training_source` names the file they came from.
        model_name, repo_id, revision: shown in the title and the usage example (`revision` should be replaced by
            a commit hash; the default is a visible placeholder).
        dataset (`str`, *optional*): `"phone_reviews"`, `"uit_visfd"` (described and cited) or any Hub dataset id.
        dataset_split, base_model, license, num_parameters, max_tokens, code_files: shown as given.
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
    card_data = build_card_data(
        config, metrics, model_name=model_name, dataset=dataset, dataset_split=dataset_split,
        base_model=base_model, license=license,
    )
    text_config = config.text_config
    classes = scheme_class_names(config.label_scheme, getattr(config, "sentiments", None))
    aspects = list(config.aspects)
    if info:
        dataset_text = info.description
    elif dataset:
        dataset_text = f"Dataset: `{dataset}`."
    else:
        dataset_text = "The training data was not recorded with this export."
    if training:
        training_table = (f"From `{training_source}`:\n\n" if training_source else "") + _table(
            ["hyper-parameter", "value"], [[f"`{k}`", f"`{v}`"] for k, v in training.items()]
        )
    else:
        training_table = "The training hyper-parameters were not recorded with this export."
    versions = "\n".join(f"- `{name}>={version}`" for name, version in MIN_VERSIONS.items())
    if exported_with:
        versions += "\n\nExported with " + ", ".join(f"`{k}=={v}`" for k, v in exported_with.items()) + "."
    citations = list(CITATIONS) + ([info.bibtex] if info and info.bibtex else [])
    dataset_citation = (
        "\n\nThe phone-review data comes from the public repository https://github.com/hjsad1994/BERT (cite it by URL)."
        if dataset == "phone_reviews" else ""
    )
    notes = list(info.notes) if info else []
    if config.label_scheme != "absent_as_class":
        notes.append(f"Trained with the `{config.label_scheme}` label scheme: it cannot tell a not-mentioned aspect from a mentioned one.")
    card = {
        "model_name": model_name,
        "repo_id": repo_id or "ORG/NAME",
        "revision": revision,
        "code_files": "`, `".join(code_files or sorted(CODE_FILES)),
        "num_aspects": len(aspects),
        "aspect_list": ", ".join(aspects),
        "can_detect": config.label_scheme == "absent_as_class",
        "sentiment_list": _or_list(list(getattr(config, "sentiments", None) or classes)),
        "label_scheme": config.label_scheme,
        "class_list": ", ".join(f"`{c}`" for c in classes),
        "scheme_note": _scheme_note(config.label_scheme),
        "aspects_table": _table(["#", "aspect", "flat labels"], [[str(i), _code(a), ", ".join(_code(flat_label(a, c)) for c in classes)] for i, a in enumerate(aspects)]),
        "max_tokens": max_tokens,
        "encoder": f"{text_config.model_type}, {text_config.num_hidden_layers} layers, hidden size {text_config.hidden_size}, vocabulary {text_config.vocab_size}",
        "base_model": card_data.base_model if isinstance(card_data.base_model, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", card_data.base_model) else None,
        "pooling": f"`{config.pooling}` ({_POOLING_NOTES.get(config.pooling, config.pooling)})",
        "hidden_size": text_config.hidden_size,
        "head_hidden_size": config.head_hidden_size,
        "classifier_dropout": config.classifier_dropout,
        "num_classes": len(classes),
        "projection_dim": config.projection_dim,
        "focal_weight": config.focal_weight,
        "contrastive_weight": config.contrastive_weight,
        "focal_gamma": config.focal_gamma,
        "focal_alpha": config.focal_alpha,
        "contrastive_temperature": config.contrastive_temperature,
        "contrastive_mode": config.contrastive_mode,
        "contrastive_note": _CONTRASTIVE_NOTES.get(config.contrastive_mode, config.contrastive_mode),
        "num_parameters": f"{num_parameters:,}" if num_parameters else None,
        "dataset_text": dataset_text,
        "training_table": training_table,
        "metrics_text": _metrics_text(metrics, dataset_split, info.name if info else (dataset or "the evaluation data")),
        "domain": info.domain if info else "the data described above",
        "limitation_notes": notes,
        "requirements": "Python >= 3.10 and\n\n" + versions,
        "citations": "```bibtex\n" + "\n\n".join(citations) + "\n```" + dataset_citation,
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
    "KNOWN_DATASETS",
    "METRICS",
    "MIN_VERSIONS",
    "TEMPLATE_PATH",
    "DatasetInfo",
    "build_card_data",
    "card_summary",
    "load_metrics",
    "render_model_card",
]
