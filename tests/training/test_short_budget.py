"""The short-budget rule: a run that would make fewer than `--min_train_steps` optimisation steps trains with a
halved batch (not below 16), says so once, and records what it used; the step arithmetic is the Trainer's own."""

from __future__ import annotations

import logging

import pytest
from datasets import Dataset
from transformers import DataCollatorWithPadding

from hf_visobert_absa.training.short_budget import optimizer_steps, short_budget_batch_size
from hf_visobert_absa.training.trainer import FocalContrastiveTrainer
from tests import helpers


@pytest.mark.parametrize(
    ("rows", "batch", "epochs", "accumulation", "expected"),
    [(1500, 32, 2, 1, 94), (1500, 16, 2, 1, 188), (2740, 32, 10, 1, 860), (10, 32, 1, 1, 1), (100, 8, 1.5, 4, 5)],
)
def test_optimizer_steps(rows, batch, epochs, accumulation, expected):
    assert optimizer_steps(rows, batch, epochs, accumulation) == expected


@pytest.mark.parametrize(
    ("rows", "epochs", "fields", "expected"),
    [
        (1500, 2, {}, 16),  # 94 steps at 32: halved once (188 steps), never below 16
        (2740, 3, {}, 16),  # SemEval-2014 at 3 epochs: 258 steps
        (2740, 5, {}, 32),  # 430 steps
        (2740, 10, {}, 32),  # 860 steps: a full budget keeps its batch
        (1500, 2, {"min_train_steps": 0}, 32),  # the rule off
        (1500, 2, {"max_steps": 50}, 32),  # a budget in steps: a smaller batch adds none
        (1500, 2, {"per_device_train_batch_size": 64}, 16),  # a given batch is halved too, down to 16
        (1500, 2, {"per_device_train_batch_size": 8}, 8),  # never raised
    ],
)
def test_short_budget_batch_size(tmp_path, rows, epochs, fields, expected):
    args = helpers.budget_args(tmp_path, num_train_epochs=epochs, **fields)
    assert short_budget_batch_size(rows, args) == expected


def test_the_trainer_applies_the_rule_and_makes_the_steps_it_announces(tmp_path, caplog):
    tokenizer = helpers.tiny_tokenizer()
    examples = helpers.tiny_examples(tokenizer, count=40)
    train = Dataset.from_list(examples)
    args = helpers.budget_args(tmp_path, num_train_epochs=1, min_train_steps=3, eval_strategy="no",
                               save_strategy="no", load_best_model_at_end=False)  # fmt: skip
    with caplog.at_level(logging.WARNING):
        trainer = FocalContrastiveTrainer(
            model=helpers.tiny_model(aspects=helpers.ASPECTS),
            args=args,
            train_dataset=train,
            data_collator=DataCollatorWithPadding(tokenizer),
        )
    assert trainer.args.per_device_train_batch_size == 16
    assert args.per_device_train_batch_size == 32  # the caller's arguments are not changed
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "batch size 32 gives only 2 optimisation steps (fewer than --min_train_steps 3)" in message
    assert "batch size 16 instead (3 steps)" in message and "--min_train_steps 0" in message
    trainer.train()
    assert trainer.state.global_step == optimizer_steps(40, 16, 1) == 3


def test_the_trainer_leaves_a_long_enough_run_alone(tmp_path, caplog):
    tokenizer = helpers.tiny_tokenizer()
    train = Dataset.from_list(helpers.tiny_examples(tokenizer, count=40))
    with caplog.at_level(logging.WARNING):
        args = helpers.budget_args(tmp_path, min_train_steps=2, eval_strategy="no", load_best_model_at_end=False)
        trainer = FocalContrastiveTrainer(model=helpers.tiny_model(aspects=helpers.ASPECTS), args=args,
                                          train_dataset=train)  # fmt: skip
    assert trainer.args.per_device_train_batch_size == 32
    assert not [r for r in caplog.records if "Short budget" in r.getMessage()]


def test_train_records_the_batch_size_it_used(tmp_path):
    recorded = helpers.train_tiny_run(tmp_path, 40, "--num_train_epochs", "1")
    assert recorded["per_device_train_batch_size"] == 16 and recorded["min_train_steps"] == 300


def test_a_negative_min_train_steps_is_refused_before_training(tmp_path, capsys):
    code, err = helpers.run_cli(
        capsys, "train", "--encoder", "x", "--train_file", str(tmp_path / "t.jsonl"), "--output_dir",
        str(tmp_path / "out"), "--min_train_steps", "-1",
    )  # fmt: skip
    assert code == 2
    assert "`--min_train_steps` got -1; allowed: a whole number of at least 0 (0 turns it off)." in err
    assert not (tmp_path / "out").exists()
