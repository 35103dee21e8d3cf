"""Which file holds which split: a mapping as given, one file, or a folder whose file names name the splits
(`Train.csv`, `dev.jsonl`, `Restaurants_Test_Gold.xml`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import AbsaInputError

logger = logging.getLogger(__name__)

#: File-name words (case-insensitive) that name a split in a data folder; `dev` and `val` mean validation.
SPLIT_WORDS: dict[str, str] = {
    "train": "train", "training": "train",
    "validation": "validation", "valid": "validation", "val": "validation", "dev": "validation",
    "development": "validation",
    "test": "test", "testing": "test",
}  # fmt: skip
DATA_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".jsonl", ".json", ".ndjson", ".xml")
_SPLIT_ORDER = ("train", "validation", "test")


def split_of(path: Path) -> str | None:
    """The split a file name names (`Train.csv` -> `train`, `Dev.csv` -> `validation`), or None."""
    words = {SPLIT_WORDS[w] for w in re.split(r"[^a-z]+", path.stem.lower()) if w in SPLIT_WORDS}
    return words.pop() if len(words) == 1 else None


#: What to do when a folder does not name its splits unambiguously (Python callers; the CLI passes its own).
DATA_FILES_HINT = "pass a dict data_files={'train': ..., 'validation': ...} instead"


def resolve_data_files(
    data_files: str | Path | Mapping[str, str | Path], hint: str = DATA_FILES_HINT
) -> tuple[dict[str, Path], list[str]]:
    """Turn `data_files` into `{split: file}` (train, validation, test first) and the folder files left unread.

    A mapping is taken as given; one file becomes the split its name names (else `train`, as in `datasets`);
    a folder contributes every data file whose name names exactly one split. `hint` ends the message when a
    folder names a split twice or names none.
    """
    if isinstance(data_files, Mapping):
        files = {str(split): Path(path) for split, path in data_files.items()}
        ignored: list[str] = []
        if not files:
            raise AbsaInputError("`data_files` is an empty mapping; give e.g. {'train': 'train.csv'}.")
    else:
        root = Path(data_files)
        if root.is_dir():
            files, ignored, clash = {}, [], {}
            for path in sorted(p for p in root.iterdir() if p.is_file()):
                split = split_of(path) if path.suffix.lower() in DATA_SUFFIXES else None
                if split is None:
                    ignored.append(path.name)
                    continue
                clash.setdefault(split, []).append(path.name)
                files[split] = path
            both = {split: names for split, names in clash.items() if len(names) > 1}
            if both:
                raise AbsaInputError(
                    f"{root}: several files name the same split: {both}. Keep one per split, or {hint}."
                )
            if not files:
                raise AbsaInputError(
                    f"{root} has no file named for a split (train / validation or dev / test, with suffix "
                    f"{', '.join(DATA_SUFFIXES)}); found {sorted(p.name for p in root.iterdir()) or 'nothing'}; "
                    f"{hint}."
                )
            if ignored:
                logger.info("Not read (not named for a split): %s", ", ".join(ignored))
        else:
            files, ignored = {split_of(root) or "train": root}, []
    for split, path in files.items():
        if not path.is_file():
            state = "is a folder" if path.is_dir() else "does not exist"
            raise AbsaInputError(f"Data file for split {split!r}: {path} {state}; give a CSV or JSONL file.")
    order = sorted(files, key=lambda s: (_SPLIT_ORDER.index(s) if s in _SPLIT_ORDER else len(_SPLIT_ORDER), s))
    return {split: files[split] for split in order}, ignored


__all__ = ["DATA_FILES_HINT", "DATA_SUFFIXES", "SPLIT_WORDS", "resolve_data_files", "split_of"]
