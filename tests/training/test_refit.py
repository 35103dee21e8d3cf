"""Refit after selection: the best epoch is picked on rows held out from the training file, then a second run from
the same initial weights trains on every row up to that epoch; the reports keep the validation numbers honest."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from hf_visobert_absa.errors import AbsaInputError
from hf_visobert_absa.training.arguments import AbsaTrainingArguments
from hf_visobert_absa.training.recipe import REFIT_BELOW_ROWS, TRAINING_RECIPE
from hf_visobert_absa.training.refit import (
    StopAtEpochCallback,
    check_refit_possible,
    refit_applies,
    refit_arguments,
    selected_epoch,
)
from tests import helpers


@pytest.mark.parametrize(
    ("mode", "held_out", "automatic", "limited", "rows", "expected"),
    [
        ("auto", True, True, False, 2466, True),  # SemEval-2014 restaurants after the outer and the 10% hold-out
        ("auto", True, True, False, REFIT_BELOW_ROWS - 1, True),
        ("auto", True, True, False, REFIT_BELOW_ROWS, False),  # large sets keep the selected model
        ("auto", True, False, False, 100, False),  # a hold-out the user asked for: the user's design
        ("auto", True, True, True, 100, False),  # --max_train_samples / --max_eval_samples: no extra rows
        ("auto", False, False, False, 100, False),  # a validation file, or none
        ("true", True, False, True, 10**6, True),
        ("false", True, True, False, 100, False),
    ],
)
def test_when_a_run_refits(mode, held_out, automatic, limited, rows, expected):
    assert refit_applies(mode, held_out, automatic, limited, rows) is expected


@pytest.mark.parametrize(("value", "mode"), [("auto", "auto"), (True, "true"), ("yes", "true"), ("0", "false")])
def test_refit_modes(tmp_path, value, mode):
    assert AbsaTrainingArguments(output_dir=str(tmp_path), refit_after_selection=value).refit_after_selection == mode


@pytest.mark.parametrize("flag", ["calibrate_thresholds", "refit_after_selection"])
def test_a_bad_auto_true_false_value_names_the_flag_and_an_example(tmp_path, flag):
    with pytest.raises(AbsaInputError) as error:
        AbsaTrainingArguments(output_dir=str(tmp_path), **{flag: "maybe"})
    assert str(error.value) == f"`--{flag}` got 'maybe'; allowed: auto (default), true or false (e.g. --{flag} false)."


def test_a_bad_refit_mode_is_refused_with_what_is_allowed(tmp_path):
    with pytest.raises(AbsaInputError, match=r"`--refit_after_selection` got 'sometimes'; allowed: auto \(default\)"):
        AbsaTrainingArguments(output_dir=str(tmp_path), refit_after_selection="sometimes")


def test_refit_true_without_a_hold_out_is_refused():
    check_refit_possible("true", held_out=True)
    check_refit_possible("auto", held_out=False)
    with pytest.raises(AbsaInputError, match="drop --validation_file, or pass --refit_after_selection false"):
        check_refit_possible("true", held_out=False)


def test_the_selected_epoch_is_the_best_checkpoints():
    history = [{"eval_loss": 1.0, "epoch": 1.0, "step": 5}, {"eval_loss": 0.5, "epoch": 2.0, "step": 10},
               {"eval_loss": 0.7, "epoch": 3.0, "step": 15}]  # fmt: skip
    assert selected_epoch(SimpleNamespace(best_global_step=10, log_history=history, epoch=3.0)) == 2.0
    assert selected_epoch(SimpleNamespace(best_global_step=None, log_history=history, epoch=3.0)) == 3.0
    kept_last = SimpleNamespace(best_global_step=10, log_history=history, epoch=3.0)
    assert selected_epoch(kept_last, best_kept=False) == 3.0  # --load_best_model_at_end false keeps the last epoch


def test_the_refit_repeats_the_schedule_without_selection_or_budget_rules(tmp_path):
    trained = helpers.budget_args(tmp_path, num_train_epochs=15, per_device_train_batch_size=16)
    args = refit_arguments(trained)
    assert (args.num_train_epochs, args.per_device_train_batch_size, args.learning_rate) == (15, 16, 5e-5)
    assert args.eval_strategy == "no" and args.save_strategy == "no" and not args.load_best_model_at_end
    assert args.min_train_steps == 0 and args.large_data_rows == 0  # the rules ran once, on the selection run


def test_stop_at_epoch():
    callback = StopAtEpochCallback(2.0)
    control = SimpleNamespace(should_training_stop=False)
    callback.on_step_end(None, SimpleNamespace(epoch=1.5), control)
    assert not control.should_training_stop
    callback.on_step_end(None, SimpleNamespace(epoch=2.0), control)
    assert control.should_training_stop


def _run(tmp_path: Path, *flags: str) -> tuple[dict, dict, Path]:
    recorded = helpers.train_tiny_run(tmp_path, 40, "--num_train_epochs", "3", *flags)
    out = tmp_path / "out"
    return recorded, json.loads((out / "metrics.json").read_text(encoding="utf-8")), out


def test_a_refit_run_trains_on_every_row_for_the_whole_budget(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        recorded, metrics, out = _run(tmp_path, "--refit_after_selection", "true")
    refit = recorded["refit"]
    assert refit["rows"] == 40 and refit["held_out_rows"] == 4 and refit["epochs"] == 3
    selection = json.loads((out / "log_history.json").read_text(encoding="utf-8"))
    best = [e for e in selection if "eval_joint_micro_f1" in e and e["epoch"] == refit["selected_epoch"]]
    assert best and best[0]["eval_joint_micro_f1"] == pytest.approx(refit["selection_best_metric"])
    second = json.loads((out / "refit_log_history.json").read_text(encoding="utf-8"))
    assert second[-1]["epoch"] == pytest.approx(3) and second[-1]["step"] == 3 * 3  # 40 rows at batch 16
    assert not any("eval_loss" in e for e in second)  # the refit has nothing left to evaluate on
    assert "before the refit on these rows too" in metrics["validation"]["scored_model"]
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "Refit after selection: epoch" in message and "on all 40 rows (training + held-out) for 3 epochs" in message


def test_a_refit_up_to_the_selected_epoch_stops_there(tmp_path):
    recorded, _, out = _run(tmp_path, "--refit_after_selection", "true", "--refit_epochs", "selected")
    second = json.loads((out / "refit_log_history.json").read_text(encoding="utf-8"))
    assert recorded["refit"]["selected_epoch"] < 3  # this tiny run peaks early, so the stop is exercised
    assert recorded["refit"]["epochs"] == pytest.approx(recorded["refit"]["selected_epoch"])
    assert second[-1]["epoch"] == pytest.approx(recorded["refit"]["selected_epoch"])


def test_a_bad_refit_epochs_is_refused(tmp_path):
    with pytest.raises(AbsaInputError, match=r"`--refit_epochs` got 'best'; allowed: all \(default"):
        AbsaTrainingArguments(output_dir=str(tmp_path), refit_epochs="best")


def test_the_refit_model_differs_from_the_selected_one(tmp_path):
    _, _, out = _run(tmp_path, "--refit_after_selection", "true")
    from safetensors.torch import load_file

    saved = load_file(out / "model" / "model.safetensors")
    best = json.loads((out / "model" / "training_args.json").read_text(encoding="utf-8"))["refit"]
    checkpoints = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    steps_per_epoch = int(checkpoints[0].name.split("-")[1])  # checkpoints are saved every epoch
    chosen = out / f"checkpoint-{round(best['selected_epoch'] * steps_per_epoch)}"
    selection = load_file(chosen / "model.safetensors")
    assert any(not torch.equal(saved[k], selection[k]) for k in saved)


def test_without_refit_the_saved_model_is_the_selected_one(tmp_path):
    recorded, metrics, out = _run(tmp_path, "--refit_after_selection", "false")
    assert "refit" not in recorded and "scored_model" not in metrics["validation"]
    assert not (out / "refit_log_history.json").exists()


def test_refit_true_with_a_validation_file_exits_2_before_training(tmp_path, capsys):
    data = tmp_path / "t.jsonl"
    data.write_text(json.dumps({"text": "pin trâu", "aspects": {"Battery": "positive"}}) + "\n", encoding="utf-8")
    code, err = helpers.run_cli(
        capsys, "train", "--encoder", str(helpers.save_tiny_encoder(tmp_path / "enc")), "--train_file", str(data),
        "--validation_file", str(data), "--output_dir", str(tmp_path / "out"), "--refit_after_selection", "true",
    )  # fmt: skip
    assert code == 2
    assert "has no such hold-out" in err and "--refit_after_selection false" in err
    assert not (tmp_path / "out").exists()


def test_validation_is_scored_with_the_selection_model(tmp_path):
    from datasets import Dataset

    from hf_visobert_absa.data.label_schemes import predictions_from_probabilities
    from hf_visobert_absa.evaluation.inference import predict_probabilities
    from hf_visobert_absa.training.reports import write_reports

    tokenizer = helpers.tiny_tokenizer()
    rng = np.random.default_rng(0)
    texts = [f"pin {i} camera {i % 3}" for i in range(12)]
    split = Dataset.from_dict({"text": texts, "gold": rng.integers(0, 4, size=(12, 3)).tolist()})
    final, selection = (
        helpers.tiny_model(seed=1, aspects=helpers.ASPECTS),
        helpers.tiny_model(seed=2, aspects=helpers.ASPECTS),
    )
    metrics = write_reports(
        final, tokenizer, {"validation": split, "test": split}, tmp_path, 16, [], validation_model=selection,
        refit={"selected_epoch": 2.0},
    )  # fmt: skip

    def predicted(model) -> int:
        probabilities = predict_probabilities(model, tokenizer, texts, max_length=16)
        return int((predictions_from_probabilities(probabilities, "absent_as_class") != 0).sum())

    assert predicted(selection) != predicted(final)  # the two models tell apart
    assert metrics["validation"]["num_predicted_mentions"] == predicted(selection)
    assert metrics["test"]["num_predicted_mentions"] == predicted(final)
    assert "scored_model" not in metrics["test"]


def test_the_recipe_refits_small_training_files_for_the_whole_budget(tmp_path):
    assert TRAINING_RECIPE["refit_after_selection"] == "auto" and TRAINING_RECIPE["refit_epochs"] == "all"
    assert REFIT_BELOW_ROWS == 5000
    args = AbsaTrainingArguments(output_dir=str(tmp_path))
    assert (args.refit_after_selection, args.refit_epochs) == ("auto", "all")


def test_by_default_a_small_training_file_without_validation_is_refit(tmp_path):
    recorded, metrics, _ = _run(tmp_path)
    assert recorded["refit"]["rows"] == 40 and recorded["refit"]["epochs"] == 3
    assert "scored_model" in metrics["validation"]


def test_a_run_that_fails_during_the_refit_resumes_and_refits(tmp_path, monkeypatch):
    from hf_visobert_absa.training import refit as refit_module

    real = refit_module.refit

    def fail(*args, **kwargs):
        raise RuntimeError("killed during the refit")

    monkeypatch.setattr(refit_module, "refit", fail)
    with pytest.raises(AssertionError):  # `train` exits 1: an unexpected failure
        helpers.train_tiny_run(tmp_path, 40, "--num_train_epochs", "3")
    out = tmp_path / "out"
    assert "killed during the refit" in (out / "RUN_INCOMPLETE.txt").read_text(encoding="utf-8")
    monkeypatch.setattr(refit_module, "refit", real)
    recorded = helpers.train_tiny_run(tmp_path, 40, "--num_train_epochs", "3", "--resume")
    assert recorded["refit"]["rows"] == 40 and recorded["refit"]["epochs"] == 3
    assert not (out / "RUN_INCOMPLETE.txt").exists()
