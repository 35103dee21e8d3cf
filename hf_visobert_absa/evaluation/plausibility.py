"""Plausibility of per-aspect evidence: do the top evidence words of a predicted category cover an aspect term that
the annotators linked to that category?

Plausibility asks whether evidence convinces a reader, not whether the model used it (faithfulness; DeYoung et al.,
"ERASER: A Benchmark to Evaluate Rationalized NLP Models", ACL 2020). The reader's side comes from the SemEval ABSA
annotations kept in the `targets` column by `hf_visobert_absa.data.semeval_xml`: SemEval-2014 Task 4 aspect terms
(Pontiki et al., "SemEval-2014 Task 4: Aspect Based Sentiment Analysis", SemEval 2014) and SemEval-2015 Task 12 /
2016 Task 5 opinion targets (Pontiki et al., SemEval 2015; Pontiki et al., SemEval 2016).

The matching rule ([`MATCHING_RULE`], also returned with every score), one function each:

- Only (sentence, category) pairs that are both predicted and gold-mentioned are scored ([`scored_pairs`]).
- Linked terms ([`linked_terms`]): a 2015/16 target is linked to the category its `<Opinion>` names. SemEval-2014
  terms carry no category, so they are linked only in sentences whose gold has exactly ONE category (then every
  term of the sentence is linked to it); in a sentence with several categories the pair is not eligible
  (`unlinked_several_categories`).
- A pair with no linked term (e.g. SemEval-2014 `anecdotes/miscellaneous`, 2015/16 `target="NULL"`) is not eligible
  (`no_explicit_term`).
- Hit at k ([`hit`]): one of the first k evidence words (evidence is best first) overlaps a linked term, i.e.
  their character ranges `[start, end)` intersect.
- Random baseline ([`random_hit_rate`]): the same, with as many words as the evidence offered (at most k) drawn
  uniformly without replacement from the sentence's words (`word_spans`, the evidence's own definition), averaged over seeded draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..hub.evidence_visobert_absa import word_spans

#: The k of the top-k evidence words scored.
TOP_KS: tuple[int, ...] = (1, 3)
#: The random baseline's draws per eligible pair, and their seed.
RANDOM_DRAWS = 5
RANDOM_SEED = 0
#: The matching rule in words, returned with the scores.
MATCHING_RULE = (
    "Scored: (sentence, category) pairs both predicted and gold-mentioned. A term is linked to a category when its "
    "SemEval-2015/16 Opinion names that category; SemEval-2014 terms (no category) are linked only in sentences "
    "whose gold has exactly one category. Pairs without a linked term are not eligible. Hit at k: one of the first "
    "k evidence words overlaps (character ranges intersect) a linked term. Random baseline: as many words as the "
    "evidence gives (at most k), drawn uniformly among the sentence's words."
)


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether the character ranges `[start, end)` of `a` and `b` intersect."""
    return a[0] < b[1] and b[0] < a[1]


def scored_pairs(gold_categories: Sequence[str], predicted: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The predicted aspects (with their evidence) whose category is also gold-mentioned, in prediction order."""
    gold = set(gold_categories)
    return [aspect for aspect in predicted if aspect["aspect"] in gold]


def linked_terms(
    category: str, gold_categories: Sequence[str], targets: Sequence[Mapping[str, Any]]
) -> tuple[list[tuple[int, int]], str]:
    """The `(start, end)` of the terms linked to `category`, and why the pair is or is not eligible:
    `opinion_link` (2015/16), `single_category` (2014), `no_explicit_term` or `unlinked_several_categories`."""
    unlinked = [(t["start"], t["end"]) for t in targets if t.get("category") is None]
    linked = [(t["start"], t["end"]) for t in targets if t.get("category") == category]
    if linked:
        return linked, "opinion_link"
    if not unlinked:
        return [], "no_explicit_term"
    if len(set(gold_categories)) == 1:
        return unlinked, "single_category"
    return [], "unlinked_several_categories"


def hit(spans: Sequence[tuple[int, int]], terms: Sequence[tuple[int, int]]) -> bool:
    """Whether any of the word `spans` overlaps any of the `terms`."""
    return any(overlaps(span, term) for span in spans for term in terms)


def evidence_spans(evidence: Sequence[Mapping[str, Any]], k: int) -> list[tuple[int, int]]:
    """The `(start, end)` of the first `k` evidence words (the evidence is best first)."""
    return [(int(word["start"]), int(word["end"])) for word in evidence[:k]]


def random_hit_rate(
    words: Sequence[tuple[int, int]], terms: Sequence[tuple[int, int]], n: int, rng: np.random.Generator, draws: int
) -> float:
    """The share of `draws` random picks of `n` distinct `words` (uniform, without replacement) that hit a term."""
    n = min(n, len(words))
    if n == 0:
        return 0.0
    picks = [rng.choice(len(words), size=n, replace=False) for _ in range(draws)]
    return sum(hit([words[i] for i in pick], terms) for pick in picks) / draws


def _check_lengths(rows: Sequence[Mapping[str, Any]], predictions: Sequence[Sequence[Mapping[str, Any]]]) -> None:
    if len(rows) != len(predictions):
        raise ValueError(
            f"`predictions` has {len(predictions)} entries but `rows` has {len(rows)}; allowed: one list of predicted "
            "aspects per row, in row order (an empty list for a row with no prediction)."
        )


def _check_evidence(text: str, evidence: Sequence[Mapping[str, Any]], row: int) -> None:
    for word in evidence:
        start, end = int(word["start"]), int(word["end"])
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"Evidence word {dict(word)!r} of row {row} has offsets outside the text ({len(text)} characters); "
                "allowed: 0 <= start < end <= len(text), offsets into the ORIGINAL text (`text[start:end]` is the "
                "word). Compute the evidence on the same text as the row."
            )


def _rate(hits: float, total: int) -> float | None:
    return hits / total if total else None


def score_plausibility(
    rows: Sequence[Mapping[str, Any]],
    predictions: Sequence[Sequence[Mapping[str, Any]]],
    ks: Sequence[int] = TOP_KS,
    seed: int = RANDOM_SEED,
    draws: int = RANDOM_DRAWS,
) -> dict[str, Any]:
    r"""How often the top-k evidence words of a predicted, gold-mentioned category overlap a term linked to it,
    beside a random-words baseline (the rule: the module docstring and `MATCHING_RULE`).

    Args:
        rows (`Sequence[Mapping]`): per sentence, `{"text": str, "categories": [gold category, ...], "targets":
            [{"term", "start", "end", "category", "polarity"}, ...]}` (the `targets` column of a SemEval XML split;
            [`plausibility_rows`] builds these from a `load_absa_dataset` split).
        predictions (`Sequence[Sequence[Mapping]]`): per row, the predicted aspects `[{"aspect": str, "sentiment":
            str, "evidence": [{"word", "start", "end", "weight"}, ...]}]`, evidence best first.
        ks (`Sequence[int]`, *optional*, defaults to `(1, 3)`): the k of the top-k evidence words.
        seed (`int`, *optional*, defaults to 0): seed of the random baseline.
        draws (`int`, *optional*, defaults to 5): random draws per eligible pair, averaged.

    Returns:
        `dict`: `matching_rule` (text); `pairs` (`predicted_and_gold`, `eligible`, and per reason
        `opinion_link`, `single_category`, `no_explicit_term`, `unlinked_several_categories`); per k, `hits_at_k`,
        `rate_at_k` and `random_rate_at_k` (rates over eligible pairs, None when there are none); `random`
        (`seed`, `draws`).

    Raises:
        `ValueError`: `predictions` and `rows` differ in length, or an evidence word's offsets fall outside its text.

    Example:

    ```python
    >>> rows = [{"text": "The fish was fresh.", "categories": ["food"], "targets": [
    ...     {"term": "fish", "start": 4, "end": 8, "category": None, "polarity": "positive"}]}]
    >>> evidence = [{"word": "fish", "start": 4, "end": 8, "weight": 0.9}]
    >>> score_plausibility(rows, [[{"aspect": "food", "sentiment": "positive", "evidence": evidence}]])["rate_at_1"]
    1.0
    ```
    """
    _check_lengths(rows, predictions)
    rng = np.random.default_rng(seed)
    reasons = dict.fromkeys(("opinion_link", "single_category", "no_explicit_term", "unlinked_several_categories"), 0)
    hits, random_hits = dict.fromkeys(ks, 0), dict.fromkeys(ks, 0.0)
    for index, (row, predicted) in enumerate(zip(rows, predictions, strict=True)):
        words = word_spans(row["text"])
        for aspect in scored_pairs(row["categories"], predicted):
            _check_evidence(row["text"], aspect["evidence"], index)
            terms, reason = linked_terms(aspect["aspect"], row["categories"], row.get("targets") or [])
            reasons[reason] += 1
            if not terms:
                continue
            for k in ks:
                spans = evidence_spans(aspect["evidence"], k)
                hits[k] += hit(spans, terms)
                random_hits[k] += random_hit_rate(words, terms, len(spans), rng, draws)
    eligible = reasons["opinion_link"] + reasons["single_category"]
    result: dict[str, Any] = {
        "matching_rule": MATCHING_RULE,
        "pairs": {"predicted_and_gold": sum(reasons.values()), "eligible": eligible, **reasons},
    }
    for k in ks:
        result[f"hits_at_{k}"] = hits[k]
        result[f"rate_at_{k}"] = _rate(hits[k], eligible)
        result[f"random_rate_at_{k}"] = _rate(random_hits[k], eligible)
    result["random"] = {"seed": seed, "draws": draws}
    return result


def plausibility_rows(split: Any, aspects: Sequence[str]) -> list[dict[str, Any]]:
    """The `rows` of [`score_plausibility`] from a `load_absa_dataset` split read from SemEval XML: `text`, the
    gold-mentioned categories (`gold` code != 0, in the order of `aspects`) and `targets`."""
    if "targets" not in split.column_names:
        raise ValueError(
            f"The split has no `targets` column (columns: {split.column_names}); plausibility needs annotated aspect "
            "terms: load SemEval XML (format='semeval_xml')."
        )
    return [
        {"text": text, "categories": [a for a, code in zip(aspects, gold, strict=True) if code], "targets": targets}
        for text, gold, targets in zip(split["text"], split["gold"], split["targets"], strict=True)
    ]


__all__ = [
    "MATCHING_RULE",
    "RANDOM_DRAWS",
    "RANDOM_SEED",
    "TOP_KS",
    "evidence_spans",
    "hit",
    "linked_terms",
    "overlaps",
    "plausibility_rows",
    "random_hit_rate",
    "score_plausibility",
]
