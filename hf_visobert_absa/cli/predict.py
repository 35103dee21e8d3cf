"""`hf-visobert-absa predict`: label a file (CSV or JSONL) or stdin lines with a trained model, in batches.

Every input row is written exactly once, in input order, with the predictions added. A row whose text is
empty (or JSON `null`) is written with empty predictions and `status` "skipped: empty text"; a JSONL row whose text
is not a string (a number, a list, ...) gets "skipped: text is not a string"; both are counted at the end. An input
file is checked before anything is written (UTF-8, not empty, CSV fields and data rows), so a bad file leaves no
half-written output.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from ..data.csv_table import check_utf8_file, csv_error, where
from ..errors import AbsaInputError

logger = logging.getLogger(__name__)

TEXT_COLUMNS = ("text", "data", "comment", "review", "content", "sentence")

EXAMPLES = """examples:
  hf-visobert-absa predict --model runs/phone/model --input reviews.csv --output labelled.csv
  hf-visobert-absa predict --model runs/phone/model --input reviews.jsonl --output labelled.jsonl
  printf 'Pin trâu, camera đẹp\\nGiao hàng chậm\\n' | hf-visobert-absa predict --model runs/phone/model
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-visobert-absa predict",
        description="Label reviews with a trained model. CSV in -> CSV out (pred_<aspect> columns added); "
        "JSONL in -> JSONL out (a `predictions` object added); stdin lines -> JSONL lines.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="A trained model folder.")
    parser.add_argument("--input", default="-", help="CSV or JSONL file, or '-' for one review per stdin line.")
    parser.add_argument("--output", default="-", help="Output file, or '-' for stdout.")
    parser.add_argument("--text_column", default=None, help=f"Text column/key (default: first of {TEXT_COLUMNS}).")
    parser.add_argument("--batch_size", type=int, default=64, help="Reviews per forward pass.")
    parser.add_argument("--chunk_size", type=int, default=512, help="Rows read, scored and written at a time.")
    parser.add_argument("--max_length", type=int, default=256)
    parser.add_argument("--threshold", type=float, default=0.5, help="An aspect is mentioned when P(none) < this.")
    return parser


def check_input_file(path: Path, text_column: str | None) -> None:
    """Read an input file once before predicting: UTF-8, not empty, and for a CSV a text column, equal field
    counts and at least one data row. Raises `AbsaInputError` naming the file, row, line and what to fix."""
    check_utf8_file(path)  # also refuses an empty file
    if path.suffix.lower() != ".csv":
        return
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        fields: list[str] | None = None
        rows, end = 0, 0
        try:
            for record in reader:
                start, end = end + 1, reader.line_num
                if not record:
                    continue
                if fields is None:
                    fields = record
                    _text_column(path, fields, text_column)
                    continue
                rows += 1
                if len(record) != len(fields):
                    raise AbsaInputError(
                        f"{where(path, rows, start)} has {len(record)} fields but the header has {len(fields)}. "
                        "Quote text fields that contain commas or newlines (\"...\") and check the header."
                    )
        except csv.Error as exc:
            raise csv_error(path, reader.line_num, exc) from None
    if not rows:
        raise AbsaInputError(f"{path} has a header ({', '.join(fields or [])}) but no data rows.")


def _text_column(path: Path, fields: list[str], text_column: str | None) -> str:
    column = text_column or next((c for c in fields if c.strip().lower() in TEXT_COLUMNS), None)
    if column not in fields:
        wanted = repr(text_column) if text_column else f"(none of {list(TEXT_COLUMNS)})"
        raise AbsaInputError(f"{path}: no text column {wanted}; columns are {fields}. Pass `--text_column NAME`.")
    return column


def _csv_rows(path: Path, text_column: str | None) -> tuple[list[str], str, Iterator[dict]]:
    handle = open(path, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(handle)
    fields = list(reader.fieldnames or [])
    column = _text_column(path, fields, text_column)

    def rows() -> Iterator[dict]:
        with handle:
            yield from reader

    return fields, column, rows()


def _jsonl_rows(lines: Iterator[str], source: str, text_key: str | None) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise AbsaInputError(f"{source}, line {number}: not valid JSON ({error.msg}).") from None
        if not isinstance(row, dict):
            raise AbsaInputError(f"{source}, line {number}: expected a JSON object, got {type(row).__name__}.")
        yield number, row


def main(argv: list[str]) -> int:
    from ..data.label_schemes import predictions_from_probabilities
    from ..evaluation.inference import chunked, predict_probabilities
    from .evaluate import load_trained

    args = build_parser().parse_args(argv)
    if args.batch_size < 1 or args.chunk_size < 1:
        raise AbsaInputError("`--batch_size` and `--chunk_size` must be positive integers.")
    model, tokenizer = load_trained(args.model)
    aspects = list(model.config.aspects)
    scheme = model.config.label_scheme
    names = model.config.canonical_names  # none, then the model's sentiments

    def label(texts: list[str]) -> list[dict[str, str]]:
        keep = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        results: list[dict[str, str]] = [{} for _ in texts]
        if keep:
            probabilities = predict_probabilities(
                model, tokenizer, [texts[i] for i in keep], args.batch_size, args.max_length
            )
            predictions = predictions_from_probabilities(probabilities, scheme, args.threshold)
            for row_index, prediction in zip(keep, predictions, strict=True):
                results[row_index] = {
                    aspect: names[code] for aspect, code in zip(aspects, prediction, strict=True) if code
                }
        return results

    source = Path(args.input) if args.input != "-" else None
    if source is not None:
        if not source.is_file():
            raise AbsaInputError(f"`--input` {args.input} does not exist.")
        if source.suffix.lower() not in (".csv", ".jsonl", ".json"):
            raise AbsaInputError(
                f"`--input` {args.input}: unsupported file type {source.suffix or '(none)'!r}; allowed: .csv (a header "
                "row with a text column) or .jsonl (one JSON object per line). For one review per line, pipe the "
                "file to stdin: `hf-visobert-absa predict --model MODEL < reviews.txt`."
            )
        check_input_file(source, args.text_column)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8", newline="")
    written = skipped = not_text = 0
    try:
        if source is not None and source.suffix.lower() == ".csv":
            fields, column, rows = _csv_rows(source, args.text_column)
            extra = [f"pred_{a}" for a in aspects] + ["status"]
            writer = csv.DictWriter(out, fieldnames=fields + extra)
            writer.writeheader()
            for chunk in chunked(rows, args.chunk_size):
                labels = label([row.get(column) or "" for row in chunk])
                for row, predicted in zip(chunk, labels, strict=True):
                    empty = not (row.get(column) or "").strip()
                    skipped += empty
                    row.update({f"pred_{a}": predicted.get(a, "") for a in aspects})
                    row["status"] = "skipped: empty text" if empty else "ok"
                    writer.writerow(row)
                    written += 1
                out.flush()
        else:
            if source is None:
                lines = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="strict")
                items = ((n, {"text": line.rstrip("\n")}) for n, line in enumerate(lines, start=1))
                key = "text"
            else:
                key = args.text_column or "text"
                items = _jsonl_rows(open(source, encoding="utf-8-sig"), str(source), key)
            for chunk in chunked(items, args.chunk_size):
                texts = []
                for number, row in chunk:
                    if source is not None and key not in row:
                        raise AbsaInputError(
                            f"{source}, line {number}: no {key!r} key; keys are {sorted(row)}. Pass `--text_column`."
                        )
                    texts.append(row.get(key) if isinstance(row.get(key), str) else "")
                for (_, row), predicted, text in zip(chunk, label(texts), texts, strict=True):
                    wrong_type = row.get(key) is not None and not isinstance(row.get(key), str)
                    empty = not wrong_type and not text.strip()
                    skipped += empty
                    not_text += wrong_type
                    row["predictions"] = predicted
                    row["status"] = (
                        "skipped: text is not a string" if wrong_type else "skipped: empty text" if empty else "ok"
                    )
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    written += 1
                out.flush()
    except UnicodeDecodeError as error:  # only stdin can get here: input files are checked first
        raise AbsaInputError(
            f"stdin is not valid UTF-8: byte(s) {error.object[error.start : error.end].hex(' ')} ({error.reason}); "
            f"{written} row(s) had been written before it. Pipe UTF-8 text (e.g. `iconv -f <encoding> -t utf-8`)."
        ) from None
    finally:
        if out is not sys.stdout:
            out.close()
    also = f", {not_text} skipped (text is not a string)" if not_text else ""
    print(f"{written} rows written{f' to {args.output}' if args.output != '-' else ''}; "
          f"{skipped} skipped (empty text){also}", file=sys.stderr)
    return 0
