"""Bad input end to end (issue 6): messy files, odd texts, wrong checkpoints, invalid config values, and a
property-based test that random Unicode texts with random valid labels load, train one step and predict.

Only what the other test files do not cover is here: `test_data.py` has the CSV typo / empty / header-only /
invalid-UTF-8 / BOM / extra-column / ragged cases, `test_pipeline.py` the empty string / None / number / bytes
inputs, `test_config.py` one invalid value per field, `test_cli.py` the exit codes. Each case below asserts the
exact message, or the counted outcome that docs/RELIABILITY.md documents.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import DataCollatorWithPadding, TrainingArguments, XLMRobertaConfig

from hf_visobert_absa import FocalContrastiveTrainer, ViSoBertAbsaConfig
from hf_visobert_absa.cli.main import main
from hf_visobert_absa.data.loading import load_absa_dataset, tokenize_dataset, truncated_rows
from hf_visobert_absa.data.tokenization import load_tokenizer
from hf_visobert_absa.evaluation.inference import predict_probabilities
from hf_visobert_absa.hub.configuration_visobert_absa import LABEL_SCHEMES
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline
from hf_visobert_absa.registration import register_auto_classes
from tests import helpers
from tests.helpers import WORDS, at, error_of, tiny_model, tiny_text_config, tiny_tokenizer

FIXTURES = helpers.FIXTURES / "bad_input"
ASPECTS = ["Battery", "Camera", "Price"]
PASS = "Pass the `model/` folder of a `hf-visobert-absa train` run or an exported model."
UTF8_FIX = "Save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet, or `iconv -f <encoding> -t utf-8`)."



def run_cli(capsys, *argv) -> tuple[int, str]:
    """Exit code and the last line of stderr (the error or the summary; progress bars come before it) of one
    `hf-visobert-absa` call."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines[-1] if lines else ""


def long_review(chars: int = 10_000) -> str:
    """A review of exactly `chars` characters: known words, unknown words and emoji."""
    pieces = [WORDS[(i * 7) % len(WORDS)] if i % 5 else "siêu-phẩm😍" for i in range(chars)]
    return " ".join(pieces)[:chars]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A saved (untrained) visobert_absa model with its tokenizer: what `--model` expects."""
    register_auto_classes()
    path = tmp_path_factory.mktemp("model")
    tiny_model(0, aspects=ASPECTS).save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return path


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
    ({"label_scheme": "SEED"}, "`label_scheme` got 'SEED'; allowed: 'absent_as_class', 'seed', 'mentioned_only'."),
    ({"label_scheme": None}, "`label_scheme` got None; allowed: 'absent_as_class', 'seed', 'mentioned_only'."),
    ({"pooling": None}, "`pooling` got None; allowed: 'cls', 'mean', 'pooler', 'aspect_query', 'aspect_prompt'."),
    ({"contrastive_mode": 1}, "`contrastive_mode` got 1; allowed: 'mulsupcon', 'jaccard', 'any', 'exact', 'seed', 'aspect_sentiment'."),
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
    ({"focal_alpha": [1, 1, 1, 1], "label_scheme": "seed"}, "a list of 3 class weights, or 3 such lists (one per aspect); all weights finite and >= 0. Label scheme 'seed' has 3 classes."),
    ({"contrastive_across_devices": None}, "`contrastive_across_devices` got None; allowed: True or False."),
    ({"text_config": "xlm-roberta"}, "`text_config` got 'xlm-roberta'; allowed: None (the ViSoBERT architecture), a dict with a `model_type`, or a `PretrainedConfig`."),
    ({"text_config": {"model_type": "no-such-encoder"}}, "Unrecognized model type for subconfig: no-such-encoder."),
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


# ----------------------------------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    path.write_text("text,Battery,Camera,Price\npin trâu,positive,,\ncamera xấu,,negative,\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bad_folders(model_dir, tmp_path_factory) -> dict[str, Path]:
    """Folders (and a file) that are not usable visobert_absa models."""
    root = tmp_path_factory.mktemp("bad_models")

    def copy(name: str, skip: str = "") -> Path:
        folder = root / name
        shutil.copytree(model_dir, folder, ignore=shutil.ignore_patterns(skip) if skip else None)
        return folder

    folders = {
        "missing": root / "missing",
        "empty": root / "empty",
        "encoder": root / "encoder",
        "a_file": root / "model.txt",
    }
    folders["empty"].mkdir()
    XLMRobertaConfig(**{k: v for k, v in tiny_text_config().items() if k != "model_type"}).save_pretrained(
        folders["encoder"]
    )
    folders["a_file"].write_text("weights?")
    folders["broken_json"] = copy("broken_json")
    (folders["broken_json"] / "config.json").write_text("{not json")
    folders["invalid_value"] = copy("invalid_value")
    config = json.loads((folders["invalid_value"] / "config.json").read_text())
    (folders["invalid_value"] / "config.json").write_text(json.dumps({**config, "label_scheme": "binary"}))
    folders["no_weights"] = copy("no_weights", skip="model.safetensors")
    folders["pickle_only"] = copy("pickle_only", skip="model.safetensors")
    (folders["pickle_only"] / "pytorch_model.bin").write_bytes(b"not really a pickle")
    folders["no_tokenizer"] = copy("no_tokenizer", skip="tokenizer*")
    # damaged weights: empty, cut short (an interrupted copy), a config whose aspect count disagrees with them
    folders["empty_weights"] = copy("empty_weights")
    (folders["empty_weights"] / "model.safetensors").write_bytes(b"")
    folders["truncated_weights"] = copy("truncated_weights")
    weights = folders["truncated_weights"] / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    folders["aspect_count"] = copy("aspect_count")
    config = json.loads((folders["aspect_count"] / "config.json").read_text())
    (folders["aspect_count"] / "config.json").write_text(json.dumps({**config, "aspects": ["Battery", "Camera"]}))
    # a config without a field that defines the model: never filled with a default (the 11 phone aspects)
    for field in ("aspects", "label_scheme", "head_hidden_size"):
        folders[f"no_{field}"] = copy(f"no_{field}")
        config = json.loads((folders[f"no_{field}"] / "config.json").read_text())
        del config[field]
        (folders[f"no_{field}"] / "config.json").write_text(json.dumps(config))
    return folders


def _damaged_size(folder: Path) -> tuple[int, int]:
    """(the size the safetensors header describes, the file's size) of a truncated weights file."""
    import struct

    data = (folder / "model.safetensors").read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    return 8 + length + end, len(data)


def model_message(kind: str, path: Path, flag: str) -> str:
    fix = "Copy or save the model again (e.g. an interrupted download or a full disk leaves such a file)."
    if kind == "truncated_weights":
        described, size = _damaged_size(path)
        return (
            f"`{flag}` {path}: model.safetensors is truncated or damaged: its header describes {described} bytes but "
            f"the file has {size}. {fix}"
        )
    lacks = (
        "which define(s) the model; a missing field is never filled with a default (the default aspects would "
        "relabel every prediction). Add the field(s) with the values the model was trained with, or save the model "
        "again."
    )
    return {
        "empty_weights": f"`{flag}` {path}: model.safetensors is empty (0 bytes). {fix}",
        "aspect_count": f"`{flag}` {path}: the weights do not match config.json: the classification layer has 12 outputs (3 aspects x 4 classes), but config.json lists 2 aspects ['Battery', 'Camera'] x 4 classes = 8. Restore the config.json saved with these weights (its `aspects`), or save the model again.",
        "no_aspects": f"`{flag}` {path}: config.json lacks 'aspects', {lacks}",
        "no_label_scheme": f"`{flag}` {path}: config.json lacks 'label_scheme', {lacks}",
        "no_head_hidden_size": f"`{flag}` {path}: config.json lacks 'head_hidden_size', {lacks}",
        "no_tokenizer": f"`{flag}` {path} has no tokenizer files (tokenizer.json / tokenizer_config.json). Save the tokenizer next to the model (`tokenizer.save_pretrained(folder)`).",
        "missing": f"`{flag}` {path} does not exist. {PASS}",
        "a_file": f"`{flag}` {path} is a file, not a folder. {PASS}",
        "empty": f"`{flag}` {path} is not a model folder: it has no config.json. {PASS}",
        "encoder": f"`{flag}` {path} holds a 'xlm-roberta' model, not a visobert_absa model. {PASS}"
        + (" To start from a pretrained encoder, pass it as `--encoder` instead." if flag == "--model_name_or_path" else ""),
        "broken_json": f"`{flag}` {path}: config.json is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)).",
        "invalid_value": f"`{flag}` {path}: config.json holds an invalid value: `label_scheme` got 'binary'; allowed: 'absent_as_class', 'seed', 'mentioned_only'. Fix config.json or save the model again.",
        "no_weights": f"`{flag}` {path} has no model.safetensors: the weights are missing. Save the model again (`model.save_pretrained(folder)`).",
        "pickle_only": f"`{flag}` {path} has no model.safetensors, only pickled weights (pytorch_model.bin); visobert_absa models load weights only from safetensors, because unpickling a file can run arbitrary code. Convert a file you trust once with `safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')`.",
    }[kind]  # fmt: skip


KINDS = [
    "missing",
    "a_file",
    "empty",
    "encoder",
    "broken_json",
    "invalid_value",
    "no_weights",
    "pickle_only",
    "no_tokenizer",
    "empty_weights",
    "truncated_weights",
    "aspect_count",
    "no_aspects",
    "no_label_scheme",
    "no_head_hidden_size",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_a_folder_that_is_not_a_visobert_absa_model(command, kind, bad_folders, data_file, tmp_path, capsys):
    folder = bad_folders[kind]
    argv = {
        "train": ["--model_name_or_path", folder, "--train_file", data_file, "--output_dir", tmp_path / "run"],
        "evaluate": ["--model", folder, "--file", data_file],
        "predict": ["--model", folder, "--input", data_file, "--output", tmp_path / "out.csv"],
    }[command]
    code, err = run_cli(capsys, command, *argv)
    flag = "--model_name_or_path" if command == "train" else "--model"
    assert (code, err.strip()) == (2, f"hf-visobert-absa {command}: error: {model_message(kind, folder, flag)}")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "run" / "model").exists()


def test_train_from_a_hub_id_that_cannot_be_reached_is_a_clear_error(data_file, tmp_path, capsys, monkeypatch):
    import huggingface_hub.constants

    # conftest sets HF_HUB_OFFLINE after huggingface_hub read it at import: without this the lookup goes online
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    code = main(["train", "--model_name_or_path", "no-such-org/no-such-model", "--train_file", str(data_file),
                 "--output_dir", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(
        "hf-visobert-absa train: error: `--model_name_or_path` no-such-org/no-such-model is not a local folder and "
        "could not be loaded from the Hub: "
    )  # then huggingface_hub's reason: here, offline and not in the cache
    assert "couldn't find them in the cached files" in err
    assert err.strip().endswith(PASS)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("missing", "encoder")])
def test_export_refuses_what_is_not_a_saved_model(kind, bad_folders, tmp_path, capsys):
    """`export` runs the same model-folder check as train, evaluate and predict (one function, one message)."""
    folder = bad_folders[kind]
    code, err = run_cli(capsys, "export", folder, tmp_path / "out")
    assert (code, err.strip()) == (2, "hf-visobert-absa export: error: " + model_message(kind, folder, "checkpoint"))
    assert not (tmp_path / "out").exists()


def _other_aspects(tmp_path: Path) -> tuple[Path, Path]:
    wide = tmp_path / "other.csv"
    wide.write_text("text,Battery,Screen\npin trâu,positive,\n", encoding="utf-8")
    jsonl = tmp_path / "other.jsonl"
    jsonl.write_text(json.dumps({"text": "màn hình đẹp", "aspects": {"Screen": "positive"}}) + "\n", encoding="utf-8")
    return wide, jsonl


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_checkpoint_whose_aspects_differ_from_the_data(command, model_dir, tmp_path, capsys):
    wide, jsonl = _other_aspects(tmp_path)
    source = f"those of the model {model_dir}"

    def run(path: Path) -> tuple[int, str]:
        if command == "train":
            return run_cli(capsys, "train", "--model_name_or_path", model_dir, "--train_file", path, "--output_dir",
                           tmp_path / "run")  # fmt: skip
        return run_cli(capsys, "evaluate", "--model", model_dir, "--file", path)

    code, err = run(wide)
    assert (code, err.strip()) == (2, (
        f"hf-visobert-absa {command}: error: Aspect mismatch: {wide} has aspect columns ['Battery', 'Screen'], but "
        f"the aspects in use ({source}) are ['Battery', 'Camera', 'Price']; missing from the file: ['Camera', "
        "'Price']; not in the aspect list: ['Screen']. Fix the file's aspect columns, or load with the aspect list "
        "that matches the model (`aspects=` from its config)."
    ))  # fmt: skip
    code, err = run(jsonl)
    assert (code, err.strip()) == (2, (
        f"hf-visobert-absa {command}: error: Aspect 'Screen' at {at(jsonl, 1, 1)} is not in the aspects in use "
        f"({source}): ['Battery', 'Camera', 'Price']. All aspects of the file: ['Screen']. Fix the data, or load "
        "with `aspects=` listing every aspect the model knows."
    ))  # fmt: skip


def test_train_with_aspects_other_than_the_checkpoints(model_dir, tmp_path, capsys):
    wide, _ = _other_aspects(tmp_path)
    code, err = run_cli(capsys, "train", "--model_name_or_path", model_dir, "--train_file", wide, "--aspects",
                        "Battery,Screen", "--output_dir", tmp_path / "run", "--use_cpu", "true")  # fmt: skip
    assert code == 2
    assert err.strip().endswith(
        f"hf-visobert-absa train: error: The model at {model_dir} was trained on aspects ['Battery', 'Camera', "
        "'Price'] but the data has ['Battery', 'Screen']. Pass `--aspects` in the model's order or start from an "
        "encoder."
    )
    assert not (tmp_path / "run" / "model").exists()


def test_aspect_columns_in_another_order_give_the_same_metrics(model_dir, data_file, tmp_path, capsys):
    """Not an error and not a wrong answer: wide columns are matched by name, in the model's order."""
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("Price,text,Camera,Battery\n,pin trâu,,positive\n,camera xấu,negative,\n", encoding="utf-8")
    outputs = []
    for path in (data_file, shuffled):
        out = tmp_path / f"{path.stem}.json"
        assert run_cli(capsys, "evaluate", "--model", model_dir, "--file", path, "--output", out)[0] == 0
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1] and outputs[0]["num_examples"] == 2


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


# ----------------------------------------------------------------------------------------------- round two (issue 12)
# Outputs: never over an input, never half-written; the message says what was (not) written.


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
@pytest.mark.parametrize("how", ["same_path", "symlink", "dot_path"])
def test_predict_refuses_an_output_that_is_its_input(model_dir, tmp_path, capsys, suffix, how):
    source = tmp_path / f"reviews{suffix}"
    data = b'{"text": "pin tr\xc3\xa2u"}\n' if suffix == ".jsonl" else b"id,text\n1,pin tr\xc3\xa2u\n"
    source.write_bytes(data)
    output = {"same_path": source, "symlink": tmp_path / f"link{suffix}", "dot_path": tmp_path / "." / source.name}[how]
    if how == "symlink":
        output.symlink_to(source)
    code, err = run_cli(capsys, "predict", "--model", model_dir, "--input", source, "--output", output)
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa predict: error: `--output` {output} is the input {source}: writing it would destroy the "
        "input. Nothing was written; choose another output file.",
    )
    assert source.read_bytes() == data  # before: truncated to 0 bytes, exit 0


def test_evaluate_refuses_an_output_that_is_its_input(model_dir, data_file, capsys):
    before = data_file.read_bytes()
    code, err = run_cli(capsys, "evaluate", "--model", model_dir, "--file", data_file, "--output", data_file)
    assert code == 2 and f"`--output` {data_file} is the input {data_file}" in err
    assert data_file.read_bytes() == before


def test_a_predict_that_fails_mid_file_leaves_the_output_as_it_was(model_dir, tmp_path, capsys):
    """A broken JSON line far down the file, small chunks: rows were scored and written to the temporary file
    before the error, but the output is renamed into place only on success."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "pin trâu"}\n' * 5 + "{broken\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("yesterday's results\n", encoding="utf-8")
    code, err = run_cli(capsys, "predict", "--model", model_dir, "--input", source, "--output", out, "--chunk_size", "1")
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa predict: error: {source}, line 6: not valid JSON (Expecting property name enclosed in "
        f"double quotes). Nothing was written: {out} is unchanged.",
    )
    assert out.read_text(encoding="utf-8") == "yesterday's results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temporary file left


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("where_to", ["missing_folder", "a_folder", "under_a_file"])
def test_an_output_path_that_cannot_be_a_file(command, where_to, model_dir, data_file, tmp_path, capsys):
    (tmp_path / "plain.txt").write_text("x")
    output = {
        "missing_folder": tmp_path / "no" / "such" / "out.json",
        "a_folder": tmp_path,
        "under_a_file": tmp_path / "plain.txt" / "out.json",
    }[where_to]
    flags = ["--input", data_file] if command == "predict" else ["--file", data_file]
    code, err = run_cli(capsys, command, "--model", model_dir, *flags, "--output", output)
    expected = {
        "missing_folder": f"`--output` {output}: the folder {output.parent} does not exist. Create the folder first "
        f"(`mkdir -p {output.parent}`) or choose another output path. Nothing was written.",
        "a_folder": f"`--output` {output} is a folder; pass a file path such as {output / 'output.jsonl'}.",
        "under_a_file": f"`--output` {output}: the folder {output.parent} is a file. Create the folder first "
        f"(`mkdir -p {output.parent}`) or choose another output path. Nothing was written.",
    }[where_to]
    assert (code, err.strip()) == (2, f"hf-visobert-absa {command}: error: {expected}")


def test_atomic_write_keeps_the_old_file_on_failure_and_gives_ordinary_permissions(tmp_path):
    import os

    from hf_visobert_absa.io_safety import atomic_write, write_json_atomic

    target = tmp_path / "metrics.json"
    write_json_atomic(target, {"f1": 0.5})
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as handle:
        handle.write('{"f1": 0.')
        raise KeyboardInterrupt
    assert json.loads(target.read_text()) == {"f1": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as `open` would create it, not mkstemp's 0600


# Arguments: every value that would silently give a wrong result or a traceback is one line and exit 2.


@pytest.mark.parametrize("value", ["nan", "1.5", "-0.1", "inf"])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_threshold_outside_0_1_is_refused(command, value, model_dir, data_file, tmp_path, capsys):
    flags = ["--input", data_file, "--output", tmp_path / "o.csv"] if command == "predict" else ["--file", data_file]
    code, err = run_cli(capsys, command, "--model", model_dir, *flags, "--threshold", value)
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa {command}: error: `--threshold` got {float(value)!r}; allowed: a number from 0 to 1 (an "
        "aspect is mentioned when P(none) < threshold; 0.5 is the default).",
    )
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        ("predict", "--batch_size"), ("predict", "--chunk_size"), ("evaluate", "--batch_size"),
        ("train", "--per_device_train_batch_size"), ("train", "--per_device_eval_batch_size"),
        ("train", "--gradient_accumulation_steps"),
    ],
)  # fmt: skip
def test_a_batch_size_of_0_is_refused(command, flag, model_dir, data_file, tmp_path, capsys):
    flags = {
        "predict": ["--model", model_dir, "--input", data_file, "--output", tmp_path / "o.csv"],
        "evaluate": ["--model", model_dir, "--file", data_file],
        "train": ["--train_file", data_file, "--output_dir", tmp_path / "run"],
    }[command]
    code, err = run_cli(capsys, command, *flags, flag, "0")
    assert (code, err.strip()) == (
        2, f"hf-visobert-absa {command}: error: `{flag}` got 0; allowed: an integer of at least 1."
    )  # fmt: skip


@pytest.mark.parametrize("epochs", ["0", "-1", "nan"])
def test_train_refuses_a_number_of_epochs_that_trains_nothing(epochs, data_file, tmp_path, capsys):
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", tmp_path / "run",
                        "--num_train_epochs", epochs)  # fmt: skip
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa train: error: `--num_train_epochs` got {float(epochs)!r}: that trains nothing and would "
        "save an untrained model. Pass a positive number of epochs (e.g. 3), or `--max_steps N`.",
    )
    assert not (tmp_path / "run" / "model").exists()


def test_train_refuses_an_output_dir_that_is_a_file_or_not_writable(data_file, tmp_path, capsys):
    import os

    a_file = tmp_path / "run.txt"
    a_file.write_text("mine")
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", a_file)
    assert (code, err.strip()) == (
        2, f"hf-visobert-absa train: error: `--output_dir` {a_file} is a file, not a folder. Pass a folder path (it is created)."
    )  # fmt: skip
    assert a_file.read_text() == "mine"
    if os.geteuid() == 0:
        return  # root may write anywhere: the permission case cannot be made here
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", locked / "run")
    assert code == 2 and f"`--output_dir` {locked / 'run'} cannot be created" in err


def test_evaluate_refuses_label_aliases_that_are_not_a_json_object(model_dir, data_file, capsys):
    for value in ('{"Posititve": positive}', '["positive"]'):
        code, err = run_cli(capsys, "evaluate", "--model", model_dir, "--file", data_file, "--label_aliases", value)
        assert (code, err.strip()) == (
            2,
            f"hf-visobert-absa evaluate: error: `--label_aliases` got {value!r}; allowed: a JSON object such as "
            "'{\"Posititve\": \"positive\"}'.",
        )


# Data: silent wrong results.


def test_mentioned_only_with_nothing_mentioned_is_refused(tmp_path, capsys):
    path = tmp_path / "train.csv"
    path.write_text("text,Battery,Camera\npin trâu,,\ncamera,,\n", encoding="utf-8")
    code, err = run_cli(capsys, "train", "--train_file", path, "--output_dir", tmp_path / "run",
                        "--label_scheme", "mentioned_only")  # fmt: skip
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa train: error: Nothing to learn from {path} under `--label_scheme mentioned_only`: no "
        "aspect is mentioned in any row, and this scheme trains only on mentioned aspects. Check the labels (and "
        "`--label_aliases`), or use `--label_scheme absent_as_class`.",
    )  # before: trained at loss 0.0 and saved an untrained model, exit 0


def test_a_misspelt_aspect_in_jsonl_is_an_error_when_train_declares_the_aspects(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text('{"text": "pin trâu", "aspects": {"Battery": "positive", "Camera": null}}\n', encoding="utf-8")
    validation = tmp_path / "validation.jsonl"
    validation.write_text('{"text": "pin yếu", "aspects": {"Batery": "negative"}}\n', encoding="utf-8")
    message = error_of({"train": train, "validation": validation})
    assert message == (
        f"Aspect 'Batery' at {at(validation, 1, 1)} is not in the aspects in use (those of the training split "
        "train.jsonl): ['Battery', 'Camera']. Did you mean 'Battery'? All aspects of the file: ['Batery']. Fix the "
        "data, or load with `aspects=` listing every aspect the model knows."
    )  # before: 'Batery' silently became a third aspect
    assert "Did you mean 'Battery'?" in error_of(validation, aspects=["Battery", "Camera"])


def test_rare_aspects_are_flagged_in_the_report_when_no_list_is_declared(tmp_path):
    rows = [{"text": f"pin {i}", "aspects": {"Battery": "positive"}} for i in range(5)]
    rows.append({"text": "pin yếu", "aspects": {"Batery": "negative"}})
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    _, report = load_absa_dataset(path)
    assert report.rare_aspects == {"Batery": 1}
    assert (
        "rare aspects (no aspect list declared; mentioned in at most 2 training rows, a misspelling?): 'Batery' 1. "
        "Fix the data, or declare the list with --aspects." in report.format()
    )
    assert json.loads(json.dumps(report.to_dict()))["rare_aspects"] == {"Batery": 1}
    assert load_absa_dataset(path, aspects=["Battery", "Batery"])[1].rare_aspects == {}  # declared: nothing flagged


def test_train_and_predict_read_the_same_text_column(model_dir, tmp_path, capsys):
    """ONE rule (priority order, not file order): a file with `comment,text` is read from `text` by every command."""
    from hf_visobert_absa.data.formats import find_text_column

    assert find_text_column(Path("f.csv"), ["comment", "text"], None) == "text"
    assert find_text_column(Path("f.csv"), [" Review ", "content"], None) == " Review "
    path = tmp_path / "reviews.csv"  # UIT-ViSFD layout: columns other than text and label are not used
    path.write_text("comment,text,label\n,pin trâu,{BATTERY#Positive};\n", encoding="utf-8")
    dataset, report = load_absa_dataset(path)
    assert dataset["train"]["text"][:] == ["pin trâu"] and report.splits["train"].ignored_columns == ["comment"]
    out = tmp_path / "out.csv"
    code, _ = run_cli(capsys, "predict", "--model", model_dir, "--input", path, "--output", out)
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert code == 0 and rows[0]["status"] == "ok"  # before: read the empty `comment` column: "skipped: empty text"


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("--learning_rate", "-1", "a positive number such as 3e-5"),
        ("--learning_rate", "0", "a positive number such as 3e-5"),
        ("--learning_rate", "nan", "a positive number such as 3e-5"),
        ("--warmup_ratio", "5", "a share of the steps from 0 to 1 (e.g. 0.06)"),
        ("--weight_decay", "-0.1", "a number of at least 0 (e.g. 0.01)"),
        ("--max_grad_norm", "inf", "a number of at least 0 (0 turns clipping off)"),
        ("--seed", "-1", "an integer from 0 to 2**32 - 1"),
    ],
)  # fmt: skip
def test_train_refuses_optimizer_values_before_reading_data(flag, value, allowed, data_file, tmp_path, capsys):
    """Before: `Invalid learning rate: -1.0` / `Seed must be between 0 and 2**32 - 1` tracebacks (exit 1) after the
    data and the model had loaded, and `--warmup_ratio 5` trained without ever finishing the warm-up."""
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", tmp_path / "run", flag, value)
    number = int(value) if flag == "--seed" else float(value)
    assert (code, err.strip()) == (2, f"hf-visobert-absa train: error: `{flag}` got {number!r}; allowed: {allowed}.")
    assert not (tmp_path / "run" / "dataset_report.json").exists()  # refused before the data was read


def test_a_damaged_tokenizer_or_a_config_that_is_not_an_object_is_refused(model_dir, data_file, tmp_path, capsys):
    broken = tmp_path / "broken_tokenizer"
    shutil.copytree(model_dir, broken)
    (broken / "tokenizer.json").write_text("{oops")
    listed = tmp_path / "config_list"
    shutil.copytree(model_dir, listed)
    (listed / "config.json").write_text("[1, 2]")
    for folder, message in (
        (broken, f"`--model` {broken}: tokenizer.json is not valid JSON (Expecting property name enclosed in double "
                 "quotes: line 1 column 2 (char 1)). Save the tokenizer again (`tokenizer.save_pretrained(folder)`) or "
                 "copy it from the encoder the model was trained from."),
        (listed, f"`--model` {listed}: config.json holds a JSON list, not an object of model settings. Save the model "
                 "again."),
    ):  # fmt: skip
        code, err = run_cli(capsys, "predict", "--model", folder, "--input", data_file, "--output", tmp_path / "o.csv")
        assert (code, err.strip()) == (2, f"hf-visobert-absa predict: error: {message}")  # before: exit 1, traceback


def test_evaluate_finds_bad_data_before_loading_the_weights(model_dir, tmp_path, capsys, monkeypatch):
    from hf_visobert_absa.hub.modeling_visobert_absa import ViSoBertAbsaModel

    def no_weights(*args, **kwargs):
        raise AssertionError("the weights were loaded before the data was checked")

    monkeypatch.setattr(ViSoBertAbsaModel, "from_pretrained", no_weights)
    path = tmp_path / "test.csv"
    path.write_text("text,Battery,Camera,Price\npin trâu,Posititve,,\n", encoding="utf-8")
    code, err = run_cli(capsys, "evaluate", "--model", model_dir, "--file", path)
    assert code == 2 and err.startswith(f"hf-visobert-absa evaluate: error: Unknown label 'Posititve' in {at(path, 1, 2)}")


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_config_yaml_that_is_missing_or_a_folder(kind, data_file, tmp_path, capsys):
    path = tmp_path / "run.yaml" if kind == "missing" else tmp_path
    code, err = run_cli(capsys, "train", "--config", path, "--train_file", data_file, "--output_dir", tmp_path / "run")
    state = "does not exist" if kind == "missing" else "is a folder"
    assert (code, err.strip()) == (2, f"hf-visobert-absa train: error: `--config` file {path} {state}; pass a YAML file.")
