"""`hf-visobert-absa predict`: label a file (CSV or JSONL) or stdin lines with a trained model, in batches.

Every input row is written exactly once, in input order, with the predictions added. A row whose text is
empty (or JSON `null`) is written with empty predictions and `status` "skipped: empty text"; a JSONL row whose text
is not a string (a number, a list, ...) gets "skipped: text is not a string"; both are counted at the end. An input
file is checked before anything is written (UTF-8, not empty, CSV fields and data rows). The output file is written
to a temporary file beside it and renamed into place only when every row is written, so a failure leaves no
half-written output; an output that resolves to the input is refused before anything is opened. The text column is
found by the rule `train` and `evaluate` use (`find_text_column`).

Several processes: launched by `torchrun --nproc_per_node N -m hf_visobert_absa.cli.main predict ...` (or
`accelerate launch`), every rank reads the input, scores its share of each chunk's length-sorted batches, and rank 0
assembles the chunk in input order and writes the one output file (`evaluation.sharded`). The output is the one a
single process writes. `--int8` runs the model in int8 on the CPU through ONNX Runtime (`evaluation.int8`).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..checks import check_positive, check_threshold
from ..data.csv_table import check_header, check_utf8_file, csv_error, csv_field_limit, field_count_error
from ..data.formats import TEXT_COLUMN_CANDIDATES, find_text_column
from ..data.jsonl_file import jsonl_text_key, read_json_line
from ..errors import AbsaInputError
from ..io_safety import atomic_write, check_output_file
from .options import add_scoring_arguments

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  hf-visobert-absa predict --model runs/phone/model --input reviews.csv --output labelled.csv
  hf-visobert-absa predict --model runs/phone/model --input reviews.jsonl --output labelled.jsonl
  printf 'Pin trâu, camera đẹp\\nGiao hàng chậm\\n' | hf-visobert-absa predict --model runs/phone/model
  hf-visobert-absa predict --model runs/phone/model --input reviews.csv --output labelled.csv --int8
  hf-visobert-absa predict --model runs/phone/model --input reviews.jsonl --output labelled.jsonl --evidence
  torchrun --nproc_per_node 2 -m hf_visobert_absa.cli.main predict --model runs/phone/model --input reviews.csv --output labelled.csv
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
    parser.add_argument(
        "--text_column",
        default=None,
        help=f"Text column/key (default: CSV, the first of {TEXT_COLUMN_CANDIDATES} present, in that order; JSONL, 'text').",
    )
    parser.add_argument("--batch_size", type=int, default=64, help="Reviews per forward pass.")
    parser.add_argument("--chunk_size", type=int, default=512, help="Rows read, scored and written at a time.")
    add_scoring_arguments(parser)
    parser.add_argument(
        "--probabilities",
        action="store_true",
        help="Also write each aspect's class probabilities: "
        "a `probabilities` JSON column (CSV) or key (JSONL), {aspect: {class: probability}}.",
    )
    parser.add_argument(
        "--evidence",
        action="store_true",
        help="Also write each predicted aspect's evidence, its best words with character offsets into the text: an "
        '`evidence` JSON column (CSV) or key (JSONL), {aspect: [{"word", "start", "end", "weight"}, ...]}.',
    )
    parser.add_argument(
        "--evidence_method",
        default="attention",
        choices=["attention", "integrated_gradients"],
        help="attention (default): the model's aspect attention, one pass, needs aspect_query pooling; "
        'integrated_gradients: any pooling, slower, needs pip install "hf-visobert-absa[attribution]".',
    )
    parser.add_argument("--evidence_top_k", type=int, default=3, help="Evidence words per aspect (default 3).")
    parser.add_argument(
        "--int8",
        action="store_true",
        help="Run the model in int8 on the CPU through ONNX Runtime "
        '(about 2x the reviews/s at ViSoBERT size; needs pip install "hf-visobert-absa[int8]").',
    )
    parser.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda"],
        help="cpu (default) or cuda; under torchrun each rank takes cuda:LOCAL_RANK.",
    )
    return parser


def check_input_file(path: Path, text_column: str | None) -> None:
    """Read an input file once before predicting: UTF-8, not empty, and for a CSV a text column, equal field
    counts and at least one data row. Raises `AbsaInputError` naming the file, row, line and what to fix."""
    check_utf8_file(path)  # also refuses an empty file
    if path.suffix.lower() != ".csv":
        return
    with open(path, encoding="utf-8-sig", newline="") as handle, csv_field_limit(path):
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
                    find_text_column(path, fields, text_column)
                    continue
                rows += 1
                if len(record) != len(fields):
                    raise field_count_error(path, rows, start, end, record, len(fields))
        except csv.Error as exc:
            raise csv_error(path, reader.line_num, exc) from None
    if not rows:
        raise AbsaInputError(f"{path} has a header ({', '.join(fields or [])}) but no data rows.")


def _check_evidence_method(args: argparse.Namespace, config: Any) -> None:
    """`--evidence` with a method this model and this install can run (read from the folder's config)."""
    from ..evidence.attribution import captum_available

    if args.evidence_method == "attention" and config.pooling != "aspect_query":
        raise AbsaInputError(
            f"`--evidence_method attention` needs pooling='aspect_query'; {args.model} uses {config.pooling!r}. "
            "Pass `--evidence_method integrated_gradients` (pip install 'hf-visobert-absa[attribution]')."
        )
    if args.evidence_method == "integrated_gradients" and not captum_available():
        raise AbsaInputError(
            "`--evidence_method integrated_gradients` needs Captum: pip install 'hf-visobert-absa[attribution]', "
            "or use `--evidence_method attention`."
        )


def _check_arguments(args: argparse.Namespace) -> Path | None:
    """Every check that needs no model: numbers, the input file, the output path. Returns the input path."""
    check_positive(args.batch_size, "--batch_size")
    check_positive(args.chunk_size, "--chunk_size")
    if args.threshold is not None:
        check_threshold(args.threshold)
    check_positive(args.evidence_top_k, "--evidence_top_k")
    if args.evidence and (args.int8 or _world_size() > 1):
        raise AbsaInputError(
            "`--evidence` runs the PyTorch model in one process: drop `--int8` (and torchrun) or `--evidence`."
        )
    if args.int8 and args.device != "cpu":
        raise AbsaInputError("`--int8` runs on the CPU (ONNX Runtime); drop `--device cuda` or `--int8`.")
    if args.device == "cuda" and not _cuda_available():
        raise AbsaInputError("`--device cuda` was asked for but torch sees no CUDA device; use `--device cpu`.")
    source = None if args.input == "-" else Path(args.input)
    if source is None and _world_size() > 1:
        raise AbsaInputError(
            "`--input -` (stdin) cannot be shared by several processes; pass a CSV or JSONL file with `--input`."
        )
    if args.output != "-":
        # before the input is read or anything is opened: an output that is an input would be destroyed
        check_output_file(args.output, [source, args.model])
    if source is None:
        return None
    if not source.is_file():
        state = "is a folder" if source.is_dir() else "does not exist"
        raise AbsaInputError(f"`--input` {args.input} {state}. Pass a CSV or JSONL file, or '-' for stdin.")
    if source.suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise AbsaInputError(
            f"`--input` {args.input}: unsupported file type {source.suffix or '(none)'!r}; allowed: .csv (a header "
            "row with a text column) or .jsonl (one JSON object per line). For one review per line, pipe the "
            "file to stdin: `hf-visobert-absa predict --model MODEL < reviews.txt`."
        )
    check_input_file(source, args.text_column)
    return source


def _jsonl_rows(lines: Iterator[str], source: str) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = read_json_line(line, f"{source}, line {number}")
        if not isinstance(row, dict):
            raise AbsaInputError(f"{source}, line {number}: expected a JSON object, got {type(row).__name__}.")
        yield number, row


@dataclass
class _Labeller:
    """Scores chunks of texts with the model and counts what was written and skipped."""

    model: Any
    tokenizer: Any
    args: argparse.Namespace
    shard: Any = None  # evaluation.sharded.Shard
    written: int = 0
    skipped: int = 0
    not_text: int = 0
    progress: Any = None  # a tqdm bar counting rows (the total is unknown while streaming)
    distributions: list[dict[str, dict[str, float]]] = field(
        default_factory=list
    )  # of the last chunk (--probabilities)
    evidence: list[dict[str, list]] = field(default_factory=list)  # of the last chunk (--evidence)
    pipe: Any = None  # the aspect-sentiment pipeline that finds evidence (--evidence)

    @property
    def aspects(self) -> list[str]:
        return list(self.model.config.aspects)

    def __call__(self, texts: list[str]) -> list[dict[str, str]]:
        from ..data.label_schemes import predictions_from_probabilities
        from ..evaluation.sharded import score_texts_sharded

        keep = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        results: list[dict[str, str]] = [{} for _ in texts]
        self.distributions = [{} for _ in texts]
        self.evidence = [{} for _ in texts]
        if keep:
            args = self.args
            kept = [texts[i] for i in keep]
            probabilities = score_texts_sharded(
                self.model, self.tokenizer, kept, self.shard, args.batch_size, args.max_length
            )
            if probabilities is None:  # another rank assembles and writes
                return results
            config = self.model.config
            threshold = config.thresholds if args.threshold is None else args.threshold
            predictions = predictions_from_probabilities(probabilities, config.label_scheme, threshold)
            for row_index, prediction in zip(keep, predictions, strict=True):
                results[row_index] = {
                    a: self.model.config.canonical_names[code]
                    for a, code in zip(self.aspects, prediction, strict=True)
                    if code
                }
            if getattr(args, "evidence", False):
                self._add_evidence(kept, keep, results)
            if getattr(args, "probabilities", False):
                names = list(config.class_names)
                for row_index, rows in zip(keep, probabilities.tolist(), strict=True):
                    self.distributions[row_index] = {
                        a: {n: round(p, 6) for n, p in zip(names, row, strict=True)}
                        for a, row in zip(self.aspects, rows, strict=True)
                    }
        if self.progress is not None:
            self.progress.update(len(texts))
        return results

    def _add_evidence(self, texts: list[str], rows: list[int], results: list[dict[str, str]]) -> None:
        """Each predicted aspect's evidence (the pipeline's `return_evidence`, on the same window)."""
        from ..evidence.attribution import integrated_gradients
        from ..hub.pipeline_visobert_absa import AspectSentimentPipeline

        args = self.args
        if self.pipe is None:
            self.pipe = AspectSentimentPipeline(model=self.model, tokenizer=self.tokenizer, device=self.model.device)
        method = integrated_gradients if args.evidence_method == "integrated_gradients" else "attention"
        found = self.pipe(
            texts, return_all_aspects=True, return_evidence=True, evidence_top_k=args.evidence_top_k,
            evidence_method=method, max_length=args.max_length, batch_size=args.batch_size,
        )  # fmt: skip
        for row_index, entries in zip(rows, found, strict=True):
            by_aspect = {entry["aspect"]: entry["evidence"] for entry in entries}
            self.evidence[row_index] = {aspect: by_aspect[aspect] for aspect in results[row_index]}


def _write_csv(out: TextIO, source: Path, text_column: str | None, label: _Labeller, chunk_size: int) -> None:
    from ..evaluation.inference import chunked

    with open(source, encoding="utf-8-sig", newline="") as handle, csv_field_limit(source):
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        check_header(source, fields)
        column = find_text_column(source, fields, text_column)
        added = [f"pred_{a}" for a in label.aspects] + ["status"] + _optional_fields(label.args)
        _refuse_taken(source, [f for f in added if f in fields], "column")
        writer = csv.DictWriter(out, fieldnames=fields + added)
        writer.writeheader()
        for chunk in chunked(reader, chunk_size):
            predictions = label([row.get(column) or "" for row in chunk])
            for row, predicted, distribution, evidence in zip(
                chunk, predictions, label.distributions, label.evidence, strict=True
            ):
                empty = not (row.get(column) or "").strip()
                label.skipped += empty
                row.update({f"pred_{a}": predicted.get(a, "") for a in label.aspects})
                row["status"] = "skipped: empty text" if empty else "ok"
                if label.args.probabilities:
                    row["probabilities"] = json.dumps(distribution, ensure_ascii=False) if distribution else ""
                if label.args.evidence:
                    row["evidence"] = json.dumps(evidence, ensure_ascii=False) if not empty else ""
                writer.writerow(row)
                label.written += 1
            out.flush()


def _optional_fields(args: argparse.Namespace) -> list[str]:
    """The columns (CSV) or keys (JSONL) written on request."""
    return [name for name in ("probabilities", "evidence") if getattr(args, name, False)]


def _refuse_taken(source: Path | None, taken: list[str], what: str) -> None:
    """An input that already has a field predict writes (e.g. predict's own output): writing would replace it."""
    if taken:
        raise AbsaInputError(
            f"{source or 'stdin'}: {what}(s) {taken} already exist and predict writes them; its predictions would "
            f"replace them. Rename or drop {', '.join(taken)} first (or label the original input instead)."
        )


def _write_jsonl(out: TextIO, source: Path | None, text_column: str | None, label: _Labeller, chunk_size: int) -> None:
    from ..evaluation.inference import chunked

    with contextlib.ExitStack() as files:  # the input file is closed however labelling ends
        if source is None:
            lines = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="strict")
            items: Iterator[tuple[int, dict]] = (
                (n, {"text": line.rstrip("\n")}) for n, line in enumerate(lines, start=1)
            )
            key = "text"
        else:
            key = jsonl_text_key(text_column)
            items = _jsonl_rows(files.enter_context(open(source, encoding="utf-8-sig")), str(source))
        for chunk in chunked(items, chunk_size):
            texts = []
            for number, row in chunk:
                if source is not None and key not in row:
                    raise AbsaInputError(
                        f"{source}, line {number}: no {key!r} key; keys are {sorted(row)}. Pass `--text_column`."
                    )
                texts.append(row.get(key) if isinstance(row.get(key), str) else "")
                written = ("predictions", "status", *_optional_fields(label.args))
                _refuse_taken(source, [k for k in written if k in row], f"line {number}: key")
            predictions = label(texts)
            for (_, row), predicted, text, distribution, evidence in zip(
                chunk, predictions, texts, label.distributions, label.evidence, strict=True
            ):
                wrong_type = row.get(key) is not None and not isinstance(row.get(key), str)
                empty = not wrong_type and not text.strip()
                label.skipped += empty
                label.not_text += wrong_type
                row["predictions"] = predicted
                if label.args.probabilities:
                    row["probabilities"] = distribution
                if label.args.evidence:
                    row["evidence"] = evidence
                row["status"] = (
                    "skipped: text is not a string" if wrong_type else "skipped: empty text" if empty else "ok"
                )
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                label.written += 1
            out.flush()


def _write(out: TextIO, source: Path | None, args: argparse.Namespace, label: _Labeller) -> None:
    if source is not None and source.suffix.lower() == ".csv":
        _write_csv(out, source, args.text_column, label, args.chunk_size)
    else:
        _write_jsonl(out, source, args.text_column, label, args.chunk_size)


def _world_size() -> int:
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _load(args: argparse.Namespace) -> _Labeller:
    """The model (int8 if asked, on this rank's device) and tokenizer, and this process's shard of the work."""
    from tqdm.auto import tqdm

    from ..evaluation.inference import resolve_max_length
    from ..evaluation.sharded import start_shard
    from ..model_folder import validate_model_folder
    from .evaluate import load_trained, show_progress

    config = validate_model_folder(args.model, "--model")  # the config (milliseconds), before any weight loads
    if args.evidence:
        _check_evidence_method(args, config)
    model, tokenizer = load_trained(args.model, validated=True)
    args.max_length = resolve_max_length(args.max_length, model.config, tokenizer)
    shard = start_shard(args.device)
    if args.int8:
        from ..evaluation.int8 import quantize_int8

        model = quantize_int8(model)
    else:
        model = model.to(shard.device)
    show = shard.is_main and show_progress(args.disable_tqdm)
    progress = tqdm(desc="Labelling", unit="row", disable=not show)
    return _Labeller(model, tokenizer, args, shard, progress=progress)


def main(argv: list[str]) -> int:
    import os

    from ..evaluation.sharded import stop_shard

    args = build_parser().parse_args(argv)
    source = _check_arguments(args)
    label = _load(args)
    try:
        if not label.shard.is_main:  # scores its share; rank 0 writes the one output
            with open(os.devnull, "w", encoding="utf-8", newline="") as out:
                _write(out, source, args, label)
        elif args.output == "-":
            _write(sys.stdout, source, args, label)
        else:
            with atomic_write(args.output, newline="") as out:  # in place only once every row is written
                _write(out, source, args, label)
    except (AbsaInputError, UnicodeDecodeError) as error:
        if isinstance(error, UnicodeDecodeError):  # only stdin can get here: input files are checked first
            error = AbsaInputError(
                f"stdin is not valid UTF-8: byte(s) {error.object[error.start : error.end].hex(' ')} ({error.reason}). "
                "Pipe UTF-8 text (e.g. `iconv -f <encoding> -t utf-8`)."
            )
        written = (
            f"{label.written} row(s) had been written to stdout before it."
            if args.output == "-"
            else f"Nothing was written: {args.output} is unchanged."
        )
        raise AbsaInputError(f"{error} {written}") from None
    finally:
        label.progress.close()
    stop_shard(label.shard)
    if label.shard.is_main:
        also = f", {label.not_text} skipped (text is not a string)" if label.not_text else ""
        print(
            f"{label.written} rows written{f' to {args.output}' if args.output != '-' else ''}; "
            f"{label.skipped} skipped (empty text){also}",
            file=sys.stderr,
        )
    return 0
