"""One training step timed stage by stage (the `explain` timeline), and the same step timed whole.

The staged step calls the model's own submodules in the order `ViSoBertAbsaForAspectSentiment.forward` does (encoder and
pooling, classification head, projection head), then the library's two losses, their weighted sum, one
backward and the optimizer step, waiting for the device between stages. A test checks that it computes the
same loss as `model(**batch).loss`; the timeline reports how far the sum of the stage medians is from the
median of the whole step, measured separately in interleaved rounds.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from ..hub.configuration_visobert_absa import ASPECT_CONTRASTIVE_MODES
from ..hub.losses_visobert_absa import contrastive_term, focal_loss
from .common import autocast, summarize, synchronizer

#: Stage names, in execution order, with the label the timeline shows.
STAGES: dict[str, str] = {
    "encoder_forward": "encoder forward (+ pooling)",
    "classification_head": "classification head",
    "projection_head": "projection head",
    "focal_loss": "focal loss",
    "contrastive_loss": "contrastive loss",
    "combine": "weighted sum",
    "backward": "backward (one, both losses)",
    "optimizer_step": "clip + optimizer step",
}


def staged_loss(model: Any, batch: dict[str, torch.Tensor], device: Any, dtype: str, tick: Any = None) -> torch.Tensor:
    """The model's combined loss computed stage by stage; `tick(name)` is called after each forward stage."""
    config = model.config
    tick = tick or (lambda name: None)
    labels = batch["labels"]
    with autocast(device, dtype):
        encoded, mask = model.encode(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        pooled = model.pool(encoded.last_hidden_state, mask)  # [B, H]
        tick("encoder_forward")
        per_aspect = None
        if model.scores_each_aspect:  # one vector per aspect: the model's own path
            _, logits, per_aspect = model.pool_classify_per_aspect(encoded.last_hidden_state, mask)
        else:
            logits = model.classifier(pooled).view(-1, config.num_aspects, config.num_classes)  # [B, A, C]
        tick("classification_head")
        embeddings = model.projection(pooled)  # [B, D], L2-normalised by the head
        aspect_embeddings = None
        if per_aspect is not None and config.contrastive_mode in ASPECT_CONTRASTIVE_MODES:
            aspect_embeddings = model.projection(per_aspect)  # [B, A, D]
        tick("projection_head")
        focal = focal_loss(logits, labels, gamma=config.focal_gamma, alpha=config.focal_alpha)
        tick("focal_loss")
        if config.contrastive_weight == 0:
            contrastive = embeddings.sum().float() * 0.0
        else:
            contrastive = contrastive_term(embeddings, labels, config, aspect_embeddings)
        tick("contrastive_loss")
        loss = config.focal_weight * focal + config.contrastive_weight * contrastive
        tick("combine")
    return loss


def staged_step(
    model: Any, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer, *, device: Any, dtype: str,
    max_grad_norm: float = 1.0,
) -> dict[str, float]:  # fmt: skip
    """One training step; returns seconds per stage (keys of [`STAGES`])."""
    sync = synchronizer(device)
    times: dict[str, float] = {}
    sync()
    last = [time.perf_counter()]

    def tick(name: str) -> None:
        sync()
        now = time.perf_counter()
        times[name] = now - last[0]
        last[0] = now

    loss = staged_loss(model, batch, device, dtype, tick)
    loss.backward()
    tick("backward")
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    tick("optimizer_step")
    return times


def full_step(
    model: Any, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer, *, device: Any, dtype: str,
    max_grad_norm: float = 1.0,
) -> None:  # fmt: skip
    """The same step, whole: `model(**batch).loss`, backward, clipping, optimizer step."""
    with autocast(device, dtype):
        loss = model(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def _timeline_summary(stage_times: dict[str, list[float]], full: list[float]) -> dict[str, Any]:
    """The document [`measure_timeline`] returns, from the times of every kept round."""
    stages = {name: summarize(values) for name, values in stage_times.items()}
    totals = [sum(values) for values in zip(*stage_times.values(), strict=True)]
    # The repetition whose staged total is the median: one real step, drawn as the Gantt bar. (Summing the
    # per-stage medians instead underestimates the total when delays from other processes skew the stages.)
    middle = sorted(range(len(totals)), key=totals.__getitem__)[(len(totals) - 1) // 2]
    drawn = {name: stage_times[name][middle] for name in STAGES}
    full_summary = summarize(full)
    start, starts = 0.0, {}
    for name in STAGES:
        starts[name] = start
        start += drawn[name]
    sum_of_medians = sum(entry["median_s"] for entry in stages.values())
    return {
        "stages": stages,
        "stage_labels": STAGES,
        "median_repetition": {"index": middle, "stage_s": drawn, "total_s": totals[middle]},
        "start_s": starts,
        "staged_total": summarize(totals),
        "full_step": full_summary,
        # Each round runs both back to back, so their ratio cancels the machine's slow load changes.
        "relative_difference": statistics.median(s / f for s, f in zip(totals, full, strict=True)) - 1.0,
        "median_staged_vs_median_full": statistics.median(totals) / full_summary["median_s"] - 1.0,
        "sum_of_stage_medians_s": sum_of_medians,
        "sum_of_stage_medians_relative_difference": sum_of_medians / full_summary["median_s"] - 1.0,
    }


def measure_timeline(
    model: Any,
    batches: list[dict[str, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    *,
    reps: int,
    warmup: int,
    device: Any,
    dtype: str,
) -> dict[str, Any]:
    """Staged and whole steps in interleaved rounds (alternating which goes first) over rotated batches.

    Returns:
        `dict` with `stages` (name -> every repetition + median), `staged_total` (per-repetition sums),
        `median_repetition` (the staged step whose total is the median: its stage times, drawn as the Gantt
        bar, and `start_s` their cumulative starts), `full_step` (the whole step, every repetition + median),
        `relative_difference` (median over rounds of staged total / whole step, minus 1) and, for reference,
        the same from the two medians and from the sum of the per-stage medians.
    """
    sync = synchronizer(device)
    stage_times: dict[str, list[float]] = {name: [] for name in STAGES}
    full: list[float] = []
    for round_index in range(warmup + reps):
        batch = batches[round_index % len(batches)]
        order = ("staged", "full") if round_index % 2 == 0 else ("full", "staged")
        for kind in order:
            if kind == "staged":
                times = staged_step(model, batch, optimizer, device=device, dtype=dtype)
                if round_index >= warmup:
                    for name in STAGES:
                        stage_times[name].append(times[name])
            else:
                sync()
                start = time.perf_counter()
                full_step(model, batch, optimizer, device=device, dtype=dtype)
                sync()
                if round_index >= warmup:
                    full.append(time.perf_counter() - start)
    return _timeline_summary(stage_times, full)
