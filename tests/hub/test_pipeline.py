"""`AspectSentimentPipeline`: every input form, batching, thresholds, `top_k`, `return_all_aspects`, the flat
format, long-text chunking, the absent_as_neutral scheme and bad inputs — all checked against direct model calls."""

from __future__ import annotations

import ast
import logging
import re
import sys

import pytest
import torch
from transformers import pipeline
from transformers.pipelines.pt_utils import KeyDataset

from hf_visobert_absa.hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline, register_pipeline
from tests import helpers
from tests.helpers import WORDS, tiny_model, tiny_tokenizer

TEXTS = [
    "pin trâu camera chụp đẹp",
    "giao hàng nhanh",
    "máy mạnh màn hình sáng thiết kế sang giá rẻ shop tư vấn nhiệt tình",
    "kém",
    "đóng gói cẩn thận rất hài lòng sản phẩm tốt",
    "camera xấu pin yếu máy chậm lag",
    "ổn",
]
#: Aspects the biased test model "mentions": P(none) is pushed down for them, up for the others.
MENTIONED = ("Camera", "Display", "Price", "General")


def _biased_model(**config_kwargs):
    """A tiny model whose head bias makes some aspects clearly mentioned and the rest clearly absent."""
    model = tiny_model(3, **config_kwargs)
    if model.config.label_scheme == "absent_as_class":
        bias = model.classifier.out_proj.bias.data.view(model.config.num_aspects, model.config.num_classes)  # [A, C]
        for a, aspect in enumerate(model.config.aspects):
            bias[a, 0] = -3.0 if aspect in MENTIONED else 3.0
    return model


@pytest.fixture(scope="module")
def absa():
    return AspectSentimentPipeline(model=_biased_model(), tokenizer=tiny_tokenizer(), device="cpu", task=TASK)


def _direct(pipe, text, max_length=None):
    """Softmax distributions [A, C] from a direct model call on the truncated text."""
    enc = pipe.tokenizer(text, truncation=True, max_length=max_length or 128, return_tensors="pt")
    with torch.no_grad():
        return pipe.model(**enc).logits[0].float().softmax(-1)


def _all(pipe, inputs, **kwargs):
    return pipe(inputs, return_all_aspects=True, **kwargs)


def _distributions(entries) -> torch.Tensor:
    """`return_all_aspects` output -> [A, C] tensor."""
    return torch.tensor([list(e["probabilities"].values()) for e in entries])


def _assert_same(actual: torch.Tensor, expected: torch.Tensor, tol: float = 1e-6) -> None:
    torch.testing.assert_close(actual, expected, atol=tol, rtol=0)


def test_model_is_put_in_eval_mode_and_on_the_device():
    model = tiny_model(0)
    assert model.training
    pipe = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device=-1)
    assert not model.training and pipe.device == torch.device("cpu")


def test_mentioned_aspects_follow_p_none_and_threshold(absa):
    out = absa(TEXTS[0])
    assert [e["aspect"] for e in out] == list(MENTIONED)  # model order, mentioned only
    probs = _direct(absa, TEXTS[0])
    names = absa.class_names
    for entry in out:
        row = probs[absa.aspects.index(entry["aspect"])]
        assert row[0] < 0.5
        best = int(row[1:].argmax()) + 1
        assert entry == {
            "aspect": entry["aspect"],
            "sentiment": names[best],
            "score": pytest.approx(float(row[best]), abs=1e-6),
        }
    assert absa(TEXTS[0], threshold=0.0) == []
    assert len(absa(TEXTS[0], threshold=1.0)) == 11
    per_aspect = absa(TEXTS[0], threshold={"Battery": 1.0, "Camera": 0.0})
    assert [e["aspect"] for e in per_aspect] == ["Battery", "Display", "Price", "General"]


def test_return_all_aspects_gives_full_distributions(absa):
    out = _all(absa, TEXTS[2])
    probs = _direct(absa, TEXTS[2])
    assert [e["aspect"] for e in out] == absa.aspects
    for entry, row in zip(out, probs, strict=True):
        assert entry["mentioned"] == (entry["aspect"] in MENTIONED)
        assert list(entry["probabilities"]) == ["none", "positive", "negative", "neutral"]
        assert list(entry["probabilities"].values()) == pytest.approx(row.tolist(), abs=1e-6)
        if not entry["mentioned"]:
            assert entry["sentiment"] == "none" and entry["score"] == entry["probabilities"]["none"]


def test_top_k_has_text_classification_meaning_per_aspect(absa):
    assert all("labels" not in e for e in absa(TEXTS[1], top_k=1))
    two = absa(TEXTS[1], top_k=2)
    everything = absa(TEXTS[1], top_k=None)
    for short, full in zip(two, everything, strict=True):
        scores = [item["score"] for item in full["labels"]]
        assert len(full["labels"]) == 4 and scores == sorted(scores, reverse=True)
        assert sum(scores) == pytest.approx(1.0, abs=1e-5)
        assert short["labels"] == full["labels"][:2]
    assert len(absa(TEXTS[1], top_k=99)[0]["labels"]) == 4


def test_flat_output_is_text_classification_shaped(absa):
    flat = absa(TEXTS[3], output_format="flat")
    entries = absa(TEXTS[3])
    assert sorted(flat, key=lambda x: x["label"]) == sorted(
        (
            {
                "label": f"{e['aspect']}={e['sentiment']}",
                "aspect": e["aspect"],
                "sentiment": e["sentiment"],
                "score": e["score"],
            }
            for e in entries
        ),
        key=lambda x: x["label"],
    )
    assert [x["score"] for x in flat] == sorted((x["score"] for x in flat), reverse=True)
    every = absa(TEXTS[3], output_format="flat", top_k=None, return_all_aspects=True)
    assert len(every) == 11 * 4 and {"Battery=none", "Others=neutral"} <= {x["label"] for x in every}


def test_input_forms_agree(absa):
    datasets = pytest.importorskip("datasets")
    one_by_one = [_all(absa, text) for text in TEXTS]
    assert _all(absa, TEXTS) == one_by_one
    assert _all(absa, tuple(TEXTS)) == one_by_one
    assert list(_all(absa, (t for t in TEXTS))) == one_by_one
    dataset = datasets.Dataset.from_dict({"text": TEXTS})
    assert list(_all(absa, KeyDataset(dataset, "text"))) == one_by_one


def _close(left, right, tol=1e-5):
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_close(left[k], right[k], tol) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_close(a, b, tol) for a, b in zip(left, right, strict=True))
    if isinstance(left, float):
        return abs(left - right) <= tol
    return left == right


@pytest.mark.parametrize("batch_size", [2, 3, 8])
def test_batching_gives_the_same_results_as_one_by_one(absa, batch_size):
    one_by_one = [_all(absa, text, top_k=None) for text in TEXTS]  # texts of 1 to 14 words: real padding
    batched = _all(absa, TEXTS, top_k=None, batch_size=batch_size)
    assert _close(batched, one_by_one)
    streamed = list(_all(absa, (t for t in TEXTS), top_k=None, batch_size=batch_size))
    assert _close(streamed, one_by_one)


def _long_review() -> str:
    words, text, i = [], "", 0
    while len(text) < 5000:
        words.append(WORDS[(i * 7) % len(WORDS)])
        text = " ".join(words)
        i += 1
    return text


def _windows(pipe, text, window, stride):
    """Overlapping windows computed independently of the tokenizer's overflow logic."""
    ids = pipe.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
    content, start, windows = window - 2, 0, []
    while True:
        windows.append([0] + ids[start : start + content] + [2])
        if start + content >= len(ids):
            return windows
        start += content - stride


def test_a_5000_character_review_is_truncated_with_a_warning_or_chunked(absa, caplog):
    text = _long_review()
    assert len(text) >= 5000
    windows = _windows(absa, text, 128, 31)
    assert len(windows) >= 6
    with torch.no_grad():
        per_window = torch.stack(
            [absa.model(input_ids=torch.tensor([w])).logits[0].float().softmax(-1) for w in windows]
        )  # [W, A, C]

    with caplog.at_level(logging.WARNING, logger="hf_visobert_absa.hub.pipeline_visobert_absa"):
        truncated = _all(absa, text)
    assert "long_text='chunk'" in caplog.text
    _assert_same(_distributions(truncated), per_window[0])

    chunked = _all(absa, text, long_text="chunk")
    # "max": per aspect, the distribution of the window with the lowest P(none). Windows of this repetitive
    # review can tie to within rounding, so accept any window whose P(none) is that low.
    got = _distributions(chunked)  # [A, C]
    lowest = per_window[:, :, 0].min(dim=0).values  # [A]
    for a in range(11):
        candidates = [w for w in range(len(windows)) if per_window[w, a, 0] <= lowest[a] + 1e-5]
        assert any(torch.allclose(got[a], per_window[w, a], atol=1e-6, rtol=0) for w in candidates), a
    mean = _all(absa, text, long_text="chunk", chunk_aggregation="mean")
    _assert_same(_distributions(mean), per_window.mean(0))

    batched = _all(absa, [text, TEXTS[0], text], long_text="chunk", batch_size=4)
    assert _close(batched, [chunked, _all(absa, TEXTS[0]), chunked])

    small = _all(absa, text, long_text="chunk", max_length=64, stride=16, chunk_aggregation="mean")
    small_windows = _windows(absa, text, 64, 16)
    with torch.no_grad():
        small_mean = torch.stack(
            [absa.model(input_ids=torch.tensor([w])).logits[0].float().softmax(-1) for w in small_windows]
        ).mean(0)
    assert len(small_windows) > len(windows)
    _assert_same(_distributions(small), small_mean)


def test_absent_as_neutral_scheme_returns_every_aspect():
    pipe = AspectSentimentPipeline(
        model=_biased_model(label_scheme="absent_as_neutral"), tokenizer=tiny_tokenizer(), device="cpu"
    )
    out = pipe(TEXTS[0])
    assert [e["aspect"] for e in out] == pipe.aspects
    assert {e["sentiment"] for e in out} <= {"positive", "negative", "neutral"}
    full = pipe(TEXTS[0], return_all_aspects=True)
    assert all(e["mentioned"] is None and len(e["probabilities"]) == 3 for e in full)
    with pytest.raises(ValueError, match="label_scheme='absent_as_class'; this model uses 'absent_as_neutral'"):
        pipe(TEXTS[0], threshold=0.3)
    chunked = pipe(_long_review(), long_text="chunk")
    assert len(chunked) == 11


BAD_INPUTS = [
    ("", "Input 0 is an empty string"),
    ("   ", "Input 0 is an empty string"),
    (None, "Input 0 is None"),
    (42, "Input 0 is a value of type int (42)"),
    (["ok", "fine", ""], "Input 2 is an empty string"),
    (["ok", None], "Input 1 is None"),
    (["ok", b"bytes"], "Input 1 is a value of type bytes (b'bytes')"),
]


@pytest.mark.parametrize(("inputs", "message"), BAD_INPUTS)
def test_bad_inputs_name_their_index(absa, inputs, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        absa(inputs)
    assert "every input must be a non-empty review text" in str(error.value)


def test_bad_items_in_streams_name_their_index(absa):
    datasets = pytest.importorskip("datasets")
    with pytest.raises(ValueError, match="Input 2 is None"):
        list(absa(t for t in ["ok", "fine", None]))
    with pytest.raises(ValueError, match="Wrap a `datasets.Dataset` as `KeyDataset"):
        list(absa(datasets.Dataset.from_dict({"text": ["ok"]})))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, r"`threshold` got 1.5 for every aspect"),
        ({"threshold": {"Screen": 0.2}}, r"unknown aspects \['Screen'\]"),
        ({"top_k": 0}, r"`top_k` got 0"),
        ({"output_format": "json"}, r"`output_format` got 'json'"),
        ({"long_text": "split"}, r"`long_text` got 'split'"),
        ({"chunk_aggregation": "sum"}, r"`chunk_aggregation` got 'sum'"),
        ({"long_text": "chunk", "max_length": 12, "stride": 10}, r"`stride` got 10; allowed: fewer than 10 tokens"),
        (
            {"max_length": 2},
            r"`max_length` got 2; allowed: an integer >= 3 \(tokens per window: two special tokens and at least one "
            r"token of text\)\.",
        ),
    ],
)
def test_bad_arguments_are_explained(absa, kwargs, message):
    with pytest.raises(ValueError, match=message):
        absa(TEXTS[0], **kwargs)


def test_dtype_follows_the_model():
    model = _biased_model().to(torch.bfloat16)
    pipe = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device="cpu")
    out = pipe(TEXTS[0], return_all_aspects=True)
    assert pipe.model.dtype == torch.bfloat16
    assert all(sum(e["probabilities"].values()) == pytest.approx(1.0, abs=1e-5) for e in out)


def test_registered_task_builds_the_pipeline():
    register_pipeline()
    register_pipeline()  # idempotent
    pipe = pipeline(TASK, model=_biased_model(), tokenizer=tiny_tokenizer(), device="cpu")
    assert isinstance(pipe, AspectSentimentPipeline)
    assert [e["aspect"] for e in pipe(TEXTS[0])] == list(MENTIONED)


def test_importing_registers_nothing():
    """The module's top level only imports and defines: no call registers anything at import time."""
    source = helpers.ROOT / "hf_visobert_absa" / "hub" / "pipeline_visobert_absa.py"
    allowed_calls = {"object", "logging.getLogger"}
    for node in ast.parse(source.read_text()).body:
        assert isinstance(
            node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Expr)
        ), ast.dump(node)
        if isinstance(node, ast.Expr):
            assert isinstance(node.value, ast.Constant), ast.dump(node)  # the docstring only
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            assert ast.unparse(node.value.func) in allowed_calls, ast.unparse(node)


def test_pipeline_file_imports_only_what_the_hub_copy_has():
    source = helpers.ROOT / "hf_visobert_absa" / "hub" / "pipeline_visobert_absa.py"
    allowed = set(sys.stdlib_module_names) | {"torch", "transformers"}
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            assert all(alias.name.split(".")[0] in allowed for alias in node.names), ast.dump(node)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 1 or node.module.split(".")[0] in allowed | {"__future__"}, ast.dump(node)
            if node.level == 1:
                assert node.module and "." not in node.module  # `from .sibling import X`, flat


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@needs_cuda
def test_pipeline_on_cuda_matches_cpu_and_batches_consistently():
    cpu = AspectSentimentPipeline(model=_biased_model(), tokenizer=tiny_tokenizer(), device="cpu")
    gpu = AspectSentimentPipeline(model=_biased_model(), tokenizer=tiny_tokenizer(), device=0)
    assert gpu.device.type == "cuda" and next(gpu.model.parameters()).is_cuda
    expected = [_all(cpu, text, top_k=None) for text in TEXTS]
    one_by_one = [_all(gpu, text, top_k=None) for text in TEXTS]
    assert _close(one_by_one, expected, tol=1e-4)
    assert _close(_all(gpu, TEXTS, top_k=None, batch_size=4), one_by_one, tol=1e-5)
    text = _long_review()
    assert _close(_all(gpu, text, long_text="chunk", batch_size=4), _all(cpu, text, long_text="chunk"), tol=1e-4)


@needs_cuda
def test_half_precision_on_cuda_gives_float_scores():
    model = _biased_model().to(device="cuda", dtype=torch.float16)
    pipe = AspectSentimentPipeline(model=model, tokenizer=tiny_tokenizer(), device=0)
    reference = AspectSentimentPipeline(model=_biased_model(), tokenizer=tiny_tokenizer(), device="cpu")
    out = pipe(TEXTS, return_all_aspects=True, batch_size=3)
    ref = reference(TEXTS, return_all_aspects=True)
    for got, want in zip(out, ref, strict=True):
        assert [e["mentioned"] for e in got] == [e["mentioned"] for e in want]
        assert all(isinstance(e["score"], float) for e in got)
        _assert_same(_distributions(got), _distributions(want), tol=1e-2)
