"""The performance targets, checked by READING the benchmark JSON files (never by a timed test).

| id | target | from |
|---|---|---|
| step_overhead | full step ours / bare ≤ 1.03 | step_overhead.json |
| two_pass_ratio | two passes / one ≈ 2× (reported; 1.5–2.5 counts as "as expected") | one_vs_two_pass.json |
| loss_speedup_b32 | naive loops / ours ≥ 5× at B=32 | losses_vs_loops.json |
| loss_share | loss fwd+bwd (B of the step) / full step < 1% | losses_vs_loops.json + step_overhead.json |
| inference_vs_fixed | pipeline reviews/s ÷ fixed-256 reviews/s ≥ 3× | inference.json |
| pipeline_overhead | raw loop / pipeline − 1 ≤ 5%; with a small encoder (hidden < 256, a GPU proxy) pipeline ≥ 70% of the raw loop; on a GPU ≥ 85% | inference.json |

A target reads `pass` or `miss` for a full-size run; for a `--quick` run (tiny encoder) the measured value is
reported with status `n/a` because the targets are defined for the ViSoBERT-size encoder; a benchmark that
was skipped or not run gives `skipped` / `missing`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Encoders narrower than this are "small": the pipeline target becomes ≥ 70% of the bare loop (a GPU proxy).
SMALL_ENCODER_HIDDEN = 256

FILES = ("step_overhead", "one_vs_two_pass", "losses_vs_loops", "inference")


def _load(out_dir: Path, name: str) -> dict[str, Any] | None:
    path = out_dir / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def check_targets(out_dir: str | Path) -> list[dict[str, Any]]:
    """Read the benchmark JSON files in `out_dir` and report each target.

    Returns:
        `list[dict]`: one entry per target with `id`, `target`, `measured` (a number or None), `status`
        (`pass`, `miss`, `n/a`, `skipped`, `missing`) and `detail`.
    """
    out_dir = Path(out_dir)
    docs = {name: _load(out_dir, name) for name in FILES}
    report: list[dict[str, Any]] = []

    def add(
        target_id: str, target: str, needs: tuple[str, ...], measure: Callable[[], tuple[float, bool, str]]
    ) -> None:
        missing = [name for name in needs if docs[name] is None]
        skipped = [name for name in needs if docs[name] is not None and docs[name].get("skipped")]
        if missing or skipped:
            status = "missing" if missing else "skipped"
            detail = f"{', '.join(missing)}.json not found" if missing else docs[skipped[0]]["skipped"]
            report.append({"id": target_id, "target": target, "measured": None, "status": status, "detail": detail})
            return
        try:
            value, ok, detail = measure()
        except _NotRun as reason:
            report.append(
                {"id": target_id, "target": target, "measured": None, "status": "skipped", "detail": str(reason)}
            )
            return
        quick = any(docs[name].get("settings", {}).get("quick") for name in needs)
        status = "n/a" if quick else ("pass" if ok else "miss")
        report.append({"id": target_id, "target": target, "measured": value, "status": status, "detail": detail})

    def step_overhead() -> tuple[float, bool, str]:
        derived = docs["step_overhead"]["derived"]
        ratio = derived["ratio_ours_over_bare"]
        return (
            ratio,
            ratio <= 1.03,
            f"{derived['overhead_ms']:+.1f} ms per step; per-round median ratio {derived['ratio_per_round_median']:.3f}"
            + (
                f"; heads + losses timed alone: {derived['isolated_heads_and_losses_delta_ms']:+.2f} ms -> ratio "
                f"{derived['ratio_estimated_from_isolated_delta']:.4f}"
                if "isolated_heads_and_losses_delta_ms" in derived
                else ""
            ),
        )

    def two_pass() -> tuple[float, bool, str]:
        derived = docs["one_vs_two_pass"]["derived"]
        ratio = derived["ratio_two_pass_over_ours"]
        return ratio, 1.5 <= ratio <= 2.5, f"one pass saves {derived['saved_ms']:.1f} ms per step"

    def loss_speedup() -> tuple[float, bool, str]:
        speedups = docs["losses_vs_loops"]["derived"]["speedup_naive_over_ours"]
        if "32" not in speedups:
            return float("nan"), False, f"B=32 was not measured (measured: {sorted(speedups, key=int)})"
        others = ", ".join(f"B={b}: {s:.1f}×" for b, s in speedups.items())
        return speedups["32"], speedups["32"] >= 5.0, others

    def loss_share() -> tuple[float, bool, str]:
        step = docs["step_overhead"]
        losses = docs["losses_vs_loops"]
        batch = str(step["inputs"]["batch_size"])
        if batch not in losses["results"]:
            return float("nan"), False, f"losses were not timed at the step's batch size B={batch}"
        if step["settings"]["device"] != losses["settings"]["device"]:
            return float("nan"), False, "the two files were measured on different devices"
        loss_s = losses["results"][batch]["ours_vectorised"]["median_s"]
        step_s = step["results"]["ours_one_pass"]["median_s"]
        share = loss_s / step_s
        return share, share < 0.01, f"{loss_s * 1e3:.3f} ms of {step_s * 1e3:.1f} ms at B={batch}"

    def inference_fixed() -> tuple[float, bool, str]:
        derived = docs["inference"]["derived"]
        if "speedup_over_fixed_256" not in derived:
            return _not_run("raw_fixed_256")
        value = derived["speedup_over_fixed_256"]
        return value, value >= 3.0, f"raw loops alone: {derived['raw_sorted_over_raw_fixed_256']:.2f}×"

    def overhead() -> tuple[float, bool, str]:
        document = docs["inference"]
        if "pipeline_overhead_over_raw" not in document["derived"]:
            return _not_run("pipeline_sorted_dynamic and raw_sorted_dynamic")
        value = document["derived"]["pipeline_overhead_over_raw"]
        hidden = document.get("inputs", {}).get("encoder_hidden_size") or 768
        if str(document.get("settings", {}).get("device", "cpu")).startswith("cuda"):
            fraction = document["derived"].get("pipeline_fraction_of_raw", 1.0 / (1.0 + value))
            return value, fraction >= 0.85, f"GPU: pipeline at {fraction:.1%} of the bare loop; target ≥ 85%"
        if hidden < SMALL_ENCODER_HIDDEN:  # the model costs little, as on a GPU: the pipeline's own cost shows
            fraction = document["derived"].get("pipeline_fraction_of_raw", 1.0 / (1.0 + value))
            return (
                value,
                fraction >= 0.70,
                (f"small encoder (hidden {hidden}): pipeline at {fraction:.1%} of the bare loop; target ≥ 70%"),
            )
        return (
            value,
            value <= 0.05,
            "pipeline (tokenize, sort, post-process) vs bare model(**batch) on the same batches",
        )

    add("step_overhead", "ours / bare full training step ≤ 1.03", ("step_overhead",), step_overhead)
    add("two_pass_ratio", "two passes / one ≈ 2× (1.5–2.5)", ("one_vs_two_pass",), two_pass)
    add("loss_speedup_b32", "naive loops / vectorised ≥ 5× at B=32", ("losses_vs_loops",), loss_speedup)
    add("loss_share", "loss fwd+bwd / training step < 1%", ("losses_vs_loops", "step_overhead"), loss_share)
    add("inference_vs_fixed", "pipeline vs fixed 256 padding ≥ 3×", ("inference",), inference_fixed)
    add(
        "pipeline_overhead",
        "pipeline overhead over raw loop ≤ 5% (small encoder: ≥ 70% of it)",
        ("inference",),
        overhead,
    )
    return report


class _NotRun(Exception):
    """A target's variant was left out of the run (`--inference_variants`)."""


def _not_run(what: str) -> tuple[float, bool, str]:
    raise _NotRun(f"{what} not run (--inference_variants)")


def format_targets(report: list[dict[str, Any]]) -> str:
    """A plain-text table of [`check_targets`]'s report."""
    lines = [f"{'target':<44} {'measured':>10}  {'status':<8} detail"]
    for entry in report:
        lines.append(f"{entry['target']:<44} {_shown(entry):>10}  {entry['status']:<8} {entry['detail']}")
    return "\n".join(lines)


def _shown(entry: dict[str, Any]) -> str:
    value = entry["measured"]
    if value is None:
        return "-"
    return f"{value:.2%}" if entry["id"] in ("loss_share", "pipeline_overhead") else f"{value:.3f}"


def summary_markdown(out_dir: str | Path) -> str:
    """Markdown tables of the targets and of every median and peak RSS in `out_dir`'s JSON files (for
    docs/PERFORMANCE.md: paste, never retype)."""
    out_dir = Path(out_dir)
    lines = ["| target | measured | status | detail |", "|---|---:|---|---|"]
    lines += [f"| {e['target']} | {_shown(e)} | {e['status']} | {e['detail']} |" for e in check_targets(out_dir)]
    lines += [
        "",
        "| benchmark | variant | median | reps | peak RSS (MiB) | peak CUDA (MiB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in FILES:
        document = _load(out_dir, name)
        if document is None or document.get("skipped"):
            continue
        for key, entry in document["results"].items():
            entries = entry.items() if "median_s" not in entry else [(None, entry)]
            for variant, values in entries:
                if not isinstance(values, dict) or "median_s" not in values:
                    continue
                label = key if variant is None else f"{key}: {variant}"
                if "median_reviews_per_second" in values:
                    median = f"{values['median_reviews_per_second']:,.1f} reviews/s"
                else:
                    median = f"{values['median_s'] * 1e3:,.3f} ms"
                memory = document["memory"].get(key, {})
                memory = memory.get(variant, {}) if variant is not None else memory
                peak = memory.get("peak_rss_mib", memory.get("peak_rss_mib_max"))
                cuda = memory.get("peak_cuda_allocated_mib")
                lines.append(
                    f"| {name} | {label} | {median} | {values['reps']} | {'-' if peak is None else f'{peak:,.0f}'} "
                    f"| {'-' if cuda is None else f'{cuda:,.0f}'} |"
                )
    return "\n".join(lines) + "\n"
