"""Which decision rule turns `[N, A, 1 + K]` probabilities into predictions? Measured on VALIDATION data only.

Rules compared (class 0 = "none"):

- `threshold`: an aspect is mentioned when P(none) < 0.5; its sentiment is the most probable sentiment (the rule
  of every release before this study).
- `argmax`: the most probable of the 1 + K classes; "none" when it wins. It marks a subset of the cells
  `threshold` marks (a sentiment above P(none) implies P(none) < 0.5), so it differs exactly where the
  probability mass not on "none" is split between sentiments.

Inputs: every saved `validation_probabilities.npz` of the SemEval-2014 study (`benchmarks/results/semeval2014`,
short budgets of 4-5 epochs and full ones of 10-15) and of the default-recipe runs (`benchmarks.default_recipe`,
which saves the same file for each data set and budget). Gold labels are the library's reading of the same
held-out split. Test files are never read here.

Calibration (`--calibrate_thresholds`) is measured here too, honestly: CROSS-FITTED on each run's validation rows
(thresholds tuned on the even rows are applied to the odd ones and vice versa), against the default rule, by
whether the default rule's mentions were inside `AUTO_CALIBRATION_RANGE` times the gold ones (what
`--calibrate_thresholds auto` checks).

Usage:
    python -m benchmarks.decision_rules            # writes benchmarks/results/decision_rules.json, prints tables
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from hf_visobert_absa.data.label_schemes import NONE, predictions_from_probabilities
from hf_visobert_absa.evaluation.metrics import compute_absa_metrics
from hf_visobert_absa.evaluation.thresholds import (
    AUTO_CALIBRATION_RANGE,
    calibrate_thresholds,
)
from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
KEYS = ("joint_micro_f1", "detection_micro_f1", "sentiment_accuracy")


def rule_threshold(probabilities: np.ndarray) -> np.ndarray:
    mentioned = probabilities[..., 0] < 0.5
    return np.where(mentioned, probabilities[..., 1:].argmax(-1) + 1, NONE)


def rule_argmax(probabilities: np.ndarray) -> np.ndarray:
    return probabilities.argmax(-1)


RULES = {"threshold": rule_threshold, "argmax": rule_argmax}


def cross_fitted_calibration(probabilities: np.ndarray, gold: np.ndarray, sentiments: list[str]) -> np.ndarray:
    """Predictions with thresholds calibrated on the other half of the rows (even / odd), default rule elsewhere."""
    index = np.arange(len(gold))
    predictions = np.zeros(gold.shape, dtype=np.int64)
    for part in (0, 1):
        fit, apply = index[index % 2 != part], index[index % 2 == part]
        thresholds = calibrate_thresholds(probabilities[fit], gold[fit], sentiments).thresholds
        predictions[apply] = predictions_from_probabilities(probabilities[apply], "absent_as_class", thresholds)
    return predictions


def score(probabilities: np.ndarray, gold: np.ndarray, aspects: list[str], sentiments: list[str]) -> dict[str, Any]:
    """Each rule's headline metrics and its predicted / gold mention ratio, and cross-fitted calibration's."""
    out: dict[str, Any] = {}
    for name, rule in RULES.items():
        predictions = rule(probabilities)
        metrics = compute_absa_metrics(predictions, gold, aspects, "absent_as_class", sentiments)
        out[name] = {key: metrics[key] for key in KEYS}
        out[name]["mention_ratio"] = float((predictions != NONE).sum() / max(1, (gold != NONE).sum()))
    calibrated = cross_fitted_calibration(probabilities, gold, sentiments)
    metrics = compute_absa_metrics(calibrated, gold, aspects, "absent_as_class", sentiments)
    out["calibrated_crossfit"] = {key: metrics[key] for key in KEYS}
    return out


def semeval_runs() -> list[dict[str, Any]]:
    """The SemEval-2014 study's runs with saved validation probabilities, four polarities."""
    from benchmarks.semeval2014 import ASPECTS, POLARITIES, library_splits

    validation = library_splits()["validation"]
    names = {p: i + 1 for i, p in enumerate(POLARITIES)}
    gold = np.array([[names.get(s["categories"].get(a), NONE) for a in ASPECTS] for s in validation])
    runs = []
    for path in sorted((RESULTS / "semeval2014").glob("*/*/seed*/validation_probabilities.npz")):
        result = json.loads((path.parent / "result.json").read_text())
        if result.get("settings", {}).get("model", {}).get("label_scheme", "absent_as_class") != "absent_as_class":
            continue  # a polarity-only diagnostic cannot detect
        probabilities = np.load(path)["probabilities"]
        if probabilities.shape != (*gold.shape, 1 + len(POLARITIES)):
            continue
        epochs = result["budget"]["epochs"]
        runs.append(
            {
                "data": "semeval2014",
                "run": str(path.parent.relative_to(RESULTS)),
                "budget": "short (<= 5 epochs)" if epochs <= 5 else "full (>= 8 epochs)",
                **score(probabilities, gold, ASPECTS, list(POLARITIES)),
            }
        )
    return runs


def default_recipe_runs() -> list[dict[str, Any]]:
    """The default-recipe runs (`benchmarks.default_recipe`) that saved validation probabilities and gold."""
    runs = []
    for path in sorted((RESULTS / "default_recipe").glob("*/*/validation_probabilities.npz")):
        saved = np.load(path, allow_pickle=False)
        meta = json.loads((path.parent / "result.json").read_text())
        runs.append(
            {
                "data": meta["data"],
                "run": str(path.parent.relative_to(RESULTS)),
                "budget": f"arm `{meta['setting'].split('__')[1]}` (flags in its result.json)"
                if "__" in meta["setting"]
                else meta["budget_name"],
                **score(saved["probabilities"], saved["gold"], meta["aspects"], meta["sentiments"]),
            }
        )
    return runs


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (data, budget): the mean of each rule's metrics and how many runs each rule wins on joint µF1."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[run["data"], run["budget"]].append(run)
    rows = []
    for (data, budget), members in sorted(groups.items()):
        row: dict[str, Any] = {"data": data, "budget": budget, "runs": len(members)}
        for rule in RULES:
            for key in (*KEYS, "mention_ratio"):
                row[f"{rule}_{key}"] = float(np.mean([m[rule][key] for m in members]))
        row["argmax_wins"] = sum(m["argmax"]["joint_micro_f1"] > m["threshold"]["joint_micro_f1"] for m in members)
        row["threshold_wins"] = sum(m["argmax"]["joint_micro_f1"] < m["threshold"]["joint_micro_f1"] for m in members)
        rows.append(row)
    return rows


def calibration_table(runs: list[dict[str, Any]]) -> str:
    """Cross-fitted calibration vs the default rule (argmax), by whether the default rule's mention ratio was in range."""
    low, high = AUTO_CALIBRATION_RANGE
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        inside = low <= run["argmax"]["mention_ratio"] <= high
        groups[
            f"{run['data']}, {run['budget']}, mentions {'inside' if inside else 'OUTSIDE'} {low:g}-{high:g}x"
        ].append(run)
    lines = [
        "| runs (default rule's validation mentions) | n | joint µF1 default rule | joint µF1 calibrated (cross-fitted) "
        "| calibration better in |",
        "|---|---|---|---|---|",
    ]
    for name, members in sorted(groups.items()):
        default = [m["argmax"]["joint_micro_f1"] for m in members]
        calibrated = [m["calibrated_crossfit"]["joint_micro_f1"] for m in members]
        wins = sum(c > d for c, d in zip(calibrated, default, strict=True))
        lines.append(
            f"| {name} | {len(members)} | {100 * np.mean(default):.1f} | {100 * np.mean(calibrated):.1f} | "
            f"{wins} of {len(members)} |"
        )
    return "\n".join(lines)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| data | budget | runs | joint µF1 threshold / argmax | detection µF1 threshold / argmax | "
        "predicted/gold mentions threshold / argmax | runs won (threshold / argmax / tie) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ties = r["runs"] - r["argmax_wins"] - r["threshold_wins"]
        lines.append(
            f"| {r['data']} | {r['budget']} | {r['runs']} | {100 * r['threshold_joint_micro_f1']:.1f} / "
            f"{100 * r['argmax_joint_micro_f1']:.1f} | {100 * r['threshold_detection_micro_f1']:.1f} / "
            f"{100 * r['argmax_detection_micro_f1']:.1f} | {r['threshold_mention_ratio']:.2f} / "
            f"{r['argmax_mention_ratio']:.2f} | {r['threshold_wins']} / {r['argmax_wins']} / {ties} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(RESULTS / "decision_rules.json"))
    args = parser.parse_args(argv)
    runs = semeval_runs() + default_recipe_runs()
    rows = summarise(runs)
    write_json_atomic(Path(args.output), {"runs": runs, "summary": rows})
    print(table(rows))
    print()
    print(calibration_table(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
