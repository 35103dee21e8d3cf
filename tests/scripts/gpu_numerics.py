"""The numerics checks of `tests/hub/test_numerics.py` on a CUDA device (not collected by pytest; CI has no GPU).

    python tests/scripts/gpu_numerics.py OUT.json [--device cuda]

1. 5 AdamW steps of the tiny model under `torch.autocast(device, bf16)` and under fp16 autocast with a
   `GradScaler`, against float32 on the same device: finite, and the largest relative gap of the loss.
2. float16/bfloat16 logits and embeddings into the losses on the device, every contrastive mode: float32
   results equal to those of the upcast inputs, finite half gradients.
3. A saturated model (margins of 50) for gamma in {0, 0.5, 2} and every contrastive mode: finite gradients.

Writes a JSON report and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
from torch.nn import functional as F

from hf_visobert_absa.hub.contrastive_visobert_absa import multilabel_supcon_loss  # noqa: E402
from hf_visobert_absa.hub.losses_visobert_absa import compute_absa_loss  # noqa: E402
from tests.helpers import build_model, full_batch, loss_config  # noqa: E402

MODES = ("mulsupcon", "jaccard", "any", "exact", "soft_agreement")


def train_losses(device: str, dtype: torch.dtype | None, steps: int = 5) -> list[float]:
    model = build_model({}).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device, enabled=dtype == torch.float16)
    batch = {k: v.to(device) for k, v in full_batch().items()}
    losses = []
    for _ in range(steps):
        with torch.autocast(device, dtype=dtype or torch.float32, enabled=dtype is not None):
            output = model(**batch)
        scaler.scale(output.loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
        losses.append(output.loss.item())
    return losses


def config(**overrides) -> SimpleNamespace:
    return loss_config(**overrides)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", default="cuda")
    options = parser.parse_args(argv)
    device = options.device
    report: dict = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "failures": [],
    }
    failures = report["failures"]

    reference = train_losses(device, None)
    report["float32_losses"] = reference
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        losses = train_losses(device, dtype)
        gap = max(abs(a - b) / abs(b) for a, b in zip(losses, reference, strict=True))
        report[f"{name}_losses"] = losses
        report[f"{name}_max_relative_gap"] = gap
        if not all(torch.isfinite(torch.tensor(losses))) or gap > 2e-2:
            failures.append(f"{name} autocast: losses {losses} vs float32 {reference}")

    labels = torch.tensor([[1, 0, 2], [1, 1, 0], [0, 2, 2], [1, 0, 2], [3, 3, 0], [0, 2, 2]], device=device)
    for dtype in (torch.float16, torch.bfloat16):
        logits = (torch.randn(6, 3, 4, device=device) * 2e4).to(dtype).requires_grad_()
        z = F.normalize(torch.randn(6, 8, device=device), dim=-1).to(dtype).requires_grad_()
        for mode in MODES:
            values = compute_absa_loss(logits, z, labels, config(contrastive_mode=mode))
            upcast = compute_absa_loss(
                logits.detach().float(), z.detach().float(), labels, config(contrastive_mode=mode)
            )
            grads = torch.autograd.grad(values[0], (logits, z))
            if not all(v.dtype == torch.float32 and torch.equal(v, u) for v, u in zip(values, upcast, strict=True)):
                failures.append(f"{dtype} {mode}: losses differ from the upcast inputs' {values} vs {upcast}")
            if not all(torch.isfinite(g).all() and g.dtype == dtype for g in grads):
                failures.append(f"{dtype} {mode}: non-finite gradient")
        sentiment = torch.where(labels > 0, labels - 1, torch.full_like(labels, -100))
        loss = multilabel_supcon_loss(z, sentiment[:, 0], mode="supcon", temperature=0.05)
        if not (loss.dtype == torch.float32 and torch.isfinite(loss)):
            failures.append(f"{dtype} supcon: {loss}")

    checked = 0
    for gamma in (0.0, 0.5, 2.0):
        for mode in MODES:
            model = build_model({"focal_gamma": gamma, "contrastive_mode": mode}).to(device)
            with torch.no_grad():
                last = model.classifier.out_proj
                last.weight.mul_(1e-3)
                favoured = torch.arange(len(model.config.aspects), device=device) % model.config.num_classes
                last.bias.copy_((F.one_hot(favoured, model.config.num_classes).float() * 50.0).reshape(-1))
            output = model(**{k: v.to(device) for k, v in full_batch().items()})
            output.loss.backward()
            bad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
            if bad or not torch.isfinite(output.loss):
                failures.append(f"saturated gamma={gamma} mode={mode}: {bad or output.loss}")
            checked += 1
    report["saturated_models_checked"] = checked

    options.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
