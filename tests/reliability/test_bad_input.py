"""Bad input end to end (issue 6): messy files, odd texts, invalid config values, and a
property-based test that random Unicode texts with random valid labels load, train one step and predict.

Only what the other test files do not cover is here: `test_data.py` has the CSV typo / empty / header-only /
invalid-UTF-8 / BOM / extra-column / ragged cases, `test_pipeline.py` the empty string / None / number / bytes
inputs, `test_config.py` one invalid value per field, `test_cli.py` the exit codes. Each case below asserts the
exact message, or the counted outcome that docs/RELIABILITY.md documents. Checkpoints that are not usable models:
`test_bad_checkpoints.py`; outputs and arguments (the second round): `test_bad_arguments_and_outputs.py`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import DataCollatorWithPadding, TrainingArguments

from hf_visobert_absa import FocalContrastiveTrainer, ViSoBertAbsaConfig
from hf_visobert_absa.data.loading import load_absa_dataset
from hf_visobert_absa.data.tokenization import load_tokenizer, tokenize_dataset, truncated_rows
from hf_visobert_absa.evaluation.inference import predict_probabilities
from hf_visobert_absa.hub.labels_visobert_absa import LABEL_SCHEMES
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline
from tests import helpers
from tests.helpers import ASPECTS, WORDS, at, error_of, run_cli, tiny_model, tiny_text_config, tiny_tokenizer

FIXTURES = helpers.FIXTURES / "bad_input"
UTF8_FIX = "Save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet, or `iconv -f <encoding> -t utf-8`)."


def long_review(chars: int = 10_000) -> str:
    """A review of exactly `chars` characters: known words, unknown words and emoji."""
    pieces = [WORDS[(i * 7) % len(WORDS)] if i % 5 else "siêu-phẩm😍" for i in range(chars)]
    return " ".join(pieces)[:chars]


@pytest.fixture(scope="module")
def pipe():
    return AspectSentimentPipeline(model=tiny_model(0, aspects=ASPECTS), tokenizer=tiny_tokenizer(), device="cpu")


def _train_one_step(dataset_dict, label_scheme: str = "absent_as_class", max_length: int = 32) -> float:
    """Tokenise, train ONE step of `FocalContrastiveTrainer` on a tiny model, return the logged loss."""
    tokenizer = tiny_tokenizer()
    tokenized = tokenize_dataset(dataset_dict, tokenizer, max_length=max_length)
    train = tokenized["train"].remove_columns(["text", "gold", "row"])
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, max_steps=1, per_device_train_batch_size=len(train), learning_rate=1e-3,
            logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True, seed=0,
        )  # fmt: skip
        trainer = FocalContrastiveTrainer(
            model=tiny_model(0, aspects=ASPECTS, label_scheme=label_scheme), args=args, train_dataset=train,
            data_collator=DataCollatorWithPadding(tokenizer),
        )  # fmt: skip
        trainer.train()
    return next(entry["loss"] for entry in trainer.state.log_history if "loss" in entry)


# ----------------------------------------------------------------------------------------------- files: texts


def test_nan_like_cells_are_texts_and_unicode_whitespace_is_an_empty_text():
    """Decision: "nan", "NaN", "NULL", "None", "N/A" in the text column are texts, kept as written (the loader
    never guesses missing values; pandas writes a missing value as an empty cell). Empty and whitespace-only
    texts, Unicode spaces included, are counted as `empty_text` and kept unless `drop_problems` drops them."""
    path = FIXTURES / "nan_like.csv"
    dsd, report = load_absa_dataset(path)
    assert dsd["train"]["text"][:] == ["nan", "NaN", "NULL", "None", "N/A", "", "\u00a0\u3000"]
    empty = report.splits["train"].problems["empty_text"]
    assert (empty.count, empty.examples) == (2, [6, 7])
    assert "  - train: empty_text 2; rows 6, 7" in report.format()
    dropped, report = load_absa_dataset(path, drop_problems=["empty_text"])
    assert dropped["train"]["row"][:] == [1, 2, 3, 4, 5] and report.splits["train"].dropped == {"empty_text": 2}


def test_nan_like_label_cells_are_unknown_labels_never_guessed():
    path = FIXTURES / "nan_label.csv"
    guess = "<positive|negative|neutral|none>"
    aliases = f'{{"nan": "{guess}", "NaN": "{guess}"}}'
    assert error_of(path) == (
        f"Unknown label 'nan' in {at(path, 1, 2)}, column 'Camera'. Allowed: 'positive', 'negative', 'neutral' "
        "(any case), or an empty cell / 'none' for not mentioned. All unknown values in this file: 'nan' in 1 "
        "cell(s), first at row 1 (line 2), column 'Camera'; 'NaN' in 1 cell(s), first at row 2 (line 3), column "
        f"'Battery'. Labels are never mapped or dropped silently: if they mean allowed labels, pass "
        f"label_aliases={aliases} (command line: --label_aliases '{aliases}')."
    )
    dsd, report = load_absa_dataset(path, label_aliases={"nan": "none"})  # case-insensitive: both cells
    assert dsd["train"]["gold"][:] == [[1, 0, 0], [0, 1, 0]]
    assert report.splits["train"].aliases_applied == {"nan": 1, "NaN": 1}


def test_jsonl_misspelt_unknown_and_nan_sentiments():
    path = FIXTURES / "bad_sentiments.jsonl"
    guess = "<positive|negative|neutral|none>"
    aliases = f'{{"Posititve": "positive", "NaN": "{guess}", "7": "{guess}"}}'
    assert error_of(path) == (
        f"Unknown sentiment 'Posititve' in {at(path, 1, 1)}, column 'Battery'. Allowed: 'positive', 'negative', "
        "'neutral', 'none' (any case), 0-3 or null. All unknown values in this file: 'Posititve' in 1 cell(s), "
        "first at row 1 (line 1), column 'Battery'; 'NaN' in 1 cell(s), first at row 2 (line 2), column 'Camera'; "
        "'7' in 1 cell(s), first at row 3 (line 3), column 'Price'. Labels are never mapped or dropped silently: if "
        f"they mean allowed labels, pass label_aliases={aliases} (command line: --label_aliases '{aliases}')."
    )


def test_jsonl_text_that_is_not_a_string_null_or_missing(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"text": "ok", "aspects": {"Battery": "positive"}}\n{"text": NaN, "aspects": {}}\n')
    assert error_of(path) == f"{at(path, 2, 2)}: 'text' must be a string, got nan."
    path.write_text('{"text": 42, "aspects": {}}\n')
    assert error_of(path) == f"{at(path, 1, 1)}: 'text' must be a string, got 42."
    # null and a missing key are empty texts: counted, kept unless dropped
    path.write_text(
        '{"text": "ok", "aspects": {"Battery": 1}}\n{"text": null, "aspects": {}}\n{"aspects": {"Camera": 2}}\n'
    )
    dsd, report = load_absa_dataset(path, aspects=ASPECTS)
    assert dsd["train"]["text"][:] == ["ok", "", ""]
    assert report.splits["train"].problems["empty_text"].examples == [2, 3]


def test_jsonl_bom_is_skipped_and_invalid_utf8_or_empty_is_an_error(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"text": "pin trâu", "aspects": {"Battery": "positive"}}).encode() + b"\n"
    )
    dsd, _ = load_absa_dataset(path)
    assert dsd["train"]["text"][:] == ["pin trâu"]
    raw = b'{"text": "pin", "aspects": {}}\n{"text": "gi\xe1 r\xe8", "aspects": {}}\n'  # Latin-1 bytes
    path.write_bytes(raw)
    offset = raw.index(b"\xe1")
    assert (
        error_of(path)
        == f"{path} is not valid UTF-8: byte(s) e1 at byte offset {offset} (line 2 of the file). {UTF8_FIX}"
    )
    for content in (b"", b"\n \n\r\n", b"\xef\xbb\xbf\n"):
        path.write_bytes(content)
        assert (
            error_of(path)
            == f"{path} is empty: no header and no rows. Expected a CSV with a header line or JSON lines."
        )


def test_a_missing_aspect_column_names_it():
    path = FIXTURES / "missing_aspect.csv"
    assert error_of(path, aspects=ASPECTS) == (
        f"Aspect mismatch: {path} has aspect columns ['Battery', 'Camera'], but the aspects in use (given via "
        "`aspects=`) are ['Battery', 'Camera', 'Price']; missing from the file: ['Price']. Fix the file's aspect "
        "columns, or load with the aspect list that matches the model (`aspects=` from its config)."
    )


def test_an_unclosed_quote_says_so(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text('text,Battery\n"pin trâu,positive\n' + "x,positive\n" * 20_000, encoding="utf-8")
    # the open quote swallows the rest of the file (far past csv's default 131,072-character field limit)
    assert error_of(path) == (
        f"{at(path, 1, 2)} has 1 fields but the header has 2. The row spans lines 2-20002: if it should not, a "
        'quote (") opened on line 2 is never closed, so the lines after it were read as one field. Quote text '
        'fields that contain commas or newlines ("...") and check the header.'
    )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_review_longer_than_the_csv_field_limit_loads_whole(tmp_path, suffix):
    """Python's csv module refuses fields over 131,072 characters by default; a 200,000-character review is a
    review, not an unclosed quote."""
    text = "pin trâu " * 22_223  # 200,007 characters
    path = tmp_path / f"train{suffix}"
    if suffix == ".csv":
        path.write_text(f'text,Battery\n"{text}",positive\nngắn,negative\n', encoding="utf-8")
    else:
        path.write_text(json.dumps({"text": text, "aspects": {"Battery": "positive"}}, ensure_ascii=False) + "\n")
    dataset, _ = load_absa_dataset(path, aspects=["Battery"])
    assert dataset["train"]["text"][0] == text
    assert csv.field_size_limit() == 131_072  # the limit is raised only while reading


# ----------------------------------------------------------------------------------------------- long, emoji, HTML


def test_a_10000_character_review_loads_trains_truncated_and_predicts(tmp_path, pipe, caplog):
    text = long_review()
    assert len(text) == 10_000
    path = tmp_path / "train.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["text", *ASPECTS], [text, "positive", "", ""], ["pin trâu", "positive", "", ""]])
    dsd, _ = load_absa_dataset(path)
    assert dsd["train"]["text"][0] == text  # kept whole; truncation happens at tokenisation

    with caplog.at_level(logging.WARNING, logger="hf_visobert_absa"):
        tokenized = tokenize_dataset(dsd, tiny_tokenizer(), max_length=64)
    assert [len(ids) for ids in tokenized["train"]["input_ids"]] == [64, 4]
    assert (
        "train: 1 of 2 texts are longer than max_length=64 tokens and were truncated: the model sees only their "
        "first 64 tokens. Raise `max_length` (the tokenizer allows 128) to keep more."
    ) in caplog.text
    assert math.isfinite(_train_one_step(dsd, max_length=64))

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hf_visobert_absa"):
        probabilities = predict_probabilities(pipe.model, pipe.tokenizer, [text, "pin trâu"], max_length=64)
    assert "1 of 2 texts are longer than max_length=64 tokens and were truncated" in caplog.text
    assert np.isfinite(probabilities).all() and np.allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    for kwargs in ({}, {"long_text": "chunk"}):  # the pipeline truncates (with its own warning) or chunks
        entries = pipe(text, return_all_aspects=True, **kwargs)
        assert [e["aspect"] for e in entries] == ASPECTS
        assert all(math.isfinite(p) for e in entries for p in e["probabilities"].values())


def test_emoji_only_and_html_texts_are_kept_as_written_and_predicted(model_dir, pipe, tmp_path, capsys):
    path = FIXTURES / "emoji_html.csv"
    dsd, report = load_absa_dataset(path)
    texts = dsd["train"]["text"][:]
    assert texts == [
        "😍😍😍",
        "<p>Pin <b>trâu</b> &amp; camera <i>đẹp</i></p><br/><script>alert(1)</script>",
        "👍 pin trâu 🔋🔋",
    ]  # no tag stripping, no entity decoding, no emoji removal
    assert report.splits["train"].problems["empty_text"].count == 0
    assert math.isfinite(_train_one_step(dsd))
    for entries in pipe(texts, return_all_aspects=True):
        assert [e["aspect"] for e in entries] == ASPECTS
        assert all(math.isfinite(p) for e in entries for p in e["probabilities"].values())
    out = tmp_path / "out.csv"
    code, err = run_cli(capsys, "predict", "--model", model_dir, "--input", path, "--output", out)
    assert code == 0 and "3 rows written" in err
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["text"] for r in rows] == texts and {r["status"] for r in rows} == {"ok"}


# ----------------------------------------------------------------------------------------------- predict: files


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "{p} is empty: no header and no rows. Expected a CSV with a header line or JSON lines."),
        ("blank.jsonl", b"\n  \n", "{p} is empty: no header and no rows. Expected a CSV with a header line or JSON lines."),
        ("header.csv", b"\xef\xbb\xbfid,text\r\n", "{p} has a header (id, text) but no data rows."),
        ("latin1.csv", b"id,text\n1,ok\n2,pin tr\xe2u\n", "{p} is not valid UTF-8: byte(s) e2 at byte offset 21 (line 3 of the file). " + UTF8_FIX),
        ("latin1.jsonl", b'{"text": "gi\xe1"}\n', "{p} is not valid UTF-8: byte(s) e1 at byte offset 12 (line 1 of the file). " + UTF8_FIX),
        ("ragged.csv", b"id,text\n1,pin, camera\n", "{at} has 3 fields but the header has 2. Quote text fields that contain commas or newlines (\"...\") and check the header."),
        ("short.csv", b"id,text\n1\n", "{at} has 1 fields but the header has 2. Quote text fields that contain commas or newlines (\"...\") and check the header."),
        ("no_text.csv", b"id,body\n1,pin\n", "{p} has no text column: none of ['text', 'data', 'comment', 'review', 'sentence', 'content'] among its columns ['id', 'body']. Pass text_column=<the column holding the review text>."),
    ],
)  # fmt: skip
def test_predict_checks_the_input_file_before_writing_anything(model_dir, tmp_path, capsys, name, data, message):
    source = _write(tmp_path / name, data)
    out = tmp_path / "out.csv"
    code, err = run_cli(capsys, "predict", "--model", model_dir, "--input", source, "--output", out)
    assert code == 2
    assert err.strip() == "hf-visobert-absa predict: error: " + message.format(p=source, at=at(source, 1, 2))
    assert not out.exists()  # no half-written output


def test_predict_jsonl_with_bom_non_string_and_null_texts_counts_the_skips(model_dir, tmp_path, capsys):
    rows = b'{"text": "pin tr\xc3\xa2u", "id": 1}\n{"text": 42, "id": 2}\n{"text": null, "id": 3}\n{"text": NaN, "id": 4}\n'
    source = _write(tmp_path / "in.jsonl", b"\xef\xbb\xbf" + rows)
    out = tmp_path / "out.jsonl"
    code, err = run_cli(capsys, "predict", "--model", model_dir, "--input", source, "--output", out)
    assert code == 0
    assert f"4 rows written to {out}; 1 skipped (empty text), 2 skipped (text is not a string)" in err
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in written] == [1, 2, 3, 4]
    assert [r["status"] for r in written] == [
        "ok", "skipped: text is not a string", "skipped: empty text", "skipped: text is not a string",
    ]  # fmt: skip
    assert written[0]["text"] == "pin trâu" and written[1]["predictions"] == {}


def test_predict_stdin_with_invalid_utf8_is_a_clear_error(model_dir, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"pin tr\xe2u\n")))
    code, err = run_cli(capsys, "predict", "--model", model_dir)
    assert code == 2
    assert err.strip() == (
        "hf-visobert-absa predict: error: stdin is not valid UTF-8: byte(s) e2 (invalid continuation byte). Pipe UTF-8 "
        "text (e.g. `iconv -f <encoding> -t utf-8`). 0 row(s) had been written to stdout before it."
    )


# ----------------------------------------------------------------------------------------------- pipeline


def test_unicode_whitespace_is_an_empty_input(pipe):
    with pytest.raises(ValueError, match=r"^Input 1 is an empty string; every input must be a non-empty review"):
        pipe(["ok", "\u00a0\u3000\t"])


def test_an_empty_list_gives_an_empty_list(pipe):
    assert pipe([]) == []


# ----------------------------------------------------------------------------------------------- config

INVALID = [
    ({"aspects": "Battery"}, "`aspects` got 'Battery'; allowed: a non-empty list of non-empty strings."),
    ({"aspects": ["Battery", 3]}, "`aspects` got ['Battery', 3]; allowed: a non-empty list of non-empty strings."),
    ({"aspects": ["Battery", " "]}, "`aspects` got ['Battery', ' ']; allowed: a non-empty list of non-empty strings."),
    ({"label_scheme": "SEED"}, "`label_scheme` got 'SEED'; allowed: 'absent_as_class', 'absent_as_neutral', 'mentioned_only'."),
    ({"label_scheme": None}, "`label_scheme` got None; allowed: 'absent_as_class', 'absent_as_neutral', 'mentioned_only'."),
    ({"pooling": None}, "`pooling` got None; allowed: 'cls', 'mean', 'pooler', 'aspect_query', 'aspect_prompt'."),
    ({"contrastive_mode": 1}, "`contrastive_mode` got 1; allowed: 'mulsupcon', 'jaccard', 'any', 'exact', 'soft_agreement', 'aspect_sentiment'."),
    ({"contrastive_mode": ""}, "`contrastive_mode` got ''; allowed: 'mulsupcon', 'jaccard', 'any', 'exact', 'soft_agreement', 'aspect_sentiment'."),
    ({"head_hidden_size": True}, "`head_hidden_size` got True; allowed: a positive integer."),
    ({"head_hidden_size": "512"}, "`head_hidden_size` got '512'; allowed: a positive integer."),
    ({"projection_dim": -3}, "`projection_dim` got -3; allowed: a positive integer."),
    ({"projection_dim": None}, "`projection_dim` got None; allowed: a positive integer."),
    ({"classifier_dropout": -0.1}, "`classifier_dropout` got -0.1; allowed: a number in [0, 1)."),
    ({"classifier_dropout": "0.3"}, "`classifier_dropout` got '0.3'; allowed: a number in [0, 1)."),
    ({"classifier_dropout": float("nan")}, "`classifier_dropout` got nan; allowed: a number in [0, 1)."),
    ({"focal_gamma": float("inf")}, "`focal_gamma` got inf; allowed: a finite number >= 0 (0 gives cross-entropy)."),
    ({"focal_gamma": None}, "`focal_gamma` got None; allowed: a finite number >= 0 (0 gives cross-entropy)."),
    ({"contrastive_temperature": -1}, "`contrastive_temperature` got -1; allowed: a finite number > 0."),
    ({"contrastive_temperature": float("inf")}, "`contrastive_temperature` got inf; allowed: a finite number > 0."),
    ({"focal_weight": "0.8"}, "`focal_weight` got '0.8'; allowed: a finite number >= 0."),
    ({"contrastive_weight": True}, "`contrastive_weight` got True; allowed: a finite number >= 0."),
    ({"focal_alpha": []}, "`focal_alpha` got []; allowed: None, a list of 4 class weights, or 3 such lists"),
    ({"focal_alpha": "balanced"}, "`focal_alpha` got 'balanced'; allowed: None, a list of 4 class weights"),
    ({"focal_alpha": [[1, 1, 1, 1]] * 2}, "`focal_alpha` got [[1, 1, 1, 1], [1, 1, 1, 1]]; allowed: None, a list of 4 class weights, or 3 such lists (one per aspect)"),
    ({"focal_alpha": [[1, 1, 1]] * 3}, "`focal_alpha` got [[1, 1, 1], [1, 1, 1], [1, 1, 1]]; allowed: None, a list of 4"),
    ({"focal_alpha": [1, 2, float("nan"), 1]}, "`focal_alpha` got [1, 2, nan, 1]; allowed: None, a list of 4"),
    ({"focal_alpha": [1, 1, 1, 1], "label_scheme": "absent_as_neutral"}, "a list of 3 class weights, or 3 such lists (one per aspect); all weights finite and >= 0. Label scheme 'absent_as_neutral' has 3 classes."),
    ({"contrastive_across_devices": None}, "`contrastive_across_devices` got None; allowed: True or False."),
    ({"text_config": "xlm-roberta"}, "`text_config` got 'xlm-roberta'; allowed: None (the ViSoBERT architecture), a dict with a `model_type`, or an encoder config object."),
    ({"text_config": {"model_type": "no-such-encoder"}}, "`text_config.model_type` got 'no-such-encoder'; allowed: an encoder type this transformers knows, e.g. 'xlm-roberta' or 'bert'."),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "message"), INVALID)
def test_more_invalid_config_values(kwargs, message):
    kwargs = {"text_config": tiny_text_config(), "aspects": ASPECTS, **kwargs}
    with pytest.raises(ValueError) as info:
        ViSoBertAbsaConfig(**kwargs)
    assert message in str(info.value)


def test_base_model_name_must_be_a_string():
    with pytest.raises(ValueError, match="`base_model_name_or_path` got 3"):
        ViSoBertAbsaConfig(text_config=tiny_text_config(), base_model_name_or_path=3)


# ----------------------------------------------------------------------------------------------- property-based

#: Pieces that random text generation rarely hits on its own: emoji (with ZWJ and skin tone), combining marks,
#: right-to-left text and overrides, control characters, every kind of whitespace, HTML, NaN-likes.
PIECES = [
    "😍", "👍🏽", "👨‍👩‍👧", "🔋", "e\u0301", "a\u0308\u0323", "Tiê\u0300ng Viê\u0323t", "مرحبا", "שלום", "\u202eabc\u202c",
    "\u200f", "\x00", "\x07", "\x1b[31m", "\x1c", "\x85", "\u2028", "\u2029", "\t", "\n", "\r\n", "\r", " ",
    "\u00a0", "\u3000", "\u200b", "\ufeff", "<b>", "&amp;", "<script>x</script>", "nan", "NULL", "pin", "trâu", '"', ",",
]  # fmt: skip
texts = st.lists(
    st.one_of(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30), st.sampled_from(PIECES)),
    max_size=6,
).map("".join)
sentiments = st.sampled_from(["positive", "negative", "neutral", "none", "Positive", "NEGATIVE", None, 0, 1, 2, 3])
rows = st.lists(
    st.tuples(texts, st.dictionaries(st.sampled_from(ASPECTS), sentiments, max_size=len(ASPECTS))),
    min_size=1,
    max_size=6,
)
CODES = {"none": 0, "positive": 1, "negative": 2, "neutral": 3, None: 0}


def _code(value) -> int:
    return value if isinstance(value, int) else CODES[value.lower() if isinstance(value, str) else value]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=rows, label_scheme=st.sampled_from(list(LABEL_SCHEMES)), file_format=st.sampled_from(["jsonl", "csv"]))
def test_random_texts_and_labels_load_train_one_step_and_predict(table, label_scheme, file_format, pipe):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"train.{file_format}"
        if file_format == "jsonl":
            lines = [json.dumps({"text": text, "aspects": labels}, ensure_ascii=False) for text, labels in table]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["text", *ASPECTS])
                words = {0: "", 1: "positive", 2: "negative", 3: "neutral"}
                writer.writerows([text, *(words[_code(labels.get(a))] for a in ASPECTS)] for text, labels in table)
        dsd, report = load_absa_dataset(path, aspects=ASPECTS, label_scheme=label_scheme)

    train = dsd["train"]
    assert train["text"][:] == [text for text, _ in table]  # every text exactly as written
    assert train["gold"][:] == [[_code(labels.get(a)) for a in ASPECTS] for _, labels in table]
    empty = [i + 1 for i, (text, _) in enumerate(table) if not text.strip()]
    assert report.splits["train"].problems["empty_text"].examples == empty[:10]  # reported, not dropped, no crash

    assert math.isfinite(_train_one_step(dsd, label_scheme))
    probabilities = predict_probabilities(pipe.model, pipe.tokenizer, train["text"][:], max_length=32)
    assert probabilities.shape == (len(table), len(ASPECTS), 4)
    assert np.isfinite(probabilities).all() and np.allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    non_empty = [text for text, _ in table if text.strip()]
    if non_empty:
        outputs = pipe(non_empty, return_all_aspects=True)
        assert all(math.isfinite(p) for entries in outputs for e in entries for p in e["probabilities"].values())


def test_the_property_test_inputs_reach_the_model_as_tokens():
    """Guard for the property test: odd texts become `<unk>` tokens (id 3), not errors or nothing."""
    tokenizer = tiny_tokenizer()
    assert tokenizer("😍 مرحبا \x00 pin")["input_ids"] == [0, 3, 3, 3, tokenizer.convert_tokens_to_ids("pin"), 2]


# ----------------------------------------------------------------------------------------------- real tokenizer


@pytest.fixture(scope="module")
def visobert_tokenizer():
    from tests.helpers import SHARED

    if not (SHARED / "visobert").is_dir():
        pytest.skip(f"needs {SHARED / 'visobert'} (the read-only ../shared folder beside the project); absent here")
    return load_tokenizer(SHARED / "visobert")


@pytest.mark.shared
def test_visobert_tokenizer_takes_odd_texts_and_says_which_were_truncated(visobert_tokenizer):
    texts = [*PIECES, "".join(PIECES), long_review(), ""]
    encoded = visobert_tokenizer(texts, truncation=True, max_length=256)
    assert all(2 <= len(ids) <= 256 for ids in encoded["input_ids"])
    assert truncated_rows(encoded, 256) == [False] * (len(PIECES) + 1) + [True, False]


@pytest.mark.shared
def test_visobert_tokenizer_gives_decomposed_vietnamese_the_tokens_of_composed(visobert_tokenizer):
    composed = "Tiếng Việt: pin trâu, kết nối tốt, rất đẹp"
    assert visobert_tokenizer.tokenize(unicodedata.normalize("NFD", composed)) == visobert_tokenizer.tokenize(composed)
