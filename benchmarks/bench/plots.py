"""One PNG per benchmark, drawn from its JSON document (see `hf_visobert_absa.explain.figures.draw_medians`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hf_visobert_absa.explain.figures import COLOURS, draw_medians, draw_sequential_vs_parallel


def _shape(document: dict[str, Any]) -> str:
    inputs, settings = document["inputs"], document["settings"]
    encoder = str(inputs.get("encoder", "")).split(" (")[0]
    where = f"{settings['device']} {settings['dtype']}, {document['machine'].get('torch_threads')} threads"
    return f"{encoder}, {where}" if encoder else where


def plot_step_overhead(document: dict[str, Any], path: Path) -> Path:
    """Benchmark 1: our full step vs the bare step (medians, every repetition as a dot)."""
    results = document["results"]
    inputs = document["inputs"]
    derived = document["derived"]
    alone = ""
    if "isolated_heads_and_losses_delta_ms" in derived:
        alone = (
            f"; heads + losses timed alone add {derived['isolated_heads_and_losses_delta_ms']:.2f} ms "
            f"(ratio {derived['ratio_estimated_from_isolated_delta']:.4f})"
        )
    return draw_medians(
        ["ours: FocalContrastiveTrainer step", "bare: encoder + linear + cross-entropy"],
        [results["ours_one_pass"]["seconds"], results["bare_encoder_linear_ce"]["seconds"]],
        path,
        title=f"Full training step, B={inputs['batch_size']}, L={inputs['seq_len']} ({_shape(document)}): "
        f"ours / bare = {derived['ratio_ours_over_bare']:.3f} (medians){alone}",
        xlabel="ms per training step (bar = median, dots = repetitions)",
        colours=[COLOURS["encoder"], COLOURS["input"]],
        scale=1e3,
    )


def plot_losses(document: dict[str, Any], path: Path) -> Path:
    """Benchmark 3: vectorised vs naive loss per batch size, log scale, with the speed-up."""
    names, series, colours, notes = [], [], [], []
    for batch, entry in document["results"].items():
        speedup = document["derived"]["speedup_naive_over_ours"][batch]
        names += [f"B={batch} naive loops", f"B={batch} ours (vectorised)"]
        series += [entry["naive_loops"]["seconds"], entry["ours_vectorised"]["seconds"]]
        colours += [COLOURS["focal"], COLOURS["encoder"]]
        notes += ["ms", f"ms  ({speedup:.0f}× faster)"]
    return draw_medians(
        names, series, path,
        title=f"Combined loss forward + backward ({_shape(document)})",
        xlabel="ms per call, log scale (bar = median, dots = repetitions)",
        colours=colours, scale=1e3, log=True, annotate=notes,
    )  # fmt: skip


def plot_inference(document: dict[str, Any], path: Path) -> Path:
    """Benchmark 4: reviews per second of every inference variant."""
    labels = {
        "pipeline_sorted_dynamic": "pipeline, length-sorted, dynamic padding (ours)",
        "pipeline_unsorted_dynamic": "pipeline, file order, dynamic padding",
        "pipeline_one_call_per_review": "pipeline, one call per review",
        "raw_sorted_dynamic": "raw model(**batch), same sorted batches",
        "raw_fixed_256": "raw model(**batch), fixed max_length=256",
    }
    results = document["results"]
    names = [labels[name] for name in labels if name in results]
    series = [results[name]["reviews_per_second"] for name in labels if name in results]
    colours = [COLOURS["encoder"], COLOURS["pooling"], COLOURS["contrastive"], COLOURS["projection"], COLOURS["focal"]]
    inputs = document["inputs"]
    return draw_medians(
        names, series, path,
        title=f"Inference on {inputs['reviews']} real reviews, batch {inputs['batch_size']} ({_shape(document)})",
        xlabel="reviews per second (bar = median, dots = repetitions)",
        colours=colours[: len(names)], annotate=["reviews/s"] * len(names),
    )  # fmt: skip


def plot_document(document: dict[str, Any], out_dir: Path) -> Path | None:
    """Draw `<benchmark>.png` next to the JSON; None for a skipped benchmark."""
    if document.get("skipped"):
        return None
    name = document["benchmark"]
    path = out_dir / f"{name}.png"
    drawers = {
        "step_overhead": plot_step_overhead,
        "one_vs_two_pass": draw_sequential_vs_parallel,
        "losses_vs_loops": plot_losses,
        "inference": plot_inference,
    }
    if name not in drawers:  # int8: a table in docs/PERFORMANCE.md, no figure
        return None
    return drawers[name](document, path)
