"""The default recipe (`training/recipe.py`) is what every entry point does when no recipe flag is given, the
study's final variant and the library cannot drift apart, and `train` holds out validation data when none is given."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from benchmarks.quality import cpu_training_args
from benchmarks.semeval2014_variants import LIBRARY_DEFAULTS, VARIANTS
from hf_visobert_absa import ViSoBertAbsaConfig
from hf_visobert_absa.cli.main import main
from hf_visobert_absa.hub.windows_visobert_absa import MIN_MAX_LENGTH
from hf_visobert_absa.training.arguments import AbsaTrainingArguments, ModelArguments
from hf_visobert_absa.training.recipe import HOLDOUT_PERCENTAGE, MODEL_RECIPE, RECIPE_NAME, TRAINING_RECIPE, recipe
from tests import helpers

REVIEWS = [
    ("pin trâu camera chụp đẹp", {"Battery": "positive", "Camera": "positive"}),
    ("pin yếu máy lag", {"Battery": "negative"}),
    ("camera mờ", {"Camera": "negative"}),
    ("giá rẻ pin tốt", {"Battery": "positive"}),
    ("camera ổn", {"Camera": "neutral"}),
]


def test_config_defaults_are_the_recipe_and_other_poolings_keep_a_review_level_loss():
    config = ViSoBertAbsaConfig()
    assert config.pooling == MODEL_RECIPE["pooling"] == "aspect_query"
    assert config.contrastive_mode == MODEL_RECIPE["contrastive_mode"] == "aspect_sentiment"
    assert (config.focal_weight, config.contrastive_weight) == (0.8, 0.2)
    assert ViSoBertAbsaConfig(pooling="mean").contrastive_mode == "mulsupcon"
    assert ViSoBertAbsaConfig.original_design().contrastive_mode == "soft_agreement"
    assert ViSoBertAbsaConfig(pooling="cls", contrastive_mode="jaccard").contrastive_mode == "jaccard"


def test_training_arguments_default_to_the_recipe(tmp_path):
    args = AbsaTrainingArguments(output_dir=str(tmp_path / "run"))
    for name, value in TRAINING_RECIPE.items():
        assert getattr(args, name) == value, name
    assert ModelArguments().bias_init() == "priors"
    assert ModelArguments(original_design=True).bias_init() == "zeros"
    assert ModelArguments(original_design=True, classifier_bias_init="priors").bias_init() == "priors"
    assert recipe()["validation_split_percentage"] == HOLDOUT_PERCENTAGE == 10.0


def test_the_study_variant_named_by_the_recipe_is_the_library_default(tmp_path):
    """The SemEval study trains `aq_e10_asc` with explicit fields over its base and budget; the library's defaults
    must give the same settings, and the study's `library_defaults` arm pins nothing."""
    variant = VARIANTS[RECIPE_NAME]
    assert variant["model"] == {k: MODEL_RECIPE[k] for k in variant["model"]}
    assert variant["train"] == {k: TRAINING_RECIPE[k] for k in variant["train"]}
    assert variant["budget"] == {
        "epochs": TRAINING_RECIPE["num_train_epochs"], "learning_rate": TRAINING_RECIPE["learning_rate"]
    }  # fmt: skip
    study = cpu_training_args(tmp_path, 0, {"epochs": 10.0, "learning_rate": 5e-5, "batch_size": 32})
    for name in ("warmup_ratio", "weight_decay", "train_sampling_strategy", "per_device_train_batch_size"):
        assert getattr(study, name) == TRAINING_RECIPE[name], name
    assert VARIANTS[LIBRARY_DEFAULTS]["model"] == VARIANTS[LIBRARY_DEFAULTS]["train"] == {}


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("encoder")
    helpers.save_tiny_encoder(path)
    return path


def _train(encoder_dir: Path, tmp_path: Path, *extra: str, reviews: list = REVIEWS) -> Path:
    data = tmp_path / "train.jsonl"
    rows = [{"text": t, "aspects": a} for t, a in reviews] * 4
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    code = main([
        "train", "--encoder", str(encoder_dir), "--train_file", str(data), "--output_dir", str(out),
        "--num_train_epochs", "1", "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "16", *extra,
    ])  # fmt: skip
    assert code == 0
    return out


def test_train_without_a_validation_file_holds_out_ten_percent_and_says_so(encoder_dir, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        out = _train(encoder_dir, tmp_path)
    assert any(
        "No validation file: 2 of the training rows (10%, seed 42) are held out" in r.getMessage()
        for r in caplog.records
    )
    report = json.loads((out / "dataset_report.json").read_text())
    assert report["validation_split"]["percentage"] == 10.0 and report["validation_split"]["rows"] == 2
    assert "validation" in json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "model" / "config.json").read_text())
    assert (config["pooling"], config["contrastive_mode"]) == ("aspect_query", "aspect_sentiment")
    recorded = json.loads((out / "model" / "training_args.json").read_text())
    assert recorded["head_learning_rate"] == 1e-3 and recorded["load_best_model_at_end"] is True


def test_validation_split_percentage_zero_trains_on_every_row(encoder_dir, tmp_path):
    out = _train(encoder_dir, tmp_path, "--validation_split_percentage", "0")
    report = json.loads((out / "dataset_report.json").read_text())
    assert report["validation_split"] is None and report["splits"]["train"]["rows"] == 20
    assert json.loads((out / "metrics.json").read_text()) == {}


def test_a_file_too_small_to_hold_out_from_trains_on_every_row_and_says_so(encoder_dir, tmp_path, caplog):
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps({"text": "pin trâu", "aspects": {"Battery": "positive"}}) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        code = main([
            "train", "--encoder", str(encoder_dir), "--train_file", str(data), "--output_dir", str(tmp_path / "one"),
            "--num_train_epochs", "1", "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "16",
        ])  # fmt: skip
    assert code == 0
    assert any("leaves none to train on" in r.getMessage() and "Training on every row" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    assert json.loads((tmp_path / "one" / "dataset_report.json").read_text())["validation_split"] is None


def test_calibrated_model_never_scores_below_the_default_rule_on_its_validation_rows(encoder_dir, tmp_path):
    from hf_visobert_absa.cli.evaluate import load_trained
    from hf_visobert_absa.data.label_schemes import predictions_from_probabilities
    from hf_visobert_absa.data.loading import load_absa_dataset
    from hf_visobert_absa.evaluation.inference import predict_probabilities
    from hf_visobert_absa.evaluation.metrics import compute_absa_metrics

    out = _train(encoder_dir, tmp_path, "--calibrate_thresholds", "true", "--validation_split_percentage", "40")
    validation = json.loads((out / "metrics.json").read_text())["validation"]
    calibration = validation["calibration"]
    assert calibration["metric"] == "joint_micro_f1" and calibration["after"] >= calibration["before"]
    assert validation["joint_micro_f1"] == pytest.approx(calibration["after"])
    model, tokenizer = load_trained(str(out / "model"))
    datasets, _ = load_absa_dataset(
        {"train": str(tmp_path / "train.jsonl")}, aspects=model.config.aspects, validation_split_percentage=40
    )
    part = datasets["validation"]
    probabilities = predict_probabilities(model, tokenizer, list(part["text"]), max_length=16)
    gold = np.asarray(part["gold"])

    def joint(thresholds):
        predictions = predictions_from_probabilities(probabilities, "absent_as_class", thresholds)
        return compute_absa_metrics(predictions, gold, model.config.aspects, "absent_as_class")["joint_micro_f1"]

    assert joint(model.config.thresholds) >= joint(None)
    assert joint(model.config.thresholds) == pytest.approx(calibration["after"])


def _collapsed_model(none_bias: float):
    """A tiny model whose "none" bias decides everything: high = it marks nothing, low = it marks everything."""
    model = helpers.tiny_model(2, aspects=["Battery", "Camera"]).eval()
    bias = model.classifier.out_proj.bias.data.view(2, model.config.num_classes)
    bias[:, 0] = none_bias
    return model


def test_auto_calibration_rescues_a_collapsed_model_and_leaves_a_healthy_one(caplog):
    from hf_visobert_absa.training.run import calibrate_model_thresholds

    texts = [t for t, _ in REVIEWS] * 4
    gold = [[{"positive": 1, "negative": 2, "neutral": 3}.get(a.get(n), 0) for n in ("Battery", "Camera")]
            for _, a in REVIEWS] * 4  # fmt: skip
    validation = {"text": texts, "gold": gold}  # 24 gold mentions in 40 cells
    collapsed = _collapsed_model(2.0)  # P(none) about 0.7 everywhere: argmax marks nothing
    with caplog.at_level(logging.WARNING):
        calibration = calibrate_model_thresholds(
            collapsed, helpers.tiny_tokenizer(), validation, 16, only_if_collapsed=True
        )
    assert calibration is not None and calibration.mention_ratio_before == 0.0
    assert calibration.after > calibration.before == 0.0 and collapsed.config.detection_thresholds is not None
    assert any("Decision rule calibrated on validation" in r.getMessage() for r in caplog.records)
    marks_all = _collapsed_model(-8.0)  # marks all 40 cells: 1.67x the 24 gold mentions, outside 0.8-1.25x
    calibrated = calibrate_model_thresholds(marks_all, helpers.tiny_tokenizer(), validation, 16, only_if_collapsed=True)
    assert calibrated is not None and calibrated.mention_ratio_before == pytest.approx(40 / 24)
    near = {"text": texts[:10], "gold": [[1, 1]] * 9 + [[1, 0]]}  # 19 gold mentions: marking all 20 is 1.05x
    healthy = _collapsed_model(-8.0)
    assert calibrate_model_thresholds(healthy, helpers.tiny_tokenizer(), near, 16, only_if_collapsed=True) is None
    assert healthy.config.detection_thresholds is None
    forced = calibrate_model_thresholds(healthy, helpers.tiny_tokenizer(), near, 16)  # `true`: always
    assert forced is not None and forced.after >= forced.before


@pytest.mark.parametrize(("value", "mode"), [("auto", "auto"), ("True", "true"), ("no", "false"), (False, "false")])
def test_calibration_modes(tmp_path, value, mode):
    assert AbsaTrainingArguments(output_dir=str(tmp_path), calibrate_thresholds=value).calibrate_thresholds == mode


def test_a_collapsed_run_says_so_in_the_summary_metrics_and_evaluate(encoder_dir, tmp_path, capsys):
    # the shortest window (two special tokens and the first word, `câu` in every review): every review looks the
    # same and gets the same row
    varied = [(f"câu {i}", {name: ("positive", "negative")[i % 2]}) for i, name in enumerate("ABCDEFGH")]
    out = _train(
        encoder_dir, tmp_path, "--calibrate_thresholds", "false", "--validation_split_percentage", "40",
        "--max_length", str(MIN_MAX_LENGTH), reviews=varied,
    )  # fmt: skip
    validation = json.loads((out / "metrics.json").read_text())["validation"]
    assert any("100% of the reviews get the same prediction" in w for w in validation["warnings"])
    printed = capsys.readouterr().out
    assert printed.count("WARNING: validation: 100% of the reviews get the same prediction") == 1
    assert main(["evaluate", "--model", str(out / "model"), "--file", str(tmp_path / "train.jsonl"),
                 "--disable_tqdm"]) == 0  # fmt: skip
    assert "WARNING: train.jsonl: 100% of the reviews get the same prediction" in capsys.readouterr().out
