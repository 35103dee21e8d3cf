"""Evidence: each predicted aspect's words, as character spans of the original text, from the model's aspect
attention (one pass) or any token scorer; off by default, with outputs unchanged."""

from __future__ import annotations

import pytest
import torch

from hf_visobert_absa.hub.evidence_visobert_absa import top_words, word_scores, word_spans
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline
from tests.helpers import tiny_model, tiny_tokenizer

TEXTS = ["Pin  trâu, camera chụp đẹp 😍!", "giao hàng chậm... giá rẻ", "máy   mạnh"]


def _pipe(**config):
    model = tiny_model(seed=1, aspects=["Pin", "Camera", "Giá"], **config).eval()
    return AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device="cpu")


def test_words_are_runs_of_non_space_with_punctuation_trimmed():
    text = "  Pin trâu,  “camera” đẹp😍 !!! ... a-b "
    assert [text[s:e] for s, e in word_spans(text)] == ["Pin", "trâu", "camera", "đẹp😍", "a-b"]
    assert word_spans("") == [] and word_spans(" ... ") == []


def test_word_scores_sum_the_tokens_of_each_word_and_skip_specials_and_punctuation():
    text = "Pin trâu, ok"
    spans = word_spans(text)  # Pin, trâu, ok
    offsets = [None, (0, 3), (4, 7), (7, 8), (8, 9), (10, 12), None]  # "trâ" + "u" are one word; "," none
    scores = word_scores(spans, offsets, torch.tensor([[9.0, 1.0, 2.0, 3.0, 5.0, 4.0, 9.0]]))
    assert scores.tolist() == [[1.0, 5.0, 4.0]]
    best = top_words(text, spans, scores[0], 2)
    assert [(w["word"], w["start"], w["end"], w["weight"]) for w in best] == [("trâu", 4, 8, 5.0), ("ok", 10, 12, 4.0)]
    assert top_words(text, spans, torch.tensor([0.0, -1.0, 2.0]), 3) == [
        {"word": "ok", "start": 10, "end": 12, "weight": 2.0}
    ]


def test_evidence_is_off_by_default_and_leaves_every_output_unchanged():
    pipe = _pipe()
    plain = pipe(TEXTS, return_all_aspects=True)
    with_evidence = pipe(TEXTS, return_all_aspects=True, return_evidence=True)
    assert all("evidence" not in entry for row in plain for entry in row)
    stripped = [[{k: v for k, v in e.items() if k != "evidence"} for e in row] for row in with_evidence]
    assert stripped == plain


@pytest.mark.parametrize("long_text", ["truncate", "chunk"])
def test_every_evidence_word_is_a_span_of_the_original_text(long_text):
    pipe = _pipe()
    texts = [*TEXTS, " ".join(["pin trâu, camera đẹp 😍"] * 40)]  # the last one needs several windows of 24 tokens
    rows = pipe(
        texts, return_all_aspects=True, return_evidence=True, evidence_top_k=4, long_text=long_text, max_length=24
    )
    for text, row in zip(texts, rows, strict=True):
        for entry in row:
            assert 1 <= len(entry["evidence"]) <= 4
            assert all(text[w["start"] : w["end"]] == w["word"] and w["word"].strip() for w in entry["evidence"])
            weights = [w["weight"] for w in entry["evidence"]]
            assert weights == sorted(weights, reverse=True) and all(0 < w <= 1 for w in weights)
    assert pipe(texts[0], return_evidence=True) == pipe(texts[:1], return_evidence=True)[0]


def test_attention_is_the_models_own_aspect_attention_in_the_same_pass():
    model = tiny_model(seed=1, aspects=["Pin", "Camera"]).eval()
    ids = torch.tensor([[0, 7, 8, 9, 2], [0, 10, 11, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    logits, weights = model.logits_and_token_weights(ids, mask)
    torch.testing.assert_close(logits, model(input_ids=ids, attention_mask=mask).logits)
    assert weights.shape == (2, 2, 5) and weights[1, :, 4].abs().max() == 0  # padding gets no attention
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2))


def test_a_token_scorer_serves_any_pooling():
    pipe = _pipe(pooling="mean")
    with pytest.raises(
        ValueError, match=r"`evidence_method='attention'` needs pooling='aspect_query'; this model uses 'mean'"
    ):
        pipe(TEXTS, return_evidence=True)
    calls = []

    def last_token_wins(model, input_ids, attention_mask, targets):  # scores rise along the text
        calls.append(targets.shape)
        positions = torch.arange(input_ids.shape[1], dtype=torch.float).expand(*targets.shape, -1)
        return positions * attention_mask[:, None, :]

    row = pipe(TEXTS[2], return_all_aspects=True, return_evidence=True, evidence_method=last_token_wins)
    assert calls == [(1, 3)] and all(entry["evidence"][0]["word"] == "mạnh" for entry in row)
    with pytest.raises(ValueError, match="`evidence_method` got 'lime'; allowed: 'attention'"):
        pipe(TEXTS, return_evidence=True, evidence_method="lime")
    with pytest.raises(ValueError, match="`evidence_top_k` got 0; allowed: a positive integer"):
        pipe(TEXTS, return_evidence=True, evidence_top_k=0)


def test_evidence_needs_a_fast_tokenizer_and_says_so(monkeypatch):
    pipe = _pipe()
    monkeypatch.setattr(type(pipe.tokenizer), "is_fast", property(lambda self: False))
    with pytest.raises(
        ValueError, match=r"`return_evidence=True` needs a fast tokenizer \(it maps tokens to character"
    ):
        pipe(TEXTS, return_evidence=True)
