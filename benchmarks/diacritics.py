"""How much do stripped Vietnamese diacritics cost? TF-IDF + logistic regression on the FULL training data of
phone_reviews and UIT-ViSFD, once on the text as written and once on the text as all-MiniLM-L6-v2's tokenizer
sees it (its BERT normaliser lower-cases and strips accents: "màn hình đẹp" -> "man hinh đep").

The drop from "as written" to "as MiniLM sees it" is the information the stripping removes for a bag-of-n-grams
model; the English encoder (trained on English) loses at least that much, and more through its English
vocabulary (Vietnamese splits into many sub-words). C is picked on validation (joint micro F1); test is scored
once per arm. Each run leaves `benchmarks/results/diacritics/<dataset>/<arm>/result.json` (resumable).

Usage:
    python -m benchmarks.diacritics                # both datasets, both arms, full data
    python -m benchmarks.diacritics --quick        # 300 / 150 / 150 rows, smoke test
    python -m benchmarks.diacritics --report-only  # the table from the finished runs
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from benchmarks.quality import DATASETS, SHARED_DATA, minilm_path, run_tfidf
from benchmarks.quality_report import replace_between
from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "diacritics"
ARMS = ("as_written", "minilm_normalised")
#: C values tried (on validation): the quality study picked C = 10 on both datasets from 0.3 / 1 / 3 / 10.
GRID = (3.0, 10.0)
KEYS = [
    ("detection_micro_f1", "det µF1"),
    ("sentiment_accuracy", "sent acc"),
    ("sentiment_macro_f1", "sent MF1"),
    ("joint_micro_f1", "joint µF1"),
]
logger = logging.getLogger("diacritics")


def minilm_normaliser():
    """The text normaliser of all-MiniLM-L6-v2's tokenizer (lower-case, NFD, accents stripped) as str -> str."""
    from transformers import AutoTokenizer

    normalizer = AutoTokenizer.from_pretrained(minilm_path()).backend_tokenizer.normalizer
    return normalizer.normalize_str


def table(results: Path) -> str:
    lines = [
        "| dataset | text | train rows | C | " + " | ".join(label for _, label in KEYS) + " | min |",
        "|---|---|---|---|" + "---|" * len(KEYS) + "---|",
    ]
    for path in sorted(results.glob("*/*/result.json")):
        r = json.loads(path.read_text())
        cells = [f"{100 * r['metrics']['test'][k]:.1f}" for k, _ in KEYS]
        lines.append(
            f"| {r['dataset']} | {r['arm']} | {r['train_rows']} | {r['C']} | " + " | ".join(cells)
            + f" | {r['wall_seconds'] / 60:.1f} |"
        )  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(RESULTS))
    parser.add_argument("--datasets", nargs="+", default=["uit_visfd", "phone_reviews"], choices=list(DATASETS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--docs", default=str(REPO / "docs" / "RESULTS.md"), help="Markdown file to update.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not SHARED_DATA.is_dir():
        print(f"skipped: needs the real data at {SHARED_DATA} (../shared beside the project)")
        return 0
    results = Path(args.results_dir + ("_quick" if args.quick else ""))
    sizes = (300, 150, 150) if args.quick else (None, None, None)
    budget = dict(zip(("train_size", "val_size", "test_size"), sizes, strict=True))
    if not args.report_only:
        transforms = {"as_written": None, "minilm_normalised": minilm_normaliser()}
        for dataset in args.datasets:
            for arm in ARMS:
                run_dir = results / dataset / arm
                if (run_dir / "result.json").is_file():
                    logger.info("skip %s %s (finished)", dataset, arm)
                    continue
                run_dir.mkdir(parents=True, exist_ok=True)
                logger.info("run %s %s", dataset, arm)
                record = run_tfidf(dataset, run_dir, budget, transform=transforms[arm], grid=GRID)
                record.update(dataset=dataset, arm=arm, budget=budget)
                write_json_atomic(run_dir / "result.json", record)
    text = table(results)
    if results.is_dir():
        (results / "summary.md").write_text(text + "\n")
    if not args.quick:
        replace_between(Path(args.docs), "<!-- diacritics:begin -->", "<!-- diacritics:end -->", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
