"""SemEval XML aspect terms and opinion targets kept in the `targets` column: offsets checked (a mismatch is dropped
and counted), 2014 and 2015/16 layouts, the held-out split, and nothing else changes: tokenisation, a Trainer step,
and the CSV / JSONL columns."""

from __future__ import annotations

import re
from pathlib import Path

from transformers import DataCollatorWithPadding, TrainingArguments

from hf_visobert_absa import FocalContrastiveTrainer, load_absa_dataset, tokenize_dataset
from hf_visobert_absa.data.semeval_xml import NOTE_BAD_OFFSETS
from tests import helpers
from tests.conftest import shared_path

BASE_COLUMNS = ["text", "labels", "gold", "row"]
CATEGORIES_AND_TERMS = [
    ("Pin trâu, camera chụp đẹp", [("Battery", "positive"), ("Camera", "positive")], ["Pin", "camera"]),
    ("giá rẻ máy mạnh", [("Price", "positive")], ["giá"]),
    ("màn hình tối", [], []),
]
#: A misplaced term (máy is at 7-10), an offset that is not a number, a missing offset: all three dropped, counted.
BAD_TERMS = (
    '<aspectTerm term="máy" polarity="positive" from="5" to="8"/>'
    '<aspectTerm term="mạnh" polarity="positive" from="x" to="15"/>'
    '<aspectTerm term="rẻ" polarity="positive"/>'
)


def _term(text: str, term: str) -> str:
    start = text.index(term)
    return f'<aspectTerm term="{term}" polarity="positive" from="{start}" to="{start + len(term)}"/>'


def _xml_2014(with_terms: bool = True, repeat: int = 1) -> str:
    body = []
    for i, (text, categories, terms) in enumerate(CATEGORIES_AND_TERMS * repeat):
        extra = BAD_TERMS if text.startswith("giá") else ""
        aspect_terms = f"<aspectTerms>{''.join(_term(text, t) for t in terms)}{extra}</aspectTerms>" if terms else ""
        cats = "".join(f'<aspectCategory category="{c}" polarity="{p}"/>' for c, p in categories)
        body.append(f'<sentence id="{i}"><text>{text}</text>{aspect_terms}<aspectCategories>{cats}</aspectCategories>')
        body[-1] += "</sentence>\n"
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<sentences>\n{"".join(body)}</sentences>\n'
    return xml if with_terms else re.sub(r"<aspectTerms>.*?</aspectTerms>", "", xml)


XML_2016 = """<?xml version="1.0" encoding="UTF-8"?>
<Reviews><Review rid="1"><sentences>
    <sentence id="1:0"><text>The fish was fresh but the rice was soggy.</text><Opinions>
        <Opinion target="fish" category="FOOD#QUALITY" polarity="positive" from="4" to="8"/>
        <Opinion target="rice" category="FOOD#QUALITY" polarity="negative" from="27" to="31"/>
        <Opinion target="fish" category="FOOD#PRICES" polarity="positive" from="4" to="8"/>
    </Opinions></sentence>
    <sentence id="1:1" OutOfScope="TRUE"><text>Skip me.</text></sentence>
    <sentence id="1:2"><text>Service ok.</text><Opinions>
        <Opinion target="NULL" category="SERVICE#GENERAL" polarity="neutral" from="0" to="0"/>
        <Opinion target="Service" category="SERVICE#GENERAL" polarity="neutral" from="1" to="8"/>
    </Opinions></sentence>
</sentences></Review></Reviews>
"""


def _write(tmp_path: Path, text: str, name: str = "train.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _target(term: str, start: int, category: str | None = None, polarity: str = "positive") -> dict:
    return {"term": term, "start": start, "end": start + len(term), "category": category, "polarity": polarity}


def test_2014_aspect_terms_are_kept_with_checked_offsets(tmp_path):
    dsd, report = load_absa_dataset(_write(tmp_path, _xml_2014()))
    split = dsd["train"]
    assert split.column_names == [*BASE_COLUMNS, "targets"]
    assert split["targets"] == [[_target("Pin", 0), _target("camera", 10)], [_target("giá", 0)], []]
    for text, targets in zip(split["text"], split["targets"], strict=True):
        assert all(text[t["start"] : t["end"]] == t["term"] for t in targets)
    assert report.splits["train"].format_notes[NOTE_BAD_OFFSETS] == 3
    assert f"train: {NOTE_BAD_OFFSETS}: 3" in report.format()


def test_2016_opinion_targets_keep_their_category_and_skip_null(tmp_path):
    dsd, report = load_absa_dataset(
        _write(tmp_path, XML_2016), sentiments=["positive", "negative", "neutral", "conflict"]
    )
    assert dsd["train"]["row"] == [1, 3]
    assert dsd["train"]["targets"] == [
        [
            _target("fish", 4, "FOOD#QUALITY"),
            _target("rice", 27, "FOOD#QUALITY", "negative"),
            _target("fish", 4, "FOOD#PRICES"),
        ],
        [],  # NULL: no explicit target; "Service" at 1-8 does not match the text: dropped
    ]
    assert report.splits["train"].format_notes[NOTE_BAD_OFFSETS] == 1


def test_held_out_validation_keeps_targets_with_their_rows(tmp_path):
    dsd, _ = load_absa_dataset(_write(tmp_path, _xml_2014(repeat=4)), validation_split_percentage=25)
    assert dsd["validation"].num_rows == 3
    total = 0
    for split in dsd.values():
        for text, targets in zip(split["text"], split["targets"], strict=True):
            expected = next(terms for t, _, terms in CATEGORIES_AND_TERMS if t == text)
            assert [target["term"] for target in targets] == expected
            total += len(targets)
    assert total == 4 * 3


def test_targets_change_neither_labels_nor_tokens(tmp_path):
    with_terms, _ = load_absa_dataset(_write(tmp_path, _xml_2014(), "a.xml"))
    without, _ = load_absa_dataset(_write(tmp_path, _xml_2014(with_terms=False), "b.xml"))
    assert without["train"]["targets"] == [[], [], []]  # the column is there for every XML split
    tokenizer = helpers.tiny_tokenizer()
    after = tokenize_dataset(with_terms, tokenizer, max_length=32)["train"]
    before = tokenize_dataset(without, tokenizer, max_length=32)["train"]
    assert after.column_names == before.column_names
    for column in before.column_names:
        if column != "targets":
            assert after[column] == before[column], column


def test_a_trainer_step_drops_the_targets_column(tmp_path):
    dsd, report = load_absa_dataset(_write(tmp_path, _xml_2014(repeat=2)))
    tokenizer = helpers.tiny_tokenizer()
    model = helpers.tiny_model(aspects=report.aspects)
    args = TrainingArguments(
        output_dir=str(tmp_path / "run"), per_device_train_batch_size=3, max_steps=1, save_strategy="no",
        report_to="none", use_cpu=True, disable_tqdm=True,
    )  # fmt: skip
    assert args.remove_unused_columns  # the default: columns the model's forward does not take are dropped
    trainer = FocalContrastiveTrainer(
        model=model,
        args=args,
        train_dataset=tokenize_dataset(dsd, tokenizer, max_length=32)["train"],
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    trainer.train()
    assert trainer.state.global_step == 1


def test_csv_and_jsonl_have_no_targets_column():
    for source in (helpers.FIXTURES / "wide_words", helpers.FIXTURES / "reviews.jsonl"):
        dsd, _ = load_absa_dataset(source)
        for split in dsd.values():
            assert split.column_names == BASE_COLUMNS
            assert list(split.features) == BASE_COLUMNS


def test_real_semeval2014_offsets_all_match():
    folder = shared_path("data", "semeval2014_restaurants")
    dsd, report = load_absa_dataset(folder, sentiments=["positive", "negative", "neutral", "conflict"])
    counts = {split: sum(len(targets) for targets in dsd[split]["targets"]) for split in dsd}
    assert counts == {"train": 3699, "test": 1134}  # every <aspectTerm> of both files
    for split in dsd.values():
        for text, targets in zip(split["text"], split["targets"], strict=True):
            assert all(text[t["start"] : t["end"]] == t["term"] and t["category"] is None for t in targets)
    assert all(NOTE_BAD_OFFSETS not in split.format_notes for split in report.splits.values())
