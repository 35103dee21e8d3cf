"""The model card: golden rendering, the YAML block (`model-index` from the run's numbers), honesty rules for the
absent-as-neutral metric, and the metrics-file reader."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest
from huggingface_hub import ModelCard

from hf_visobert_absa import ViSoBertAbsaConfig
from hf_visobert_absa.errors import AbsaInputError
from hf_visobert_absa.publishing.card_metrics import load_metrics
from hf_visobert_absa.publishing.model_card import MIN_VERSIONS, TEMPLATE_PATH, card_summary, render_model_card
from tests import helpers
from tests.helpers import tiny_text_config

ROOT = helpers.ROOT
GOLDEN = helpers.GOLDEN / "model_card.md"
GOLDEN_BERT = helpers.GOLDEN / "model_card_bert.md"

#: What training records about its data (`model/training_data.json`), for a phone-review run.
PHONE_DATA = {"language": "vi", "example_review": "Pin trâu, camera chụp đẹp nhưng giao hàng hơi chậm.", "subsets": {}}

METRICS = {
    "eval_detection_micro_precision": 0.8012,
    "eval_detection_micro_recall": 0.7755,
    "eval_detection_micro_f1": 0.7881,
    "eval_detection_macro_f1": 0.7034,
    "eval_sentiment_accuracy": 0.9123,
    "eval_sentiment_macro_f1": 0.8245,
    "eval_joint_micro_f1": 0.7012,
    "eval_joint_macro_f1": 0.6101,
    "eval_absent_as_neutral_accuracy": 0.9544,
    "eval_absent_as_neutral_weighted_f1": 0.9501,
    "eval_loss": 0.4321,
    "per_aspect": {
        "Battery": {"detection_f1": 0.91, "sentiment_f1": 0.88},
        "Others": {"detection_f1": 0.42, "sentiment_f1": None},
    },
}


def _config(**kwargs) -> ViSoBertAbsaConfig:
    kwargs.setdefault("base_model_name_or_path", "uitnlp/visobert")
    return ViSoBertAbsaConfig(text_config=tiny_text_config(), **kwargs)


def _card(tmp_path, config=None, metrics=METRICS, **kwargs) -> ModelCard:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics))
    split = {"split": "test"} if any(isinstance(v, dict) and k != "per_aspect" for k, v in metrics.items()) else {}
    defaults = {
        "training": {"learning_rate": 2e-05, "num_train_epochs": 5, "per_device_train_batch_size": 32, "seed": 42},
        "training_source": "training_args.json",
        "model_name": "visobert-absa-phone",
        "repo_id": "my-org/visobert-absa-phone",
        "dataset": "phone_reviews",
        "license": "apache-2.0",
        "num_parameters": 97_654_321,
        "exported_with": {"transformers": "5.24.0", "torch": "2.13.0"},
        "training_data": PHONE_DATA,
    }
    defaults.update(kwargs)
    return render_model_card(config or _config(), metrics=load_metrics(path, **split), **defaults)


def test_card_matches_the_golden_file(tmp_path):
    text = str(_card(tmp_path))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), "rendering changed: review it, then UPDATE_GOLDEN=1 to rewrite"


def _bert_card(tmp_path) -> ModelCard:
    """A card for a small BERT-style encoder from a local folder, trained on an English restaurant subset."""
    config = ViSoBertAbsaConfig(
        text_config=tiny_text_config("bert"),
        aspects=["Food", "Service", "Ambience"],
        pooling="mean",
        base_model_name_or_path="/home/someone/models/all-MiniLM-L6-v2",
    )
    metrics = {"validation": {"joint_micro_f1": 0.5}, "test": {
        "detection_micro_f1": 0.8123, "sentiment_accuracy": 0.7011, "joint_micro_f1": 0.6502,
        "per_aspect": {"Food": {"support": 255, "detection_f1": 0.9}, "Service": {"support": 96, "detection_f1": 0.7},
                       "Ambience": {"support": 40.0, "detection_f1": 0.6}},
        "max_length": 64, "threshold": 0.5,
    }}  # fmt: skip
    training_data = {
        "language": "en",
        "example_review": "The food was great but the service was slow.",
        "subsets": {"train": {"used": 1000, "of": 3041}},
    }
    return _card(
        tmp_path,
        config=config,
        metrics=metrics,
        model_name="minilm-absa-restaurants",
        repo_id="me/minilm-absa",
        dataset="semeval2014_restaurants",
        training_data=training_data,
        max_tokens=64,
        num_parameters=22_713_216,
        training={"learning_rate": 1e-4, "max_length": 64, "max_train_samples": 1000},
    )


def test_card_of_a_bert_style_encoder_matches_its_golden_file(tmp_path):
    card = _bert_card(tmp_path)
    text = str(card)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN_BERT.write_text(text, encoding="utf-8")
    assert text == GOLDEN_BERT.read_text(encoding="utf-8"), (
        "rendering changed: review it, then UPDATE_GOLDEN=1 to rewrite"
    )


def test_card_tells_the_truth_about_a_non_visobert_model(tmp_path):
    card = _bert_card(tmp_path)
    text, data = str(card), card.data
    assert "ViSoBERT" not in text and "2310.11166" not in text and "visobert" not in data.tags
    assert "Vietnamese" not in text and "Battery" not in text and "Pin trâu" not in text
    assert data.language == "en" and data.base_model is None and "/home/someone" not in text
    assert data.pipeline_tag == "text-classification"
    assert "minilm-absa-restaurants reads an English review and says" in text
    assert "a BERT-style encoder (`bert`, 2 layers, hidden size 32, vocabulary 128)" in text
    assert "a local encoder folder (`all-MiniLM-L6-v2`)" in text
    assert 'print(absa("The food was great but the service was slow."))' in text
    assert '`{"aspect": "Food", "sentiment": "positive", "score": <probability>}`' in text
    assert '"label": "Food=positive"' in text and "| 0 | `Food` | `Food=none`" in text
    assert "the first 1000 of 3041 train rows" in text and "`max_train_samples` | `1000`" in text
    assert (
        "Computed with `max_length=64` tokens and `threshold=0.5` (pass it to the pipeline to reproduce them)" in text
    )
    assert "| Food | 255 | 0.9000 |" in text and "| Ambience | 40 | 0.6000 |" in text  # support as integers


def test_card_names_the_decision_rule_and_the_recorded_warnings_and_calibration(tmp_path):
    metrics = {"test": {
        "joint_micro_f1": 0.6, "max_length": 512, "decision_rule": "argmax",
        "warnings": ["test: the model marks far more aspects mentioned than the data has (9 predicted mentions for 2 gold)"],
        "calibration": {"metric": "joint_micro_f1", "before": 0.5, "after": 0.55, "thresholds": [0.3, None]},
    }}  # fmt: skip
    text = str(_card(tmp_path, metrics=metrics, max_tokens=512))
    assert (
        "and the default decision rule (an aspect is mentioned when a sentiment is more probable than `none`)" in text
    )
    limitations = text.split("## Limitations")[1].split("##")[0]
    assert "Warning recorded at training time: test: the model marks far more aspects mentioned" in limitations
    assert "calibrated on the validation split for joint_micro_f1: 0.5000 -> 0.5500" in limitations


def test_card_says_when_the_pipeline_default_differs_from_the_metrics(tmp_path):
    metrics = {"test": {"joint_micro_f1": 0.6, "max_length": 128, "threshold": 0.5}}
    text = str(_card(tmp_path, metrics=metrics, max_tokens=256))
    assert "the pipeline reads 256 tokens by default: pass `max_length=128` to reproduce them" in text


def test_card_names_and_cites_the_aspect_level_contrast(tmp_path):
    card = str(_card(tmp_path, config=_config(pooling="aspect_query", contrastive_mode="aspect_sentiment")))
    assert "each mentioned aspect's own embedding is an anchor" in card
    assert "L2 normalisation: one embedding per aspect, from the aspect's own vector, which the contrastive" in card
    assert "li2021scapt" in card and "li2021scapt" not in str(_card(tmp_path, config=_config(pooling="mean")))


def test_base_model_is_only_ever_a_hub_id(tmp_path):
    for name, expected in (
        ("uitnlp/visobert", "uitnlp/visobert"),
        ("xlm-roberta-base", "xlm-roberta-base"),
        ("/abs/path/encoder", None),
        ("./rel/encoder", None),
        ("a/b/c", None),
        ("~/enc", None),
    ):
        card = render_model_card(_config(base_model_name_or_path=name), model_name="m")
        assert card.data.base_model == expected, name


def test_rendering_is_deterministic(tmp_path):
    assert str(_card(tmp_path)) == str(_card(tmp_path))


def test_yaml_block_round_trips_with_the_run_numbers(tmp_path):
    _card(tmp_path).save(tmp_path / "README.md")
    card = ModelCard.load(tmp_path / "README.md")
    data = card.data
    assert data.language == "vi" and data.library_name == "transformers"
    assert data.pipeline_tag == "text-classification" and "custom_code" in data.tags
    assert data.base_model == "uitnlp/visobert" and data.datasets == ["phone_reviews"] and data.license == "apache-2.0"
    assert data.model_name == "visobert-absa-phone"
    values = {r.metric_name: r.metric_value for r in data.eval_results}
    assert values == {
        "Aspect detection micro precision": 0.8012,
        "Aspect detection micro recall": 0.7755,
        "Aspect detection micro F1": 0.7881,
        "Aspect detection macro F1": 0.7034,
        "Sentiment accuracy": 0.9123,
        "Sentiment macro F1": 0.8245,
        "Joint aspect-sentiment micro F1": 0.7012,
        "Joint aspect-sentiment macro F1": 0.6101,
        "Absent as neutral accuracy": 0.9544,
        "Absent as neutral weighted F1": 0.9501,
    }
    assert {(r.task_type, r.dataset_type, r.dataset_split) for r in data.eval_results} == {
        ("text-classification", "phone_reviews", "test")
    }
    assert "model-index: 10 results" in card_summary(card)


def test_body_sections_come_from_the_config(tmp_path):
    config = _config(
        focal_gamma=1.5,
        contrastive_temperature=0.07,
        contrastive_mode="jaccard",
        focal_weight=0.7,
        contrastive_weight=0.3,
        aspects=["Pin", "Camera"],
    )
    text = str(_card(tmp_path, config=config, metrics={"detection_micro_f1": 0.5}))
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == [
        "Use it",
        "Aspects and labels",
        "Architecture",
        "Training data and hyper-parameters",
        "Evaluation",
        "Intended use",
        "Limitations",
        "Requirements",
        "Citations",
    ]
    assert "`0.7 × focal + 0.3 × contrastive`, with focal γ = 1.5" in text
    assert "τ = 0.07, mode `jaccard`" in text
    assert "Linear(512, 2 × 4)" in text and "| 0 | `Pin` |" in text
    assert 'revision="COMMIT_SHA", trust_remote_code=True' in text
    for cited in (
        "2310.11166",
        "1708.02002",
        "2004.11362",
        "Multi-Label Supervised Contrastive Learning",
        "github.com/hjsad1994/BERT",
    ):
        assert cited in text


def test_absent_as_neutral_is_never_reported_alone(tmp_path):
    card = _card(tmp_path, metrics={"absent_as_neutral_weighted_f1": 0.96})
    assert card.data.eval_results is None
    assert "| Absent counted as neutral (comparison only) | weighted F1 | 0.9600 |" in str(card)
    assert "says little about this model" in str(card)


def test_absent_as_neutral_scheme_card_says_it_cannot_detect(tmp_path):
    metrics = {"detection_micro_f1": None, "sentiment_macro_f1": 0.7, "absent_as_neutral_weighted_f1": 0.95}
    card = _card(tmp_path, config=_config(label_scheme="absent_as_neutral"), metrics=metrics)
    text = str(card)
    assert "| Aspect detection | micro F1 | n/a (this label scheme cannot detect aspects) |" in text
    assert "it cannot say whether an aspect is mentioned at all" in text and "`threshold=0.5`" not in text
    assert [r.metric_name for r in card.data.eval_results] == [
        "Sentiment macro F1",
        "Absent as neutral weighted F1",
    ]


def test_card_without_metrics_or_dataset_says_so(tmp_path):
    card = render_model_card(_config(base_model_name_or_path=None), model_name="m")
    text = str(card)
    assert "No evaluation metrics were found" in text and "not recorded with this export" in text
    assert card.data.eval_results is None and card.data.datasets is None and card.data.base_model is None
    assert 'model="ORG/NAME"' in text


def test_load_metrics_reads_flat_and_per_split_files(tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"eval_joint_micro_f1": 0.5, "test_joint_micro_f1": 0.4, "epoch": 3}))
    assert load_metrics(flat) == {"joint_micro_f1": 0.5, "epoch": 3}
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"validation": {"joint_micro_f1": 0.6}, "test": {"joint_micro_f1": 0.55}}))
    assert load_metrics(nested) == {"joint_micro_f1": 0.55}
    assert load_metrics(nested, split="validation") == {"joint_micro_f1": 0.6}
    with pytest.raises(AbsaInputError, match=r"splits \['validation', 'test'\], not 'dev'.*--dataset-split test"):
        load_metrics(nested, split="dev")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AbsaInputError, match=r"bad.json: not readable as JSON"):
        load_metrics(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(AbsaInputError, match=r"bad.json: expected a JSON object .* got list"):
        load_metrics(bad)


def test_load_metrics_reads_the_old_seed_style_keys_under_their_new_names(tmp_path):
    old = tmp_path / "metrics.json"  # as a run before the rename wrote it
    old.write_text(
        json.dumps({"test": {"joint_micro_f1": 0.5, "seed_style_accuracy": 0.9, "seed_style_weighted_f1": 0.8}})
    )
    assert load_metrics(old) == {
        "joint_micro_f1": 0.5,
        "absent_as_neutral_accuracy": 0.9,
        "absent_as_neutral_weighted_f1": 0.8,
    }


def test_minimum_versions_match_pyproject():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    floors = {}
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        match = re.match(r"([A-Za-z0-9_.-]+).*?>=([0-9.]+)", requirement)
        if match:
            floors[match.group(1).lower().replace("_", "-")] = match.group(2)
    assert {name: floors[name] for name in MIN_VERSIONS} == MIN_VERSIONS


def test_template_ships_inside_the_package():
    assert TEMPLATE_PATH.parent == ROOT / "hf_visobert_absa" / "publishing" and TEMPLATE_PATH.is_file()
    if sys.version_info >= (3, 11):
        import tomllib

        package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
        assert "publishing/*.jinja" in package_data["hf_visobert_absa"]


def test_the_card_names_the_heads_of_a_multi_head_aspect_query():
    from hf_visobert_absa.publishing.card_references import pooling_note

    one = ViSoBertAbsaConfig(text_config=tiny_text_config("bert"), aspects=["Food"], pooling="aspect_query")
    four = ViSoBertAbsaConfig(
        text_config=tiny_text_config("bert"), aspects=["Food"], pooling="aspect_query", aspect_query_heads=4
    )
    assert "heads" not in pooling_note(one) and pooling_note(one).startswith("one learned query per aspect attends")
    assert pooling_note(four).startswith("one learned query per aspect, split into 4 heads, attends over the tokens")


def test_without_dataset_the_card_names_the_recorded_data_files_never_their_paths(tmp_path):
    training_data = {"data_files": {"train": "/home/someone/data/train.csv", "test": "/home/someone/data/test.csv"}}
    text = str(_card(tmp_path, training_data=training_data, dataset=None))
    assert "Data files recorded by `train`" in text and "train `train.csv`, test `test.csv`" in text
    assert "/home/someone" not in text and "was not recorded" not in text


def test_the_card_always_states_intended_use_and_the_license_or_its_absence(tmp_path):
    stated = str(_card(tmp_path))
    assert "## Intended use" in stated and "Not intended for decisions about individual people" in stated
    assert "License: `apache-2.0`." in stated
    missing = str(_card(tmp_path, license=None))
    assert "License: not stated by the exporter (pass `--license`" in missing


def test_card_says_when_the_model_was_refit_after_selection():
    from hf_visobert_absa.publishing.model_card import _training_text

    refit = {"selected_epoch": 8.0, "epochs": 10.0, "held_out_rows": 304, "rows": 3041, "selection_best_metric": 0.7}
    text = _training_text({"learning_rate": 5e-5, "refit": refit}, "training_args.json")
    assert "| `learning_rate` | `5e-05` |" in text and "`refit`" not in text
    assert "epoch 8 scored best on the 304 rows held out from the training file" in text
    assert "on all 3041 rows for 10 epochs" in text and "this model has trained on those rows" in text
    assert "Refit" not in _training_text({"learning_rate": 5e-5}, None)
