"""Benchmark 3: the library's vectorised combined loss vs naive loop versions, forward + backward.

The naive loops are NOT part of the library: they live in `benchmarks/losses_vs_loops.py` of a source
checkout, which this module loads by path ([`find_naive_losses`]). From an installed package without the
checkout, the benchmark is reported as skipped with that reason.

Before timing, both versions are run on every input set and their values and gradients compared: a timing
of two computations that disagree would compare different work, so a disagreement stops the benchmark.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from hf_visobert_absa.data.label_schemes import encode_labels
from hf_visobert_absa.explain.common import (
    BenchSettings,
    calibrate_inner,
    measure_interleaved,
    peak_memory,
    result_document,
    summarize,
    synchronizer,
    write_json,
)
from hf_visobert_absa.explain.models import MENTION_RATE, SENTIMENT_MIX, TINY_ENCODER_CONFIG
from hf_visobert_absa.hub.configuration_visobert_absa import ViSoBertAbsaConfig
from hf_visobert_absa.hub.losses_visobert_absa import compute_absa_loss

logger = logging.getLogger(__name__)

NAIVE_FILE = Path("benchmarks") / "losses_vs_loops.py"
#: Largest absolute difference of loss or gradient accepted between the two versions (float32).
AGREEMENT_TOLERANCE = 1e-4


def find_naive_losses(explicit: str | Path | None = None) -> Path | None:
    """The naive reference file: `explicit`, else `benchmarks/losses_vs_loops.py` under the current folder,
    else next to the package's source checkout. None when none exists."""
    candidates = (
        [Path(explicit)] if explicit else [Path.cwd() / NAIVE_FILE, Path(__file__).resolve().parents[2] / NAIVE_FILE]
    )
    return next((path for path in candidates if path.is_file()), None)


def load_naive_losses(path: Path) -> ModuleType:
    """Import the naive reference file by path; it must define `naive_absa_loss`."""
    spec = importlib.util.spec_from_file_location("absa_naive_losses", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot import the naive losses from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "naive_absa_loss"):
        raise ValueError(f"{path} does not define `naive_absa_loss(logits, embeddings, labels, config)`.")
    return module


def loss_inputs(
    n_sets: int, batch_size: int, config: ViSoBertAbsaConfig, *, seed: int, device: torch.device
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """`(logits [B, A, C], embeddings [B, D] L2-normalised, labels [B, A])` sets with the data's mention rate."""
    rng = np.random.default_rng(seed + batch_size)
    generator = torch.Generator().manual_seed(seed + batch_size)
    sets = []
    for _ in range(n_sets):
        logits = torch.randn(batch_size, config.num_aspects, config.num_classes, generator=generator) * 2.0
        embeddings = F.normalize(torch.randn(batch_size, config.projection_dim, generator=generator), dim=-1)
        mentioned = rng.random((batch_size, config.num_aspects)) < MENTION_RATE
        sentiment = rng.choice(3, size=(batch_size, config.num_aspects), p=SENTIMENT_MIX) + 1
        labels = torch.as_tensor(encode_labels(np.where(mentioned, sentiment, 0), config.label_scheme))
        sets.append((logits.to(device), embeddings.to(device), labels.to(device)))
    return sets


def _forward_backward(loss_fn: Any, inputs: tuple, config: Any) -> tuple[float, torch.Tensor, torch.Tensor]:
    logits = inputs[0].detach().requires_grad_(True)
    embeddings = inputs[1].detach().requires_grad_(True)
    loss = loss_fn(logits, embeddings, inputs[2], config)[0]
    loss.backward()
    return float(loss.detach()), logits.grad, embeddings.grad


def check_agreement(naive: ModuleType, sets: list[tuple], config: Any) -> float:
    """Largest absolute difference of loss and gradients between the two versions over `sets`.

    Raises:
        RuntimeError: the versions disagree by more than [`AGREEMENT_TOLERANCE`].
    """
    worst = 0.0
    for inputs in sets:
        ours = _forward_backward(compute_absa_loss, inputs, config)
        loops = _forward_backward(naive.naive_absa_loss, inputs, config)
        worst = max(
            worst,
            abs(ours[0] - loops[0]),
            float((ours[1] - loops[1]).abs().max()),
            float((ours[2] - loops[2]).abs().max()),
        )
    if worst > AGREEMENT_TOLERANCE:
        raise RuntimeError(
            f"the naive and vectorised losses disagree by {worst:.3g} (> {AGREEMENT_TOLERANCE}); timing them "
            "would compare different computations. Fix the naive reference in benchmarks/losses_vs_loops.py."
        )
    return worst


def run_losses_benchmark(settings: BenchSettings, out_dir: Path, naive_path: Path | None) -> dict[str, Any]:
    """Time `compute_absa_loss` (forward + backward) against the naive loops for each batch size.

    Args:
        settings ([`BenchSettings`]): uses `loss_batch_sizes`, `reps`, `warmup`, `input_sets`, `device`, `seed`.
        out_dir (`Path`): where `losses_vs_loops.json` is written.
        naive_path (`Path`, *optional*): the naive reference file; when None the JSON records a skip.

    Returns:
        `dict`: the JSON document written.
    """
    device = torch.device(settings.device)
    # only the loss settings are used: the review-level loss the naive reference implements (mulsupcon)
    config = ViSoBertAbsaConfig(text_config=dict(TINY_ENCODER_CONFIG), contrastive_mode="mulsupcon")
    settings_dict = settings.to_dict()
    if naive_path is None:
        document = result_document(
            "losses_vs_loops",
            "Vectorised losses vs naive loops (forward + backward)",
            settings=settings_dict,
            inputs={},
            results={},
            derived={},
            memory={},
            notes=[],
        )
        document["skipped"] = (
            f"the naive reference losses live only in a source checkout ({NAIVE_FILE}); none was found under "
            f"{Path.cwd()} or beside the package. Run from the repository root or pass --naive-losses PATH."
        )
        write_json(out_dir / "losses_vs_loops.json", document)
        return document

    naive = load_naive_losses(naive_path)
    sync = synchronizer(device)
    results: dict[str, Any] = {}
    derived: dict[str, Any] = {"speedup_naive_over_ours": {}, "max_abs_difference": {}}
    memory: dict[str, Any] = {}
    for batch_size in settings.loss_batch_sizes:
        sets = loss_inputs(settings.input_sets, batch_size, config, seed=settings.seed, device=device)
        derived["max_abs_difference"][str(batch_size)] = check_agreement(naive, sets, config)
        variants = {
            "ours_vectorised": lambda i, s=sets: _forward_backward(compute_absa_loss, s[i % len(s)], config),
            "naive_loops": lambda i, s=sets: _forward_backward(naive.naive_absa_loss, s[i % len(s)], config),
        }
        inner = {name: calibrate_inner(fn, target_s=0.005 if settings.quick else 0.02) for name, fn in variants.items()}
        timings = measure_interleaved(variants, reps=settings.reps, warmup=settings.warmup, sync=sync, inner=inner)
        entry = {name: {**summarize(values), "calls_per_rep": inner[name]} for name, values in timings.items()}
        results[str(batch_size)] = entry
        derived["speedup_naive_over_ours"][str(batch_size)] = (
            entry["naive_loops"]["median_s"] / entry["ours_vectorised"]["median_s"]
        )
        memory[str(batch_size)] = {name: peak_memory(lambda fn=fn: fn(0), device) for name, fn in variants.items()}

    document = result_document(
        "losses_vs_loops",
        "Vectorised losses (compute_absa_loss) vs naive per-sample / per-aspect loops, forward + backward",
        settings=settings_dict,
        inputs={
            "batch_sizes": settings.loss_batch_sizes,
            "num_aspects": config.num_aspects,
            "num_classes": config.num_classes,
            "projection_dim": config.projection_dim,
            "label_scheme": config.label_scheme,
            "loss": {
                "focal_gamma": config.focal_gamma,
                "focal_alpha": config.focal_alpha,
                "contrastive_mode": config.contrastive_mode,
                "contrastive_temperature": config.contrastive_temperature,
                "focal_weight": config.focal_weight,
                "contrastive_weight": config.contrastive_weight,
            },
            "input_sets": settings.input_sets,
            "inputs": "logits ~ 2*N(0,1) float32 [B, A, C]; L2-normalised N(0,1) embeddings [B, D]; labels with "
            "16% of cells mentioned (60/25/15% pos/neg/neu)",
            "naive_reference": str(naive_path),
        },
        results=results,
        derived=derived,
        memory=memory,
        notes=[
            "Each repetition times `calls_per_rep` back-to-back calls (chosen so a repetition lasts >= 20 ms, "
            "5 ms with --quick) "
            "and records the mean time per call; values and gradients of both versions agree within "
            f"{AGREEMENT_TOLERANCE} (see derived.max_abs_difference).",
        ],
    )
    write_json(out_dir / "losses_vs_loops.json", document)
    return document
