"""SemEval ABSA XML, the format the field's benchmarks are exchanged in, read at the sentence level.

Two layouts, told apart by the root element:

- SemEval-2014 Task 4 (Pontiki et al., "SemEval-2014 Task 4: Aspect Based Sentiment Analysis", SemEval 2014):
  `<sentences><sentence id="..."><text>...</text><aspectTerms><aspectTerm term="staff" polarity="negative"
  from="8" to="13"/>...</aspectTerms><aspectCategories><aspectCategory category="food"
  polarity="positive"/>...</aspectCategories></sentence>...</sentences>`.
- SemEval-2015 Task 12 / 2016 Task 5 (Pontiki et al., SemEval 2015; SemEval 2016): `<Reviews><Review rid="...">
  <sentences><sentence id="..." [OutOfScope="TRUE"]><text>...</text><Opinions><Opinion target="..."
  category="FOOD#QUALITY" polarity="positive" from=".." to=".."/>...</Opinions></sentence>...</sentences>
  </Review>...</Reviews>`.

Every `<sentence>` is one row; its categories are the aspects it mentions, with their polarity. The annotated
targets are kept beside them (for evidence plausibility, `hf_visobert_absa.evaluation.plausibility`), never used
for training: the optional `targets` column, per row a list of `{"term", "start", "end", "category", "polarity"}`
with `text[start:end] == term`. SemEval-2014 `<aspectTerm>`s give `category` None (that layout does not link terms
to categories); each 2015/16 `<Opinion>` with an explicit target gives its `category` (`target="NULL"` or no
`target`: no entry). `polarity` is the attribute as written (not checked against the sentiments). The rules, each
application counted in the dataset report:

- A sentence with no categories (no `aspectCategories` / `Opinions`, or an empty one) is kept: it mentions no
  aspect (`no opinions` in the notes; the report's `no_aspect` problem counts it too).
- A 2015/16 sentence marked `OutOfScope="TRUE"` is skipped: the annotators did not label it, so "no aspect" would
  be a wrong label (`out of scope, skipped`).
- A category given twice with the same polarity counts once (`repeated category, same polarity`).
- A category given with different polarities in one sentence (2015/16: several opinion targets of one category)
  becomes `conflict` when the sentiment set has it — SemEval-2014's own definition of conflict, "both positive
  and negative sentiment" towards the category — and is counted (`repeated category, polarities differ ->
  conflict`). Without `conflict` in the set the file is refused with the place and the fix: a majority or
  first-wins rule would invent a label.
- A sentence without a `<text>` element is kept with an empty text (`no <text>`; the report's `empty_text`
  problem counts it too).
- A target whose `from`/`to` are missing, not integers, or do not span its term in the text is dropped, never
  repaired (`targets whose offsets do not match the text`); the sentence and its categories are kept.

Rows are the sentences in file order (1-based, skipped sentences included in the numbering), and `lines` the line
of each `<sentence>` tag. The polarity is matched case-insensitively against the configured sentiments (and
`label_aliases`); any other value, a missing attribute, an unknown root element or malformed XML stops loading
with the file, line, element, attribute, value, what is allowed and how to fix it.
"""

from __future__ import annotations

import difflib
import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import SENTIMENTS
from .parsed_file import ParsedFile, canonical_codes, sentiments_text

ROOTS = {"sentences": "SemEval-2014", "Reviews": "SemEval-2015/16"}
CATEGORY_TAGS = ("aspectCategory", "Opinion")
CONFLICT = "conflict"
NOTE_NO_OPINIONS = "sentences with no opinions (kept: no aspect mentioned)"
NOTE_OUT_OF_SCOPE = "sentences marked OutOfScope=TRUE (skipped: not annotated)"
NOTE_SAME = "repeated category, same polarity (counted once)"
NOTE_CONFLICT = "repeated category with different polarities (labelled conflict)"
NOTE_NO_TEXT = "sentences without a <text> element (kept with an empty text)"
NOTE_BAD_OFFSETS = "targets whose offsets do not match the text (dropped)"
#: The `<Opinion>` target of an opinion without an explicit target (SemEval-2015/16).
NULL_TARGET = "NULL"


@dataclass
class _Sentence:
    row: int
    line: int
    sid: str
    out_of_scope: bool
    text: str | None = None
    text_parts: list[str] = field(default_factory=list)
    categories: list[tuple[str, str, int]] = field(default_factory=list)  # (category, polarity, line)
    targets: list[dict[str, str | None]] = field(default_factory=list)  # raw attributes: term, from, to, ...


class _Reader:
    """Expat callbacks collecting sentences with line numbers; checks attributes as they come."""

    def __init__(self, path: Path, parser: xml.parsers.expat.XMLParserType) -> None:
        self.path, self.parser = path, parser
        self.root: str | None = None
        self.sentences: list[_Sentence] = []
        self.current: _Sentence | None = None
        self.in_text = False

    def where(self, line: int | None = None, sentence: _Sentence | None = None) -> str:
        sentence = sentence or self.current
        sid = f" (sentence id={sentence.sid!r})" if sentence is not None else ""
        return f"{self.path}, line {line or self.parser.CurrentLineNumber}{sid}"

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.root is None:
            if tag not in ROOTS:
                raise AbsaInputError(
                    f"{self.where()}: root element <{tag}>; allowed: <sentences> (SemEval-2014) or <Reviews> "
                    "(SemEval-2015/16). Give a SemEval ABSA XML file, or name its format with `format=`."
                )
            self.root = tag
        elif tag == "sentence":
            scope = attrs.get("OutOfScope", "").strip().upper() == "TRUE"
            self.current = _Sentence(
                len(self.sentences) + 1, self.parser.CurrentLineNumber, attrs.get("id", "?"), scope
            )
            self.sentences.append(self.current)
        elif tag == "text" and self.current is not None:
            if self.current.text is not None:
                raise AbsaInputError(
                    f"{self.where()}: a second <text> in one <sentence>; allowed: one. Split it into two "
                    "sentences, or merge the texts into one <text>."
                )
            self.in_text = True
            self.current.text = ""
        elif tag in CATEGORY_TAGS and self.current is None:
            raise AbsaInputError(
                f"{self.where()}: <{tag}> outside any <sentence>; it would belong to no text. Move it inside the "
                "<sentence> it annotates, or remove it."
            )
        elif tag == "aspectTerm" and self.current is not None:
            self.current.targets.append(_raw_target(attrs, attrs.get("term"), None))
        elif tag in CATEGORY_TAGS:
            for name in ("category", "polarity"):
                if name not in attrs:
                    raise AbsaInputError(
                        f"{self.where()}: <{tag}> has no {name!r} attribute; attributes: {sorted(attrs)}. Every "
                        f'<{tag}> needs category="..." and polarity="...": add it, or remove the element.'
                    )
            if not attrs["category"].strip():
                raise AbsaInputError(
                    f"{self.where()}: <{tag}> attribute 'category' is empty; allowed: a category name such as "
                    "'food' or 'FOOD#QUALITY'. Fill it in, or remove the element."
                )
            self.current.categories.append((attrs["category"], attrs["polarity"], self.parser.CurrentLineNumber))
            if tag == "Opinion" and attrs.get("target", NULL_TARGET) != NULL_TARGET:
                self.current.targets.append(_raw_target(attrs, attrs["target"], attrs["category"]))

    def end(self, tag: str) -> None:
        if tag == "text" and self.current is not None:
            self.in_text = False
            self.current.text = "".join(self.current.text_parts)
        elif tag == "sentence":
            self.current = None

    def data(self, text: str) -> None:
        if self.in_text and self.current is not None:
            self.current.text_parts.append(text)


def _raw_target(attrs: dict[str, str], term: str | None, category: str | None) -> dict[str, str | None]:
    """The attributes of one `<aspectTerm>` (2014) or `<Opinion>` target (2015/16), as written."""
    return {"term": term, "from": attrs.get("from"), "to": attrs.get("to"), "category": category,
            "polarity": attrs.get("polarity")}  # fmt: skip


def _checked_target(raw: dict[str, str | None], text: str) -> dict[str, str | int | None] | None:
    """One target as a `targets` entry `{"term", "start", "end", "category", "polarity"}`, or None when its
    offsets are missing, not integers, or `text[start:end]` is not the term (dropped, never guessed)."""
    term, start, end = raw["term"], _offset(raw["from"]), _offset(raw["to"])
    if not term or start is None or end is None or start < 0 or text[start:end] != term:
        return None
    return {"term": term, "start": start, "end": end, "category": raw["category"], "polarity": raw["polarity"]}


def _offset(value: str | None) -> int | None:
    """A `from`/`to` attribute as an int, None when absent or not an integer."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _read_sentences(path: Path) -> tuple[str, list[_Sentence]]:
    parser = xml.parsers.expat.ParserCreate()
    reader = _Reader(path, parser)
    parser.StartElementHandler, parser.EndElementHandler = reader.start, reader.end
    parser.CharacterDataHandler = reader.data
    parser.buffer_text = True
    try:
        with open(path, "rb") as handle:
            parser.ParseFile(handle)
    except xml.parsers.expat.ExpatError as error:
        raise AbsaInputError(
            f"{path}, line {error.lineno}, column {error.offset + 1}: not well-formed XML "
            f"({xml.parsers.expat.errors.messages[error.code]}). Fix the file there (an unescaped '&' or '<' in a "
            "text is a common cause: write &amp; and &lt;)."
        ) from None
    if reader.root is None:
        raise AbsaInputError(f"{path} has no XML element; expected <sentences> or <Reviews> (SemEval ABSA XML).")
    return reader.root, reader.sentences


class _Polarities:
    """Polarity value -> canonical code, collecting unknown values with their places."""

    def __init__(self, aliases: dict[str, int], sentiments: Sequence[str] | None) -> None:
        self.sentiments = list(SENTIMENTS if sentiments is None else sentiments)
        self.codes = {k: v for k, v in canonical_codes(self.sentiments).items() if v}
        self.aliases = aliases
        self.unknown: dict[str, list[str]] = {}
        self.aliases_applied: dict[str, int] = {}

    def code(self, value: str, place: str) -> int | None:
        key = value.strip().lower()
        if key in self.aliases:
            self.aliases_applied[value] = self.aliases_applied.get(value, 0) + 1
            return self.aliases[key] or None
        code = self.codes.get(key)
        if code is None:
            self.unknown.setdefault(value, []).append(place)
        return code

    def raise_unknown(self) -> None:
        if not self.unknown:
            return
        value, places = next(iter(self.unknown.items()))
        others = "; ".join(f"{v!r} {len(p)} time(s), first at {p[0]}" for v, p in self.unknown.items())
        guess = difflib.get_close_matches(value.strip().lower(), list(self.codes), n=1, cutoff=0.6)
        extended = self.sentiments + [value.strip().lower()]
        fix = (
            f"If it means {guess[0]!r}, pass label_aliases={{{value!r}: {guess[0]!r}}}."
            if guess
            else f"If it is a sentiment of its own, add it: sentiments={extended} (command line: --sentiments "
            f"{','.join(extended)})."
        )
        raise AbsaInputError(
            f"Unknown polarity {value!r} at {places[0]}, attribute 'polarity'. Allowed: "
            f"{sentiments_text(self.sentiments)} (any case; the sentiments in use). All unknown polarities: {others}. "
            f"{fix}"
        )


def targets_feature() -> list:
    """The `datasets` feature of the `targets` column: a list of `{"term", "start", "end", "category",
    "polarity"}` (`category` None for SemEval-2014 aspect terms)."""
    import datasets

    string, integer = datasets.Value("string"), datasets.Value("int64")
    return [{"term": string, "start": integer, "end": integer, "category": string, "polarity": string}]


def _sentence_mention(
    sentence: _Sentence, path: Path, polarities: _Polarities, notes: dict[str, int],
    first_seen: dict[str, tuple[int, int]],
) -> dict[str, int]:  # fmt: skip
    """The categories `sentence` mentions, with their codes: a category repeated with the same polarity counts
    once, with different polarities it becomes `conflict` (refused when the sentiments have none)."""
    conflict = polarities.codes.get(CONFLICT)
    mention: dict[str, int] = {}
    for category, polarity, line in sentence.categories:
        place = f"{path}, line {line} (sentence id={sentence.sid!r}), <category={category!r}>"
        code = polarities.code(polarity, place)
        if code is None:
            continue
        first_seen.setdefault(category, (sentence.row, sentence.line))
        if category not in mention:
            mention[category] = code
        elif mention[category] == code:
            notes[NOTE_SAME] += 1
        elif conflict is not None:
            notes[NOTE_CONFLICT] += mention[category] != conflict
            mention[category] = conflict
        else:
            raise AbsaInputError(
                f"{path}, line {line} (sentence id={sentence.sid!r}): category {category!r} has polarities "
                f"with different values in one sentence ({polarity!r} after another). Allowed: one polarity per "
                f"category and sentence, unless the sentiments include 'conflict', which then labels it. Fix: "
                f"--sentiments {','.join(polarities.sentiments + [CONFLICT])} (sentiments=[..., 'conflict'])."
            )
    return mention


def parse_semeval_xml(path: Path, aliases: dict[str, int], sentiments: Sequence[str] | None = None) -> ParsedFile:
    r"""Read a SemEval-2014 or SemEval-2015/16 ABSA XML file, one row per sentence (see the module docstring).

    Args:
        path (`Path`): the XML file.
        aliases (`dict[str, int]`): normalised `label_aliases` (raw polarity -> canonical code).
        sentiments (`Sequence[str]`, *optional*): the sentiment set (default positive, negative, neutral).

    Returns:
        [`ParsedFile`] with format `semeval_xml` and `targets` (per row, the checked aspect terms / opinion
        targets); `notes` counts every rule applied.

    Raises:
        `AbsaInputError`: malformed XML (with the parser's line and column), an unknown root element, a
        category element without `category` or `polarity`, an unknown polarity, or a category repeated with
        different polarities while the sentiments have no `conflict`.
    """
    _root, sentences = _read_sentences(path)
    polarities = _Polarities(aliases, sentiments)
    parsed = ParsedFile(path, "semeval_xml", [], [], [], [], targets=[])
    notes = dict.fromkeys(
        (NOTE_NO_OPINIONS, NOTE_OUT_OF_SCOPE, NOTE_SAME, NOTE_CONFLICT, NOTE_NO_TEXT, NOTE_BAD_OFFSETS), 0
    )
    for sentence in sentences:
        if sentence.out_of_scope:
            notes[NOTE_OUT_OF_SCOPE] += 1
            continue
        mention = _sentence_mention(sentence, path, polarities, notes, parsed.first_seen)
        notes[NOTE_NO_OPINIONS] += not sentence.categories
        notes[NOTE_NO_TEXT] += sentence.text is None
        parsed.texts.append(sentence.text or "")
        targets = [_checked_target(raw, sentence.text or "") for raw in sentence.targets]
        notes[NOTE_BAD_OFFSETS] += targets.count(None)
        parsed.targets.append([target for target in targets if target is not None])
        parsed.mentions.append(mention)
        parsed.rows.append(sentence.row)
        parsed.lines.append(sentence.line)
    polarities.raise_unknown()
    if not sentences:
        raise AbsaInputError(f"{path} has no <sentence> element; expected SemEval ABSA XML with sentences.")
    parsed.aliases_applied.update(polarities.aliases_applied)
    parsed.notes = {name: count for name, count in notes.items() if count}
    return parsed


__all__ = ["NOTE_BAD_OFFSETS", "NULL_TARGET", "ROOTS", "parse_semeval_xml", "targets_feature"]
