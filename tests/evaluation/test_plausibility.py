"""Evidence plausibility: the word definition, each matching rule on hand-made rows, the random baseline, the
messages, and the rows built from a SemEval XML split."""

from __future__ import annotations

import pytest

from hf_visobert_absa import load_absa_dataset
from hf_visobert_absa.evaluation.plausibility import (
    MATCHING_RULE,
    linked_terms,
    plausibility_rows,
    random_hit_rate,
    score_plausibility,
)
from hf_visobert_absa.hub.evidence_visobert_absa import word_spans

WORD_CASES = [
    ("Pin trâu, camera chụp đẹp", ["Pin", "trâu", "camera", "chụp", "đẹp"]),
    ("  Máy   mượt!!!  GIÁ hơi đắt...  ", ["Máy", "mượt", "GIÁ", "hơi", "đắt"]),
    ("ship nhanh 😍 100% hài lòng", ["ship", "nhanh", "😍", "100", "hài", "lòng"]),
    ('«Tuyệt vời» — (rất) "ổn"; ...', ["Tuyệt", "vời", "rất", "ổn"]),
    ("pin-sạc ổn,camera\txấu\n😍😍!", ["pin-sạc", "ổn,camera", "xấu", "😍😍"]),
    ("", []),
    ("  ... !!! ", []),
]


@pytest.mark.parametrize("text, words", WORD_CASES)
def test_words_trim_punctuation_keeps_diacritics_and_emoji(text, words):
    spans = word_spans(text)
    assert [text[s:e] for s, e in spans] == words
    assert all(0 <= s < e <= len(text) for s, e in spans)


def _term(term, start, category=None):
    return {"term": term, "start": start, "end": start + len(term), "category": category, "polarity": "positive"}


def _evidence(text, *words):
    out = []
    for word in words:
        start = text.index(word)
        out.append({"word": word, "start": start, "end": start + len(word), "weight": 1.0})
    return out


def _predicted(aspect, evidence):
    return {"aspect": aspect, "sentiment": "positive", "evidence": evidence}


TEXT_2014 = "The fish was fresh and the staff friendly."
TEXT_2016 = "Great sushi, rude waiter, nice place."


def test_2014_terms_link_only_in_single_category_sentences():
    targets = [_term("fish", 4), _term("staff", 27)]
    assert linked_terms("food", ["food"], targets) == ([(4, 8), (27, 32)], "single_category")
    assert linked_terms("food", ["food", "service"], targets) == ([], "unlinked_several_categories")
    assert linked_terms("food", ["food"], []) == ([], "no_explicit_term")


def test_2016_terms_link_by_opinion_category():
    targets = [_term("sushi", 6, "FOOD#QUALITY"), _term("waiter", 18, "SERVICE#GENERAL")]
    gold = ["FOOD#QUALITY", "SERVICE#GENERAL", "AMBIENCE#GENERAL"]
    assert linked_terms("SERVICE#GENERAL", gold, targets) == ([(18, 24)], "opinion_link")
    assert linked_terms("AMBIENCE#GENERAL", gold, targets) == ([], "no_explicit_term")  # target="NULL"


def test_scores_hits_at_1_and_3_and_counts_every_pair():
    rows = [
        {"text": TEXT_2014, "categories": ["food"], "targets": [_term("fish", 4)]},
        {"text": TEXT_2014, "categories": ["food", "service"], "targets": [_term("fish", 4), _term("staff", 27)]},
        {"text": "We went on a Tuesday.", "categories": ["anecdotes/miscellaneous"], "targets": []},
        {
            "text": TEXT_2016,
            "categories": ["FOOD#QUALITY", "SERVICE#GENERAL"],
            "targets": [_term("sushi", 6, "FOOD#QUALITY"), _term("waiter", 18, "SERVICE#GENERAL")],
        },
    ]
    predictions = [
        [_predicted("food", _evidence(TEXT_2014, "fresh", "fish")), _predicted("price", [])],  # hit at 3 only
        [_predicted("food", _evidence(TEXT_2014, "fish"))],  # several categories, 2014: not eligible
        [_predicted("anecdotes/miscellaneous", _evidence("We went on a Tuesday.", "went"))],  # no term
        [
            _predicted("FOOD#QUALITY", _evidence(TEXT_2016, "sushi")),  # hit at 1
            _predicted("SERVICE#GENERAL", _evidence(TEXT_2016, "rude", "nice")),  # miss
        ],
    ]
    result = score_plausibility(rows, predictions)
    assert result["matching_rule"] == MATCHING_RULE
    assert result["pairs"] == {
        "predicted_and_gold": 5,
        "eligible": 3,
        "opinion_link": 2,
        "single_category": 1,
        "no_explicit_term": 1,
        "unlinked_several_categories": 1,
    }
    assert (result["hits_at_1"], result["hits_at_3"]) == (1, 2)
    assert result["rate_at_1"] == pytest.approx(1 / 3) and result["rate_at_3"] == pytest.approx(2 / 3)
    assert result["random"] == {"seed": 0, "draws": 5}


def test_overlap_is_a_character_range_intersection():
    text = "The fish-tacos were great."
    rows = [{"text": text, "categories": ["food"], "targets": [_term("fish", 4)]}]
    touching = [{"word": "The", "start": 0, "end": 4, "weight": 1.0}]  # [0, 4) ends where the term starts
    inside = _evidence(text, "fish-tacos")
    assert score_plausibility(rows, [[_predicted("food", touching)]])["hits_at_1"] == 0
    assert score_plausibility(rows, [[_predicted("food", inside)]])["hits_at_1"] == 1


def test_random_baseline_is_seeded_and_exact_in_the_extremes():
    import numpy as np

    words = [(0, 1), (2, 3), (4, 5), (6, 7)]
    assert random_hit_rate(words, [(0, 7)], 1, np.random.default_rng(0), 5) == 1.0
    assert random_hit_rate(words, [(10, 12)], 3, np.random.default_rng(0), 5) == 0.0
    assert random_hit_rate(words, [(0, 1)], 4, np.random.default_rng(0), 5) == 1.0  # all words drawn
    rows = [{"text": "a b c d e f g h i j", "categories": ["food"], "targets": [_term("c", 4)]}] * 20
    predictions = [[_predicted("food", _evidence(rows[0]["text"], "c", "d", "e"))]] * 20
    first, again = score_plausibility(rows, predictions), score_plausibility(rows, predictions)
    assert first["random_rate_at_1"] == again["random_rate_at_1"]
    assert 0 < first["random_rate_at_1"] < first["random_rate_at_3"] < 1  # about 1/10 and 3/10
    assert first["rate_at_1"] == 1.0


def test_no_eligible_pair_gives_no_rate():
    rows = [{"text": "ok", "categories": ["food"], "targets": []}]
    result = score_plausibility(rows, [[_predicted("food", [])]])
    assert result["pairs"]["eligible"] == 0 and result["rate_at_1"] is None and result["random_rate_at_3"] is None


def test_mismatched_lengths_and_bad_offsets_are_refused():
    rows = [{"text": "fish", "categories": ["food"], "targets": [_term("fish", 0)]}]
    with pytest.raises(ValueError, match=r"`predictions` has 0 entries but `rows` has 1; allowed: one list"):
        score_plausibility(rows, [])
    bad = [{"word": "fish", "start": 2, "end": 9, "weight": 1.0}]
    with pytest.raises(ValueError, match=r"of row 0 has offsets outside the text \(4 characters\)"):
        score_plausibility(rows, [[_predicted("food", bad)]])


def test_rows_from_a_semeval_xml_split(tmp_path):
    path = tmp_path / "train.xml"
    path.write_text(
        '<sentences><sentence id="1"><text>But the staff was rude.</text><aspectTerms>'
        '<aspectTerm term="staff" polarity="negative" from="8" to="13"/></aspectTerms><aspectCategories>'
        '<aspectCategory category="service" polarity="negative"/></aspectCategories></sentence></sentences>',
        encoding="utf-8",
    )
    dsd, report = load_absa_dataset(path)
    rows = plausibility_rows(dsd["train"], report.aspects)
    assert rows == [
        {
            "text": "But the staff was rude.",
            "categories": ["service"],
            "targets": [{"term": "staff", "start": 8, "end": 13, "category": None, "polarity": "negative"}],
        }
    ]
    with pytest.raises(ValueError, match=r"no `targets` column .* load SemEval XML"):
        plausibility_rows(dsd["train"].remove_columns("targets"), report.aspects)
