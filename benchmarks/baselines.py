"""Trivial predictors scored with the library's metrics: what the absent-as-neutral number rewards.

    python benchmarks/baselines.py            # prints a Markdown table, writes benchmarks/results/baselines.json

`all-none` predicts that no review mentions any aspect; `all-neutral` predicts every aspect mentioned and neutral
(under the absent-as-neutral scoring both are "neutral everywhere"). Needs ../shared/data (skips with a reason if absent).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SETS = {"phone_reviews": {"Posititve": "positive"}, "uit_visfd": None}
KEYS = (
    "detection_micro_f1",
    "sentiment_accuracy",
    "joint_micro_f1",
    "absent_as_neutral_accuracy",
    "absent_as_neutral_weighted_f1",
)


def main() -> int:
    from hf_visobert_absa.data.loading import load_absa_dataset
    from hf_visobert_absa.evaluation.metrics import compute_absa_metrics

    if not DATA.is_dir():
        print(f"skipped: needs {DATA} (../shared beside the project)")
        return 0
    rows = []
    for name, aliases in SETS.items():
        dsd, report = load_absa_dataset(DATA / name, label_aliases=aliases)
        for split in ("validation", "test"):
            gold = np.asarray(dsd[split]["gold"])
            for predictor, value in (("all-none", 0), ("all-neutral", 3)):
                metrics = compute_absa_metrics(np.full_like(gold, value), gold, list(report.aspects), "absent_as_class")
                rows.append({"dataset": name, "split": split, "predictor": predictor, **{k: metrics[k] for k in KEYS}})
    out = REPO / "benchmarks" / "results" / "baselines.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print("| dataset | split | predictor | " + " | ".join(KEYS) + " |")
    print("|---|---|---|" + "---|" * len(KEYS))
    for r in rows:
        print(
            f"| {r['dataset']} | {r['split']} | {r['predictor']} | "
            + " | ".join(f"{100 * r[k]:.1f}" for k in KEYS)
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
