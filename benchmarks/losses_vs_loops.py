"""Benchmark 3: our vectorised losses vs straightforward loop versions, forward + backward.

The loop versions below are the NAIVE REFERENCE: one Python iteration per (review, aspect) cell for the focal
loss and one per anchor review (and per label pair) for the contrastive loss, as public ABSA code tends to
write them. They exist only here, for comparison; the library never uses them. The benchmark checks that
they give the same value and gradients as the library's losses before timing them.

Run (from the repository root):

    python -m benchmarks.losses_vs_loops                 # ViSoBERT-size settings, B in {16, 32, 64, 128}
    python -m benchmarks.losses_vs_loops --quick         # seconds
    python -m benchmarks.bench --only losses                 # the same, through the CLI

Writes `benchmarks/results/losses_vs_loops.json` and `.png` (override with `--out`).
"""

from __future__ import annotations

import sys
from typing import Any

import torch


def naive_focal_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    gamma: float = 2.0,
    alpha: list | None = None,
    ignore_index: int = -100,
) -> torch.Tensor:
    """Softmax focal loss, one cell at a time: mean over the valid cells of `-alpha_t (1 - p_t)^gamma log p_t`."""
    batch, num_aspects, _ = logits.shape
    rows = labels.tolist()
    total = logits.sum() * 0.0  # keeps the graph when no cell is valid
    count = 0
    for b in range(batch):
        for a in range(num_aspects):
            y = rows[b][a]
            if y == ignore_index:
                continue
            log_p = torch.log_softmax(logits[b, a].float(), dim=-1)
            p_t = log_p[y].exp()
            term = -((1.0 - p_t) ** gamma) * log_p[y]
            if alpha is not None:
                weight = alpha[a][y] if isinstance(alpha[0], list) else alpha[y]
                term = term * weight
            total = total + term
            count += 1
    return total / max(count, 1)


def naive_mulsupcon_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1, ignore_index: int = -100
) -> torch.Tensor:
    """Multi-label SupCon (MulSupCon, L_out form), one anchor review at a time, one label pair at a time."""
    z = embeddings.float()
    batch = z.shape[0]
    sets = [{(a, y) for a, y in enumerate(row) if y != ignore_index} for row in labels.tolist()]
    total = z.sum() * 0.0
    anchors = 0
    for i in range(batch):
        sims = (z @ z[i]) / temperature  # [B]
        log_denominator = torch.logsumexp(torch.cat([sims[:i], sims[i + 1 :]]), dim=0)
        for pair in sets[i]:
            positives = [j for j in range(batch) if j != i and pair in sets[j]]
            if not positives:
                continue
            total = total - torch.stack([sims[j] - log_denominator for j in positives]).mean()
            anchors += 1
    return total / max(anchors, 1)


def naive_absa_loss(
    logits: torch.Tensor, embeddings: torch.Tensor, labels: torch.Tensor, config: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`focal_weight * focal + contrastive_weight * contrastive` with the loop versions, for a config whose
    `contrastive_mode` is "mulsupcon" (the review-level default). Returns `(loss, focal, contrastive)`."""
    if config.contrastive_mode != "mulsupcon":
        raise ValueError(
            f"the naive reference covers contrastive_mode 'mulsupcon' only; got {config.contrastive_mode!r}."
        )
    focal = naive_focal_loss(logits, labels, gamma=config.focal_gamma, alpha=config.focal_alpha)
    if config.label_scheme == "absent_as_class":  # "none" is not a sentiment: drop it, shift 1..3 -> 0..2
        sentiment_labels = torch.where(labels > 0, labels - 1, torch.full_like(labels, -100))
    else:
        sentiment_labels = labels
    contrastive = naive_mulsupcon_loss(embeddings, sentiment_labels, temperature=config.contrastive_temperature)
    loss = config.focal_weight * focal + config.contrastive_weight * contrastive
    return loss, focal, contrastive


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench.cli import run as bench_main

    return bench_main(["--only", "losses", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
