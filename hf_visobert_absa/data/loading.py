"""Load labelled review files into a `datasets.DatasetDict` for aspect-based sentiment analysis, and tokenise it.

`load_absa_dataset` reads one file per split (a dict of files, one file, or a folder of `train`/`validation`
(`dev`)/`test` files) in any layout of `hf_visobert_absa.data.formats` and returns, per split, the columns

- `text` (`str`): the review as written in the file (never normalised);
- `labels` (`list[int]`, length A): per aspect, the class index of the chosen label scheme
  (`hf_visobert_absa.data.label_schemes`);
- `gold` (`list[int]`, length A): per aspect, the canonical code 0 = none, k = the k-th sentiment (by default
  1 = positive, 2 = negative, 3 = neutral);
- `row` (`int`): the 1-based data row of the source file (header not counted), to trace predictions back;
- `targets` (SemEval XML splits only): per row, the annotated aspect terms with their character offsets
  (`hf_visobert_absa.data.semeval_xml`); not an input of the model, so the Trainer drops it like `text`;

and a [`~hf_visobert_absa.data.report.DatasetReport`] counting empty, duplicated, aspect-less and cross-split
rows. Nothing is mapped or dropped silently: unknown labels raise an `AbsaInputError`, `label_aliases` mappings and
dropped rows are recorded in the report.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import LABEL_SCHEMES, SENTIMENTS, validate_aspects, validate_sentiments
from .csv_table import where
from .data_files import resolve_data_files
from .formats import FORMATS, OTHERS_POLICIES, read_file
from .holdout import DEFAULT_SEED, hold_out_validation
from .label_schemes import encode_labels
from .parsed_file import ParsedFile, normalize_aliases
from .report import DatasetReport, SplitReport, find_problems, problems_for, resolve_drop
from .semeval_xml import targets_feature
from .uit_visfd import UIT_OTHERS, UIT_VISFD_ASPECTS

logger = logging.getLogger(__name__)

#: How the report names an aspect list taken from the data itself (no list declared anywhere).
FIRST_APPEARANCE = "first appearance in the data"
#: An aspect mentioned in at most this many training rows, with no declared aspect list, is flagged as rare.
RARE_ASPECT_ROWS = 2


def rare_aspects(gold: np.ndarray, aspects: list[str]) -> dict[str, int]:
    """Aspects mentioned in at most `RARE_ASPECT_ROWS` rows of `gold` `[N, A]` (canonical codes, 0 = not
    mentioned), with their counts: when no aspect list is declared, a misspelt aspect (`Batery`) shows up here."""
    counts = (np.asarray(gold) != 0).sum(axis=0) if len(gold) else np.zeros(len(aspects), dtype=int)
    return {a: int(c) for a, c in zip(aspects, counts, strict=True) if c <= RARE_ASPECT_ROWS}


#: How messages name an aspect list passed as `aspects=` (see [`name_aspect_source`]).
GIVEN_ASPECTS = "given via `aspects=`"


def name_aspect_source(error: AbsaInputError, source: str) -> AbsaInputError:
    """`error` with the aspect list's source, "given via `aspects=`", replaced by `source` (e.g. "those of the model
    runs/x/model"), for callers that took the list from a model's config."""
    return AbsaInputError(str(error).replace(f"({GIVEN_ASPECTS})", f"({source})"))


def _mismatch(path: Path, found: list[str], expected: list[str], source: str) -> AbsaInputError:
    missing = [a for a in expected if a not in found]
    extra = [a for a in found if a not in expected]
    hint = ""
    if sorted(a.lower() for a in found) == sorted(a.lower() for a in expected):
        hint = " The names differ only in upper/lower case; rename the columns or pass matching aspects."
    diff = "; ".join(
        part
        for part in (missing and f"missing from the file: {missing}", extra and f"not in the aspect list: {extra}")
        if part
    )
    return AbsaInputError(
        f"Aspect mismatch: {path} has aspect columns {found}, but the aspects in use ({source}) are {expected}; "
        f"{diff}.{hint} Fix the file's aspect columns, or load with the aspect list that matches the model "
        "(`aspects=` from its config)."
    )


def resolve_aspects(
    parsed: dict[str, ParsedFile], aspects: Iterable[str] | None, others_policy: str
) -> tuple[list[str], str]:
    """The aspect list in use and where it came from; raises when a file does not fit it."""
    declared = [p for p in parsed.values() if p.declared_aspects is not None]
    if aspects is not None:
        reference, source = list(aspects), GIVEN_ASPECTS
    elif declared:
        reference, source = list(declared[0].declared_aspects), f"the columns of {declared[0].path.name}"
    else:
        seen = list(dict.fromkeys(a for p in parsed.values() for a in p.first_seen))
        if all(p.format == "semeval_xml" for p in parsed.values()):
            first = parsed.get("train") or next(iter(parsed.values()))
            reference = sorted(first.first_seen, key=lambda a: (a.casefold(), a))
            source = f"the categories of {first.path.name}, sorted"
        elif all(p.format == "uit_visfd" for p in parsed.values()) and set(seen) <= set(UIT_VISFD_ASPECTS):
            reference = [a for a in UIT_VISFD_ASPECTS if others_policy != "drop" or a != UIT_OTHERS]
            source = "the UIT-ViSFD aspect order"
        elif "train" in parsed and len(parsed) > 1:
            # the training split declares the aspects: one that only another split mentions is an error below
            reference, source = (
                list(parsed["train"].first_seen),
                f"those of the training split {parsed['train'].path.name}",
            )
            logger.warning(
                "Aspect order taken from first appearance in %s: %s. Pass `aspects=` to fix it.",
                parsed["train"].path.name,
                reference,
            )
        else:
            reference, source = seen, FIRST_APPEARANCE
            logger.warning("Aspect order taken from first appearance in the data: %s. Pass `aspects=` to fix it.", seen)
        if not reference:
            raise AbsaInputError(
                f"No aspect is mentioned anywhere in {[str(p.path) for p in parsed.values()]}; pass `aspects=`."
            )
    try:
        validate_aspects(reference)
    except ValueError as error:
        raise AbsaInputError(
            f"{error} The aspects come from {source}: rename them there, or pass `aspects=`."
        ) from None
    for p in parsed.values():
        if p.declared_aspects is not None:
            if set(p.declared_aspects) != set(reference):
                raise _mismatch(p.path, p.declared_aspects, reference, source)
            continue
        for aspect, (row, line) in p.first_seen.items():
            if aspect not in reference:
                close = difflib.get_close_matches(aspect, reference, n=1, cutoff=0.75)
                raise AbsaInputError(
                    f"Aspect {aspect!r} at {where(p.path, row, line)} is not in the aspects in use ({source}): "
                    f"{reference}."
                    + (f" Did you mean {close[0]!r}?" if close else "")
                    + f" All aspects of the file: {list(p.first_seen)}. Fix the data, or load with "
                    "`aspects=` listing every aspect the model knows."
                    + (" (For UIT-ViSFD's {OTHERS}, others_policy='drop' ignores it.)" if aspect == UIT_OTHERS else "")
                )
    return reference, source


def _gold(parsed: ParsedFile, aspects: list[str]) -> np.ndarray:
    index = {a: j for j, a in enumerate(aspects)}
    gold = np.zeros((len(parsed.texts), len(aspects)), dtype=np.int64)  # [N, A] canonical
    for i, mention in enumerate(parsed.mentions):
        for aspect, code in mention.items():
            gold[i, index[aspect]] = code
    return gold


def _features(num_aspects: int, with_targets: bool = False):
    import datasets

    ints = getattr(datasets, "List", None) or datasets.Sequence
    features = {
        "text": datasets.Value("string"),
        "labels": ints(datasets.Value("int64"), length=num_aspects),
        "gold": ints(datasets.Value("int64"), length=num_aspects),
        "row": datasets.Value("int64"),
    }
    if with_targets:
        features["targets"] = targets_feature()
    return datasets.Features(features)


def load_absa_dataset(
    data_files: str | Path | Mapping[str, str | Path],
    *,
    format: str = "auto",
    aspects: Iterable[str] | None = None,
    sentiments: Iterable[str] | None = None,
    label_scheme: str = "absent_as_class",
    text_column: str | None = None,
    label_aliases: Mapping[str, Any] | None = None,
    others_policy: str = "neutral",
    drop_problems: bool | str | Iterable[str] = False,
    validation_split_percentage: float | None = None,
    validation_split_seed: int = DEFAULT_SEED,
) -> tuple[Any, DatasetReport]:
    r"""Read labelled review files into a `DatasetDict` with `text`, `labels`, `gold` and `row` columns.

    Args:
        data_files (`str`, `Path` or `dict[str, str | Path]`):
            `{"train": path, "validation": path, ...}`, one file, or a folder whose file names name the split
            (case-insensitive `train`, `validation`/`valid`/`val`/`dev`, `test`; e.g. `Train.csv`, `Dev.csv`).
            A single file becomes the split its name names, else `train`.
        format (`str`, *optional*, defaults to `"auto"`):
            `"wide_words"`, `"wide_int"`, `"uit_visfd"`, `"jsonl"`, `"semeval_xml"`, or `"auto"` to detect per
            file (JSONL and XML by suffix; a `label` column of `{ASPECT#Polarity};` strings is UIT-ViSFD; integer
            cells are `wide_int`).
        aspects (`list[str]`, *optional*):
            The aspect list to use, e.g. a model config's `aspects`. When omitted it comes from the data: the
            column order of the first wide file, the fixed UIT-ViSFD order (SCREEN, CAMERA, FEATURES, BATTERY,
            PERFORMANCE, STORAGE, DESIGN, PRICE, GENERAL, SER&ACC, OTHERS), the training file's categories
            sorted (SemEval XML; a category only in another split is then an error), or first appearance (JSONL).
        sentiments (`list[str]`, *optional*):
            The sentiment set, in class order (a model config's `sentiments`); defaults to positive, negative,
            neutral. Labels are matched case-insensitively against it (`conflict` is accepted once listed); any
            other label stops loading with its location and the flag that adds it (`--sentiments`).
        label_scheme (`str`, *optional*, defaults to `"absent_as_class"`):
            How `labels` is coded: `"absent_as_class"`, `"absent_as_neutral"` or `"mentioned_only"` (see `hf_visobert_absa.data.label_schemes`).
        text_column (`str`, *optional*):
            The column (JSON key) holding the text; by default the first of `text`, `data`, `comment`, `review`,
            `sentence`, `content` (any case; JSONL: `text`).
        label_aliases (`dict[str, str | int]`, *optional*):
            Extra raw labels and what they mean, matched case-insensitively, e.g. `{"Posititve": "positive"}`
            (targets: a sentiment, none, or a code 0-K). Every use is counted in the report.
        others_policy (`str`, *optional*, defaults to `"neutral"`):
            UIT-ViSFD's `{OTHERS}` has no polarity. `"neutral"`: OTHERS is an aspect, mentioned with neutral
            sentiment; `"drop"`: OTHERS tags are ignored and OTHERS is not an aspect; `"error"`: raise.
        drop_problems (`bool` or `list[str]`, *optional*, defaults to `False`):
            `True` drops rows with empty text, exact duplicates within a split (the first occurrence stays), rows
            with no aspect, and rows of other splits whose text is in `train`; or a list of kinds from
            `hf_visobert_absa.data.report.PROBLEM_KINDS`. The report always records what was dropped.
        validation_split_percentage (`float`, *optional*):
            Hold out this share (in %) of the training rows as the `validation` split, a seeded random sample
            (for data without a validation file, e.g. SemEval-2014); refused when a validation file is given.
            The report's `validation_split` records it.
        validation_split_seed (`int`, *optional*, defaults to 42): the seed of that sample.

    Returns:
        `tuple[datasets.DatasetDict, DatasetReport]`: the splits (in the order train, validation, test, others)
        and the report (`report.aspects` is the aspect order of `labels` and `gold`).

    Raises:
        `AbsaInputError`: a missing, empty, header-only or non-UTF-8 file; no text column; an unknown label
        (with the file, row, column, value, allowed values and a ready-to-paste `label_aliases`); aspect
        columns that do not match `aspects`; a bad argument value.

    Example:

    ```python
    >>> from hf_visobert_absa.data.loading import load_absa_dataset
    >>> dsd, report = load_absa_dataset("../shared/data/phone_reviews", label_aliases={"Posititve": "positive"})
    >>> dsd["train"].num_rows, len(report.aspects)
    (11930, 11)
    ```
    """
    _check_options(format, label_scheme, others_policy)
    drop = resolve_drop(drop_problems)
    sentiment_list = check_sentiments(sentiments, label_scheme)
    aspects = _check_given_aspects(aspects)
    aliases = normalize_aliases(dict(label_aliases or {}), sentiment_list)
    files, ignored = resolve_data_files(data_files)
    parsed = {
        split: read_file(path, format, text_column, aliases, others_policy, sentiment_list)
        for split, path in files.items()
    }
    held_out = None
    if validation_split_percentage is not None:
        parsed, held_out = hold_out_validation(parsed, validation_split_percentage, validation_split_seed)
    aspect_list, source = resolve_aspects(parsed, aspects, others_policy)
    report = DatasetReport(
        aspects=aspect_list,
        aspects_source=source,
        sentiments=sentiment_list,
        validation_split=held_out,
        label_scheme=label_scheme,
        others_policy=others_policy,
        label_aliases=dict(label_aliases or {}),
        drop_problems=drop,
        ignored_files=ignored,
    )
    return _split_datasets(parsed, report), report


def _check_given_aspects(aspects: Iterable[str] | None) -> list[str] | None:
    """The `aspects=` argument as a list, validated as the model config would."""
    if aspects is None:
        return None
    aspects = list(aspects)
    try:
        validate_aspects(aspects)
    except ValueError as error:
        raise AbsaInputError(f"{error} (command line: --aspects)") from None
    return aspects


def _split_datasets(parsed: dict[str, ParsedFile], report: DatasetReport) -> Any:
    """The `DatasetDict` of the rows each split keeps, with `report.splits` (and rare aspects) filled in."""
    import datasets

    gold = {split: _gold(p, report.aspects) for split, p in parsed.items()}
    masks, conflicts, reference = find_problems({split: p.texts for split, p in parsed.items()}, gold)
    _flag_rare_aspects(report, gold, report.aspects_source)
    drop = report.drop_problems
    out = {}
    for split, p in parsed.items():
        m = masks[split]
        keep = ~np.logical_or.reduce([m[kind] for kind in drop]) if drop else np.ones(len(p.texts), dtype=bool)
        report.splits[split] = _split_report(
            split, p, m, keep, gold[split][keep], drop, report, reference, conflicts[split]
        )
        out[split] = _split_dataset(split, p, gold[split], keep, report.label_scheme, report.sentiments)
    return datasets.DatasetDict(out)


def _check_options(format: str, label_scheme: str, others_policy: str) -> None:
    """Refuse a format, label scheme or `OTHERS` policy outside the allowed values."""
    if format not in FORMATS:
        raise AbsaInputError(f"`format` got {format!r}; allowed: {', '.join(map(repr, FORMATS))}.")
    if label_scheme not in LABEL_SCHEMES:
        raise AbsaInputError(f"`label_scheme` got {label_scheme!r}; allowed: {', '.join(map(repr, LABEL_SCHEMES))}.")
    if others_policy not in OTHERS_POLICIES:
        raise AbsaInputError(
            f"`others_policy` got {others_policy!r}; allowed: {', '.join(map(repr, OTHERS_POLICIES))}."
        )


def _flag_rare_aspects(report: DatasetReport, gold: dict[str, np.ndarray], source: str) -> None:
    """When the aspect list was read from the data, list (and warn about) aspects mentioned in very few rows."""
    if not (source == FIRST_APPEARANCE or source.startswith("those of the training split")):
        return
    reference_gold = gold["train"] if "train" in gold else np.concatenate(list(gold.values()))
    report.rare_aspects = rare_aspects(reference_gold, report.aspects)
    if report.rare_aspects:
        logger.warning(
            "Aspects mentioned in at most %d rows (misspelt?): %s. Pass `aspects=` to declare the list.",
            RARE_ASPECT_ROWS, report.rare_aspects,
        )  # fmt: skip


def _split_report(
    split: str,
    p: ParsedFile,
    masks: dict[str, np.ndarray],
    keep: np.ndarray,
    kept_gold: np.ndarray,
    drop: list[str],
    report: DatasetReport,
    reference: str | None,
    conflicts: Any,
) -> SplitReport:
    """What one split held: rows, kept rows, notes, problems and label counts per aspect."""
    names = ("none", *report.sentiments)
    if not keep.all():
        logger.info("%s: dropped %d of %d rows (%s)", split, int((~keep).sum()), keep.size, ", ".join(drop))
    return SplitReport(
        split=split,
        file=str(p.path),
        format=p.format,
        rows=len(p.texts),
        kept=int(keep.sum()),
        blank_lines=p.blank_lines,
        ignored_columns=p.ignored_columns,
        aliases_applied=dict(p.aliases_applied),
        others_tags=p.others_tags,
        format_notes=dict(p.notes),
        reference_split=None if split == reference else reference,
        problems=problems_for(masks, p.rows, conflicts),
        dropped={kind: int(masks[kind].sum()) for kind in drop},
        label_counts={
            aspect: {name: int((kept_gold[:, j] == code).sum()) for code, name in enumerate(names)}
            for j, aspect in enumerate(report.aspects)
        },
    )


def _split_dataset(
    split: str, p: ParsedFile, gold: np.ndarray, keep: np.ndarray, label_scheme: str, sentiments: list[str]
) -> Any:
    """The kept rows of one split as a `datasets.Dataset` (text, scheme-coded labels, canonical gold, file row)."""
    import datasets

    idx = np.flatnonzero(keep)
    columns = {
        "text": [p.texts[i] for i in idx],
        "labels": encode_labels(gold[keep], label_scheme, sentiments).tolist(),
        "gold": gold[keep].tolist(),
        "row": [p.rows[i] for i in idx],
    }
    if p.targets is not None:
        columns["targets"] = [p.targets[i] for i in idx]
    if not idx.size:
        logger.warning("Split %s has no rows left.", split)
    features = _features(gold.shape[1], with_targets="targets" in columns)
    return datasets.Dataset.from_dict(columns, features=features, split=datasets.NamedSplit(split))


def check_sentiments(sentiments: Iterable[str] | None, label_scheme: str = "absent_as_class") -> list[str]:
    """The sentiment list in use (default positive, negative, neutral), validated as the model config would."""
    names = list(SENTIMENTS) if sentiments is None else [str(s) for s in sentiments]
    try:
        validate_sentiments(names, label_scheme)
    except ValueError as error:
        raise AbsaInputError(f"{error} (command line: --sentiments positive,negative,neutral,conflict)") from None
    return names


__all__ = [
    "GIVEN_ASPECTS",
    "check_sentiments",
    "load_absa_dataset",
    "name_aspect_source",
]
