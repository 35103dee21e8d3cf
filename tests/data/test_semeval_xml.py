"""SemEval ABSA XML: both layouts, the documented rules and their counts, the held-out validation split, and
every bad case with its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_visobert_absa import load_absa_dataset
from hf_visobert_absa.errors import AbsaInputError
from tests import helpers

FOUR = ["positive", "negative", "neutral", "conflict"]

XML_2014 = """<?xml version="1.0" encoding="UTF-8"?>
<sentences>
    <sentence id="10">
        <text>But the staff was so horrible to us.</text>
        <aspectTerms><aspectTerm term="staff" polarity="negative" from="8" to="13"/></aspectTerms>
        <aspectCategories>
            <aspectCategory category="service" polarity="negative"/>
        </aspectCategories>
    </sentence>
    <sentence id="11">
        <text>Food great &amp; cheap, but the decor is dull.</text>
        <aspectCategories>
            <aspectCategory category="food" polarity="positive"/>
            <aspectCategory category="anecdotes/miscellaneous" polarity="conflict"/>
        </aspectCategories>
    </sentence>
    <sentence id="12">
        <text>We went on a Tuesday.</text>
    </sentence>
</sentences>
"""

XML_2016 = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Reviews>
    <Review rid="1004293">
        <sentences>
            <sentence id="1004293:0">
                <text>Judging from previous posts this used to be a good place.</text>
                <Opinions>
                    <Opinion target="place" category="RESTAURANT#GENERAL" polarity="negative" from="51" to="56"/>
                </Opinions>
            </sentence>
            <sentence id="1004293:1">
                <text>The fish was fresh but the rice was soggy; fish again fresh.</text>
                <Opinions>
                    <Opinion target="fish" category="FOOD#QUALITY" polarity="positive" from="4" to="8"/>
                    <Opinion target="rice" category="FOOD#QUALITY" polarity="negative" from="27" to="31"/>
                    <Opinion target="fish" category="FOOD#QUALITY" polarity="positive" from="43" to="47"/>
                </Opinions>
            </sentence>
            <sentence id="1004293:2" OutOfScope="TRUE">
                <text>Not a restaurant sentence.</text>
            </sentence>
        </sentences>
    </Review>
    <Review rid="1004294">
        <sentences>
            <sentence id="1004294:0">
                <text>Service ok, service ok.</text>
                <Opinions>
                    <Opinion target="NULL" category="SERVICE#GENERAL" polarity="neutral" from="0" to="0"/>
                    <Opinion target="NULL" category="SERVICE#GENERAL" polarity="neutral" from="0" to="0"/>
                </Opinions>
            </sentence>
            <sentence id="1004294:1">
                <text>Nothing to say.</text>
                <Opinions/>
            </sentence>
        </sentences>
    </Review>
</Reviews>
"""


def _write(tmp_path: Path, text: str, name: str = "train.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_2014_layout(tmp_path):
    dsd, report = load_absa_dataset(_write(tmp_path, XML_2014), sentiments=FOUR)
    assert report.aspects == ["anecdotes/miscellaneous", "food", "service"]  # training categories, sorted
    assert report.aspects_source == "the categories of train.xml, sorted"
    split = dsd["train"]
    assert split["text"][1] == "Food great & cheap, but the decor is dull."
    assert split["gold"] == [[0, 0, 2], [4, 1, 0], [0, 0, 0]]
    assert split["row"] == [1, 2, 3]
    notes = report.splits["train"].format_notes
    assert notes == {"sentences with no opinions (kept: no aspect mentioned)": 1}
    assert report.splits["train"].format == "semeval_xml"


def test_2016_layout_rules_are_applied_and_counted(tmp_path):
    dsd, report = load_absa_dataset(_write(tmp_path, XML_2016), sentiments=FOUR)
    assert report.aspects == ["FOOD#QUALITY", "RESTAURANT#GENERAL", "SERVICE#GENERAL"]
    split = dsd["train"]
    assert split["row"] == [1, 2, 4, 5]  # the out-of-scope sentence 3 is skipped, numbering kept
    assert split["gold"] == [[0, 2, 0], [4, 0, 0], [0, 0, 3], [0, 0, 0]]
    assert report.splits["train"].format_notes == {
        "sentences with no opinions (kept: no aspect mentioned)": 1,
        "sentences marked OutOfScope=TRUE (skipped: not annotated)": 1,
        "repeated category, same polarity (counted once)": 1,
        "repeated category with different polarities (labelled conflict)": 1,
    }
    text = report.format()
    assert "train: repeated category with different polarities (labelled conflict): 1" in text


def test_differing_polarities_without_conflict_are_refused(tmp_path):
    path = _write(tmp_path, XML_2016)
    with pytest.raises(AbsaInputError) as info:
        load_absa_dataset(path)
    assert str(info.value) == (
        f"{path}, line 15 (sentence id='1004293:1'): category 'FOOD#QUALITY' has polarities with different values "
        "in one sentence ('negative' after another). Allowed: one polarity per category and sentence, unless the "
        "sentiments include 'conflict', which then labels it. Fix: --sentiments positive,negative,neutral,conflict "
        "(sentiments=[..., 'conflict'])."
    )


def test_unknown_polarity_names_place_allowed_values_and_the_flag(tmp_path):
    path = _write(tmp_path, XML_2014)
    with pytest.raises(AbsaInputError) as info:
        load_absa_dataset(path)
    assert str(info.value) == (
        f"Unknown polarity 'conflict' at {path}, line 14 (sentence id='11'), <category='anecdotes/miscellaneous'>, "
        "attribute 'polarity'. Allowed: 'positive', 'negative', 'neutral' (any case; the sentiments in use). All "
        f"unknown polarities: 'conflict' 1 time(s), first at {path}, line 14 (sentence id='11'), "
        "<category='anecdotes/miscellaneous'>. If it is a sentiment of its own, add it: sentiments=['positive', "
        "'negative', 'neutral', 'conflict'] (command line: --sentiments positive,negative,neutral,conflict)."
    )
    dsd, _ = load_absa_dataset(path, label_aliases={"conflict": "neutral"})
    assert dsd["train"]["gold"][1] == [3, 1, 0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<sentences><sentence id='1'><text>a</text></sentence>", "line 1, column 54: not well-formed XML (no element found)."),
        ("<sentences>\n<sentence id='1'><text>a & b</text></sentence></sentences>", "line 2, column 27: not well-formed XML (not well-formed (invalid token))."),
        ("<corpus><sentence/></corpus>", "line 1: root element <corpus>; allowed: <sentences> (SemEval-2014) or <Reviews> (SemEval-2015/16)."),
        ("<sentences>\n<sentence id='7'><text>a</text><aspectCategories><aspectCategory polarity='positive'/></aspectCategories></sentence></sentences>",
         "line 2 (sentence id='7'): <aspectCategory> has no 'category' attribute; attributes: ['polarity']."),
        ("<Reviews><Review><sentences><sentence id='1:0'><text>a</text><Opinions>\n<Opinion category='FOOD#PRICES'/></Opinions></sentence></sentences></Review></Reviews>",
         "line 2 (sentence id='1:0'): <Opinion> has no 'polarity' attribute; attributes: ['category']."),
        ("<sentences><sentence id='1'><text>a</text><aspectCategories><aspectCategory category=' ' polarity='positive'/></aspectCategories></sentence></sentences>",
         "<aspectCategory> attribute 'category' is empty; allowed: a category name such as 'food' or 'FOOD#QUALITY'."),
        ("<sentences></sentences>", "has no <sentence> element"),
        ("<sentences><sentence id='1'><text>a</text></sentence>\n<aspectCategory category='food' polarity='positive'/></sentences>",
         "line 2: <aspectCategory> outside any <sentence>; it would belong to no text."),
        ("<sentences><sentence id='4'><text>a</text>\n<text>b</text></sentence></sentences>",
         "line 2 (sentence id='4'): a second <text> in one <sentence>; allowed: one."),
    ],
)  # fmt: skip
def test_bad_xml(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(AbsaInputError) as info:
        load_absa_dataset(path, sentiments=FOUR)
    assert message in str(info.value) and str(path) in str(info.value)


def test_format_name_and_a_test_only_category(tmp_path):
    train = _write(tmp_path, XML_2014, "a.data")
    test = _write(tmp_path, XML_2014.replace('category="food"', 'category="price"'), "b.data")
    dsd, _ = load_absa_dataset({"train": train}, format="semeval_xml", sentiments=FOUR)
    assert dsd["train"].num_rows == 3
    with pytest.raises(
        AbsaInputError,
        match=r"Aspect 'price' at .*b\.data.* is not in the aspects in use \(the categories of a\.data, sorted\)",
    ):
        load_absa_dataset({"train": test.with_name("a.data"), "test": test}, format="semeval_xml", sentiments=FOUR)


def test_held_out_validation_split(tmp_path):
    rows = "".join(
        f'<sentence id="{i}"><text>review {i}</text><aspectCategories><aspectCategory category="food" '
        f'polarity="{("positive", "negative")[i % 2]}"/></aspectCategories></sentence>'
        for i in range(40)
    )
    path = _write(tmp_path, f"<sentences>{rows}</sentences>")
    dsd, report = load_absa_dataset(path, validation_split_percentage=10, validation_split_seed=3)
    assert dsd["train"].num_rows == 36 and dsd["validation"].num_rows == 4
    assert sorted(list(dsd["train"]["row"]) + list(dsd["validation"]["row"])) == list(range(1, 41))
    assert report.validation_split == {
        "from": "train", "file": str(path), "percentage": 10.0, "seed": 3, "rows": 4, "train_rows_left": 36,
    }  # fmt: skip
    again, _ = load_absa_dataset(path, validation_split_percentage=10, validation_split_seed=3)
    assert list(again["validation"]["row"]) == list(dsd["validation"]["row"])
    assert "validation: 4 row(s) held out of train (10%, seed 3); 36 left to train on" in report.format()
    with pytest.raises(AbsaInputError, match=r"`validation_split_percentage` got 100; allowed: a number in \(0, 100\)"):
        load_absa_dataset(path, validation_split_percentage=100)
    with pytest.raises(AbsaInputError, match="but a validation file is given too"):
        load_absa_dataset({"train": path, "validation": path}, validation_split_percentage=5)


@pytest.mark.shared
def test_semeval2014_restaurants_train():
    path = helpers.SHARED / "data" / "semeval2014_restaurants" / "Restaurants_Train.xml"
    if not path.is_file():
        pytest.skip(f"needs ../shared/data/semeval2014_restaurants ({path.name} absent)")
    dsd, report = load_absa_dataset(path, sentiments=FOUR)
    assert dsd["train"].num_rows == 3044
    assert report.aspects == ["ambience", "anecdotes/miscellaneous", "food", "price", "service"]
    counts = report.splits["train"].label_counts
    assert sum(c["conflict"] for c in counts.values()) == 196  # the data README's count
    assert (
        report.splits["train"].format_notes.get("repeated category with different polarities (labelled conflict)", 0)
        == 0
    )
