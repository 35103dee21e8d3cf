"""Recipe options of `train`: prior-initialised classifier bias, a head learning rate, early stopping and
per-aspect thresholds calibrated on validation (all off by default)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hf_visobert_absa.cli.main import main
from hf_visobert_absa.training.arguments import AbsaTrainingArguments
from hf_visobert_absa.training.class_balance import class_priors, init_bias_to_priors
from hf_visobert_absa.training.learning_rates import parameter_learning_rates
from hf_visobert_absa.training.trainer import FocalContrastiveTrainer
from tests import helpers
from tests.helpers import ASPECTS, tiny_model


def test_class_priors_add_one_per_aspect():
    labels = np.array([[0, 1], [0, -100], [2, 1]])
    priors = class_priors(labels, 4)
    np.testing.assert_allclose(priors[0], np.array([3, 1, 2, 1]) / 7)
    np.testing.assert_allclose(priors[1], np.array([1, 3, 1, 1]) / 6)


def test_bias_init_makes_the_untrained_head_predict_the_priors():
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="mean")
    with torch.no_grad():
        model.classifier.out_proj.weight.zero_()  # isolate the bias
    labels = np.array([[0, 0, 1], [0, 2, 0], [3, 0, 0], [0, 0, 0]])
    init_bias_to_priors(model, labels)
    logits = model(input_ids=torch.tensor([[0, 7, 9, 2]])).logits[0]  # [A, C]
    np.testing.assert_allclose(logits.softmax(-1).detach().numpy(), class_priors(labels, 4), rtol=1e-5)


def test_head_learning_rate_groups(tmp_path):
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="aspect_query")
    args = AbsaTrainingArguments(
        output_dir=str(tmp_path),
        learning_rate=1e-4,
        head_learning_rate=1e-2,
        use_cpu=True,
        report_to=[],
        eval_strategy="no",
        load_best_model_at_end=False,
    )
    trainer = FocalContrastiveTrainer(model=model, args=args)
    optimizer = trainer.create_optimizer()
    by_id = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(by_id) == len(list(model.parameters()))
    for name, parameter in model.named_parameters():
        assert by_id[id(parameter)] == (1e-4 if name.startswith("encoder.") else 1e-2), name


def test_layer_decay_scales_each_encoder_layer_by_the_factor_below_the_top():
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="aspect_query")  # 2 layers
    names = [n for n, _ in model.named_parameters()]
    rates = parameter_learning_rates(names, 1e-4, 1e-2, 0.5)
    for name in names:
        if name.startswith("encoder.encoder.layer.1."):
            assert rates[name] == 1e-4, name  # the top layer keeps the base rate
        elif name.startswith("encoder.encoder.layer.0."):
            assert rates[name] == 5e-5, name
        elif name.startswith("encoder.embeddings."):
            assert rates[name] == 2.5e-5, name
        elif not name.startswith("encoder."):
            assert rates[name] == 1e-2, name
    assert parameter_learning_rates(names, 1e-4) == dict.fromkeys(names, 1e-4)
    with pytest.raises(ValueError, match=r"`--layer_lr_decay` needs an encoder whose layers are named"):
        parameter_learning_rates(["encoder.blocks.0.weight", "classifier.bias"], 1e-4, None, 0.8)


def test_the_optimizer_takes_the_layer_rates(tmp_path):
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="mean")
    args = AbsaTrainingArguments(
        output_dir=str(tmp_path), learning_rate=1e-4, layer_lr_decay=0.5, use_cpu=True, report_to=[],
        eval_strategy="no", load_best_model_at_end=False, head_learning_rate=None,
    )  # fmt: skip
    optimizer = FocalContrastiveTrainer(model=model, args=args).create_optimizer()
    by_id = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    assert len(by_id) == len(list(model.parameters()))
    rates = parameter_learning_rates([n for n, _ in model.named_parameters()], 1e-4, None, 0.5)
    for name, parameter in model.named_parameters():
        assert by_id[id(parameter)] == rates[name], name
    assert sorted(set(by_id.values())) == [2.5e-5, 5e-5, 1e-4]


def test_without_head_learning_rate_the_trainer_default_is_kept(tmp_path):
    model = tiny_model(seed=0, aspects=ASPECTS)
    args = AbsaTrainingArguments(
        output_dir=str(tmp_path),
        learning_rate=1e-4,
        use_cpu=True,
        report_to=[],
        eval_strategy="no",
        load_best_model_at_end=False,
        head_learning_rate=None,
    )
    optimizer = FocalContrastiveTrainer(model=model, args=args).create_optimizer()
    assert {group["lr"] for group in optimizer.param_groups} == {1e-4}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("data")
    helpers.save_tiny_encoder(folder / "encoder")
    rows = [
        {"text": "pin trâu camera chụp đẹp", "aspects": {"Battery": "positive", "Camera": "positive"}},
        {"text": "pin yếu máy lag", "aspects": {"Battery": "negative"}},
        {"text": "giá rẻ", "aspects": {"Price": "positive"}},
        {"text": "camera xấu giá đắt", "aspects": {"Camera": "negative", "Price": "negative"}},
    ]
    for split, copies in (("train", 3), ("validation", 1)):
        (folder / f"{split}.jsonl").write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in rows * copies) + "\n"
        )
    return folder


def _train(data: Path, out: Path, *extra: str) -> int:
    return main([
        "train", "--encoder", str(data / "encoder"), "--train_file", str(data / "train.jsonl"),
        "--aspects", ",".join(ASPECTS), "--output_dir", str(out), "--num_train_epochs", "3",
        "--per_device_train_batch_size", "4", "--learning_rate", "1e-3", "--use_cpu", "true",
        "--disable_tqdm", "true", "--max_length", "32", "--report_to", "none", *extra,
    ])  # fmt: skip


def test_train_with_every_recipe_option(data, tmp_path):
    code = _train(
        data, tmp_path, "--validation_file", str(data / "validation.jsonl"), "--pooling", "aspect_query",
        "--classifier_bias_init", "priors", "--head_learning_rate", "1e-2", "--early_stopping_patience", "1",
        "--calibrate_thresholds", "true", "--layer_lr_decay", "0.8",
    )  # fmt: skip
    assert code == 0
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["pooling"] == "aspect_query"
    thresholds = config["detection_thresholds"]  # None: no aspect's threshold beat the default rule on validation
    assert thresholds is None or (len(thresholds) == len(ASPECTS) and all(t is None or 0 < t < 1 for t in thresholds))
    calibration = json.loads((tmp_path / "metrics.json").read_text())["validation"]["calibration"]
    assert calibration["after"] >= calibration["before"]
    assert json.loads((tmp_path / "metrics.json").read_text())["validation"]["num_examples"] == 4


@pytest.mark.parametrize("init", ["names", "random"])
def test_train_with_aspect_prompts(data, tmp_path, init):
    """`--pooling aspect_prompt` end to end with either start; the saved model has one prompt per aspect."""
    from hf_visobert_absa.hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment
    from hf_visobert_absa.training.aspect_prompts import name_words

    assert _train(data, tmp_path, "--pooling", "aspect_prompt", "--aspect_prompt_init", init) == 0
    model = ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path / "model")
    assert model.config.pooling == "aspect_prompt" and model.aspect_prompts.prompts.shape[0] == len(ASPECTS)
    assert name_words("FOOD#STYLE_OPTIONS") == "FOOD STYLE OPTIONS" and name_words("a / b & c") == "a b c"


def test_prompts_start_as_the_names_embeddings():
    from hf_visobert_absa.training.aspect_prompts import init_prompts_from_names

    model = tiny_model(seed=0, aspects=["Pin#Trâu", "giá/rẻ", "zzz"], pooling="aspect_prompt")
    tokenizer = helpers.tiny_tokenizer()
    assert init_prompts_from_names(model, tokenizer) == ["zzz"]  # no known token: stays random
    table = model.get_input_embeddings().weight
    ids = tokenizer("pin trâu", add_special_tokens=False)["input_ids"]
    torch.testing.assert_close(model.aspect_prompts.prompts[0], table[ids].mean(0))
    ids = tokenizer("giá rẻ", add_special_tokens=False)["input_ids"]
    torch.testing.assert_close(model.aspect_prompts.prompts[1], table[ids].mean(0))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            ("--calibrate_thresholds", "true", "--validation_split_percentage", "0"),
            "`--calibrate_thresholds` needs a validation split",
        ),
        (
            ("--early_stopping_patience", "2", "--validation_split_percentage", "0"),
            "`--early_stopping_patience` needs a validation split",
        ),
        (("--classifier_bias_init", "prior"), "allowed: 'zeros' or 'priors'"),
        (("--pooling", "aspect_prompt", "--aspect_prompt_init", "words"), "allowed: 'names' or 'random'"),
        # config values that only the encoder's width rules out, or that the config refuses, are input errors too
        (
            ("--pooling", "aspect_query", "--aspect_query_heads", "5"),
            "`--aspect_query_heads` got 5; allowed: a divisor of the encoder's hidden size 32.",
        ),
        (("--head_hidden_size", "0"), "`--head_hidden_size` got 0; allowed: a positive integer."),
        (("--layer_lr_decay", "0"), "`--layer_lr_decay` got 0.0; allowed: a factor in (0, 1] such as 0.8."),
        (("--layer_lr_decay", "1.5"), "`--layer_lr_decay` got 1.5; allowed: a factor in (0, 1] such as 0.8."),
        (
            ("--pooling", "cls", "--contrastive_mode", "aspect_sentiment"),
            "`--contrastive_mode` got 'aspect_sentiment'; allowed: a review-level mode with pooling='cls'.",
        ),
    ],
)
def test_bad_recipe_options_exit_2(data, tmp_path, capsys, extra, needle):
    out = tmp_path / "run"
    assert _train(data, out, *extra) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not out.exists()  # nothing half-made is left


def test_train_with_aspect_query_heads(data, tmp_path):
    from hf_visobert_absa.hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment

    assert _train(data, tmp_path, "--pooling", "aspect_query", "--aspect_query_heads", "4") == 0
    assert ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path / "model").aspect_pooling.num_heads == 4


def test_train_with_aspect_sentiment_contrast(data, tmp_path):
    args = ("--pooling", "aspect_query", "--contrastive_mode", "aspect_sentiment", "--logging_steps", "1")
    assert _train(data, tmp_path, *args) == 0
    assert json.loads((tmp_path / "model" / "config.json").read_text())["contrastive_mode"] == "aspect_sentiment"
    history = json.loads((tmp_path / "log_history.json").read_text())
    assert any(h.get("contrastive_loss", 0) > 0 for h in history)  # the aspect-level term was trained


def test_predict_and_evaluate_apply_the_models_thresholds(tmp_path):
    """A model whose saved thresholds are 1.0 calls every aspect mentioned; `--threshold` still overrides."""
    from tests.helpers import save_tiny_checkpoint

    model_dir = save_tiny_checkpoint(tmp_path / "m", stray=False, aspects=ASPECTS, detection_thresholds=[1.0] * 3)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "pin trâu", "aspects": {"Battery": "positive"}}) + "\n")
    for extra, expect_none in (((), False), (("--threshold", "0.0001"), True)):
        out = tmp_path / f"out{len(extra)}.jsonl"
        assert main(["predict", "--model", str(model_dir), "--input", str(source), "--output", str(out), *extra]) == 0
        predicted = json.loads(out.read_text(encoding="utf-8"))["predictions"]
        assert set(predicted) == (set() if expect_none else set(ASPECTS)), predicted  # only mentioned aspects
    metrics_file = tmp_path / "m.json"
    assert main(["evaluate", "--model", str(model_dir), "--file", str(source), "--output", str(metrics_file)]) == 0
    metrics = json.loads(metrics_file.read_text())
    assert metrics["detection_micro_precision"] == pytest.approx(1 / 3)  # all 3 aspects called mentioned, 1 is
