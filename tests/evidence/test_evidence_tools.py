"""The evidence tools: Integrated Gradients through Captum (any pooling), the ERASER text edits, the HTML view."""

from __future__ import annotations

import pytest
import torch

from hf_visobert_absa.evidence.faithfulness import (
    evidence_size,
    probabilities_of,
    ranking_from_evidence,
    with_words_only,
    with_words_removed,
)
from hf_visobert_absa.evidence.view import evidence_gallery, evidence_html
from hf_visobert_absa.hub.evidence_visobert_absa import word_spans
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline
from tests.helpers import tiny_model, tiny_text_config, tiny_tokenizer

TEXT = "Pin  trâu, camera chụp đẹp 😍!"


def test_removing_and_keeping_words_edits_the_original_text():
    spans = word_spans(TEXT)  # Pin, trâu, camera, chụp, đẹp, 😍
    assert with_words_removed(TEXT, spans, [1, 4]) == "Pin , camera chụp 😍!"
    assert with_words_removed(TEXT, spans, []) == "Pin trâu, camera chụp đẹp 😍!"
    assert with_words_only(TEXT, spans, [4, 1]) == "trâu đẹp"
    assert [evidence_size(k, 6) for k in (1, 3, 10, "20%", "50%")] == [1, 3, 6, 1, 3]
    evidence = [{"word": "đẹp", "start": 23, "end": 26, "weight": 0.5}]
    assert ranking_from_evidence(spans, evidence) == [4, 0, 1, 2, 3, 5]


def test_probabilities_of_are_the_models_per_aspect_distributions():
    model, tokenizer = tiny_model(seed=1, aspects=["Pin", "Camera"]).eval(), tiny_tokenizer()
    found = probabilities_of(model, tokenizer, ["pin trâu", TEXT, ""], batch_size=2)
    assert found.shape == (3, 2, 4) and torch.allclose(found.sum(-1), torch.ones(3, 2))
    single = model(**tokenizer("pin trâu", return_tensors="pt")).logits.softmax(-1)
    torch.testing.assert_close(found[0], single[0], atol=1e-5, rtol=0)


def test_integrated_gradients_scores_the_mentioned_aspects_of_any_pooling():
    pytest.importorskip("captum")
    from hf_visobert_absa.evidence.attribution import integrated_gradients

    # a BERT-style encoder: its positions do not depend on the token ids, so the baseline below is Captum's own
    model = tiny_model(seed=1, aspects=["Pin", "Camera"], pooling="mean", text_config=tiny_text_config("bert")).eval()
    ids = torch.tensor([[2, 7, 8, 9, 3], [2, 10, 11, 3, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    scores = integrated_gradients(model, ids, mask, torch.tensor([[1, -1], [2, 3]]), n_steps=32)
    assert scores.shape == (2, 2, 5) and scores[0, 1].abs().max() == 0 and scores[1, :, 4].abs().max() == 0
    # completeness (Sundararajan et al. 2017): the scores sum to p(input) - p(baseline)
    probability = model(input_ids=ids[:1], attention_mask=mask[:1]).logits[0, 0].softmax(-1)[1]
    pad = model.config.text_config.pad_token_id
    baseline = torch.tensor([[2, pad, pad, pad, 3]])
    start = model(input_ids=baseline, attention_mask=mask[:1]).logits[0, 0].softmax(-1)[1]
    assert scores[0, 0].sum().item() == pytest.approx((probability - start).item(), abs=1e-4)
    pipe = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device="cpu")
    row = pipe(TEXT, return_all_aspects=True, return_evidence=True, evidence_method=integrated_gradients)
    assert all(TEXT[w["start"] : w["end"]] == w["word"] for entry in row for w in entry["evidence"])


def test_the_view_highlights_each_aspects_evidence_and_escapes_the_text(tmp_path):
    entries = [
        {"aspect": "Camera", "sentiment": "positive", "score": 0.9,
         "evidence": [{"word": "đẹp", "start": 23, "end": 26, "weight": 0.6}]},
        {"aspect": "<Pin>", "sentiment": "negative", "score": 0.7, "evidence": []},
    ]  # fmt: skip
    html = evidence_html(TEXT, entries)
    assert 'rgba(46, 160, 67, 0.90)" title="0.600">đẹp</mark>' in html and "&lt;Pin&gt;" in html
    assert html.count("<mark") == 1 and "<b>Camera</b>: positive (0.90)" in html
    page = evidence_gallery(
        [{"text": TEXT, "entries": entries, "gold": {"Camera": "positive"}, "correct": True},
         {"text": "giá <b>", "entries": [], "gold": {}, "correct": False}],
        tmp_path / "gallery.html",
    )  # fmt: skip
    text = page.read_text(encoding="utf-8")
    assert text.index("WRONG") < text.index("correct") and "giá &lt;b&gt;" in text
    assert [p.name for p in tmp_path.iterdir()] == ["gallery.html"]  # no temporary file left beside it
