"""Reading text files strictly: UTF-8 (with or without a byte-order mark) and CSV with quoted newlines.

Used by the file readers of `hf_visobert_absa.data.formats` and by `hf_visobert_absa.cli.predict`. Rows are numbered
the same way in every message: the 1-based DATA row (the header is not counted, blank lines are not rows), followed
by the 1-based line of the file where the row starts.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AbsaInputError

ROW_NOTE = "1-based data row, header not counted"


@dataclass
class CsvTable:
    """A CSV's header, its data rows (lists of cells), the line each row starts on, and blank lines skipped."""

    path: Path
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]
    blank_lines: int


def where(path: Path, row: int, line: int) -> str:
    """How every message names a place: the file, the 1-based data row and the line where the row starts."""
    return f"{path}, row {row} ({ROW_NOTE}; line {line} of the file)"


def decode_utf8(path: Path) -> str:
    """The file's text; an empty file or invalid UTF-8 (with byte offset and line) raises `AbsaInputError`."""
    data = path.read_bytes()
    if not data.strip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf").strip(b" \t\r\n"):
        raise AbsaInputError(
            f"{path} is empty: no header and no rows. Expected a CSV with a header line or JSON lines."
        )
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # the byte-order mark
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        start, end = exc.start + skip, exc.end + skip  # offsets in the file, BOM included
        raise _not_utf8(path, data[start:end], start, data.count(b"\n", 0, start) + 1) from None


def _not_utf8(path: Path, bad: bytes, offset: int, line: int) -> AbsaInputError:
    return AbsaInputError(
        f"{path} is not valid UTF-8: byte(s) {bad.hex(' ')} at byte offset {offset} (line {line} of the file). "
        "Save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet, or `iconv -f <encoding> -t utf-8`)."
    )


def check_utf8_file(path: Path, block_size: int = 1 << 20) -> None:
    """Check a file of any size block by block, as [`decode_utf8`] does without reading it whole: raise
    `AbsaInputError` when it is empty (only whitespace and a byte-order mark) or not valid UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    content = False
    with open(path, "rb") as handle:
        offset = 3 if handle.read(3) == b"\xef\xbb\xbf" else 0  # bytes before the current block
        handle.seek(offset)
        newlines = 0  # newlines before the current block
        while True:
            block = handle.read(block_size)
            pending = decoder.getstate()[0]  # the start of a character cut by the previous block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                data = pending + block
                line = newlines + data.count(b"\n", 0, exc.start) + 1
                raise _not_utf8(path, data[exc.start : exc.end], offset - len(pending) + exc.start, line) from None
            if not block:
                break
            content = content or bool(block.strip(b" \t\r\n"))
            offset += len(block)
            newlines += block.count(b"\n")
    if not content:
        raise AbsaInputError(
            f"{path} is empty: no header and no rows. Expected a CSV with a header line or JSON lines."
        )


def read_csv_table(path: Path) -> CsvTable:
    """Read a CSV (or TSV by suffix) strictly: UTF-8 with or without BOM, quoted newlines, equal field counts."""
    text = decode_utf8(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    with csv_field_limit(path):
        return _read_records(path, reader)


def _read_records(path: Path, reader: Any) -> CsvTable:
    columns: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    blank, end = 0, 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record:
                blank += 1
                continue
            if columns is None:
                columns = [name.strip() for name in record]
                check_header(path, columns)
                continue
            if len(record) != len(columns):
                raise field_count_error(path, len(rows) + 1, start, end, record, len(columns))
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise csv_error(path, reader.line_num, exc) from None
    if columns is None:
        raise AbsaInputError(f"{path} is empty: no header and no rows.")
    if not rows:
        raise AbsaInputError(f"{path} has a header ({', '.join(columns)}) but no data rows.")
    return CsvTable(path, columns, rows, lines, blank)


@contextlib.contextmanager
def csv_field_limit(path: Path) -> Iterator[None]:
    """Let one CSV field be as long as the whole file while reading `path` (Python's default limit is 131,072
    characters, which a long review can exceed); the previous limit is restored afterwards."""
    size = os.path.getsize(path) + 1
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, min(size, 2**31 - 1)))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def field_count_error(path: Path, row: int, start: int, end: int, record: list[str], expected: int) -> AbsaInputError:
    """The message for a data row whose field count differs from the header's; a row that spans lines gets the
    hint that a quote may never have been closed."""
    spans = ""
    if end > start:
        spans = (
            f' The row spans lines {start}-{end}: if it should not, a quote (") opened on line {start} is never '
            "closed, so the lines after it were read as one field."
        )
    return AbsaInputError(
        f"{where(path, row, start)} has {len(record)} fields but the header has {expected}.{spans} Quote text fields "
        'that contain commas or newlines ("...") and check the header.'
    )


def csv_error(path: Path, line: int, exc: csv.Error) -> AbsaInputError:
    """The message for a `csv.Error` (e.g. a NUL byte)."""
    return AbsaInputError(f"{path} is not a readable CSV near line {line}: {exc}.")


def check_header(path: Path, columns: list[str]) -> None:
    """Every column of a CSV header named, and no name twice (train and predict read headers through this)."""
    if any(not name for name in columns):
        position = [i + 1 for i, name in enumerate(columns) if not name]
        raise AbsaInputError(
            f"{path}: header column(s) {position} (1-based) have no name. Name every column, or remove an index "
            "column (pandas: `to_csv(..., index=False)`)."
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise AbsaInputError(f"{path}: the header repeats column name(s) {repeated}; every column needs its own name.")


__all__ = [
    "ROW_NOTE",
    "CsvTable",
    "check_header",
    "check_utf8_file",
    "csv_error",
    "csv_field_limit",
    "field_count_error",
    "decode_utf8",
    "read_csv_table",
    "where",
]
