"""Any sentiment set: the config's `sentiments`, canonical coding 0 none / 1..K, loaders, label schemes, metrics,
the loss and the pipeline follow it; configs saved without the field load as the 3-way default."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hf_visobert_absa import ViSoBertAbsaConfig, compute_absa_metrics, load_absa_dataset
from hf_visobert_absa.data.label_schemes import decode_labels, encode_labels, predictions_from_probabilities
from hf_visobert_absa.errors import AbsaInputError
from hf_visobert_absa.evaluation.metrics import confusion_matrices
from tests.helpers import tiny_model, tiny_text_config

FOUR = ["positive", "negative", "neutral", "conflict"]


def _jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_default_and_four_way_config():
    default = ViSoBertAbsaConfig(aspects=["A"], text_config=tiny_text_config())
    assert default.sentiments == ["positive", "negative", "neutral"] and default.num_classes == 4
    four = ViSoBertAbsaConfig(aspects=["A"], sentiments=FOUR, text_config=tiny_text_config())
    assert four.class_names == ("none", *FOUR) and four.num_classes == 5
    assert four.canonical_names == ("none", *FOUR)
    assert ViSoBertAbsaConfig(aspects=["A"], sentiments=FOUR, label_scheme="mentioned_only").num_classes == 4


def test_config_saved_without_sentiments_loads_as_three_way(tmp_path):
    model = tiny_model(aspects=["A", "B"])
    model.save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["sentiments"] == ["positive", "negative", "neutral"]
    del data["sentiments"]  # as written before the field existed
    (tmp_path / "config.json").write_text(json.dumps(data))
    from hf_visobert_absa import ViSoBertAbsaForAspectSentiment

    reloaded = ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path)
    assert reloaded.config.sentiments == ["positive", "negative", "neutral"]
    assert reloaded.config.num_classes == 4


def test_loaders_accept_the_configured_set_and_refuse_others(tmp_path):
    path = _jsonl(tmp_path / "train.jsonl", [
        {"text": "a", "aspects": {"Food": "positive", "Service": "Conflict"}},
        {"text": "b", "aspects": {"Food": "neutral"}},
    ])  # fmt: skip
    with pytest.raises(AbsaInputError) as info:
        load_absa_dataset(path)
    message = str(info.value)
    assert (
        "Unknown sentiment 'Conflict' in" in message
        and "row 1 (1-based data row, header not counted; line 1 of the file)" in message
        and "column 'Service'" in message
    )
    assert "Allowed: 'positive', 'negative', 'neutral', 'none' (any case), 0-3 or null." in message
    assert "--sentiments positive,negative,neutral,conflict" in message
    dsd, report = load_absa_dataset(path, sentiments=FOUR)
    assert report.sentiments == FOUR
    assert dsd["train"]["gold"] == [[1, 4], [3, 0]]
    assert report.splits["train"].label_counts["Service"] == {
        "none": 1, "positive": 0, "negative": 0, "neutral": 0, "conflict": 1,
    }  # fmt: skip
    assert "sentiments positive, negative, neutral, conflict" in report.format()


def test_wide_int_codes_follow_the_set(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("text,Food\na,4\nb,1\n", encoding="utf-8")
    dsd, _ = load_absa_dataset(path, format="wide_int", sentiments=FOUR)
    assert dsd["train"]["gold"] == [[4], [1]]
    with pytest.raises(
        AbsaInputError, match=r"Allowed: 0 \(not mentioned\), 1 \(positive\), 2 \(negative\), 3 \(neutral\)\."
    ):
        load_absa_dataset(path, format="wide_int")


def test_bad_sentiment_sets_are_refused_before_reading(tmp_path):
    with pytest.raises(AbsaInputError, match=r"`sentiments` got \['positive', 'none'\]"):
        load_absa_dataset(tmp_path / "missing.jsonl", sentiments=["positive", "none"])
    with pytest.raises(AbsaInputError, match="a set containing 'neutral' under label_scheme='absent_as_neutral'"):
        load_absa_dataset(
            tmp_path / "missing.jsonl", sentiments=["positive", "negative"], label_scheme="absent_as_neutral"
        )


def test_label_schemes_with_four_sentiments():
    canonical = np.array([[0, 1, 3, 4]])
    assert encode_labels(canonical, "absent_as_neutral", FOUR).tolist() == [[2, 0, 2, 3]]  # none -> neutral's index
    assert encode_labels(canonical, "mentioned_only", FOUR).tolist() == [[-100, 0, 2, 3]]
    assert decode_labels(np.array([[-100, 3]]), "mentioned_only").tolist() == [[0, 4]]
    probabilities = np.array([[[0.1, 0.1, 0.1, 0.1, 0.6], [0.9, 0.0, 0.0, 0.1, 0.0]]])
    assert predictions_from_probabilities(probabilities, "absent_as_class").tolist() == [[4, 0]]


def test_metrics_with_four_sentiments():
    refs = [[4, 0], [1, 2]]
    preds = [[4, 0], [3, 2]]
    with pytest.raises(ValueError, match="allowed: canonical codes 0=none, 1=positive, 2=negative, 3=neutral"):
        compute_absa_metrics(preds, refs, ["Food", "Service"])
    metrics = compute_absa_metrics(preds, refs, ["Food", "Service"], sentiments=FOUR)
    assert metrics["sentiment_accuracy"] == pytest.approx(2 / 3)
    assert confusion_matrices(preds, refs, FOUR).shape == (2, 5, 5)
    no_neutral = compute_absa_metrics([[1, 0]], [[2, 0]], ["Food", "Service"], sentiments=["positive", "negative"])
    assert no_neutral["absent_as_neutral_accuracy"] is None and no_neutral["sentiment_accuracy"] == 0.0


def test_model_loss_and_pipeline_with_four_sentiments():
    from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline
    from tests.helpers import tiny_tokenizer

    model = tiny_model(aspects=["FOOD#QUALITY", "anecdotes/miscellaneous"], sentiments=FOUR, pooling="mean")
    ids = torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]])
    out = model(input_ids=ids, attention_mask=(ids != 1).long(), labels=torch.tensor([[4, 0], [1, 3]]))
    assert out.logits.shape == (2, 2, 5) and torch.isfinite(out.loss)
    model.eval()
    absa = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer())
    every = absa("pin trâu", return_all_aspects=True, top_k=None)
    assert [e["aspect"] for e in every] == ["FOOD#QUALITY", "anecdotes/miscellaneous"]
    assert list(every[0]["probabilities"]) == ["none", *FOUR]
    flat = absa("pin trâu", output_format="flat", return_all_aspects=True, top_k=None)
    assert {"FOOD#QUALITY=conflict", "anecdotes/miscellaneous=none"} <= {x["label"] for x in flat}
    assert all(x["label"] == f"{x['aspect']}={x['sentiment']}" for x in flat)


def test_uit_tags_with_entity_attribute_names(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("comment,label\nngon,{FOOD#QUALITY#Positive};{OTHERS};\n", encoding="utf-8")
    dsd, report = load_absa_dataset(path, format="uit_visfd")
    assert report.aspects == ["FOOD#QUALITY", "OTHERS"] and dsd["train"]["gold"][:] == [[1, 3]]
