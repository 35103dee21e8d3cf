"""Benchmark 4 (+ 5, memory): reviews per second of the aspect-sentiment pipeline on real reviews.

Variants, all on the same model, tokenizer and review sets (batch size `inference_batch_size`):

- `pipeline_sorted_dynamic` (ours): `AspectSentimentPipeline(texts, batch_size=...)` on the list. The pipeline's
  batched path tokenizes the list in one call, sorts it by length (each batch is padded to its own longest
  review), post-processes as tensors and returns the results in input order; all of it is timed.
- `pipeline_unsorted_dynamic`: the pipeline's per-review path on the texts in file order: a generator input,
  which the pipeline tokenizes, collates and post-processes review by review (dynamic padding, no sorting).
- `pipeline_one_call_per_review`: `[pipe(text) for text in texts]`.
- `raw_sorted_dynamic`: the SAME length-sorted batches as ours, pre-tokenized and pre-padded outside the timer,
  timed as a bare `model(**batch)` loop. Pipeline overhead = ours / this - 1 (tokenization, pipeline
  plumbing and post-processing).
- `raw_fixed_256`: batches padded to `max_length=256`, pre-tokenized outside the timer, bare `model(**batch)`.
  Both raw loops exclude tokenization, so a ratio "ours over raw" never flatters ours.

`inference_variants` runs only some variants (the target of a variant not run reads `skipped`).

The reviews are split into `inference_sets` sets; repetition r runs every variant on set `r % sets`, in an
order rotated per round. Peak RSS is recorded around every timed call.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hf_visobert_absa.explain.common import (
    BenchSettings,
    PeakRSS,
    autocast,
    machine_info,
    measure_interleaved,
    result_document,
    summarize,
    synchronizer,
    write_json,
)
from hf_visobert_absa.explain.models import build_model, encoder_config

logger = logging.getLogger(__name__)

FIXED_LENGTH = 256
TEXT_COLUMNS = ("data", "text", "comment", "review")
_SHARED_CANDIDATES = (Path("..") / "shared", Path(__file__).resolve().parents[2] / "shared")


def default_data_path() -> Path | None:
    """`../shared/data/phone_reviews/test.csv` beside the project, when present."""
    return _first_existing(base / "data" / "phone_reviews" / "test.csv" for base in _SHARED_CANDIDATES)


def default_tokenizer_path() -> Path | None:
    """`../shared/visobert` (the real ViSoBERT tokenizer) beside the project, when present."""
    return _first_existing((base / "visobert" / "tokenizer.json" for base in _SHARED_CANDIDATES), parent=True)


def _first_existing(paths: Any, parent: bool = False) -> Path | None:
    for path in paths:
        if path.is_file():
            return path.parent if parent else path
    return None


def read_reviews(path: Path, limit: int) -> list[str]:
    """The first `limit` non-empty reviews of a CSV (column `data`, `text`, `comment` or `review`) or of a
    text file with one review per line.

    Raises:
        ValueError: the file has no recognised text column; the message lists its columns.
    """
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            column = next((c for c in TEXT_COLUMNS if c in (reader.fieldnames or [])), None)
            if column is None:
                raise ValueError(
                    f"{path}: no review text column; allowed names: {', '.join(TEXT_COLUMNS)}; "
                    f"found: {reader.fieldnames}. Rename the text column or pass a one-review-per-line .txt file."
                )
            texts = [row[column].strip() for row in reader if (row[column] or "").strip()]
    else:
        texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts[:limit]


def run_inference_benchmark(settings: BenchSettings, out_dir: Path) -> dict[str, Any]:
    """Time the inference variants (see the module docstring) and write `inference.json`.

    The JSON records `skipped` with a reason, and no timings, when the reviews or the tokenizer are absent.
    """
    data_path = Path(settings.data) if settings.data else default_data_path()
    tokenizer_path = Path(settings.tokenizer) if settings.tokenizer else default_tokenizer_path()
    missing = [
        f"{what} ({hint})"
        for what, path, hint in (
            ("real reviews", data_path, "--data, default ../shared/data/phone_reviews/test.csv"),
            ("a tokenizer", tokenizer_path, "--tokenizer, default ../shared/visobert"),
        )
        if path is None or not Path(path).exists()
    ]
    if missing:
        document = result_document(
            "inference", "Inference throughput", settings=settings.to_dict(), inputs={}, results={}, derived={},
            memory={},
        )  # fmt: skip
        document["skipped"] = f"needs {' and '.join(missing)}; not found"
        write_json(out_dir / "inference.json", document)
        return document

    from hf_visobert_absa.data.tokenization import load_tokenizer
    from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline

    device = torch.device(settings.device)
    texts = read_reviews(data_path, settings.reviews)
    tokenizer = load_tokenizer(str(tokenizer_path))
    text_config, encoder_text = encoder_config(settings.encoder)
    model = build_model(text_config, seed=settings.seed).to(device).eval()
    pipe = AspectSentimentPipeline(model=model, tokenizer=tokenizer, device=device)
    batch_size = settings.inference_batch_size
    n_sets = max(1, min(settings.inference_sets, len(texts)))
    sets = [list(chunk) for chunk in np.array_split(np.array(texts, dtype=object), n_sets)]
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=FIXED_LENGTH)["input_ids"]]

    def to_device(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    def sorted_batches(chunk: list[str]) -> list[dict[str, torch.Tensor]]:
        ordered = [chunk[i] for i in _length_order(chunk, tokenizer)]
        return [
            to_device(tokenizer(ordered[i : i + batch_size], padding=True, truncation=True, max_length=FIXED_LENGTH, return_tensors="pt"))
            for i in range(0, len(ordered), batch_size)
        ]  # fmt: skip

    def fixed_batches(chunk: list[str]) -> list[dict[str, torch.Tensor]]:
        return [
            to_device(tokenizer(chunk[i : i + batch_size], padding="max_length", truncation=True, max_length=FIXED_LENGTH, return_tensors="pt"))
            for i in range(0, len(chunk), batch_size)
        ]  # fmt: skip

    raw_sorted = [sorted_batches(chunk) for chunk in sets]
    raw_fixed = [fixed_batches(chunk) for chunk in sets]
    context = lambda: autocast(device, settings.dtype)  # noqa: E731

    @torch.inference_mode()
    def raw_loop(batches: list[dict[str, torch.Tensor]]) -> None:
        with context():
            for batch in batches:
                model(**batch).logits.float().softmax(dim=-1).cpu()

    def pipeline_sorted(chunk: list[str]) -> list:
        with context():
            return pipe(chunk, batch_size=batch_size, max_length=FIXED_LENGTH)

    def pipeline_unsorted(chunk: list[str]) -> None:
        with context():
            list(pipe((text for text in chunk), batch_size=batch_size, max_length=FIXED_LENGTH))

    def pipeline_each(chunk: list[str]) -> None:
        with context():
            for text in chunk:
                pipe(text, max_length=FIXED_LENGTH)

    peaks: dict[str, list[float]] = {}

    def variant(name: str, fn: Callable[[int], None]) -> Callable[[int], None]:
        def run(i: int) -> None:
            with PeakRSS() as peak:
                fn(i)
            peaks.setdefault(name, []).append(peak.peak_rss_mib or float("nan"))

        return run

    variants = {
        "pipeline_sorted_dynamic": variant("pipeline_sorted_dynamic", lambda i: pipeline_sorted(sets[i % n_sets])),
        "pipeline_unsorted_dynamic": variant("pipeline_unsorted_dynamic", lambda i: pipeline_unsorted(sets[i % n_sets])),
        "pipeline_one_call_per_review": variant("pipeline_one_call_per_review", lambda i: pipeline_each(sets[i % n_sets])),
        "raw_sorted_dynamic": variant("raw_sorted_dynamic", lambda i: raw_loop(raw_sorted[i % n_sets])),
        "raw_fixed_256": variant("raw_fixed_256", lambda i: raw_loop(raw_fixed[i % n_sets])),
    }  # fmt: skip
    chosen = settings.inference_variants or list(variants)
    variants = {name: fn for name, fn in variants.items() if name in chosen}
    # Warm-up on a few reviews (a full pass of the fixed-padding loop would cost minutes on a CPU).
    warm = sets[0][: min(len(sets[0]), 2 * batch_size)]
    for _ in range(max(settings.warmup, 1)):
        pipeline_sorted(warm), pipeline_unsorted(warm), pipeline_each(warm[:4])
        raw_loop(sorted_batches(warm)), raw_loop(fixed_batches(warm[:batch_size]))
    load_before = machine_info(device)["load_average_1_5_15"]
    timings = measure_interleaved(variants, reps=settings.reps, warmup=0, sync=synchronizer(device))
    machine = machine_info(device)
    machine["load_average_before"] = load_before

    results: dict[str, Any] = {}
    for name, seconds in timings.items():
        sizes = [len(sets[i % n_sets]) for i in range(settings.reps)]
        per_rep = [size / s for size, s in zip(sizes, seconds, strict=True)]
        results[name] = {
            **summarize(seconds),
            "reviews_per_rep": sizes,
            "reviews_per_second": per_rep,
            "median_reviews_per_second": float(np.median(per_rep)),
        }
    derived = _derived(results)
    memory = {name: {"peak_rss_mib_max": max(values), "peak_rss_mib_per_rep": values, "method": "VmHWM after clear_refs"}
              for name, values in peaks.items()}  # fmt: skip
    document = result_document(
        "inference",
        "Inference throughput: pipeline with length-sorted dynamic padding vs fixed 256 padding vs one call per review",
        settings=settings.to_dict(),
        inputs={
            "encoder": encoder_text,
            "data": str(data_path),
            "reviews": len(texts),
            "sets": n_sets,
            "reviews_per_set": [len(s) for s in sets],
            "tokenizer": str(tokenizer_path),
            "batch_size": batch_size,
            "max_length": FIXED_LENGTH,
            "encoder_hidden_size": int(text_config.get("hidden_size", 0)),
            "encoder_layers": int(text_config.get("num_hidden_layers", 0)),
            "variants": list(variants),
            "token_lengths": {
                "mean": float(np.mean(lengths)),
                "median": float(np.median(lengths)),
                "p90": float(np.percentile(lengths, 90)),
                "max": int(np.max(lengths)),
            },
            "padded_tokens_per_set": {
                "sorted_dynamic": [sum(int(b["input_ids"].numel()) for b in s) for s in raw_sorted],
                "fixed_256": [sum(int(b["input_ids"].numel()) for b in s) for s in raw_fixed],
            },
        },
        results=results,
        derived=derived,
        memory=memory,
        machine=machine,
        notes=[
            "raw_* variants are pre-tokenized and pre-padded outside the timer; pipeline variants include "
            "tokenization (and, for the sorted one, the length sort) and post-processing.",
            "pipeline_overhead_over_raw = raw_sorted_dynamic / pipeline_sorted_dynamic (reviews/s) - 1, on "
            "the same length-sorted batches; pipeline_fraction_of_raw = pipeline_sorted_dynamic / raw_sorted_dynamic.",
        ],
    )
    write_json(out_dir / "inference.json", document)
    return document


def _derived(results: dict[str, Any]) -> dict[str, float]:
    """Ratios between the variants that ran (reviews/s medians)."""
    rate = {name: entry["median_reviews_per_second"] for name, entry in results.items()}
    ours, raw = rate.get("pipeline_sorted_dynamic"), rate.get("raw_sorted_dynamic")
    derived: dict[str, float] = {}
    if ours and raw:
        derived["pipeline_overhead_over_raw"] = raw / ours - 1.0
        derived["pipeline_fraction_of_raw"] = ours / raw
    if raw and rate.get("raw_fixed_256"):
        derived["raw_sorted_over_raw_fixed_256"] = raw / rate["raw_fixed_256"]
    for key, name in (("speedup_over_fixed_256", "raw_fixed_256"),
                      ("speedup_over_one_call_per_review", "pipeline_one_call_per_review"),
                      ("speedup_over_unsorted", "pipeline_unsorted_dynamic")):  # fmt: skip
        if ours and rate.get(name):
            derived[key] = ours / rate[name]
    return derived


def _length_order(texts: list[str], tokenizer: Any) -> list[int]:
    """Indices of `texts` by token length, longest first (one tokenizer call for the whole list)."""
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=FIXED_LENGTH)["input_ids"]]
    return np.argsort(-np.asarray(lengths), kind="stable").tolist()
