"""The one save path: `save_pretrained` writes a complete Hub folder with no registration call; the folder declares
one pipeline task and serves text-classification through transformers' own pipeline; the pipeline's window follows the
length the model was trained with and never exceeds the encoder's positions; the encoder's unused pooler makes
no noise when loading."""

from __future__ import annotations

import json
import logging

import pytest
import torch
from transformers import BertConfig, BertModel, TextClassificationPipeline, pipeline

from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment, ViSoBertAbsaForSequenceClassification
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline, register_pipeline
from hf_visobert_absa.hub.tasks_visobert_absa import ABSA_TASK, PIPELINE_TASKS
from hf_visobert_absa.publishing.hub_files import CODE_FILES
from tests.helpers import tiny_model, tiny_text_config, tiny_tokenizer


def test_save_pretrained_writes_a_complete_hub_folder_and_leaves_the_object_as_it_was(tmp_path):
    model = tiny_model(aspects=["Pin", "Camera"])
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["auto_map"] == {
        "AutoConfig": "configuration_visobert_absa.ViSoBertAbsaConfig",
        "AutoModel": "modeling_visobert_absa.ViSoBertAbsaForAspectSentiment",
        "AutoModelForSequenceClassification": "modeling_visobert_absa.ViSoBertAbsaForSequenceClassification",
    }
    assert saved["custom_pipelines"] == {ABSA_TASK: PIPELINE_TASKS[ABSA_TASK]}
    assert sorted(p.name for p in tmp_path.glob("*.py")) == sorted(CODE_FILES)
    assert not hasattr(model.config, "custom_pipelines")  # in-process `pipeline(task, model=obj)` keeps working
    register_pipeline()
    pipe = pipeline(ABSA_TASK, model=model, tokenizer=tiny_tokenizer(), device="cpu")
    assert isinstance(pipe, AspectSentimentPipeline)


def test_loaded_config_declares_one_task_and_the_flat_labels(tmp_path):
    tiny_model(aspects=["Pin", "Camera"]).save_pretrained(tmp_path)
    config = ViSoBertAbsaConfig.from_pretrained(tmp_path)
    assert config.custom_pipelines == {ABSA_TASK: PIPELINE_TASKS[ABSA_TASK]}  # `pipeline(model=folder)` infers it
    assert type(config.custom_pipelines) is dict
    assert config.problem_type == "multi_label_classification"
    assert config.id2label[0] == "Pin=positive" and config.id2label[5] == "Camera=neutral"
    assert config.num_labels == 2 * len(config.sentiments)


def test_text_classification_view_gives_each_pair_the_models_probability(tmp_path):
    torch.manual_seed(0)
    model = tiny_model(aspects=["Pin", "Camera"]).eval()
    flat_model = ViSoBertAbsaForSequenceClassification(model.config).eval()
    flat_model.load_state_dict(model.state_dict())
    classify = pipeline("text-classification", model=flat_model, tokenizer=tiny_tokenizer(), device="cpu")
    assert isinstance(classify, TextClassificationPipeline)
    absa = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device="cpu")
    texts = ["pin trâu", "camera đẹp giá rẻ"]
    out = classify(texts, top_k=None)
    expected = absa(texts, output_format="flat", return_all_aspects=True, top_k=None)
    for got, want in zip(out, expected, strict=True):
        scores = {item["label"]: item["score"] for item in want if item["sentiment"] != "none"}
        assert len(got) == len(scores) == 2 * len(model.config.sentiments)
        assert {item["label"]: item["score"] for item in got} == pytest.approx(scores, abs=1e-6)
        assert [item["score"] for item in got] == sorted((item["score"] for item in got), reverse=True)


def test_pipeline_window_follows_the_trained_length_and_refuses_more_than_the_encoder_reads():
    model = tiny_model().eval()  # xlm-roberta, 130 positions: 128 tokens
    tokenizer = tiny_tokenizer(model_max_length=64)  # what training stores
    pipe = AspectSentimentPipeline(model=model, tokenizer=tokenizer, device="cpu")
    assert pipe._window_length(None) == 64
    assert (
        AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(model_max_length=512))._window_length(None) == 128
    )
    with pytest.raises(ValueError, match=r"`max_length` got 200; this model's encoder reads at most 128 tokens"):
        pipe("pin trâu", max_length=200)
    assert model.config.encoder_max_tokens == 128
    assert ViSoBertAbsaConfig(text_config=tiny_text_config("bert")).encoder_max_tokens == 130
    assert ViSoBertAbsaConfig().encoder_max_tokens == 512  # ViSoBERT: 514 positions


def test_an_encoder_pooler_the_head_does_not_use_makes_no_load_report(tmp_path, capfd, caplog):
    config = {k: v for k, v in tiny_text_config("bert").items() if k != "model_type"}
    BertModel(BertConfig(**config)).save_pretrained(tmp_path)  # has pooler.dense, as MiniLM does
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="hf_visobert_absa"):
        ViSoBertAbsaForAspectSentiment.from_pretrained_encoder(str(tmp_path), pooling="mean")
    captured = capfd.readouterr()
    assert "LOAD REPORT" not in captured.err + captured.out and "UNEXPECTED" not in captured.err + captured.out
    assert "the encoder's pooler (pooler.dense.bias, pooler.dense.weight)" in caplog.text  # said once, plainly


def test_training_arguments_need_an_output_dir_and_pin_memory_only_with_an_accelerator(tmp_path):
    from hf_visobert_absa.errors import AbsaInputError
    from hf_visobert_absa.training.arguments import AbsaTrainingArguments

    with pytest.raises(AbsaInputError, match="`--output_dir` is required"):
        AbsaTrainingArguments()
    args = AbsaTrainingArguments(output_dir=str(tmp_path))
    accelerator = getattr(torch, "accelerator", None)
    has_accelerator = accelerator.is_available() if accelerator is not None else torch.cuda.is_available()
    assert args.dataloader_pin_memory is bool(has_accelerator)


def test_registration_maps_the_auto_classes_as_a_saved_folder_does(tmp_path):
    from transformers import AutoModel, AutoModelForSequenceClassification

    from hf_visobert_absa import ViSoBertAbsaForAspectSentiment, register_auto_classes

    register_auto_classes()
    tiny_model().save_pretrained(tmp_path)
    assert type(AutoModel.from_pretrained(tmp_path)) is ViSoBertAbsaForAspectSentiment
    assert type(AutoModelForSequenceClassification.from_pretrained(tmp_path)) is ViSoBertAbsaForSequenceClassification


def test_save_tokenizer_writes_a_class_every_supported_transformers_knows_and_names_it_in_the_config(tmp_path):
    from transformers import AutoTokenizer

    from hf_visobert_absa import save_tokenizer

    tiny_model().save_pretrained(tmp_path)
    save_tokenizer(tiny_tokenizer(), tmp_path)
    settings = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    config = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    assert settings["tokenizer_class"] == config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert ViSoBertAbsaConfig.from_pretrained(tmp_path).tokenizer_class == "PreTrainedTokenizerFast"
    assert AutoTokenizer.from_pretrained(tmp_path)("pin trâu")["input_ids"] == tiny_tokenizer()("pin trâu")["input_ids"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix not in (".py", ".safetensors")) == [
        "config.json", "tokenizer.json", "tokenizer_config.json"
    ]  # fmt: skip
