"""The pipeline's batched path (lists and map-style datasets): one tokenizer call, length-sorted batches padded
to their own longest window, tensor post-processing, results in input order — and the same outputs as the
per-review path (a generator) for every option."""

from __future__ import annotations

import pytest
import torch
from transformers.pipelines.pt_utils import KeyDataset

from hf_visobert_absa.hub import pipeline_visobert_absa as module
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline
from tests.helpers import tiny_tokenizer
from tests.hub.test_pipeline import MENTIONED, TEXTS, _biased_model, _close, _long_review

OPTIONS = [
    {},
    {"top_k": None},
    {"top_k": 2, "return_all_aspects": True},
    {"output_format": "flat"},
    {"output_format": "flat", "top_k": None, "return_all_aspects": True},
    {"threshold": {"Camera": 0.01, "Battery": 0.999}},
    {"long_text": "chunk", "max_length": 16, "stride": 4},
    {"long_text": "chunk", "max_length": 16, "chunk_aggregation": "mean", "return_all_aspects": True},
]


@pytest.fixture(scope="module")
def absa():
    return AspectSentimentPipeline(model=_biased_model(), tokenizer=tiny_tokenizer(), device="cpu")


def _texts() -> list[str]:
    """Lengths out of order (so sorting moves them), a duplicate, and one review longer than 16 tokens."""
    return [TEXTS[3], TEXTS[2], TEXTS[0], _long_review()[:300], TEXTS[6], TEXTS[2], TEXTS[5], TEXTS[1], TEXTS[4]]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_batched_list_matches_the_per_review_path(absa, options, batch_size):
    texts = _texts()
    per_review = list(absa((t for t in texts), batch_size=1, **options))  # generators stream review by review
    batched = absa(texts, batch_size=batch_size, **options)
    assert isinstance(batched, list) and len(batched) == len(texts)
    assert _close(batched, per_review, tol=1e-5)
    if batch_size == 1:  # no padding at all: the very same numbers
        assert batched == per_review


def test_outputs_come_back_in_input_order_with_the_decisions_of_the_model(absa):
    out = absa(_texts(), batch_size=4)
    for text, entries in zip(_texts(), out, strict=True):
        assert entries == absa(text)
    assert {e["aspect"] for e in out[0]} == set(MENTIONED)


def test_batches_are_length_sorted_and_padded_to_their_own_longest(absa, monkeypatch):
    shapes, calls = [], []
    forward = absa.model.forward

    def recording_forward(*args, **kwargs):
        mask = kwargs["attention_mask"]
        shapes.append((tuple(mask.shape), mask.sum(dim=1).tolist()))
        return forward(*args, **kwargs)

    tokenizer_call = type(absa.tokenizer).__call__

    def counting_call(self, text, *args, **kwargs):
        calls.append(len(text) if isinstance(text, list) else 1)
        return tokenizer_call(self, text, *args, **kwargs)

    monkeypatch.setattr(absa.model, "forward", recording_forward)
    monkeypatch.setattr(type(absa.tokenizer), "__call__", counting_call)
    texts = _texts()
    absa(texts, batch_size=4)
    assert len(shapes) == 3  # 9 texts, batches of 4
    lengths = [length for _, row in shapes for length in row]
    assert lengths == sorted(lengths, reverse=True)
    assert all(shape[1] == max(row) for shape, row in shapes)  # each batch pads only to its own longest
    assert calls.count(len(texts)) == 1 and sum(calls) <= len(texts) + 2  # one batch call (+ the template)


def test_a_left_padding_tokenizer_still_pads_on_the_right():
    """The model may pool the first token: batches are padded on the right whatever `padding_side` says, so a
    left-padding tokenizer gives the results of one review at a time."""
    tokenizer = tiny_tokenizer()
    tokenizer.padding_side = "left"
    left = AspectSentimentPipeline(model=_biased_model(), tokenizer=tokenizer, device="cpu")
    assert _close(left(_texts(), batch_size=4, top_k=None), [left(t, top_k=None) for t in _texts()], tol=1e-5)


def test_datasets_stream_in_chunks_in_input_order(absa, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(module, "_BATCHED_CHUNK", 2)  # 9 texts, batch_size 1 -> chunks of 16
    texts = _texts() * 3
    stream = absa(KeyDataset(datasets.Dataset.from_dict({"text": texts}), "text"), batch_size=1)
    assert not isinstance(stream, list)
    assert list(stream) == [absa(text) for text in texts]


def test_bad_arguments_are_refused_at_call_time_for_datasets(absa):
    datasets = pytest.importorskip("datasets")
    with pytest.raises(ValueError, match="`top_k` got 0"):
        absa(KeyDataset(datasets.Dataset.from_dict({"text": ["ok"]}), "text"), top_k=0)
    with pytest.raises(ValueError, match="Input 1 is None"):
        list(absa(KeyDataset(datasets.Dataset.from_dict({"text": ["ok", None]}), "text")))


def test_constructor_batch_size_is_used(monkeypatch):
    pipe = AspectSentimentPipeline(model=_biased_model(), tokenizer=tiny_tokenizer(), device="cpu", batch_size=5)
    sizes = []
    forward = pipe._forward_sorted
    monkeypatch.setattr(
        pipe, "_forward_sorted", lambda windows, batch_size: sizes.append(batch_size) or forward(windows, batch_size)
    )
    with torch.no_grad():
        pipe(_texts())
    assert sizes == [5]


def test_the_flat_format_is_the_same_on_the_batched_streamed_and_single_text_paths():
    pipe = AspectSentimentPipeline(model=_biased_model(), tokenizer=tiny_tokenizer(), device="cpu")
    batched = pipe(_texts(), batch_size=4, output_format="flat")
    assert all("label" in item for row in batched for item in row)
    assert _close(batched, list(pipe((t for t in _texts()), batch_size=1, output_format="flat")), tol=1e-5)
    assert _close(batched, [pipe(t, output_format="flat") for t in _texts()], tol=1e-5)
