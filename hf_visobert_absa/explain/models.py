"""What the training benchmarks run: encoder sizes, the bare baseline model, synthetic batches, and training
steps driven by the real `FocalContrastiveTrainer.training_step`.

A "training step" here is what `Trainer.train()` does per batch: `trainer.training_step(model, batch)`
(forward, `compute_loss`, backward through `accelerator.backward`), gradient clipping, `optimizer.step()`
and `zero_grad`. Every variant runs that same sequence with the Trainer's default optimizer; only the model
and the `training_step` differ, so a ratio between variants is the cost of what differs.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoModel, Trainer, TrainingArguments
from transformers.modeling_outputs import SequenceClassifierOutput

from ..data.label_schemes import encode_labels
from ..hub.configuration_visobert_absa import ViSoBertAbsaConfig
from ..hub.encoder_visobert_absa import FINETUNE_KEYS, VISOBERT_ENCODER_CONFIG
from ..hub.losses_visobert_absa import compute_absa_loss, contrastive_term, focal_loss
from ..hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment
from ..training.trainer import FocalContrastiveTrainer
from .common import autocast

logger = logging.getLogger(__name__)

#: Keys of a fine-tuned encoder's config.json that describe the fine-tune, not the encoder.

#: A 2-layer, 32-wide XLM-R encoder with ViSoBERT's vocabulary size, so the real tokenizer's ids fit.
TINY_ENCODER_CONFIG: dict[str, Any] = {
    "model_type": "xlm-roberta",
    "vocab_size": 15004,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 514,
    "type_vocab_size": 1,
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
}

#: Share of (review, aspect) cells that mention the aspect and the sentiment mix of those cells, used for
#: synthetic labels (the phone-review data: 16% of cells mentioned).
MENTION_RATE = 0.16
SENTIMENT_MIX = (0.6, 0.25, 0.15)  # positive, negative, neutral


def encoder_config(spec: str) -> tuple[dict[str, Any], str]:
    """`"tiny"`, `"visobert"` (the architecture built into the package) or a path to an encoder config.json.

    Returns:
        `(text_config, description)`.

    Raises:
        ValueError: `spec` is neither a known name nor a readable JSON file.
    """
    if spec == "tiny":
        return dict(TINY_ENCODER_CONFIG), "tiny (2 layers, hidden 32, random weights)"
    if spec == "visobert":
        return dict(VISOBERT_ENCODER_CONFIG), "ViSoBERT architecture built into the package (random weights)"
    path = Path(spec)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise ValueError(
            f"`--encoder` got {spec!r}; allowed: 'tiny', 'visobert', or the path of an encoder config.json "
            "(e.g. ../shared/visobert/config.json)."
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"`--encoder` file {path} is not valid JSON: {error}") from error
    for key in (*FINETUNE_KEYS, "transformers_version", "dtype", "torch_dtype"):
        config.pop(key, None)
    return config, f"{path} (random weights)"


#: The pooling the timing harness builds unless told otherwise: the review-level model (first token) whose head and
#: loss overhead docs/PERFORMANCE.md measured; the timed head path (`[B, H]` pooled states) assumes one vector per review.
TIMING_POOLING = "cls"


def build_model(text_config: dict[str, Any], seed: int = 0, **config_kwargs: Any) -> ViSoBertAbsaForAspectSentiment:
    """Our two-head model with random weights, deterministic for `seed`, in train mode (`TIMING_POOLING` unless
    `config_kwargs` names a pooling)."""
    torch.manual_seed(seed)
    config_kwargs = {"pooling": TIMING_POOLING, **config_kwargs}
    model = ViSoBertAbsaForAspectSentiment(ViSoBertAbsaConfig(text_config=text_config, **config_kwargs))
    return model.train()


class BareEncoderClassifier(nn.Module):
    """The baseline of benchmark 1: the same encoder, the first token, ONE `Linear(H, A*C)` and cross-entropy
    over every (review, aspect) cell. No hidden layer, no projection head, no focal or contrastive term.

    Args:
        text_config: the encoder configuration (a `PretrainedConfig`).
        num_aspects (`int`), num_classes (`int`): the output shape `[B, A, C]`.
    """

    accepts_loss_kwargs = False

    def __init__(self, text_config: Any, num_aspects: int, num_classes: int) -> None:
        super().__init__()
        try:
            self.encoder = AutoModel.from_config(text_config, add_pooling_layer=False)
        except TypeError:
            self.encoder = AutoModel.from_config(text_config)
        self.num_aspects, self.num_classes = num_aspects, num_classes
        self.head = nn.Linear(text_config.hidden_size, num_aspects * num_classes)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, labels: torch.Tensor | None = None
    ) -> SequenceClassifierOutput:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # [B, L, H]
        logits = self.head(hidden[:, 0]).view(-1, self.num_aspects, self.num_classes)  # [B, A, C]
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, self.num_classes).float(), labels.reshape(-1), ignore_index=-100)
        return SequenceClassifierOutput(loss=loss, logits=logits)


def bare_twin(model: ViSoBertAbsaForAspectSentiment) -> BareEncoderClassifier:
    """A [`BareEncoderClassifier`] whose encoder holds a copy of `model`'s encoder weights."""
    config = model.config
    bare = BareEncoderClassifier(config.text_config, config.num_aspects, config.num_classes)
    bare.encoder.load_state_dict(model.encoder.state_dict())
    return bare.train()


class TwoPassTrainer(FocalContrastiveTrainer):
    """The comparison of benchmark 2: the same model and objective trained "sequentially": forward -> focal ->
    backward, then forward again -> contrastive -> backward. The summed gradient equals the one-pass step's
    (up to dropout noise); only the work differs."""

    def training_step(
        self, model: nn.Module, inputs: dict[str, Any], num_items_in_batch: torch.Tensor | int | None = None
    ) -> torch.Tensor:
        model.train()
        inputs = self._prepare_inputs(inputs)
        labels = inputs["labels"]
        features = {key: value for key, value in inputs.items() if key != "labels"}
        config = model.config
        scale = 1.0 / self.current_gradient_accumulation_steps
        with self.compute_loss_context_manager():
            logits = model(**features).logits  # pass 1
            focal = focal_loss(logits, labels, gamma=config.focal_gamma, alpha=config.focal_alpha)
        self.accelerator.backward(config.focal_weight * focal * scale)
        with self.compute_loss_context_manager():
            outputs = model(**features)  # pass 2
            contrastive = contrastive_term(outputs.embeddings, labels, config, outputs.aspect_embeddings)
        self.accelerator.backward(config.contrastive_weight * contrastive * scale)
        return (config.focal_weight * focal + config.contrastive_weight * contrastive).detach() * scale


def synthetic_batches(
    n_sets: int,
    batch_size: int,
    seq_len: int,
    *,
    vocab_size: int,
    num_aspects: int,
    label_scheme: str,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> list[dict[str, torch.Tensor]]:
    """`n_sets` different batches of shape `[B, L]`: random token ids, lengths drawn in `[L/2, L]` and padded to
    `L` (`<s>`=0, `</s>`=2, `<pad>`=1), and labels `[B, A]` with the phone-review mention rate."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(n_sets):
        lengths = rng.integers(max(seq_len // 2, 3), seq_len + 1, size=batch_size)
        ids = rng.integers(5, vocab_size, size=(batch_size, seq_len))
        mask = np.arange(seq_len)[None, :] < lengths[:, None]
        ids[:, 0] = 0
        ids[np.arange(batch_size), lengths - 1] = 2
        ids[~mask] = 1
        mentioned = rng.random((batch_size, num_aspects)) < MENTION_RATE
        sentiment = rng.choice(3, size=(batch_size, num_aspects), p=SENTIMENT_MIX) + 1
        canonical = np.where(mentioned, sentiment, 0)
        batches.append(
            {
                "input_ids": torch.as_tensor(ids, dtype=torch.long, device=device),
                "attention_mask": torch.as_tensor(mask, dtype=torch.long, device=device),
                "labels": torch.as_tensor(encode_labels(canonical, label_scheme), dtype=torch.long, device=device),
            }
        )
    return batches


def make_trainer(
    model: nn.Module, trainer_class: type[Trainer], *, device: str, dtype: str, output_dir: str | None = None
) -> Trainer:
    """A Trainer ready for `training_step` outside `train()`: default optimizer created, accumulation 1, the
    model prepared by Accelerate exactly as `train()` does when `dtype` is bf16 (autocast around forward)."""
    output_dir = output_dir or tempfile.mkdtemp(prefix="absa-bench-")
    args = TrainingArguments(
        output_dir=output_dir,
        use_cpu=torch.device(device).type == "cpu",
        bf16=dtype == "bf16",
        report_to="none",
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        learning_rate=2e-5,
        max_grad_norm=1.0,
    )
    trainer = trainer_class(model=model, args=args)
    trainer.current_gradient_accumulation_steps = 1
    if dtype != "fp32" and not hasattr(trainer.model, "_original_forward"):  # not yet wrapped by Accelerate
        trainer.model_wrapped = trainer.accelerator.prepare_model(trainer.model)
    trainer.create_optimizer()
    return trainer


def training_step_fn(
    trainer: Trainer, batches: list[dict[str, torch.Tensor]], compile: bool = False
) -> Callable[[int], None]:
    """One full training step on batch `i % len(batches)`: `training_step`, clipping, optimizer step. With
    `compile`, the forward and backward run through `torch.compile(model)` (the same parameters)."""
    model, optimizer = trainer.model, trainer.optimizer
    runner = torch.compile(model) if compile else model
    max_norm = trainer.args.max_grad_norm

    def step(i: int) -> None:
        trainer.training_step(runner, batches[i % len(batches)])
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def isolated_head_fns(
    model: ViSoBertAbsaForAspectSentiment,
    bare: BareEncoderClassifier,
    batches: list[dict[str, torch.Tensor]],
    *,
    device: torch.device | str,
    dtype: str,
    seed: int = 0,
) -> dict[str, Callable[[int], None]]:
    """What differs between the two models of benchmark 1, timed apart from the encoder: forward + backward of
    our two heads and combined loss vs the bare linear head and cross-entropy, from the same pooled states
    `[B, H]` (a leaf, so the gradient towards the encoder is computed too, as in the real step).

    On a busy machine the encoder's step time varies by far more than this difference; timing the
    difference alone bounds the overhead precisely. The encoder, its backward and the optimizer are identical.
    """
    config = model.config
    generator = torch.Generator().manual_seed(seed)
    hidden = config.text_config.hidden_size
    pooled = [torch.randn(b["labels"].shape[0], hidden, generator=generator).to(device) for b in batches]
    shape = (-1, config.num_aspects, config.num_classes)

    def ours(i: int) -> None:
        states = pooled[i % len(pooled)].detach().requires_grad_(True)
        with autocast(device, dtype):
            logits = model.classifier(states).view(shape)  # [B, A, C]
            embeddings = model.projection(states)  # [B, D], L2-normalised by the head
            loss = compute_absa_loss(logits, embeddings, batches[i % len(batches)]["labels"], config)[0]
        loss.backward()
        model.classifier.zero_grad(set_to_none=True)
        model.projection.zero_grad(set_to_none=True)

    def bare_head(i: int) -> None:
        states = pooled[i % len(pooled)].detach().requires_grad_(True)
        with autocast(device, dtype):
            logits = bare.head(states).view(shape)
            labels = batches[i % len(batches)]["labels"]
            loss = F.cross_entropy(logits.reshape(-1, shape[-1]).float(), labels.reshape(-1), ignore_index=-100)
        loss.backward()
        bare.head.zero_grad(set_to_none=True)

    return {"ours_heads_and_losses": ours, "bare_head_and_cross_entropy": bare_head}


def parameter_count(module: nn.Module) -> int:
    """Number of parameters of `module`."""
    return sum(p.numel() for p in module.parameters())


def optimizer_description(trainer: Trainer) -> dict[str, Any]:
    """The Trainer's optimizer, learning rate, weight decay and clipping, for the JSON `inputs`."""
    defaults = trainer.optimizer.defaults
    return {
        "class": type(trainer.optimizer).__name__,
        "trainer_optim": str(trainer.args.optim),
        "lr": defaults.get("lr"),
        "weight_decay": trainer.args.weight_decay,
        "max_grad_norm": trainer.args.max_grad_norm,
    }
