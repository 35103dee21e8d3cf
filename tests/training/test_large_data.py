"""The large-data rule: a run on at least `--large_data_rows` training rows that keeps the recipe's epochs trains
for `--large_data_epochs`, says so once, records what it used, and is the same run as asking for those epochs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from transformers import DataCollatorWithPadding

from hf_visobert_absa.training.large_data import large_data_epochs
from hf_visobert_absa.training.recipe import TRAINING_RECIPE
from hf_visobert_absa.training.trainer import FocalContrastiveTrainer
from tests import helpers


def test_the_recipe_names_the_rule():
    assert TRAINING_RECIPE["num_train_epochs"] == 10 and TRAINING_RECIPE["large_data_epochs"] == 15
    assert TRAINING_RECIPE["large_data_rows"] == 5000


@pytest.mark.parametrize(
    ("rows", "fields", "expected"),
    [
        (11930, {}, 15),  # phone_reviews' whole training split
        (7786, {}, 15),  # UIT-ViSFD's
        (5000, {}, 15),  # the threshold itself counts
        (4999, {}, 10),
        (2737, {}, 10),  # SemEval-2014 restaurants after the 10% hold-out
        (11930, {"num_train_epochs": 3}, 3),  # a budget the user chose is kept
        (11930, {"num_train_epochs": 20}, 20),
        (11930, {"large_data_rows": 0}, 10),  # the rule off
        (11930, {"max_steps": 500}, 10),  # a budget in steps
        (11930, {"large_data_epochs": 8}, 10),  # never shortens
        (800, {"large_data_rows": 500, "large_data_epochs": 12}, 12),
    ],
)
def test_large_data_epochs(tmp_path, rows, fields, expected):
    assert large_data_epochs(rows, helpers.budget_args(tmp_path, **fields)) == expected


def _trainer(tmp_path: Path, name: str, **fields) -> FocalContrastiveTrainer:
    torch.manual_seed(0)
    tokenizer = helpers.tiny_tokenizer()
    train = Dataset.from_list(helpers.tiny_examples(tokenizer, count=40))
    args = helpers.budget_args(tmp_path / name, min_train_steps=0, eval_strategy="no", save_strategy="no",
                               load_best_model_at_end=False, seed=3, **fields)  # fmt: skip
    model = helpers.tiny_model(aspects=helpers.ASPECTS)
    return FocalContrastiveTrainer(model=model, args=args, train_dataset=train,
                                   data_collator=DataCollatorWithPadding(tokenizer))  # fmt: skip


def test_the_rules_run_is_the_run_with_those_epochs_asked_for(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        ruled = _trainer(tmp_path, "ruled", large_data_rows=40)
    message = " ".join(r.getMessage() for r in caplog.records)
    assert (
        "Large training set: 40 rows (at least --large_data_rows 40); training for 15 epochs instead of 10" in message
    )
    assert "--large_data_rows 0 to keep 10" in message
    assert "best epoch" not in message  # this run keeps its last epoch: the message does not promise otherwise
    ruled.train()  # each trained right after it is built: the Trainer seeds the random state there
    asked = _trainer(tmp_path, "asked", large_data_rows=0, num_train_epochs=15)
    asked.train()
    assert ruled.args.num_train_epochs == asked.args.num_train_epochs == 15
    assert ruled.state.global_step == asked.state.global_step == 2 * 15  # 40 rows at batch 32: 2 steps an epoch
    for (name, mine), theirs in zip(ruled.model.state_dict().items(), asked.model.state_dict().values(), strict=True):
        torch.testing.assert_close(mine, theirs, msg=name)


def test_a_small_training_set_keeps_the_recipes_epochs(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        trainer = _trainer(tmp_path, "small", large_data_rows=41)
    assert trainer.args.num_train_epochs == 10
    assert not [r for r in caplog.records if "Large training set" in r.getMessage()]


def test_the_message_names_the_best_epoch_when_it_is_kept(tmp_path, caplog):
    tokenizer = helpers.tiny_tokenizer()
    train = Dataset.from_list(helpers.tiny_examples(tokenizer, count=40))
    args = helpers.budget_args(tmp_path, large_data_rows=40, eval_strategy="epoch", save_strategy="epoch")
    with caplog.at_level(logging.WARNING):
        FocalContrastiveTrainer(model=helpers.tiny_model(aspects=helpers.ASPECTS), args=args, train_dataset=train,
                                eval_dataset=train)  # fmt: skip
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "training for 15 epochs instead of 10, the best epoch on validation kept. Pass" in message


def test_train_records_the_epochs_it_used(tmp_path):
    recorded = helpers.train_tiny_run(tmp_path, 24, "--large_data_rows", "20", "--large_data_epochs", "11")
    assert recorded["num_train_epochs"] == 11 and recorded["large_data_rows"] == 20


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("--large_data_rows", "-1", "a whole number of at least 0 (0 turns it off)"),
        ("--large_data_epochs", "-2.5", "a positive number of epochs such as 15"),
    ],
)
def test_bad_rule_settings_are_refused_before_training(tmp_path, capsys, flag, value, allowed):
    code, err = helpers.run_cli(
        capsys, "train", "--encoder", "x", "--train_file", str(tmp_path / "t.jsonl"), "--output_dir",
        str(tmp_path / "out"), flag, value,
    )  # fmt: skip
    assert code == 2
    assert f"`{flag}` got {value}; allowed: {allowed}." in err
    assert not (tmp_path / "out").exists()
