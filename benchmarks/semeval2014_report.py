"""Tables of the SemEval-2014 study (benchmarks/semeval2014.py) from its result.json files, written into
docs/RESULTS.md between `<!-- semeval2014:begin -->` and `<!-- semeval2014:end -->`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.quality_report import load_results, mean_std_cell, replace_between, welch

BEGIN, END = "<!-- semeval2014:begin -->", "<!-- semeval2014:end -->"
OURS = [
    ("detection_micro_f1", "det µF1"),
    ("sentiment_accuracy", "sent acc"),
    ("sentiment_macro_f1", "sent MF1"),
    ("joint_micro_f1", "joint µF1"),
]
PROTOCOL = [
    ("semeval_detection_precision", "ST3 P"),
    ("semeval_detection_recall", "ST3 R"),
    ("semeval_detection_f1", "ST3 F1"),
    ("accuracy_4way", "ST4 4-way"),
    ("accuracy_4way_conflict_as_neutral", "4-way (conflict=neutral)"),
    ("accuracy_3way", "3-way"),
    ("accuracy_binary", "binary"),
]
ANCHORS = [
    (
        "NRC-Canada (SemEval-2014 winner; Kiritchenko et al., 2014)",
        {"semeval_detection_f1": 88.58, "accuracy_4way": 82.92},
    ),
    (
        "BERT-base sentence-pair (Sun et al., NAACL 2019)",
        {
            "semeval_detection_precision": 93.57,
            "semeval_detection_recall": 90.83,
            "semeval_detection_f1": 92.18,
            "accuracy_4way": 85.9,
            "accuracy_3way": 89.9,
            "accuracy_binary": 95.6,
        },
    ),
]


def _groups(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r.get("setup", ""), r["variant"], r["arm"]), []).append(r)
    return groups


def validation_table(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| setup | variant | loss | seeds | "
        + " | ".join(label for _, label in OURS)
        + " | ST3 F1 | ST4 4-way | 4-way (c=n) | 3-way | joint µF1, thresholds cross-fitted | best epoch | min/run |",
        "|---|---|---|---|" + "---|" * len(OURS) + "---|---|---|---|---|---|---|",
    ]
    for (setup, variant, arm), rows in sorted(_groups([r for r in records if "validation_scored" in r]).items()):
        cells = [mean_std_cell([r["validation_scored"][k] for r in rows]) for k, _ in OURS]
        cells += [
            mean_std_cell([r["validation_scored"]["semeval_detection_f1"] for r in rows]),
            mean_std_cell([r["validation_scored"]["accuracy_4way"] for r in rows]),
            "–"  # a four-polarity model scores conflict as itself
            if setup == "4-pol"
            else mean_std_cell([r["validation_scored"]["accuracy_4way_conflict_as_neutral"] for r in rows]),
            mean_std_cell([r["validation_scored"]["accuracy_3way"] for r in rows]),
            mean_std_cell([r["validation_crossfit"]["joint_micro_f1"] for r in rows]),
        ]
        best = []
        for r in rows:
            curve = [c for c in r["validation_curve"] if c["joint_micro_f1"] is not None]
            best.append(f"{max(curve, key=lambda c: c['joint_micro_f1'])['epoch']:.0f}/{len(curve)}" if curve else "?")
        minutes = np.mean([r["wall_seconds"] for r in rows]) / 60
        lines.append(
            f"| {setup} | {variant} | {arm} | {','.join(str(r['seed']) for r in rows)} | "
            + " | ".join(cells)
            + f" | {' '.join(best)} | {minutes:.0f} |"
        )
    return lines


def test_table(records: list[dict[str, Any]]) -> list[str]:
    keys = OURS + PROTOCOL
    lines = [
        "| system | seeds | " + " | ".join(label for _, label in keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    for (setup, variant, arm), rows in sorted(_groups(records).items()):
        rows = [r for r in rows if "test" in r]
        if not rows:
            continue
        for field, suffix in (("test", ""), ("test_calibrated", ", thresholds calibrated on validation")):
            if any(field not in r for r in rows):
                continue
            cells = [mean_std_cell([r[field].get(k) for r in rows]) for k, _ in keys]
            lines.append(f"| MiniLM {setup}, {variant} / {arm}{suffix} | {len(rows)} | " + " | ".join(cells) + " |")
    for name, values in ANCHORS:
        cells = [f"{values[k]:.2f}" if k in values else "–" for k, _ in keys]
        lines.append(f"| {name} | – | " + " | ".join(cells) + " |")
    return lines


def loss_table(records: list[dict[str, Any]]) -> list[str]:
    """focal + contrastive (0.8/0.2) vs focal alone on the same recipe: validation (every seed) and test (the
    seeds scored on test), difference of means and Welch's t-test p (as the quality study)."""
    groups = _groups([r for r in records if "validation_scored" in r])
    lines = []
    for setup, variant, _ in sorted(k for k in groups if k[2] == "focal"):
        con, focal = groups.get((setup, variant, "focal_con"), []), groups[(setup, variant, "focal")]
        lines += [
            "",
            f"Focal + contrastive 0.8/0.2 vs focal alone ({setup}, {variant}; seeds {len(con)} vs {len(focal)}; "
            "Welch's t-test):",
            "",
            "| split | metric | focal + con | focal | diff (points) | p |",
            "|---|---|---|---|---|---|",
        ]
        for split, field in (("validation", "validation_scored"), ("test", "test")):
            a = [r for r in con if field in r]
            b = [r for r in focal if field in r]
            if not a or not b:
                continue
            for key, label in [*OURS, ("semeval_detection_f1", "ST3 F1"), ("accuracy_4way", "ST4 4-way")]:
                va, vb = [r[field][key] for r in a], [r[field][key] for r in b]
                diff, p = welch(va, vb)
                lines.append(
                    f"| {split} | {label} | {mean_std_cell(va)} | {mean_std_cell(vb)} | {diff:+.1f} | {p:.3f} |"
                )
    return lines


#: Fourth round: the final recipe against the recipe it replaced and against focal alone (the focal-only runs of
#: `aq_e10_lr5e-5`: with the contrastive weight at 0 the contrastive mode changes nothing), same seeds.
COMPARISONS = [
    (("aq_e10_asc", "focal_con"), ("aq_e10_lr5e-5", "focal_con"), "aspect-level vs review-level contrast"),
    (("aq_e10_asc", "focal_con"), ("aq_e10_lr5e-5", "focal"), "0.8·focal + 0.2·aspect-level contrast vs focal alone"),
]


def comparison_table(records: list[dict[str, Any]], a: tuple[str, str], b: tuple[str, str], title: str) -> list[str]:
    """Two (variant, arm) groups of the 4-pol study: every shared split, difference of means and Welch's p."""
    groups = _groups([r for r in records if r.get("setup") == "4-pol"])
    first, second = groups.get(("4-pol", *a), []), groups.get(("4-pol", *b), [])
    if not first or not second:
        return []
    lines = [
        "",
        f"{title.capitalize()}: {a[0]} / {a[1]} vs {b[0]} / {b[1]} (seeds {len(first)} vs {len(second)}; Welch's "
        "t-test):",
        "",
        f"| split | metric | {a[0]} / {a[1]} | {b[0]} / {b[1]} | diff (points) | p |",
        "|---|---|---|---|---|---|",
    ]
    for split, field in (("validation", "validation_scored"), ("test", "test")):
        va_rows, vb_rows = [r for r in first if field in r], [r for r in second if field in r]
        if not va_rows or not vb_rows:
            continue
        for key, label in [*OURS, ("semeval_detection_f1", "ST3 F1"), ("accuracy_4way", "ST4 4-way")]:
            va, vb = [r[field][key] for r in va_rows], [r[field][key] for r in vb_rows]
            diff, p = welch(va, vb)
            lines.append(f"| {split} | {label} | {mean_std_cell(va)} | {mean_std_cell(vb)} | {diff:+.1f} | {p:.3f} |")
    return lines


def build(records: list[dict[str, Any]], quick: bool) -> str:
    lines = ["Validation (10% of train, fixed seed; every recipe decision is made here):", ""]
    lines += validation_table(records)
    lines += ["", "Test (scored once per run, after the recipe was fixed on validation):", ""]
    lines += test_table(records)
    lines += loss_table(records)
    for a, b, title in COMPARISONS:
        lines += comparison_table(records, a, b, title)
    if quick:
        lines.insert(0, "QUICK smoke run: numbers mean nothing.\n")
    return "\n".join(lines)


def write_report(
    results: Path,
    docs: Path,
    quick: bool = False,
    legacy: Path | None = None,
    diagnosis: str = "",
    full_train: Path | None = None,
) -> str:
    """Tables from the runs under `results` (four polarities) and, when given, `legacy` (the early
    conflict-as-neutral screening runs) and `full_train` (final runs on all of the training file, test only)."""
    records = []
    sources = ((results, "4-pol"), (legacy, "3-pol (c→n)"), (full_train, "4-pol, trained on all of train"))
    for folder, setup in sources:
        if folder is not None and folder.is_dir():
            records += [{**r, "setup": setup} for r in load_results(folder)]
    tables = build(records, quick)
    if diagnosis:
        tables += (
            "\n\nValidation errors at threshold 0.5 — right / missed (predicted none) / wrong polarity, % of the "
            "gold-mentioned pairs in each group:\n\n" + diagnosis
        )
    results.mkdir(parents=True, exist_ok=True)
    (results / "summary.md").write_text(tables + "\n")
    if not quick:
        replace_between(docs, BEGIN, END, tables)
    print(tables)
    return tables
