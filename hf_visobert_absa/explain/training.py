"""Benchmarks 1 and 2: the cost of our heads and losses in a full training step, and one pass vs two.

1. **step_overhead**: `FocalContrastiveTrainer.training_step` + clipping + optimizer step on our model,
   versus the same sequence on [`models.BareEncoderClassifier`] (same encoder weights, one linear head,
   cross-entropy) through a plain `Trainer`. Ratio = ours / bare (medians).
2. **one_vs_two_pass**: our step versus [`models.TwoPassTrainer`] (forward -> focal -> backward, forward
   again -> contrastive -> backward) on the same model. Ratio = two-pass / ours (medians).

All variants are timed in interleaved rounds on the same rotated input sets, after warm-up rounds.
"""

from __future__ import annotations

import logging
import statistics
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer

from ..hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment
from ..training.trainer import FocalContrastiveTrainer
from .common import (
    BenchSettings,
    calibrate_inner,
    machine_info,
    measure_interleaved,
    peak_memory,
    result_document,
    summarize,
    synchronizer,
    write_json,
)
from .models import (
    TwoPassTrainer,
    bare_twin,
    build_model,
    encoder_config,
    isolated_head_fns,
    make_trainer,
    optimizer_description,
    parameter_count,
    synthetic_batches,
    training_step_fn,
)

logger = logging.getLogger(__name__)


def run_training_benchmarks(
    settings: BenchSettings,
    out_dir: Path,
    which: set[str],
    model: ViSoBertAbsaForAspectSentiment | None = None,
    encoder_text: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Run benchmark 1 (`"step_overhead"`) and/or 2 (`"one_vs_two_pass"`) in one interleaved measurement.

    Args:
        settings ([`BenchSettings`]): the run configuration.
        out_dir (`Path`): where `<name>.json` is written (PNG drawing is left to the caller).
        which (`set[str]`): a non-empty subset of {"step_overhead", "one_vs_two_pass"}.
        model ([`ViSoBertAbsaForAspectSentiment`], *optional*): the model to train (`explain` passes its own); by default
            one is built from `settings.encoder` with the default configuration.
        encoder_text (`str`, *optional*): how to describe the encoder in the JSON when `model` is given.

    Returns:
        `dict[str, dict]`: benchmark name -> its JSON document (already written).
    """
    device = torch.device(settings.device)
    if model is None:
        text_config, encoder_text = encoder_config(settings.encoder)
        model = build_model(text_config, seed=settings.seed)
    model = model.to(device).train()
    config = model.config
    batches = synthetic_batches(
        settings.input_sets,
        settings.batch_size,
        settings.seq_len,
        vocab_size=config.text_config.vocab_size,
        num_aspects=config.num_aspects,
        label_scheme=config.label_scheme,
        seed=settings.seed,
        device=device,
    )
    trainers = _trainers(model, which, settings, device)
    steps = {name: training_step_fn(trainer, batches, settings.compile) for name, trainer in trainers.items()}
    load_before = machine_info(device)["load_average_1_5_15"]
    timings = measure_interleaved(steps, reps=settings.reps, warmup=settings.warmup, sync=synchronizer(device))
    memory = {name: peak_memory(lambda step=step: step(0), device) for name, step in steps.items()}
    isolated: dict[str, Any] = {}
    if "step_overhead" in which:
        isolated = _isolated_heads(model, trainers["bare_encoder_linear_ce"].model, batches, settings, device)
    machine = machine_info(device)
    machine["load_average_before"] = load_before
    common = {
        "settings": settings.to_dict(),
        "inputs": _inputs_block(model, trainers, batches, settings, encoder_text),
        "machine": machine,
    }
    results = {name: summarize(values) for name, values in timings.items()}
    documents: dict[str, dict[str, Any]] = {}
    if "step_overhead" in which:
        documents["step_overhead"] = _step_overhead_document(results, timings, isolated, memory, common)
    if "one_vs_two_pass" in which:
        documents["one_vs_two_pass"] = _one_vs_two_pass_document(results, timings, memory, common)
    for name, document in documents.items():
        write_json(out_dir / f"{name}.json", document)
    return documents


def _trainers(
    model: ViSoBertAbsaForAspectSentiment, which: set[str], settings: BenchSettings, device: torch.device
) -> dict[str, Trainer]:
    """Ours, plus the bare twin (benchmark 1) and/or the two-pass trainer on the same model (benchmark 2)."""
    trainers: dict[str, Trainer] = {
        "ours_one_pass": make_trainer(model, FocalContrastiveTrainer, device=str(device), dtype=settings.dtype)
    }
    if "step_overhead" in which:
        bare = bare_twin(model).to(device)
        trainers["bare_encoder_linear_ce"] = make_trainer(bare, Trainer, device=str(device), dtype=settings.dtype)
    if "one_vs_two_pass" in which:
        # Same model object as ours: the optimizer state and weights differ only by the steps taken.
        trainers["sequential_two_pass"] = make_trainer(model, TwoPassTrainer, device=str(device), dtype=settings.dtype)
    return trainers


def _isolated_heads(
    model: ViSoBertAbsaForAspectSentiment, bare: Any, batches: list, settings: BenchSettings, device: torch.device
) -> dict[str, Any]:
    """Time only what differs between ours and the bare twin: heads and losses, forward + backward."""
    heads = isolated_head_fns(model, bare, batches, device=device, dtype=settings.dtype, seed=settings.seed)
    inner = {name: calibrate_inner(fn, target_s=0.005 if settings.quick else 0.02) for name, fn in heads.items()}
    head_times = measure_interleaved(
        heads, reps=settings.reps, warmup=settings.warmup, sync=synchronizer(device), inner=inner
    )
    return {name: {**summarize(values), "calls_per_rep": inner[name]} for name, values in head_times.items()}


_MODEL_CONFIG_KEYS = (
    "label_scheme", "pooling", "head_hidden_size", "classifier_dropout", "projection_dim", "focal_gamma",
    "contrastive_temperature", "contrastive_mode", "focal_weight", "contrastive_weight",
)  # fmt: skip


def _inputs_block(
    model: ViSoBertAbsaForAspectSentiment,
    trainers: dict[str, Trainer],
    batches: list,
    settings: BenchSettings,
    encoder_text: str | None,
) -> dict[str, Any]:
    """What was measured: encoder, sizes, batches, labels, head configuration, optimizer and step."""
    config = model.config
    return {
        "encoder": encoder_text or settings.encoder,
        "text_config": {k: v for k, v in config.text_config.to_dict().items() if k in _ARCH_KEYS},
        "encoder_parameters": parameter_count(model.encoder),
        "model_parameters": {name: parameter_count(t.model) for name, t in trainers.items()},
        "batch_size": settings.batch_size,
        "seq_len": settings.seq_len,
        "input_sets": settings.input_sets,
        "tokens_per_batch": [int(b["attention_mask"].sum()) for b in batches],
        "labels": "synthetic: 16% of (review, aspect) cells mentioned, sentiments 60/25/15% pos/neg/neu",
        "model_config": {key: getattr(config, key) for key in _MODEL_CONFIG_KEYS},
        "num_aspects": config.num_aspects,
        "num_classes": config.num_classes,
        "optimizer": optimizer_description(trainers["ours_one_pass"]),
        "step": "trainer.training_step(model, batch) -> clip_grad_norm_(1.0) -> optimizer.step() -> zero_grad()",
    }


def _step_overhead_document(
    results: dict, timings: dict, isolated: dict, memory: dict, common: dict[str, Any]
) -> dict[str, Any]:
    """Benchmark 1's JSON document: ours vs the bare encoder + linear head + cross-entropy."""
    ours = results["ours_one_pass"]["median_s"]
    bare_median = results["bare_encoder_linear_ce"]["median_s"]
    delta = isolated["ours_heads_and_losses"]["median_s"] - isolated["bare_head_and_cross_entropy"]["median_s"]
    derived = {
        "ratio_ours_over_bare": ours / bare_median,
        "overhead_ms": (ours - bare_median) * 1e3,
        "ratio_per_round_median": _paired_ratio(timings["ours_one_pass"], timings["bare_encoder_linear_ce"]),
        "isolated_heads_and_losses_delta_ms": delta * 1e3,
        "ratio_estimated_from_isolated_delta": (bare_median + delta) / bare_median,
    }
    return result_document(
        "step_overhead",
        "Full training step: FocalContrastiveTrainer (two heads, focal + contrastive, one backward) vs "
        "the same encoder with a linear head and cross-entropy",
        results={
            **{k: results[k] for k in ("ours_one_pass", "bare_encoder_linear_ce")},
            "isolated_heads_and_losses": isolated,
        },
        derived=derived,
        memory={k: memory[k] for k in ("ours_one_pass", "bare_encoder_linear_ce")},
        notes=[
            "Both variants run Trainer.training_step (the bare one through a plain Trainer) with the same "
            "optimizer, clipping and batches; their timings are interleaved round by round.",
            "peak RSS covers the whole process: both models (and their optimizer states) are resident.",
            "results.isolated_heads_and_losses times only what differs between the two models (heads and "
            "losses, forward + backward, from the same pooled states; `calls_per_rep` calls per repetition); "
            "derived.ratio_estimated_from_isolated_delta = (bare step + that difference) / bare step.",
        ],
        **common,
    )


def _one_vs_two_pass_document(results: dict, timings: dict, memory: dict, common: dict[str, Any]) -> dict[str, Any]:
    """Benchmark 2's JSON document: one forward + one backward vs two sequential passes."""
    ours = results["ours_one_pass"]["median_s"]
    two = results["sequential_two_pass"]["median_s"]
    return result_document(
        "one_vs_two_pass",
        "One forward + one backward for both losses (ours) vs forward->focal->backward then "
        "forward->contrastive->backward",
        results={k: results[k] for k in ("ours_one_pass", "sequential_two_pass")},
        derived={
            "ratio_two_pass_over_ours": two / ours,
            "saved_ms": (two - ours) * 1e3,
            "ratio_per_round_median": _paired_ratio(timings["sequential_two_pass"], timings["ours_one_pass"]),
        },
        memory={k: memory[k] for k in ("ours_one_pass", "sequential_two_pass")},
        notes=["Both variants train the same model object; each forward computes both (tiny) heads."],
        **common,
    )


def _paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median of the per-round ratios (each round runs both variants back to back)."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


_ARCH_KEYS = (
    "model_type",
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "max_position_embeddings",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
)
