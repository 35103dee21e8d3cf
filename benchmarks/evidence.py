"""Faithfulness (and plausibility) of the evidence behind each predicted aspect, on SemEval-2014 restaurants test.

For every (review, predicted aspect) of a model trained with the library's defaults (`hf-visobert-absa train` with
no recipe flag; its aspect attention is method (a)), the words are ranked by four methods:

- `attention`: the model's own aspect attention (`pipeline(..., return_evidence=True)`, one pass);
- `integrated_gradients`: Captum's Integrated Gradients of the predicted sentiment's probability (any pooling);
- `leave_one_out`: the drop in that probability when each word alone is removed (one pass per word; the reference);
- `random`: a random order (3 seeded draws, averaged).

For k = 1, 3 and 20% of the review's words: ERASER comprehensiveness (probability drop when the top-k words are
removed) and sufficiency (drop when only they are kept), `hf_visobert_absa.evidence.faithfulness`; the time each
method takes per review; plausibility (top-k evidence covering an annotated aspect term linked to the category,
`hf_visobert_absa.evaluation.plausibility`) against random words. Results: `benchmarks/results/evidence/`; the table in
docs/RESULTS.md.

Usage:
    OMP_NUM_THREADS=1 python -m benchmarks.evidence --model runs/semeval/model
    python -m benchmarks.evidence --report-only
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hf_visobert_absa.data.loading import load_absa_dataset
from hf_visobert_absa.data.tokenization import load_tokenizer
from hf_visobert_absa.evidence.attribution import integrated_gradients
from hf_visobert_absa.evidence.faithfulness import (
    evidence_size,
    probabilities_of,
    ranking_from_evidence,
    with_words_only,
    with_words_removed,
)
from hf_visobert_absa.evidence.gallery import write_gallery
from hf_visobert_absa.hub.evidence_visobert_absa import word_spans
from hf_visobert_absa.hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "evidence" / "semeval2014.json"
SIZES: tuple[int | str, ...] = (1, 3, "20%")
METHODS = ("attention", "integrated_gradients", "leave_one_out", "random")
RANDOM_DRAWS = 3
ALL_WORDS = 1_000_000  # evidence_top_k that returns every word with a positive weight


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.report_only:
        print(markdown_table(json.loads(Path(args.out).read_text(encoding="utf-8"))))
        return 0
    torch.manual_seed(0)
    model = ViSoBertAbsaForAspectSentiment.from_pretrained(args.model).eval()
    tokenizer = load_tokenizer(args.model)
    rows = _test_rows(model, args.data_dir, args.limit)
    result = run(model, tokenizer, rows, args)
    result["command"] = "OMP_NUM_THREADS=1 python -m benchmarks.evidence --model <run>/model" + (
        f" --limit {args.limit}" if args.limit else ""
    )
    result["model"] = _model_facts(model, Path(args.model))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown_table(result))
    return 0


def _model_facts(model: Any, folder: Path) -> dict[str, Any]:
    """What the evaluated model is (no machine path): its encoder, pooling and the seed it was trained with."""
    arguments = folder / "training_args.json"
    seed = json.loads(arguments.read_text(encoding="utf-8")).get("seed") if arguments.is_file() else None
    return {
        "encoder": model.config.base_model_name_or_path,
        "pooling": model.config.pooling,
        "training_seed": seed,
        "trained_by": "hf-visobert-absa train --encoder MINILM --data_dir ../shared/data/semeval2014_restaurants "
        "--sentiments positive,negative,neutral,conflict --seed 0 --output_dir <run> (no recipe flag)",
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a `train`-written model folder (defaults: aspect-query pooling)")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "semeval2014_restaurants"))
    parser.add_argument("--limit", type=int, default=None, help="the first N test reviews (default: all)")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--gallery", default=None, help="write an HTML gallery of correct and wrong predictions")
    parser.add_argument("--report-only", action="store_true")
    return parser


def _test_rows(model: Any, data_dir: str, limit: int | None) -> list[dict[str, Any]]:
    config = model.config
    dsd, _ = load_absa_dataset(data_dir, aspects=list(config.aspects), sentiments=list(config.sentiments))
    test = dsd["test"]
    return [test[i] for i in range(len(test) if limit is None else min(limit, len(test)))]


def run(model: Any, tokenizer: Any, rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement on `rows`; see the module docstring."""
    texts = [row["text"] for row in rows]
    pipe = AspectSentimentPipeline(model=model, tokenizer=tokenizer, device="cpu")
    outputs, seconds = {}, {}
    for method, scorer in (("attention", "attention"), ("integrated_gradients", integrated_gradients)):
        start = time.perf_counter()
        outputs[method] = pipe(
            texts, return_evidence=True, evidence_top_k=ALL_WORDS, evidence_method=scorer, batch_size=16
        )
        seconds[method] = (time.perf_counter() - start) / len(texts)
    start = time.perf_counter()
    pipe(texts, batch_size=16)
    seconds["prediction_only"] = (time.perf_counter() - start) / len(texts)
    cases = _cases(texts, outputs["attention"], model)
    rankings, seconds["leave_one_out"] = _rankings(cases, outputs, model, tokenizer)
    scores = _faithfulness(cases, rankings, model, tokenizer)
    result = {
        "reviews": len(texts),
        "predicted_aspects": len(cases),
        "seconds_per_review": seconds,
        "faithfulness": scores,
    }
    result["plausibility"] = _plausibility(rows, outputs, list(model.config.aspects))
    if args.gallery:
        predictions = _predicted_codes(outputs["attention"], model)
        write_gallery(
            model, tokenizer, texts, np.asarray(predictions), np.asarray([r["gold"] for r in rows]), args.gallery
        )
    return result


def _cases(texts: list[str], attention_outputs: list, model: Any) -> list[dict[str, Any]]:
    """One case per (review, predicted aspect): its words, aspect index and predicted class index."""
    aspects, classes = list(model.config.aspects), list(model.config.class_names)
    cases = []
    for n, (text, entries) in enumerate(zip(texts, attention_outputs, strict=True)):
        spans = word_spans(text)
        for entry in entries:
            if spans:
                cases.append({"review": n, "text": text, "spans": spans, "aspect": aspects.index(entry["aspect"]),
                              "cls": classes.index(entry["sentiment"]), "name": entry["aspect"]})  # fmt: skip
    return cases


def _rankings(cases: list, outputs: dict, model: Any, tokenizer: Any) -> tuple[dict[str, list], float]:
    """Per method, per case, the word indices best first; and leave-one-out's seconds per review."""
    rankings: dict[str, list] = {}
    for method in ("attention", "integrated_gradients"):
        rankings[method] = [
            ranking_from_evidence(case["spans"], _entry(outputs[method][case["review"]], case["name"])["evidence"])
            for case in cases
        ]
    start = time.perf_counter()
    rankings["leave_one_out"] = _leave_one_out(cases, model, tokenizer)
    reviews = len({case["review"] for case in cases}) or 1
    loo_seconds = (time.perf_counter() - start) / reviews
    for draw in range(RANDOM_DRAWS):
        rng = random.Random(draw)
        rankings[f"random{draw}"] = [rng.sample(range(len(case["spans"])), len(case["spans"])) for case in cases]
    return rankings, loo_seconds


def _entry(entries: list[dict[str, Any]], aspect: str) -> dict[str, Any]:
    return next((e for e in entries if e["aspect"] == aspect), {"evidence": []})


def _leave_one_out(cases: list, model: Any, tokenizer: Any) -> list[list[int]]:
    """Per case, the words ordered by how much removing each alone lowers the predicted class's probability."""
    removed = [[with_words_removed(c["text"], c["spans"], [i]) for i in range(len(c["spans"]))] for c in cases]
    probabilities = _lookup([t for texts in removed for t in texts] + [c["text"] for c in cases], model, tokenizer)
    ranked = []
    for case, texts in zip(cases, removed, strict=True):
        a, c = case["aspect"], case["cls"]
        drops = [probabilities[case["text"]][a, c] - probabilities[text][a, c] for text in texts]
        ranked.append(sorted(range(len(drops)), key=lambda i: -drops[i]))
    return ranked


def _lookup(texts: list[str], model: Any, tokenizer: Any) -> dict[str, torch.Tensor]:
    unique = sorted(set(texts))
    return dict(zip(unique, probabilities_of(model, tokenizer, unique), strict=True))


def _faithfulness(cases: list, rankings: dict[str, list], model: Any, tokenizer: Any) -> dict[str, Any]:
    """Mean comprehensiveness and sufficiency per method and evidence size (random: the mean of its draws)."""
    edits = {  # per ranking, per case, per size: (the text without the top words, the top words alone)
        name: [[_edited(case, ranking, k) for k in SIZES] for case, ranking in zip(cases, per_case, strict=True)]
        for name, per_case in rankings.items()
    }
    texts = [t for per_case in edits.values() for sizes in per_case for pair in sizes for t in pair]
    probabilities = _lookup(texts + [c["text"] for c in cases], model, tokenizer)
    table: dict[str, Any] = {}
    for method in METHODS:
        names = [f"random{d}" for d in range(RANDOM_DRAWS)] if method == "random" else [method]
        table[method] = {
            str(k): _eraser(cases, [edits[n] for n in names], index, probabilities) for index, k in enumerate(SIZES)
        }
    return table


def _edited(case: dict[str, Any], ranking: list[int], k: int | str) -> tuple[str, str]:
    top = ranking[: evidence_size(k, len(case["spans"]))]
    return with_words_removed(case["text"], case["spans"], top), with_words_only(case["text"], case["spans"], top)


def _eraser(cases: list, edit_sets: list[list], size: int, probabilities: dict) -> dict[str, float]:
    """ERASER comprehensiveness and sufficiency of evidence size `size` (an index into `SIZES`), averaged."""
    comprehensiveness, sufficiency = [], []
    for per_case in edit_sets:
        for case, sizes in zip(cases, per_case, strict=True):
            without, alone = sizes[size]
            a, c = case["aspect"], case["cls"]
            full = probabilities[case["text"]][a, c]
            comprehensiveness.append(float(full - probabilities[without][a, c]))
            sufficiency.append(float(full - probabilities[alone][a, c]))
    return {"comprehensiveness": sum(comprehensiveness) / len(comprehensiveness),
            "sufficiency": sum(sufficiency) / len(sufficiency)}  # fmt: skip


def _plausibility(rows: list[dict[str, Any]], outputs: dict[str, list], aspects: list[str]) -> dict[str, Any]:
    from hf_visobert_absa.evaluation.plausibility import score_plausibility

    sentences = [
        {"text": row["text"], "categories": [a for a, code in zip(aspects, row["gold"], strict=True) if code],
         "targets": row["targets"]}
        for row in rows
    ]  # fmt: skip
    return {method: score_plausibility(sentences, outputs[method]) for method in ("attention", "integrated_gradients")}


def _predicted_codes(outputs: list, model: Any) -> list[list[int]]:
    """The pipeline's decisions as canonical codes per aspect (0 = not mentioned)."""
    names, aspects = list(model.config.canonical_names), list(model.config.aspects)
    codes = []
    for entries in outputs:
        said = {entry["aspect"]: names.index(entry["sentiment"]) for entry in entries}
        codes.append([said.get(aspect, 0) for aspect in aspects])
    return codes


def markdown_table(result: dict[str, Any]) -> str:
    """The faithfulness table (one row per method), the time per review, and the 20% ratio to random."""
    lines = [
        f"{result['reviews']} reviews, {result['predicted_aspects']} predicted aspects.",
        "",
        "| method | s / review | " + " | ".join(f"comp@{k} | suff@{k}" for k in SIZES) + " |",
        "|---|---:|" + "---:|---:|" * len(SIZES),
    ]
    seconds = result["seconds_per_review"]
    for method in METHODS:
        cells = [
            f"{result['faithfulness'][method][str(k)][m]:.3f}"
            for k in SIZES
            for m in ("comprehensiveness", "sufficiency")
        ]
        cost = f"{seconds[method]:.3f}" if method in seconds else "-"
        lines.append(f"| {method} | {cost} | " + " | ".join(cells) + " |")
    lines += ["", _plausibility_table(result["plausibility"])]
    random_comp = result["faithfulness"]["random"]["20%"]["comprehensiveness"]
    for method in ("attention", "integrated_gradients", "leave_one_out"):
        ratio = (
            result["faithfulness"][method]["20%"]["comprehensiveness"] / random_comp if random_comp else float("inf")
        )
        lines.append(f"\n{method}: comprehensiveness@20% is {ratio:.2f}x that of random words (target >= 2).")
    return "\n".join(lines)


def _plausibility_table(plausibility: dict[str, Any]) -> str:
    """Top-k evidence covering a linked aspect term, per method, beside random words of the same count."""
    first = next(iter(plausibility.values()))
    pairs = first["pairs"]
    lines = [
        f"Plausibility: {pairs['eligible']} eligible (sentence, category) pairs of {pairs['predicted_and_gold']} "
        "predicted and gold ones (SemEval-2014 links terms to a category only in single-category sentences).",
        "",
        "| method | hit@1 | random@1 | hit@3 | random@3 |",
        "|---|---:|---:|---:|---:|",
    ]
    for method, scores in plausibility.items():
        cells = [f"{scores[f'{key}_at_{k}']:.3f}" for k in (1, 3) for key in ("rate", "random_rate")]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
