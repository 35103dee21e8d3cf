"""Data loading: the four layouts, the problem report, the error messages, tokenisation, and the real ../shared data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from hf_visobert_absa.data.data_files import resolve_data_files, split_of
from hf_visobert_absa.data.label_schemes import encode_labels
from hf_visobert_absa.data.loading import load_absa_dataset
from hf_visobert_absa.data.report import DEFAULT_DROP, DatasetReport
from hf_visobert_absa.data.tokenization import tokenize_dataset
from hf_visobert_absa.data.uit_visfd import UIT_VISFD_ASPECTS
from hf_visobert_absa.errors import AbsaInputError
from hf_visobert_absa.hub.labels_visobert_absa import DEFAULT_ASPECTS, LABEL_SCHEMES
from tests import helpers
from tests.helpers import ROW, at, error_of

FIXTURES = helpers.FIXTURES


# ----------------------------------------------------------------------------------------------- wide, words


def test_wide_words_folder_bom_crlf_quoted_newline_and_split_names():
    dsd, report = load_absa_dataset(FIXTURES / "wide_words")
    assert list(dsd) == ["train", "validation", "test"]  # Dev.csv -> validation
    assert report.aspects == ["Battery", "Camera", "Price"]
    assert report.aspects_source == "the columns of train.csv"
    assert report.ignored_files == ["notes.txt"]
    train = dsd["train"]
    assert train.column_names == ["text", "labels", "gold", "row"]
    assert train["text"][0] == "Pin trâu, camera chụp đẹp"  # BOM stripped from the header, quoted comma kept
    assert train["text"][1] == "Máy đẹp\nnhưng pin yếu"  # quoted newline kept as written
    assert train["gold"][:] == [
        [1, 1, 0], [2, 0, 0], [0, 0, 1], [3, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 2], [0, 0, 1], [0, 3, 0],
    ]  # fmt: skip
    assert train["row"][:] == list(range(1, 10))
    # test.csv lists the aspect columns in another order: they are matched by name.
    assert dsd["test"]["gold"][:] == [[2, 0, 0], [0, 0, 2]]
    assert report.splits["test"].format == "wide_words"


def test_report_counts_examples_and_table():
    _, report = load_absa_dataset(FIXTURES / "wide_words")
    train, val = report.splits["train"], report.splits["validation"]
    counts = {kind: (p.count, p.examples) for kind, p in train.problems.items()}
    assert counts == {
        "empty_text": (1, [4]),
        "duplicate_text": (2, [5, 7]),
        "near_duplicate_text": (1, [8]),
        "no_aspect": (1, [6]),
        "cross_split": (0, []),
        "near_cross_split": (0, []),
    }
    assert train.problems["duplicate_text"].conflicting == 1  # row 7 repeats row 3 with Negative instead of Positive
    assert train.reference_split is None and val.reference_split == "train"
    assert (val.problems["cross_split"].count, val.problems["cross_split"].examples) == (1, [1])
    assert (val.problems["near_cross_split"].count, val.problems["near_cross_split"].examples) == (1, [2])
    assert train.rows == train.kept == 9 and train.dropped == {}
    assert train.label_counts["Price"] == {"none": 5, "positive": 3, "negative": 1, "neutral": 0}
    table = report.format()
    assert "train       wide_words     9     9      1    2         1          1       -            -" in table
    assert "  - train: duplicate_text 2, 1 with different labels; rows 5, 7" in table
    assert "  - validation: cross_split (train) 1; rows 1" in table
    assert "  - files not recognised as a split and not read: notes.txt" in table
    assert "  - dropped: nothing (drop_problems off)" in table


def test_report_round_trips_through_json(tmp_path):
    _, report = load_absa_dataset(FIXTURES / "wide_words", label_aliases={"good": "positive"})
    path = report.to_json(tmp_path / "out" / "dataset_report.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["aspects"] == ["Battery", "Camera", "Price"]
    assert data["splits"]["train"]["problems"]["duplicate_text"] == {"count": 2, "examples": [5, 7], "conflicting": 1}
    assert DatasetReport.from_dict(data) == report


@pytest.mark.parametrize("label_scheme", list(LABEL_SCHEMES))
def test_labels_are_the_scheme_coding_of_gold(label_scheme):
    dsd, report = load_absa_dataset(FIXTURES / "wide_words", label_scheme=label_scheme)
    assert report.label_scheme == label_scheme
    for split in dsd.values():
        gold = np.array(split["gold"][:])
        np.testing.assert_array_equal(np.array(split["labels"][:]), encode_labels(gold, label_scheme))


def test_drop_problems_true_drops_and_records():
    dsd, report = load_absa_dataset(FIXTURES / "wide_words", drop_problems=True)
    assert report.drop_problems == list(DEFAULT_DROP)
    train = report.splits["train"]
    assert dsd["train"]["row"][:] == [1, 2, 3, 8, 9]  # 4 empty, 5 and 7 duplicates, 6 no aspect
    assert (train.rows, train.kept) == (9, 5)
    assert train.dropped == {"empty_text": 1, "duplicate_text": 2, "no_aspect": 1, "cross_split": 0}
    assert dsd["validation"]["row"][:] == [2, 3]  # row 1 is a train text; the near match stays
    assert "  - train: dropped 4 row(s): empty_text 1, duplicate_text 2, no_aspect 1" in report.format()


def test_drop_problems_by_kind():
    dsd, report = load_absa_dataset(FIXTURES / "wide_words", drop_problems=["near_duplicate_text", "near_cross_split"])
    assert dsd["train"]["row"][:] == [1, 2, 3, 4, 5, 6, 7, 9]
    assert dsd["validation"]["row"][:] == [1, 3]
    assert report.splits["train"].dropped == {"near_duplicate_text": 1, "near_cross_split": 0}


def test_unknown_labels_error_names_everything_and_suggests_aliases():
    path = FIXTURES / "typo.csv"
    assert error_of(path) == (
        f"Unknown label 'Posititve' in {at(path, 1, 2)}, column 'General'. Allowed: 'positive', 'negative', "
        "'neutral' (any case), or an empty cell / 'none' for not mentioned. All unknown values in this file: "
        "'Posititve' in 1 cell(s), first at row 1 (line 2), column 'General'; 'good' in 2 cell(s), first at row 2 "
        "(line 3), column 'Battery'. Labels are never mapped or dropped silently: if they mean allowed labels, pass "
        'label_aliases={"Posititve": "positive", "good": "<positive|negative|neutral|none>"} (command line: '
        '--label_aliases \'{"Posititve": "positive", "good": "<positive|negative|neutral|none>"}\').'
    )
    dsd, report = load_absa_dataset(path, label_aliases={"Posititve": "positive", "GOOD": "positive"})
    assert dsd["train"]["gold"][:] == [[0, 1], [1, 0], [0, 1]]
    assert report.splits["train"].aliases_applied == {"Posititve": 1, "good": 2}
    assert "  - train: label_aliases mapped 'good' in 2 cell(s)" in report.format()


def test_alias_with_a_bad_target_is_refused():
    assert error_of(FIXTURES / "typo.csv", label_aliases={"good": "great"}) == (
        "`label_aliases` maps 'good' to 'great'; allowed targets: 'positive', 'negative', 'neutral', 'none' (not "
        "mentioned) or the codes 0-3. Example: label_aliases={'good': 'positive'}."
    )


# ----------------------------------------------------------------------------------------------- wide, integers


def test_wide_int_is_detected_and_decoded():
    dsd, report = load_absa_dataset(FIXTURES / "wide_int.csv")
    assert report.splits["train"].format == "wide_int"
    assert dsd["train"]["gold"][:] == [[1, 0, 0], [0, 2, 0], [0, 0, 3], [0, 0, 0], [1, 1, 0]]
    assert report.splits["train"].problems["no_aspect"].examples == [4]


def test_wide_int_rejects_out_of_range_and_empty_cells():
    path = FIXTURES / "wide_int_bad.csv"
    assert error_of(path) == (
        f"Unknown label '4' in {at(path, 2, 3)}, column 'Camera'. Allowed: 0 (not mentioned), 1 (positive), "
        "2 (negative), 3 (neutral). All unknown values in this file: '4' in 1 cell(s), first at row 2 (line 3), "
        "column 'Camera'; '' in 1 cell(s), first at row 3 (line 4), column 'Battery'. Labels are never mapped or "
        'dropped silently: if they mean allowed labels, pass label_aliases={"4": "<positive|negative|neutral|none>", '
        '"": "none"} (command line: --label_aliases \'{"4": "<positive|negative|neutral|none>", "": "none"}\').'
    )
    dsd, _ = load_absa_dataset(path, label_aliases={"4": "neutral", "": "none"})
    assert dsd["train"]["gold"][:] == [[1, 0], [0, 3], [0, 0]]


# ----------------------------------------------------------------------------------------------- UIT-ViSFD


def test_uit_visfd_folder_with_others_as_neutral():
    dsd, report = load_absa_dataset(FIXTURES / "uit_visfd")
    assert list(dsd) == ["train", "validation"]
    assert report.aspects == list(UIT_VISFD_ASPECTS) and report.aspects_source == "the UIT-ViSFD aspect order"
    idx = {a: j for j, a in enumerate(report.aspects)}
    gold = np.array(dsd["train"]["gold"][:])
    assert gold[0, idx["BATTERY"]] == 1 and gold[0, idx["CAMERA"]] == 1 and gold[0].sum() == 2
    assert gold[1, idx["PERFORMANCE"]] == 2 and gold[1, idx["OTHERS"]] == 3
    assert gold[2, idx["PRICE"]] == 3  # "neutral" in lower case
    assert gold[3].tolist() == [0] * 10 + [3]
    split = report.splits["train"]
    assert split.others_tags == 2 and split.ignored_columns == ["index", "n_star", "date_time"]
    assert dsd["validation"]["gold"][1][idx["SER&ACC"]] == 1


def test_uit_visfd_others_policies():
    dsd, report = load_absa_dataset(FIXTURES / "uit_visfd", others_policy="drop")
    assert report.aspects == list(UIT_VISFD_ASPECTS[:-1])
    assert dsd["train"]["gold"][3] == [0] * 10
    assert report.splits["train"].problems["no_aspect"].examples == [4]
    path = FIXTURES / "uit_visfd" / "Train.csv"
    assert error_of(FIXTURES / "uit_visfd", others_policy="error") == (
        f"Tag {{OTHERS}} without polarity in {at(path, 2, 3)}, column 'label', and others_policy='error'. Pass "
        "others_policy='neutral' (OTHERS counts as mentioned, neutral) or others_policy='drop' (OTHERS is not an "
        "aspect)."
    )


def test_uit_visfd_bad_labels():
    path = FIXTURES / "uit_typo.csv"
    assert error_of(path) == (
        f"Unknown polarity 'Negatve' in {at(path, 2, 3)}, column 'label'. Allowed: 'Positive', 'Negative', 'Neutral' "
        "(any case) after '#'. Labels are never mapped or dropped silently: if it means an allowed label, pass "
        'label_aliases={"Negatve": "negative"} (command line: --label_aliases \'{"Negatve": "negative"}\').'
    )
    dsd, _ = load_absa_dataset(path, label_aliases={"Negatve": "negative"})
    assert dsd["train"]["gold"][1][UIT_VISFD_ASPECTS.index("BATTERY")] == 2
    path = FIXTURES / "uit_no_polarity.csv"
    assert error_of(path) == (
        f"Tag {{BATTERY}} in {at(path, 1, 2)}, column 'label' has no polarity. Allowed: "
        "{ASPECT#Positive|Negative|Neutral}; only {OTHERS} may stand alone."
    )
    path = FIXTURES / "uit_conflict.csv"
    assert error_of(path) == (
        f"Aspect BATTERY gets two different polarities in {at(path, 1, 2)}, column 'label': "
        "'{BATTERY#Positive};{BATTERY#Negative};'. Keep one tag per aspect."
    )
    path = FIXTURES / "uit_malformed.csv"
    assert error_of(path) == (
        f"Malformed label 'BATTERY#Positive' in {at(path, 1, 2)}, column 'label'. Allowed: items like "
        "{BATTERY#Positive} separated by ';' (polarity Positive/Negative/Neutral; {OTHERS} alone)."
    )


def test_uit_visfd_with_a_model_aspect_list():
    aspects = ["BATTERY", "CAMERA", "PERFORMANCE", "PRICE", "OTHERS"]
    dsd, report = load_absa_dataset(FIXTURES / "uit_visfd" / "Train.csv", aspects=aspects)
    assert report.aspects == aspects and dsd["train"]["gold"][1] == [0, 0, 2, 0, 3]
    path = FIXTURES / "uit_visfd" / "Train.csv"
    assert error_of(path, aspects=["BATTERY", "CAMERA", "PERFORMANCE", "PRICE"]) == (
        f"Aspect 'OTHERS' at {at(path, 2, 3)} is not in the aspects in use (given via `aspects=`): ['BATTERY', "
        "'CAMERA', 'PERFORMANCE', 'PRICE']. All aspects of the file: ['BATTERY', 'CAMERA', 'PERFORMANCE', 'OTHERS', "
        "'PRICE']. Fix the data, or load with `aspects=` listing every aspect the model knows. (For UIT-ViSFD's "
        "{OTHERS}, others_policy='drop' ignores it.)"
    )


# ----------------------------------------------------------------------------------------------- JSONL


def test_jsonl_first_seen_order_blank_lines_codes_and_nulls():
    dsd, report = load_absa_dataset(FIXTURES / "reviews.jsonl")
    assert report.aspects == ["Battery", "Camera", "Price"]
    assert report.aspects_source == "first appearance in the data"
    assert dsd["train"]["text"][:] == ["Pin trâu", "Camera xấu nhưng giá rẻ", "", "Ổn"]
    assert dsd["train"]["gold"][:] == [[1, 0, 0], [0, 2, 1], [0, 0, 0], [3, 0, 0]]
    split = report.splits["train"]
    assert split.blank_lines == 1 and split.format == "jsonl"
    assert split.problems["empty_text"].examples == [3] and split.problems["no_aspect"].examples == [3]


def test_jsonl_given_aspects_and_errors():
    dsd, report = load_absa_dataset(FIXTURES / "reviews.jsonl", aspects=["Price", "Camera", "Battery", "Screen"])
    assert dsd["train"]["gold"][1] == [1, 2, 0, 0]
    path = FIXTURES / "reviews.jsonl"
    assert error_of(path, aspects=["Battery", "Camera"]) == (
        f"Aspect 'Price' at {at(path, 2, 2)} is not in the aspects in use (given via `aspects=`): ['Battery', "
        "'Camera']. All aspects of the file: ['Battery', 'Camera', 'Price']. Fix the data, or load with `aspects=` "
        "listing every aspect the model knows."
    )
    path = FIXTURES / "bad_json.jsonl"
    assert error_of(path) == f"{at(path, 2, 2)} is not valid JSON (Expecting ',' delimiter at column 53)."
    assert error_of(FIXTURES / "reviews.jsonl", text_column="review") == (
        f"{FIXTURES / 'reviews.jsonl'}: no row has a 'review' key. Pass text_column=<the key holding the review text>."
    )


# ----------------------------------------------------------------------------------------------- broken files


def test_empty_header_only_and_invalid_utf8(tmp_path):
    path = FIXTURES / "empty.csv"
    assert error_of(path) == f"{path} is empty: no header and no rows. Expected a CSV with a header line or JSON lines."
    path = FIXTURES / "header_only.csv"
    assert error_of(path) == f"{path} has a header (data, Battery, Camera) but no data rows."
    raw = "\ufeffdata,Battery\nPin tốt,Positive\n".encode() + b"Pin y\xea\xfau,Negative\n"  # cp1258-style bytes
    path = tmp_path / "train.csv"
    path.write_bytes(raw)
    offset = raw.index(b"\xea")
    assert error_of(path) == (
        f"{path} is not valid UTF-8: byte(s) ea at byte offset {offset} (line 3 of the file). Save the file as UTF-8 "
        "(e.g. 'CSV UTF-8' in a spreadsheet, or `iconv -f <encoding> -t utf-8`)."
    )


def test_column_problems():
    path = FIXTURES / "missing_text.csv"
    assert error_of(path) == (
        f"{path} has no text column: none of ['text', 'data', 'comment', 'review', 'sentence', 'content'] among its "
        "columns ['review_text', 'Battery']. Pass text_column=<the column holding the review text>."
    )
    dsd, _ = load_absa_dataset(path, text_column="review_text")
    assert dsd["train"]["text"][:] == ["Pin trâu"]
    assert error_of(path, text_column="Review_Text") == (
        f"{path} has no text column 'Review_Text'; its columns are ['review_text', 'Battery']. "
        "Did you mean text_column='review_text'?"
    )
    path = FIXTURES / "extra_column.csv"
    assert error_of(path, aspects=["Battery", "Camera", "Price"]) == (
        f"Aspect mismatch: {path} has aspect columns ['Battery', 'Camera', 'Price', 'Screen'], but the aspects in use "
        "(given via `aspects=`) are ['Battery', 'Camera', 'Price']; not in the aspect list: ['Screen']. Fix the "
        "file's aspect columns, or load with the aspect list that matches the model (`aspects=` from its config)."
    )
    path = FIXTURES / "wide_words" / "train.csv"
    assert error_of(path, aspects=["battery", "camera", "price", "Design"]) == (
        f"Aspect mismatch: {path} has aspect columns ['Battery', 'Camera', 'Price'], but the aspects in use (given "
        "via `aspects=`) are ['battery', 'camera', 'price', 'Design']; missing from the file: ['battery', 'camera', "
        "'price', 'Design']; not in the aspect list: ['Battery', 'Camera', 'Price']. Fix the file's aspect columns, "
        "or load with the aspect list that matches the model (`aspects=` from its config)."
    )
    path = FIXTURES / "ragged.csv"
    assert error_of(path) == (
        f"{at(path, 1, 2)} has 4 fields but the header has 3. Quote text fields that contain commas or newlines "
        '("...") and check the header.'
    )
    path = FIXTURES / "unnamed_column.csv"
    assert error_of(path) == (
        f"{path}: header column(s) [1] (1-based) have no name. Name every column, or remove an index column "
        "(pandas: `to_csv(..., index=False)`)."
    )


def test_splits_with_different_aspects():
    train, other = FIXTURES / "wide_words" / "train.csv", FIXTURES / "extra_column.csv"
    assert error_of({"train": train, "validation": other}) == (
        f"Aspect mismatch: {other} has aspect columns ['Battery', 'Camera', 'Price', 'Screen'], but the aspects in "
        "use (the columns of train.csv) are ['Battery', 'Camera', 'Price']; not in the aspect list: ['Screen']. Fix "
        "the file's aspect columns, or load with the aspect list that matches the model (`aspects=` from its config)."
    )


def test_data_files_resolution(tmp_path):
    assert split_of(Path("Train.csv")) == "train" and split_of(Path("UIT_dev.csv")) == "validation"
    assert split_of(Path("phone_test_multilabel.csv")) == "test" and split_of(Path("train_test.csv")) is None
    files, ignored = resolve_data_files({"test": FIXTURES / "wide_int.csv", "train": FIXTURES / "typo.csv"})
    assert list(files) == ["train", "test"] and ignored == []
    assert resolve_data_files(FIXTURES / "wide_int.csv")[0] == {"train": FIXTURES / "wide_int.csv"}
    (tmp_path / "dev.csv").write_text("data,A\nx,positive\n", encoding="utf-8")
    (tmp_path / "Validation.csv").write_text("data,A\ny,positive\n", encoding="utf-8")
    assert error_of(tmp_path) == (
        f"{tmp_path}: several files name the same split: {{'validation': ['Validation.csv', 'dev.csv']}}. Keep one "
        "per split, or pass a dict data_files={'train': ..., 'validation': ...} instead."
    )
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "readme.md").write_text("hi", encoding="utf-8")
    assert error_of(empty) == (
        f"{empty} has no file named for a split (train / validation or dev / test, with suffix .csv, .tsv, .jsonl, "
        ".json, .ndjson, .xml); found ['readme.md']; pass a dict data_files={'train': ..., 'validation': ...} instead."
    )
    missing = tmp_path / "missing.csv"
    assert error_of({"train": missing}) == (
        f"Data file for split 'train': {missing} does not exist; give a CSV or JSONL file."
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"format": "xlsx"},
            "`format` got 'xlsx'; allowed: 'auto', 'wide_words', 'wide_int', 'uit_visfd', 'jsonl', 'semeval_xml'.",
        ),
        (
            {"label_scheme": "binary"},
            "`label_scheme` got 'binary'; allowed: 'absent_as_class', 'absent_as_neutral', 'mentioned_only'.",
        ),
        ({"others_policy": "positive"}, "`others_policy` got 'positive'; allowed: 'neutral', 'drop', 'error'."),
        (
            {"drop_problems": ["duplicates"]},
            "`drop_problems` got ['duplicates']; allowed: True (= ['empty_text', 'duplicate_text', 'no_aspect', "
            "'cross_split']), False, or a list of ['empty_text', 'duplicate_text', 'near_duplicate_text', "
            "'no_aspect', 'cross_split', 'near_cross_split'].",
        ),
    ],
)
def test_bad_arguments(kwargs, message):
    assert error_of(FIXTURES / "wide_int.csv", **kwargs) == message


def test_named_format_overrides_detection():
    # Read as sentiment words, the integer cells are unknown labels: the error says so instead of guessing.
    message = error_of(FIXTURES / "wide_int.csv", format="wide_words")
    assert message.startswith(f"Unknown label '1' in {at(FIXTURES / 'wide_int.csv', 1, 2)}, column 'Battery'.")


# ----------------------------------------------------------------------------------------------- tokenisation


def test_tokenize_dataset_truncates_without_padding_and_collates(tokenizer):
    from transformers import DataCollatorWithPadding

    dsd, report = load_absa_dataset(FIXTURES / "wide_words")
    tokenized = tokenize_dataset(dsd, tokenizer, max_length=6)
    train = tokenized["train"]
    assert train.column_names == ["text", "labels", "gold", "row", "input_ids", "attention_mask"]
    lengths = [len(ids) for ids in train["input_ids"]]
    assert max(lengths) == 6 and min(lengths) < 6  # truncated, not padded
    assert all(ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id for ids in train["input_ids"])
    assert train["input_ids"][2] == tokenizer("Giá rẻ quá")["input_ids"]
    features = [{k: train[i][k] for k in ("input_ids", "attention_mask", "labels")} for i in range(4)]
    batch = DataCollatorWithPadding(tokenizer)(features)
    assert batch["labels"].shape == (4, len(report.aspects))  # [B, A]
    assert batch["input_ids"].shape == (4, max(lengths[:4]))
    assert (batch["input_ids"][batch["attention_mask"] == 0] == tokenizer.pad_token_id).all()


def test_tokenize_dataset_refuses_a_length_the_tokenizer_cannot_hold(tokenizer):
    dsd, _ = load_absa_dataset(FIXTURES / "wide_int.csv")
    with pytest.raises(AbsaInputError) as info:
        tokenize_dataset(dsd, tokenizer, max_length=tokenizer.model_max_length + 1)
    assert str(info.value) == "`max_length` got 129; allowed: 1 to the tokenizer's model_max_length (128)."
    with pytest.raises(AbsaInputError, match="No column 'review' to tokenise"):
        tokenize_dataset(dsd, tokenizer, max_length=16, text_column="review")


# ----------------------------------------------------------------------------------------------- real data


@pytest.mark.shared
def test_phone_reviews_typo_is_an_error_then_loads_with_an_alias(shared):
    folder = shared("data", "phone_reviews")
    import pandas as pd  # an independent reader, to check the row the message names

    frame = pd.read_csv(folder / "train.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    hits = [(i + 1, column) for column in frame.columns[1:] for i in np.flatnonzero(frame[column] == "Posititve")]
    assert len(hits) == 1 and hits[0][1] == "General"
    message = error_of(folder)
    assert message.startswith(f"Unknown label 'Posititve' in {folder / 'train.csv'}, row {hits[0][0]} ({ROW}; line ")
    assert "column 'General'" in message
    assert message.endswith(
        'pass label_aliases={"Posititve": "positive"} (command line: --label_aliases \'{"Posititve": "positive"}\').'
    )

    dsd, report = load_absa_dataset(folder, label_aliases={"Posititve": "positive"})
    assert {name: ds.num_rows for name, ds in dsd.items()} == {"train": 11930, "validation": 1491, "test": 1492}
    assert report.aspects == list(DEFAULT_ASPECTS) and len(report.aspects) == 11
    assert dsd["train"]["gold"][hits[0][0] - 1][report.aspects.index("General")] == 1
    assert report.splits["train"].aliases_applied == {"Posititve": 1}
    # The counts ../shared/data/README.md documents.
    train = report.splits["train"].problems
    assert train["duplicate_text"].count == 13 and train["no_aspect"].count == 15
    assert report.splits["validation"].problems["cross_split"].count == 2
    assert report.splits["test"].problems["cross_split"].count == 2
    assert report.splits["train"].label_counts["Others"]["positive"] == 0
    assert report.splits["train"].label_counts["Others"]["negative"] == 0
    # Cross-check the text of every row against the independent reader.
    assert dsd["train"]["text"][:] == frame["data"].tolist()


@pytest.mark.shared
def test_phone_reviews_labels_for_every_scheme_and_dropping(shared):
    folder = shared("data", "phone_reviews")
    for scheme in LABEL_SCHEMES:
        dsd, _ = load_absa_dataset({"validation": folder / "validation.csv"}, label_scheme=scheme)
        gold = np.array(dsd["validation"]["gold"][:])
        assert gold.shape == (1491, 11)
        np.testing.assert_array_equal(np.array(dsd["validation"]["labels"][:]), encode_labels(gold, scheme))
    dsd, report = load_absa_dataset(folder, label_aliases={"Posititve": "positive"}, drop_problems=True)
    train_texts = dsd["train"]["text"][:]
    assert len(set(train_texts)) == len(train_texts)
    assert not set(dsd["validation"]["text"][:]) & set(train_texts)
    assert not set(dsd["test"]["text"][:]) & set(train_texts)
    assert np.array(dsd["train"]["gold"][:]).any(axis=1).all()
    for name, split in report.splits.items():
        assert split.kept == dsd[name].num_rows < split.rows


@pytest.mark.shared
def test_uit_visfd_real_files(shared):
    folder = shared("data", "uit_visfd")
    dsd, report = load_absa_dataset(folder)
    assert {name: ds.num_rows for name, ds in dsd.items()} == {"train": 7786, "validation": 1112, "test": 2224}
    assert report.aspects == list(UIT_VISFD_ASPECTS)
    with (folder / "Train.csv").open(encoding="utf-8", newline="") as handle:
        labels = [row["label"] for row in csv.DictReader(handle)]
    others = report.aspects.index("OTHERS")
    gold = np.array(dsd["train"]["gold"][:])
    assert (gold[:, others] == 3).sum() == sum("{OTHERS}" in label for label in labels)
    assert (gold > 0).sum() == sum(label.count("{") for label in labels)
    for scheme in LABEL_SCHEMES:
        dsd_s, _ = load_absa_dataset(folder / "Dev.csv", label_scheme=scheme, others_policy="drop")
        gold = np.array(dsd_s["validation"]["gold"][:])
        assert gold.shape == (1112, 10)
        np.testing.assert_array_equal(np.array(dsd_s["validation"]["labels"][:]), encode_labels(gold, scheme))
