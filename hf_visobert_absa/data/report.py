"""What `load_absa_dataset` found in the data: counts of suspicious rows per split and what was dropped.

Problems are found on the data as read (before anything is dropped):

- `empty_text`: the text is empty, only whitespace, or missing.
- `duplicate_text`: the exact text already occurred earlier in the same split (the first occurrence is not
  counted; `conflicting` says how many of the repeats carry different labels than the first).
- `near_duplicate_text`: the text equals an earlier one of the split only after Unicode NFC, whitespace
  collapsing and case folding (informational; dropped only when named in `drop_problems`).
- `no_aspect`: the row mentions no aspect.
- `cross_split`: the exact text also occurs in the reference split (`train`, or the first split when there is
  no `train`); counted in the other splits, never in the reference itself.
- `near_cross_split`: as `cross_split`, after the normalisation above (informational).

Row numbers are 1-based data rows of the source file (the header is not counted).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import SENTIMENTS
from ..io_safety import write_json_atomic

PROBLEM_KINDS: tuple[str, ...] = (
    "empty_text", "duplicate_text", "near_duplicate_text", "no_aspect", "cross_split", "near_cross_split",
)  # fmt: skip
#: What `drop_problems=True` drops: every kind except the informational near-matches.
DEFAULT_DROP: tuple[str, ...] = ("empty_text", "duplicate_text", "no_aspect", "cross_split")
MAX_EXAMPLES = 10
_SPACES = re.compile(r"\s+")


@dataclass
class Problem:
    """A count of rows with one kind of problem, up to `MAX_EXAMPLES` of their 1-based data row numbers, and (for
    `duplicate_text`) how many repeats carry labels different from the first occurrence."""

    count: int = 0
    examples: list[int] = field(default_factory=list)
    conflicting: int | None = None


@dataclass
class SplitReport:
    r"""What was read from one split's file, what looked wrong, and what was kept.

    Args:
        split (`str`): the split name.
        file (`str`): the file it was read from.
        format (`str`): the layout read (`wide_words`, `wide_int`, `uit_visfd`, `jsonl`).
        rows (`int`): data rows read.
        kept (`int`): rows in the returned dataset.
        blank_lines (`int`): blank lines skipped (they are not rows).
        ignored_columns (`list[str]`): columns not used (UIT-ViSFD's index, n_star, date_time).
        aliases_applied (`dict[str, int]`): raw label -> number of cells `label_aliases` mapped.
        others_tags (`int`): UIT-ViSFD `{OTHERS}` tags handled by the `others_policy`.
        format_notes (`dict[str, int]`): counts of format-specific rules applied (SemEval XML: sentences out of
            scope, sentences without opinions, categories repeated with different polarities, ...).
        reference_split (`str` or `None`): the split `cross_split` compares with (`None` for that split itself).
        problems (`dict[str, Problem]`): per kind of `PROBLEM_KINDS`, found on the rows as read.
        dropped (`dict[str, int]`): per dropped kind, the rows having it (a row can have several kinds).
        label_counts (`dict[str, dict[str, int]]`): per aspect, kept rows per canonical label (none + sentiments).
    """

    split: str
    file: str
    format: str
    rows: int
    kept: int
    blank_lines: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    aliases_applied: dict[str, int] = field(default_factory=dict)
    others_tags: int = 0
    format_notes: dict[str, int] = field(default_factory=dict)
    reference_split: str | None = None
    problems: dict[str, Problem] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    label_counts: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class DatasetReport:
    r"""The report of a `load_absa_dataset` call: aspects in use, and per split the counts of problem rows.

    Args:
        aspects (`list[str]`): the aspect list, in the order of the `labels`/`gold` columns.
        aspects_source (`str`): where that list came from (given, a file's columns, UIT-ViSFD order, first seen).
        sentiments (`list[str]`): the sentiment set; canonical code k is its k-th name (0 = none).
        validation_split (`dict` or `None`): when the validation split was held out of the training file, how
            (`from`, `file`, `percentage`, `seed`, `rows`, `train_rows_left`).
        label_scheme (`str`): the scheme `labels` is coded in.
        others_policy (`str`): how UIT-ViSFD's polarity-less `{OTHERS}` tags were handled.
        label_aliases (`dict[str, Any]`): the aliases passed by the user.
        drop_problems (`list[str]`): the problem kinds whose rows were dropped (empty: nothing dropped).
        splits (`dict[str, SplitReport]`): one report per split.
        ignored_files (`list[str]`): files of a data folder that were not recognised as a split.
        rare_aspects (`dict[str, int]`): when no aspect list was declared (the aspects come from the data), the
            aspects mentioned in at most 2 training rows, with their counts: a misspelt aspect shows up here.

    Example:

    ```python
    >>> dsd, report = load_absa_dataset("../shared/data/phone_reviews", label_aliases={"Posititve": "positive"})
    >>> report.splits["train"].problems["duplicate_text"].count
    13
    >>> print(report.format())
    ```
    """

    aspects: list[str]
    aspects_source: str
    label_scheme: str
    others_policy: str
    label_aliases: dict[str, Any] = field(default_factory=dict)
    drop_problems: list[str] = field(default_factory=list)
    sentiments: list[str] = field(default_factory=lambda: list(SENTIMENTS))
    validation_split: dict[str, Any] | None = None
    splits: dict[str, SplitReport] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)
    rare_aspects: dict[str, int] = field(default_factory=dict)
    #: Splits cut to their first rows for a run (`--max_train_samples` ...): split -> {"used": n, "of": total}.
    subsets: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the whole report."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetReport:
        """Rebuild a report written by [`~DatasetReport.to_dict`] / [`~DatasetReport.to_json`]."""
        data = dict(data)
        splits = {}
        for name, split in data.pop("splits", {}).items():
            split = dict(split)
            split["problems"] = {k: Problem(**v) for k, v in split.get("problems", {}).items()}
            splits[name] = SplitReport(**split)
        return cls(splits=splits, **data)

    def to_json(self, path: str | Path) -> Path:
        """Write the report as UTF-8 JSON to `path` (parent folders are created) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, self.to_dict(), ensure_ascii=False)
        return path

    def format(self) -> str:
        """A plain-text table for people: one line per split, then notes with example row numbers."""
        notes = [note for split in self.splits.values() for note in self._split_notes(split)] + self._dataset_notes()
        return "\n".join(
            self._table_lines()
            + ["", "Notes (row = 1-based data row, header not counted):"]
            + [f"  - {n}" for n in notes]
        )

    def _table_lines(self) -> list[str]:
        """The heading line and the table of problem counts, one line per split."""
        head = (
            f"Dataset: {len(self.aspects)} aspects ({', '.join(self.aspects)}) from {self.aspects_source}; "
            f"sentiments {', '.join(self.sentiments)}; labels coded for {self.label_scheme!r}."
        )
        cols = ("split", "format", "rows", "kept", "empty", "dup", "near-dup", "no-aspect", "shared", "near-shared")
        table = [cols]
        for s in self.splits.values():
            p = s.problems
            shared = "-" if s.reference_split is None else str(p["cross_split"].count)
            near = "-" if s.reference_split is None else str(p["near_cross_split"].count)
            table.append((s.split, s.format, str(s.rows), str(s.kept), str(p["empty_text"].count),
                          str(p["duplicate_text"].count), str(p["near_duplicate_text"].count),
                          str(p["no_aspect"].count), shared, near))  # fmt: skip
        widths = [max(len(r[i]) for r in table) for i in range(len(cols))]
        lines = [head, ""] + ["  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in
                                        enumerate(zip(r, widths, strict=True))).rstrip() for r in table]  # fmt: skip
        lines.append("('shared' = rows whose text also occurs in the reference split named in the notes.)")
        return lines

    def _split_notes(self, s: SplitReport) -> list[str]:
        """The notes about one split: its problems with example rows, and every rule applied while reading it."""
        notes = []
        for kind in PROBLEM_KINDS:
            problem = s.problems.get(kind)
            if problem and problem.count:
                extra = f", {problem.conflicting} with different labels" if problem.conflicting else ""
                ref = f" ({s.reference_split})" if "cross" in kind else ""
                notes.append(f"{s.split}: {kind}{ref} {problem.count}{extra}; rows {_rows(problem)}")
        for value, count in s.aliases_applied.items():
            notes.append(f"{s.split}: label_aliases mapped {value!r} in {count} cell(s)")
        for rule, count in s.format_notes.items():
            notes.append(f"{s.split}: {rule}: {count}")
        if s.others_tags:
            notes.append(
                f"{s.split}: {s.others_tags} {{OTHERS}} tag(s) handled as others_policy={self.others_policy!r}"
            )
        if s.ignored_columns:
            notes.append(f"{s.split}: columns not used: {', '.join(s.ignored_columns)}")
        if s.blank_lines:
            notes.append(f"{s.split}: {s.blank_lines} blank line(s) skipped (not rows)")
        if any(s.dropped.values()):
            notes.append(f"{s.split}: dropped {s.rows - s.kept} row(s): {_counts(s.dropped)}")
        return notes

    def _dataset_notes(self) -> list[str]:
        """The notes about the whole dataset: the held-out validation split, rare aspects, subsets, files not read
        and what was dropped."""
        notes = []
        if self.validation_split:
            v = self.validation_split
            notes.append(
                f"validation: {v['rows']} row(s) held out of {v['from']} ({v['percentage']:g}%, seed {v['seed']}); "
                f"{v['train_rows_left']} left to train on"
            )
        if self.rare_aspects:
            notes.append(
                "rare aspects (no aspect list declared; mentioned in at most 2 training rows, a misspelling?): "
                + ", ".join(f"{a!r} {n}" for a, n in self.rare_aspects.items())
                + ". Fix the data, or declare the list with --aspects."
            )
        for split, subset in self.subsets.items():
            notes.append(f"{split}: only the first {subset['used']} of {subset['of']} rows used (a subset, by request)")
        if self.ignored_files:
            notes.append(f"files not recognised as a split and not read: {', '.join(self.ignored_files)}")
        notes.append(
            "dropped: " + (", ".join(self.drop_problems) if self.drop_problems else "nothing (drop_problems off)")
        )
        return notes


def _rows(problem: Problem) -> str:
    more = "" if problem.count <= len(problem.examples) else ", ..."
    return ", ".join(map(str, problem.examples)) + more


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v)


def normalized_text(text: str) -> str:
    """The key near-matches are compared on: NFC, whitespace collapsed and stripped, case-folded."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def resolve_drop(drop_problems: bool | str | Iterable[str]) -> list[str]:
    """`drop_problems` -> the list of problem kinds to drop (True = DEFAULT_DROP, False = none)."""
    if drop_problems is True:
        return list(DEFAULT_DROP)
    if drop_problems is False or drop_problems is None:
        return []
    kinds = [drop_problems] if isinstance(drop_problems, str) else list(drop_problems)
    unknown = [kind for kind in kinds if kind not in PROBLEM_KINDS]
    if unknown:
        raise AbsaInputError(
            f"`drop_problems` got {unknown}; allowed: True (= {list(DEFAULT_DROP)}), False, or a list of "
            f"{list(PROBLEM_KINDS)}."
        )
    return kinds


def find_problems(
    texts: dict[str, list[str]], gold: dict[str, np.ndarray]
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, int], str]:
    """Boolean masks `[N]` per split and problem kind, the number of conflicting duplicates per split, and the
    reference split that `cross_split` compares against."""
    reference = "train" if "train" in texts else next(iter(texts))
    ref_exact = {t for t in texts[reference] if t.strip()}
    ref_near = {normalized_text(t) for t in ref_exact}
    masks: dict[str, dict[str, np.ndarray]] = {}
    conflicts: dict[str, int] = {}
    for split, split_texts in texts.items():
        n = len(split_texts)
        m = {kind: np.zeros(n, dtype=bool) for kind in PROBLEM_KINDS}
        first_exact: dict[str, int] = {}
        first_near: set[str] = set()
        conflicting = 0
        for i, text in enumerate(split_texts):
            if not text.strip():
                m["empty_text"][i] = True
                continue
            near = normalized_text(text)
            if text in first_exact:
                m["duplicate_text"][i] = True
                conflicting += int(not np.array_equal(gold[split][i], gold[split][first_exact[text]]))
            elif near in first_near:
                m["near_duplicate_text"][i] = True
            first_exact.setdefault(text, i)
            first_near.add(near)
            if split != reference:
                if text in ref_exact:
                    m["cross_split"][i] = True
                elif near in ref_near:
                    m["near_cross_split"][i] = True
        m["no_aspect"] = ~gold[split].any(axis=1) if n else m["no_aspect"]
        masks[split] = m
        conflicts[split] = conflicting
    return masks, conflicts, reference


def problems_for(mask: dict[str, np.ndarray], rows: list[int], conflicting: int) -> dict[str, Problem]:
    """One split's masks -> `Problem`s with source row numbers as examples."""
    result = {}
    for kind in PROBLEM_KINDS:
        where = np.flatnonzero(mask[kind])
        result[kind] = Problem(int(where.size), [int(rows[i]) for i in where[:MAX_EXAMPLES]])
    result["duplicate_text"].conflicting = conflicting
    return result


__all__ = ["DEFAULT_DROP", "PROBLEM_KINDS", "DatasetReport", "Problem", "SplitReport", "resolve_drop"]
