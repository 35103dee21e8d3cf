"""Tables of the quality study (benchmarks/quality.py) from its result.json files, written into docs/RESULTS.md
between `<!-- quality:begin -->` and `<!-- quality:end -->` (the rest of the file is left as it is)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from hf_visobert_absa.evaluation.metrics import RENAMED_METRIC_KEYS

ARM_NAMES = {
    "a_ce": "(a) cross-entropy",
    "b_focal": "(b) focal",
    "c_focal_con": "(c) focal + contrastive 0.8/0.2",
    "d_original": "(d) original-design preset",
    "e_tfidf": "(e) TF-IDF + LR",
}
ANCHORS = {
    "uit_visfd": "Published anchor (Phan et al., KSEM 2021, Bi-LSTM + fastText): aspect F1 84.48, sentiment F1 63.06 "
    "(their own metric definitions; set beside our detection µF1 and sentiment macro F1).",
    "phone_reviews": "Original design's two-head numbers (hjsad1994/BERT): detection F1 82.4, sentiment F1 93.9 "
    "(their scoring; set beside our detection µF1 and sentiment accuracy / macro F1).",
}
#: Arms under the names older runs recorded (`result.json` and its folder), mapped to today's.
RENAMED_ARMS = {"d_seed": "d_original"}
BEGIN, END = "<!-- quality:begin -->", "<!-- quality:end -->"


def load_results(results: Path) -> list[dict[str, Any]]:
    """Every `result.json` under `results`, read under today's arm and metric names (the files stay as recorded)."""
    return [current_names(json.loads(p.read_text())) for p in sorted(results.glob("*/*/seed*/result.json"))]


def current_names(record: dict[str, Any]) -> dict[str, Any]:
    """A recorded run with its arm ([`RENAMED_ARMS`]) and metric keys (`RENAMED_METRIC_KEYS`) under today's names."""
    if "arm" in record:
        record["arm"] = RENAMED_ARMS.get(record["arm"], record["arm"])
    metrics = record.get("metrics")
    if isinstance(metrics, dict):
        record["metrics"] = {
            split: {RENAMED_METRIC_KEYS.get(k, k): v for k, v in values.items()} if isinstance(values, dict) else values
            for split, values in metrics.items()
        }
    return record


def mean_std_cell(values: list[float | None]) -> str:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "n/a"
    mean = 100 * float(np.mean(values))
    if len(values) == 1:
        return f"{mean:.1f}"
    return f"{mean:.1f} ± {100 * float(np.std(values, ddof=1)):.1f}"


def welch(a: list[float], b: list[float]) -> tuple[float, float]:
    """Difference of means (a - b) in points and Welch's two-sided p-value (scipy)."""
    from scipy import stats

    diff = 100 * (float(np.mean(a)) - float(np.mean(b)))
    if len(a) < 2 or len(b) < 2:
        return diff, float("nan")
    return diff, float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def build_tables(
    records: list[dict[str, Any]], headline: list[tuple[str, str]], study_seconds: float, quick: bool
) -> str:
    lines: list[str] = []
    budget = records[0]["budget"] if records else {}
    lines.append(f"Budget per transformer run: {json.dumps(budget)}" + (" (QUICK smoke run)" if quick else ""))
    total = sum(r.get("wall_seconds", 0.0) for r in records)
    lines.append(
        f"Runs finished: {len(records)}; summed run wall time {total / 60:.1f} min "
        f"(this invocation: {study_seconds / 60:.1f} min)."
    )
    for dataset in sorted({r["dataset"] for r in records}):
        rows = [r for r in records if r["dataset"] == dataset]
        lines += ["", f"#### {dataset} — test split (mean ± sample std over seeds; n = seeds)", ""]
        lines.append("| arm | n | " + " | ".join(label for _, label in headline) + " | wall min/run |")
        lines.append("|---|---|" + "---|" * len(headline) + "---|")
        for arm, name in ARM_NAMES.items():
            arm_rows = [r for r in rows if r["arm"] == arm]
            if not arm_rows:
                continue
            cells = [mean_std_cell([r["metrics"]["test"].get(key) for r in arm_rows]) for key, _ in headline]
            wall = np.mean([r.get("wall_seconds", 0.0) for r in arm_rows]) / 60
            lines.append(f"| {name} | {len(arm_rows)} | " + " | ".join(cells) + f" | {wall:.1f} |")
        lines += [
            "",
            "\\* absent-as-neutral = absent aspects counted as neutral, 3-way weighted F1: shown only for comparison "
            "with the original design; an all-neutral predictor already scores high on it.",
            "",
            ANCHORS[dataset],
        ]
        b = [r for r in rows if r["arm"] == "b_focal"]
        c = [r for r in rows if r["arm"] == "c_focal_con"]
        if b and c:
            lines += [
                "",
                f"(c) − (b) on test, {dataset} (points; Welch's t-test p; 'beyond spread' = |diff| > 2 × "
                "the larger seed std):",
                "",
                "| metric | (b) | (c) | diff | p | beyond spread? |",
                "|---|---|---|---|---|---|",
            ]
            for key, label in headline:
                vb = [r["metrics"]["test"].get(key) for r in b]
                vc = [r["metrics"]["test"].get(key) for r in c]
                if any(v is None for v in vb + vc):
                    continue
                diff, p = welch(vc, vb)
                spread = 100 * max(
                    np.std(vb, ddof=1) if len(vb) > 1 else 0.0, np.std(vc, ddof=1) if len(vc) > 1 else 0.0
                )
                beyond = "yes" if len(vb) > 1 and len(vc) > 1 and abs(diff) > 2 * spread else "no"
                lines.append(
                    f"| {label} | {mean_std_cell(vb)} | {mean_std_cell(vc)} | {diff:+.1f} | {p:.3f} | {beyond} |"
                )
        probes = [r for r in rows if r.get("representation")]
        if probes:
            lines += [
                "",
                f"k-NN retrieval with the projection embeddings ({dataset} test; each review takes the majority "
                "label per aspect of its k nearest training reviews; seed 0):",
                "",
                "| arm | k | det µF1 | sent MF1 | joint µF1 |",
                "|---|---|---|---|---|",
            ]
            for r in probes:
                m = r["representation"]["knn_metrics"]
                lines.append(
                    f"| {ARM_NAMES[r['arm']]} | {r['representation']['k']} | {mean_std_cell([m.get('detection_micro_f1')])} | "
                    f"{mean_std_cell([m.get('sentiment_macro_f1')])} | {mean_std_cell([m.get('joint_micro_f1')])} |"
                )
            lines.append("")
            lines.append(
                "PCA plots: "
                + ", ".join(
                    f"`{Path('benchmarks/results/quality') / dataset / r['arm'] / 'seed0' / 'embeddings_pca.png'}`"
                    for r in probes
                )
            )
    return "\n".join(lines)


def write_report(results: Path, docs: Path, headline, study_seconds: float, quick: bool = False) -> str:
    records = load_results(results)
    tables = build_tables(records, headline, study_seconds, quick)
    (results / "summary.md").write_text(tables + "\n")
    (results / "summary.json").write_text(json.dumps(records, indent=2))
    if not quick:
        replace_between(docs, BEGIN, END, tables)
    print(tables)
    return tables


def replace_between(docs: Path, begin: str, end: str, text: str) -> None:
    """Put `text` between the markers `begin` and `end` of the Markdown file `docs` (the rest stays as it is);
    nothing happens when the file or a marker is missing."""
    if not docs.is_file():
        return
    content = docs.read_text()
    if begin in content and end in content:
        head, rest = content.split(begin, 1)
        _, tail = rest.split(end, 1)
        docs.write_text(f"{head}{begin}\n{text}\n{end}{tail}")
