"""DDP gradients of the aspect-sentiment loss on halves of one batch, computed by 2 gloo processes.

Called by `ddp_train.py` under `torchrun --nproc_per_node 2` (one launch for all distributed checks); the test
(`tests/training/test_distributed.py`) builds the single-process reference from the same `tiny_data` model and batch.

For every scenario in `SCENARIOS`, each rank builds the same tiny model, wraps it in
`DistributedDataParallel`, runs forward + backward on its half of `full_batch()` and rank 0 writes the
DDP-averaged gradients to `OUT_DIR/<scenario>.safetensors` and the per-rank losses to
`OUT_DIR/gradients.json`. Also recorded: the message of the unequal-batch-size error, and that a no-grad
forward on one rank alone does not wait for the other.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save_file

from tests.helpers import BATCH, build_model, full_batch  # noqa: E402

WORLD_SIZE = 2

#: name -> config overrides. Every scenario turns dropout off so both sides see the same network, and pools
#: by mean so that the tiny random encoder gives distinct embeddings.
SCENARIOS: dict[str, dict] = {
    "default_across": {"contrastive_across_devices": True},
    "default_local": {"contrastive_across_devices": False},
    **{
        f"contrastive_{mode}_across": {
            "contrastive_across_devices": True,
            "contrastive_mode": mode,
            "focal_weight": 0.0,
            "contrastive_weight": 1.0,
        }
        for mode in ("mulsupcon", "jaccard", "any", "exact", "soft_agreement")
    },
    "contrastive_mentioned_only_across": {
        "contrastive_across_devices": True,
        "label_scheme": "mentioned_only",
        "focal_weight": 0.0,
        "contrastive_weight": 1.0,
    },
}


def gradient_scenarios(out_dir: str) -> None:
    """Run every scenario on the initialised process group (2 ranks) and write the results to `out_dir`."""
    rank = dist.get_rank()
    assert dist.get_world_size() == WORLD_SIZE, dist.get_world_size()
    results: dict[str, dict] = {}
    local = slice(rank * BATCH // WORLD_SIZE, (rank + 1) * BATCH // WORLD_SIZE)
    for name, overrides in SCENARIOS.items():
        model = build_model(overrides)
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        batch = {k: v[local] for k, v in full_batch(model.config.label_scheme).items()}
        output = ddp(**batch)
        output.loss.backward()
        losses = torch.stack([output.loss, output.focal_loss, output.contrastive_loss]).detach()
        gathered = [torch.zeros_like(losses) for _ in range(WORLD_SIZE)]
        dist.all_gather(gathered, losses)
        if rank == 0:
            grads = {n: p.grad.contiguous() for n, p in model.named_parameters() if p.grad is not None}
            save_file(grads, os.path.join(out_dir, f"{name}.safetensors"))
            results[name] = {"losses_per_rank": [g.tolist() for g in gathered]}

    # Ranks holding different batch sizes: every rank must raise the same clear error (no hang).
    model = build_model({"contrastive_across_devices": True})
    batch = full_batch()
    uneven = slice(0, 3) if rank == 0 else slice(3, 8)
    try:
        model(**{k: v[uneven] for k, v in batch.items()})
        error = None
    except ValueError as exc:
        error = str(exc)
    # Without gradients the loss is computed per rank: rank 0 alone runs a forward, rank 1 does not.
    no_grad_ok = None
    if rank == 0:
        with torch.no_grad():
            alone = model(**{k: v[local] for k, v in batch.items()})
        no_grad_ok = bool(torch.isfinite(alone.loss).item())
    dist.barrier()
    errors = [None] * WORLD_SIZE
    dist.all_gather_object(errors, error)
    if rank == 0:
        results["_uneven_errors"] = errors
        results["_no_grad_alone_finite"] = no_grad_ok
        Path(out_dir, "gradients.json").write_text(json.dumps(results, indent=2))
