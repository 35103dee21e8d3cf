"""FocalContrastiveTrainer: one forward and one backward per step, logged loss terms, gradient accumulation,
compute_metrics receives the logits array, a tiny model overfits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset
from transformers import DataCollatorWithPadding, TrainingArguments

from hf_visobert_absa import FocalContrastiveTrainer
from tests.helpers import tiny_model, tiny_tokenizer

TEXTS = [
    "pin trâu camera chụp đẹp",
    "giao hàng nhanh shop tư vấn nhiệt tình",
    "màn hình sáng thiết kế sang",
    "giá rẻ máy mạnh",
    "pin yếu máy lag",
    "camera xấu giá đắt",
    "đóng gói cẩn thận giao hàng nhanh",
    "màn hình tối máy chậm",
]


def _dataset(num_aspects=11, seed=0, n=8):
    rng = np.random.default_rng(seed)
    tokenizer = tiny_tokenizer()
    labels = rng.integers(0, 4, size=(n, num_aspects)).tolist()
    texts = [TEXTS[i % len(TEXTS)] for i in range(n)]
    encoded = tokenizer(texts, truncation=True)
    return Dataset.from_dict({**encoded, "labels": labels}), tokenizer


def _args(tmp_path, **overrides):
    base = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        num_train_epochs=1,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=0,
        data_seed=0,
        disable_tqdm=True,
    )
    base.update(overrides)
    return TrainingArguments(**base)


def test_one_forward_one_backward_and_logged_terms(tmp_path):
    model = tiny_model(classifier_dropout=0.0)
    dataset, tokenizer = _dataset()
    forwards, backwards = [], []
    model.encoder.register_forward_hook(lambda *a: forwards.append(1))
    model.encoder.embeddings.word_embeddings.weight.register_hook(lambda g: backwards.append(1))
    trainer = FocalContrastiveTrainer(
        model=model,
        args=_args(tmp_path, max_steps=2),
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    trainer.train()
    assert len(forwards) == 2 and len(backwards) == 2  # 2 steps: one encoder forward + one backward each
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 2
    for entry in logs:
        assert abs(entry["loss"] - (0.8 * entry["focal_loss"] + 0.2 * entry["contrastive_loss"])) < 1e-5
        assert entry["contrastive_loss"] > 0


def test_logged_terms_equal_a_forward_of_the_same_step(tmp_path):
    """The first logged focal/contrastive terms are those of the initial weights on the first batch."""
    model = tiny_model(classifier_dropout=0.0)
    reference = tiny_model(classifier_dropout=0.0)
    dataset, tokenizer = _dataset()
    trainer = FocalContrastiveTrainer(
        model=model,
        args=_args(tmp_path, max_steps=1),
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        expected = reference.train()(**batch)
    trainer.train()
    entry = next(e for e in trainer.state.log_history if "loss" in e)
    assert abs(entry["focal_loss"] - expected.focal_loss.item()) < 1e-5
    assert abs(entry["contrastive_loss"] - expected.contrastive_loss.item()) < 1e-5
    assert abs(entry["loss"] - expected.loss.item()) < 1e-5


def test_gradient_accumulation_matches_one_big_batch_for_the_focal_term(tmp_path):
    from transformers import TrainerCallback

    class CaptureGradient(TrainerCallback):
        def __init__(self):
            self.grads = []

        def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
            self.grads.append(model.classifier.dense.weight.grad.clone())

    dataset, tokenizer = _dataset(n=8)
    grads = {}
    for name, (batch_size, accumulation) in {"accumulated": (2, 4), "big": (8, 1)}.items():
        model = tiny_model(classifier_dropout=0.0, contrastive_weight=0.0, focal_weight=1.0)
        capture = CaptureGradient()
        trainer = FocalContrastiveTrainer(
            model=model,
            args=_args(
                tmp_path / name,
                per_device_train_batch_size=batch_size,
                gradient_accumulation_steps=accumulation,
                max_steps=1,
                max_grad_norm=0.0,
            ),
            train_dataset=dataset,
            data_collator=DataCollatorWithPadding(tokenizer),
            callbacks=[capture],
        )
        trainer.train()
        assert len(capture.grads) == 1
        grads[name] = capture.grads[0]
    assert grads["big"].abs().sum() > 0
    assert torch.allclose(grads["accumulated"], grads["big"], atol=1e-7, rtol=1e-4)


def test_evaluation_logs_terms_and_compute_metrics_gets_the_logits_array(tmp_path):
    model = tiny_model()
    dataset, tokenizer = _dataset()
    seen = {}

    def compute_metrics(prediction):
        seen["predictions"] = prediction.predictions
        seen["labels"] = prediction.label_ids
        return {"cells": float(np.asarray(prediction.predictions).shape[1])}

    trainer = FocalContrastiveTrainer(
        model=model,
        args=_args(tmp_path),
        train_dataset=dataset,
        eval_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
    )
    metrics = trainer.evaluate()
    assert isinstance(seen["predictions"], np.ndarray) and seen["predictions"].shape == (8, 11, 4)
    assert seen["labels"].shape == (8, 11)
    assert metrics["eval_cells"] == 11.0
    assert (
        abs(metrics["eval_loss"] - (0.8 * metrics["eval_focal_loss"] + 0.2 * metrics["eval_contrastive_loss"])) < 1e-5
    )


def test_missing_labels_is_a_clear_error(tmp_path):
    model = tiny_model()
    trainer = FocalContrastiveTrainer(model=model, args=_args(tmp_path))
    with pytest.raises(ValueError, match=r"`labels` are missing from the batch"):
        trainer.compute_loss(model, {"input_ids": torch.tensor([[0, 5, 2]])})


def test_a_tiny_model_overfits_a_handful_of_examples(tmp_path):
    """8 reviews in 4 pairs; each pair shares its one (aspect, sentiment) pair, so both terms can approach 0."""
    tokenizer = tiny_tokenizer()
    labels = np.zeros((8, 11), dtype=int)
    for pair, (aspect, sentiment) in enumerate([(0, 1), (1, 2), (3, 3), (6, 1)]):
        labels[2 * pair : 2 * pair + 2, aspect] = sentiment
    dataset = Dataset.from_dict({**tokenizer(TEXTS, truncation=True), "labels": labels.tolist()})
    model = tiny_model(seed=3, classifier_dropout=0.0)
    trainer = FocalContrastiveTrainer(
        model=model,
        args=_args(
            tmp_path,
            per_device_train_batch_size=8,
            max_steps=100,
            learning_rate=3e-3,
            logging_steps=5,
            warmup_steps=0,
            lr_scheduler_type="constant",
        ),
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    trainer.train()
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert losses[-1] < 0.2 * losses[0], losses
