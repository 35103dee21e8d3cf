"""Numerics: bfloat16 autocast training, half-precision inputs to the losses, saturated models.

- bf16 autocast on CPU: finite losses within 2% (relative) of float32 over 5 optimiser steps. Why 2%:
  bfloat16 keeps 8 significant bits (unit roundoff 2^-9 ~ 0.2%); autocast runs every matmul of the encoder
  and both heads in bf16, so each logit and embedding carries a relative error of a few 0.1%, the losses are
  smooth functions of them, and over several steps the two parameter trajectories drift apart by as much
  again. Measured on the tiny model: at most 0.55% on the combined loss (any contrastive mode). The
  contrastive term alone is compared with an absolute 0.05: the temperature (0.1) multiplies the embedding
  error by 10.
- float16/bfloat16 logits and embeddings into the losses give finite float32 results, identical to feeding
  the upcast float32 tensors (the losses upcast first), and finite half-precision gradients.
- A saturated model (logit margins of 50, or 200, both ways; identical or opposite embeddings) has no
  NaN/inf gradient for gamma in {0, 0.5, 2} and every contrastive mode.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.nn import functional as F

from hf_visobert_absa.hub.contrastive_visobert_absa import multilabel_supcon_loss
from hf_visobert_absa.hub.losses_visobert_absa import compute_absa_loss, focal_loss
from tests import helpers
from tests.helpers import build_model, full_batch, tiny_examples

CONFIG_MODES = ("mulsupcon", "jaccard", "any", "exact", "soft_agreement")
GAMMAS = (0.0, 0.5, 2.0)


def _config(**overrides) -> SimpleNamespace:
    return helpers.loss_config(**overrides)


def _train_losses(mode: str, autocast: bool, steps: int = 5) -> list[tuple[float, float, float]]:
    model = build_model({"contrastive_mode": mode})
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch = full_batch()
    history = []
    for _ in range(steps):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            output = model(**batch)
        if autocast:
            assert output.logits.dtype == torch.bfloat16  # autocast really ran the heads in bf16
        assert output.loss.dtype == torch.float32  # ... and the losses in float32
        output.loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        optimizer.step()
        optimizer.zero_grad()
        history.append((output.loss.item(), output.focal_loss.item(), output.contrastive_loss.item()))
    return history


def test_bf16_autocast_training_steps_are_finite_and_close_to_float32():
    full = _train_losses("mulsupcon", autocast=False)
    bf16 = _train_losses("mulsupcon", autocast=True)
    for (loss32, focal32, con32), (loss16, focal16, con16) in zip(full, bf16, strict=True):
        assert all(map(torch.isfinite, map(torch.tensor, (loss16, focal16, con16))))
        assert loss16 == pytest.approx(loss32, rel=2e-2)
        assert focal16 == pytest.approx(focal32, rel=2e-2)
        assert con16 == pytest.approx(con32, abs=5e-2)
    assert full[-1][0] < full[0][0]  # the steps train


def test_trainer_bf16_on_cpu_gives_finite_losses_close_to_float32(tmp_path, tokenizer):
    from transformers import DataCollatorWithPadding, TrainingArguments

    from hf_visobert_absa.training.trainer import FocalContrastiveTrainer

    def train(bf16: bool) -> tuple[list[float], str]:
        torch.manual_seed(0)
        model = build_model({})
        args = TrainingArguments(
            output_dir=str(tmp_path / f"bf16_{bf16}"),
            use_cpu=True,
            bf16=bf16,
            per_device_train_batch_size=4,
            max_steps=3,
            learning_rate=1e-3,
            logging_steps=1,
            save_strategy="no",
            report_to="none",
            seed=0,
            disable_tqdm=True,
        )
        trainer = FocalContrastiveTrainer(
            model=model,
            args=args,
            train_dataset=tiny_examples(tokenizer),
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        trainer.train()
        losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
        return losses, str(trainer.accelerator.mixed_precision)

    full, precision32 = train(False)
    half, precision16 = train(True)
    assert (precision32, precision16) == ("no", "bf16")
    assert len(full) == len(half) == 3
    for loss32, loss16 in zip(full, half, strict=True):
        assert torch.isfinite(torch.tensor(loss16))
        assert loss16 == pytest.approx(loss32, rel=2e-2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("mode", (*CONFIG_MODES, "supcon"))
def test_half_precision_inputs_are_upcast_by_the_losses(dtype, mode):
    torch.manual_seed(0)
    # Values that overflow float16 arithmetic (exp(60000)) but are representable in it.
    logits = (torch.randn(6, 3, 4) * 2e4).to(dtype).requires_grad_()
    z = F.normalize(torch.randn(6, 8), dim=-1).to(dtype).requires_grad_()
    labels = torch.tensor([[1, 0, 2], [1, 1, 0], [0, 2, 2], [1, 0, 2], [3, 3, 0], [0, 2, 2]])
    sentiment = torch.where(labels > 0, labels - 1, torch.full_like(labels, -100))
    contrastive_labels = sentiment[:, 0] if mode == "supcon" else sentiment

    con = multilabel_supcon_loss(z, contrastive_labels, temperature=0.05, mode=mode, num_classes=3)
    con_ref = multilabel_supcon_loss(z.detach().float(), contrastive_labels, temperature=0.05, mode=mode, num_classes=3)
    assert con.dtype == torch.float32 and torch.isfinite(con)
    assert torch.equal(con, con_ref)
    con.backward()
    assert z.grad.dtype == dtype and torch.isfinite(z.grad).all()
    if mode == "supcon":
        return
    for gamma in GAMMAS:
        foc = focal_loss(logits, labels, gamma=gamma)
        assert foc.dtype == torch.float32 and torch.isfinite(foc)
        assert torch.equal(foc, focal_loss(logits.detach().float(), labels, gamma=gamma))
        (grad,) = torch.autograd.grad(foc, logits)
        assert grad.dtype == dtype and torch.isfinite(grad).all()
    loss, focal, contrastive = compute_absa_loss(logits, z, labels, _config(contrastive_mode=mode))
    reference = compute_absa_loss(logits.detach().float(), z.detach().float(), labels, _config(contrastive_mode=mode))
    for value, expected in zip((loss, focal, contrastive), reference, strict=True):
        assert value.dtype == torch.float32 and torch.isfinite(value)
        assert torch.equal(value, expected)


def _saturated_logits(labels: torch.Tensor, margin: float, correct: torch.Tensor) -> torch.Tensor:
    """Logits whose target class is `margin` above (where `correct`) or below every other class."""
    num_classes = 4
    one_hot = F.one_hot(labels, num_classes).float()
    sign = torch.where(correct, 1.0, -1.0).unsqueeze(-1)
    return one_hot * margin * sign


@pytest.mark.parametrize("margin", [50.0, 200.0])
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("mode", CONFIG_MODES)
def test_saturated_logits_and_embeddings_have_finite_gradients(margin, gamma, mode):
    labels = torch.tensor([[1, 0, 2], [1, 1, 0], [0, 2, 2], [1, 0, 2], [3, 3, 0], [2, 0, 1]])
    correct = torch.rand(labels.shape, generator=torch.Generator().manual_seed(0)) < 0.7
    logits = _saturated_logits(labels, margin, correct).requires_grad_()
    # Raw projections: identical directions for rows 0-2, the opposite direction for rows 3-5.
    raw = torch.tensor([[5.0, 0, 0]] * 3 + [[-5.0, 0, 0]] * 3).requires_grad_()
    for temperature in (0.1, 0.01):
        config = _config(focal_gamma=gamma, contrastive_mode=mode, contrastive_temperature=temperature)
        loss, focal, contrastive = compute_absa_loss(logits, F.normalize(raw, dim=-1), labels, config)
        logit_grad, raw_grad = torch.autograd.grad(loss, (logits, raw))
        for value in (loss, focal, contrastive):
            assert torch.isfinite(value), (value, gamma, mode, temperature)
        assert torch.isfinite(logit_grad).all() and torch.isfinite(raw_grad).all()
    # The saturated cells that are wrong still push: the gradient there is not zero.
    assert logit_grad[~correct].abs().sum() > 0


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("mode", CONFIG_MODES)
def test_saturated_model_has_no_nan_gradient(gamma, mode):
    model = build_model({"focal_gamma": gamma, "contrastive_mode": mode})
    batch = full_batch()
    num_classes = model.config.num_classes
    with torch.no_grad():  # the head's last layer puts one class per aspect 50 above the others
        last = model.classifier.out_proj
        last.weight.mul_(1e-3)  # the encoder still gets a gradient
        favoured = torch.arange(len(model.config.aspects)) % num_classes
        last.bias.copy_((F.one_hot(favoured, num_classes).float() * 50.0).reshape(-1))
    output = model(**batch)
    top_two = output.logits.topk(2, dim=-1).values
    assert (top_two[..., 0] - top_two[..., 1]).min() >= 49.0
    # Some cells are saturated the right way (target = favoured class), some the wrong way.
    right = batch["labels"] == favoured
    assert right.any() and (~right).any()
    output.loss.backward()
    assert torch.isfinite(output.loss)
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
