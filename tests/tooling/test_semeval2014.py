"""benchmarks/semeval2014.py: the splits it trains on, and its tables from result.json files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import semeval2014
from benchmarks.semeval2014_metrics import error_breakdown
from benchmarks.semeval2014_report import write_report

METRICS = {
    "detection_micro_f1": 0.9, "detection_macro_f1": 0.8, "sentiment_accuracy": 0.7, "sentiment_macro_f1": 0.6,
    "joint_micro_f1": 0.65, "semeval_detection_precision": 0.91, "semeval_detection_recall": 0.89,
    "semeval_detection_f1": 0.9, "accuracy_4way": 0.8, "accuracy_4way_conflict_as_neutral": 0.81,
    "accuracy_3way": 0.85, "accuracy_binary": 0.93, "polarity_pairs": 10,
}  # fmt: skip


def _record(seed: int, joint: float, test: bool) -> dict:
    record = {
        "variant": "prior_headlr", "arm": "focal_con", "seed": seed, "wall_seconds": 600.0,
        "validation_scored": {**METRICS, "joint_micro_f1": joint}, "validation_crossfit": METRICS,
        "validation_curve": [{"epoch": 1.0, "joint_micro_f1": 0.5}, {"epoch": 2.0, "joint_micro_f1": joint}],
    }  # fmt: skip
    if test:
        record.update(test=METRICS, test_calibrated=METRICS)
    return record


def test_report_tables_mean_std_and_anchors(tmp_path):
    results = tmp_path / "semeval2014"
    for seed, joint in ((0, 0.60), (1, 0.70)):
        folder = results / "prior_headlr" / "focal_con" / f"seed{seed}"
        folder.mkdir(parents=True)
        (folder / "result.json").write_text(json.dumps(_record(seed, joint, test=seed == 0)))
    docs = tmp_path / "RESULTS.md"
    docs.write_text("head\n<!-- semeval2014:begin -->\nold\n<!-- semeval2014:end -->\ntail\n")
    tables = write_report(results, docs)
    assert "| 4-pol | prior_headlr | focal_con | 0,1 | 90.0 ± 0.0 |" in tables
    assert "65.0 ± 7.1" in tables  # joint: mean and sample std of 60 and 70
    assert "| 2/2 2/2 |" in tables  # best epoch per seed
    assert "| MiniLM 4-pol, prior_headlr / focal_con | 1 |" in tables  # only the run scored on test
    assert "88.58" in tables and "92.18" in tables
    text = docs.read_text()
    assert text.startswith("head\n<!-- semeval2014:begin -->\nValidation") and text.endswith(
        "<!-- semeval2014:end -->\ntail\n"
    )


def test_error_breakdown_counts_missed_and_wrong():
    probs = np.array([[[0.9, 0.05, 0.03, 0.02], [0.1, 0.1, 0.7, 0.1]], [[0.2, 0.7, 0.2, 0.1], [0.9, 0.1, 0, 0]]])
    gold = [["positive", "positive"], ["positive", None]]
    out = error_breakdown(probs, gold)
    assert out["all"] == {"pairs": 3, "right": 1 / 3, "missed": 1 / 3, "wrong": 1 / 3}
    assert out["one-polarity sentences"]["pairs"] == 3 and "mixed sentences" not in out


def test_library_splits_hold_out_ten_percent_with_four_polarities():
    if not semeval2014.DATA.is_dir():
        pytest.skip(f"needs the SemEval-2014 files at {semeval2014.DATA} (../shared beside the project)")
    splits = semeval2014.library_splits()
    assert [len(splits[s]) for s in ("train", "validation", "test")] == [2740, 304, 800]
    polarities = {p for s in splits["test"] for p in s["categories"].values()}
    assert polarities == set(semeval2014.POLARITIES)


def test_full_train_runs_appear_on_test_only(tmp_path):
    results, full = tmp_path / "semeval2014", tmp_path / "semeval2014_fulltrain"
    for folder, record in (
        (results / "prior_headlr" / "focal_con" / "seed0", _record(0, 0.6, test=True)),
        (full / "aq_e5" / "focal_con" / "seed0", {"variant": "aq_e5", "arm": "focal_con", "seed": 0, "test": METRICS}),
    ):
        folder.mkdir(parents=True)
        (folder / "result.json").write_text(json.dumps(record))
    tables = write_report(results, tmp_path / "absent.md", full_train=full)
    validation, test = tables.split("Test (scored once")
    assert "aq_e5" not in validation
    assert "| MiniLM 4-pol, trained on all of train, aq_e5 / focal_con | 1 |" in test
    assert "aq_e5 / focal_con, thresholds calibrated" not in test  # no validation: nothing to calibrate on


def test_variant_budget_overrides_the_command_line():
    budget = {"epochs": 3.0, "learning_rate": 1e-4, "batch_size": 32, "max_length": 96}
    assert semeval2014.budget_of("aq_e5", budget) == {**budget, "epochs": 5.0}
    assert semeval2014.budget_of("aspectq_prior_headlr", budget) == budget
    assert semeval2014.settings_of("aq_gamma1", "focal")["model"]["focal_gamma"] == 1.0


@pytest.mark.filterwarnings("ignore:Precision loss occurred")  # the metrics other than joint are equal
def test_comparison_table_sets_two_recipes_side_by_side():
    from benchmarks.semeval2014_report import comparison_table

    records = [
        {**_record(seed, joint, test=True), "variant": variant, "arm": arm, "setup": "4-pol"}
        for variant, arm, joints in (("new", "focal_con", (0.70, 0.72)), ("old", "focal", (0.60, 0.62)))
        for seed, joint in enumerate(joints)
    ]
    lines = comparison_table(records, ("new", "focal_con"), ("old", "focal"), "new vs old")
    assert lines[1].startswith("New vs old: new / focal_con vs old / focal (seeds 2 vs 2;")
    joint = next(line for line in lines if line.startswith("| validation | joint µF1 |"))
    assert "| 71.0 ± 1.4 | 61.0 ± 1.4 | +10.0 |" in joint
    assert any(line.startswith("| test | ST4 4-way |") for line in lines)
    assert comparison_table(records, ("new", "focal_con"), ("missing", "focal"), "x") == []
