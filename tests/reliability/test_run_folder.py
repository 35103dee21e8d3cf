"""A training run's output folder: it never holds what the run reads (through links too), a folder that holds a
run is never taken over without `--resume`, and two runs never write into one folder at once."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import numpy as np
import pytest

from hf_visobert_absa.training.run_folder import LOCK_FILE
from tests import helpers
from tests.helpers import run_cli

ROWS = [
    {"text": "pin trâu", "aspects": {"Battery": "positive"}},
    {"text": "camera xấu", "aspects": {"Camera": "negative"}},
    {"text": "giá rẻ pin tốt", "aspects": {"Battery": "positive"}},
]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("encoder")
    helpers.save_tiny_encoder(path)
    return path


def _write(path: Path, rows: list[dict] = ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows * 3) + "\n", encoding="utf-8")
    return path


def _train(capsys, encoder: Path, train: Path, out: Path, *extra) -> tuple[int, str]:
    return run_cli(
        capsys, "train", "--encoder", encoder, "--train_file", train, "--output_dir", out, "--num_train_epochs", "1",
        "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "16", *extra,
    )  # fmt: skip


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_data_file_inside_the_output_folder_is_refused_and_kept(capsys, encoder, tmp_path):
    out = tmp_path / "run"
    test_file = _write(out / "predictions_test.jsonl")
    before = _snapshot(out)
    code, message = _train(capsys, encoder, _write(tmp_path / "train.jsonl"), out, "--test_file", test_file)
    assert code == 2 and "`--test_file`" in message and "lies inside `--output_dir`" in message
    assert _snapshot(out) == before


def test_a_model_to_continue_inside_the_output_folder_is_refused(capsys, encoder, tmp_path, model_dir):
    out = tmp_path / "run"
    inside = out / "model"
    inside.mkdir(parents=True)
    for f in model_dir.iterdir():
        (inside / f.name).write_bytes(f.read_bytes())
    before = _snapshot(out)
    code, message = _train(capsys, encoder, _write(tmp_path / "train.jsonl"), out, "--model_name_or_path", inside)
    assert code == 2 and "`--model_name_or_path`" in message and "lies inside" in message
    assert _snapshot(out) == before


def test_an_input_reached_through_a_link_into_the_output_folder_is_refused(capsys, encoder, tmp_path):
    out = tmp_path / "run"
    real = _write(out / "data" / "train.jsonl")
    link = tmp_path / "train_link.jsonl"
    link.symlink_to(real)
    code, message = _train(capsys, encoder, link, out)
    assert code == 2 and "lies inside `--output_dir`" in message and real.read_bytes().startswith(b'{"text"')


def test_a_finished_run_is_not_replaced_without_resume(capsys, encoder, tmp_path):
    out = tmp_path / "run"
    train = _write(tmp_path / "train.jsonl")
    assert _train(capsys, encoder, train, out)[0] == 0
    before = _snapshot(out)
    code, message = _train(capsys, encoder, train, out)
    assert code == 2 and "already holds a run" in message and "--resume" in message
    assert _snapshot(out) == before
    assert _train(capsys, encoder, train, out, "--resume")[0] == 0  # continuing it is what --resume is for


def test_a_second_run_into_a_folder_being_written_is_refused_at_once(capsys, encoder, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with open(out / LOCK_FILE, "a+") as held:  # what a running `train` holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, message = _train(capsys, encoder, _write(tmp_path / "train.jsonl"), out)
    assert code == 2 and "another `train` is writing into `--output_dir`" in message
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # nothing written beside the lock


def test_a_run_that_diverges_never_reports_success(capsys, encoder, tmp_path):
    out = tmp_path / "run"
    code, message = _train(
        capsys, encoder, _write(tmp_path / "train.jsonl"), out, "--learning_rate", "1e8", "--head_learning_rate",
        "1e8", "--max_grad_norm", "0", "--validation_split_percentage", "0", "--warmup_ratio", "0",
        "--num_train_epochs", "3", "--per_device_train_batch_size", "2",
    )  # fmt: skip
    assert code == 2 and "training diverged" in message and "hold NaN or infinity" in message
    assert not (out / "model").exists() and "training diverged" in (out / "RUN_INCOMPLETE.txt").read_text()


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_model_with_non_finite_weights_is_refused_before_scoring(capsys, tmp_path, model_dir, data_file, command):
    import torch

    from hf_visobert_absa.hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment

    broken = tmp_path / "broken"
    model = ViSoBertAbsaForAspectSentiment.from_pretrained(model_dir)
    with torch.no_grad():
        model.classifier.out_proj.weight[0, 0] = float("nan")
    model.save_pretrained(broken)
    for f in model_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "vocab", "sentencepiece")):
            (broken / f.name).write_bytes(f.read_bytes())
    io = ["--file", data_file] if command == "evaluate" else ["--input", data_file, "--output", tmp_path / "out.csv"]
    code, message = run_cli(capsys, command, "--model", broken, *io)
    assert code == 2 and "1 weight tensor(s) hold NaN or infinity (classifier.out_proj.weight)" in message
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--early_stopping_patience", "0"), "`--early_stopping_patience` got 0; allowed: an integer of at least 1."),
        (("--early_stopping_patience", "-1"), "`--early_stopping_patience` got -1; allowed: an integer of at least 1."),
        (("--max_train_samples", "0"), "`--max_train_samples` got 0; allowed: an integer of at least 1."),
        (("--max_eval_samples", "-3"), "`--max_eval_samples` got -3; allowed: an integer of at least 1."),
        (
            ("--label_smoothing_factor", "0.1"),
            "`--label_smoothing_factor` got 0.1, which this model's loss does not use",
        ),
        # TrainingArguments values the Trainer would refuse (or misuse) only after the data and the model are loaded
        (("--adam_beta1", "1.5"), "`--adam_beta1` got 1.5; allowed: a number in [0, 1) such as 0.9."),
        (("--adam_beta2", "1.0"), "`--adam_beta2` got 1.0; allowed: a number in [0, 1) such as 0.9."),
        (("--adam_epsilon", "nan"), "`--adam_epsilon` got nan; allowed: a positive number such as 1e-8."),
        (("--neftune_noise_alpha", "-1"), "`--neftune_noise_alpha` got -1.0; allowed: a positive number such as 5."),
        (("--dataloader_num_workers", "-1"), "`--dataloader_num_workers` got -1; allowed: an integer of at least 0."),
        (
            ("--early_stopping_patience", "2", "--eval_strategy", "no", "--load_best_model_at_end", "false"),
            "`--early_stopping_patience` needs evaluations to count, but `--eval_strategy` is 'no'",
        ),
        (("--metric_for_best_model", "accuracy"), "`--metric_for_best_model` got 'accuracy'; allowed: one of"),
        (
            ("--lr_scheduler_type", "cosine_with_min_lr"),
            "`--lr_scheduler_type cosine_with_min_lr` cannot be built with `--lr_scheduler_kwargs` {}: One of min_lr",
        ),
    ],
)
def test_values_that_would_silently_mean_something_else_are_refused(capsys, encoder, tmp_path, extra, needle):
    out = tmp_path / "run"
    code, message = _train(capsys, encoder, _write(tmp_path / "train.jsonl"), out, *extra)
    assert code == 2 and needle in message and not out.exists()


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_the_pipeline_refuses_a_batch_size_below_one(batch_size):
    from hf_visobert_absa.hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline

    pipe = AspectSentimentPipeline(model=helpers.tiny_model(0).eval(), tokenizer=helpers.tiny_tokenizer(), task=TASK)
    with pytest.raises(ValueError, match="`batch_size` got .*; allowed: a positive integer."):
        pipe(["pin trâu", "camera xấu"], batch_size=batch_size)


@pytest.mark.subprocess
def test_predict_into_a_pipe_closed_early_exits_quietly(model_dir, tmp_path):
    """`predict --output - | head -n 1`: the reader stops after the header; no traceback, exit 141 (SIGPIPE)."""
    import subprocess
    import sys

    reviews = tmp_path / "many.csv"
    reviews.write_text("text\n" + "".join(f"pin trâu {i}\n" for i in range(3000)), encoding="utf-8")
    command = [sys.executable, "-m", "hf_visobert_absa.cli.main", "predict", "--model", str(model_dir), "--input",
               str(reviews), "--output", "-", "--disable_tqdm"]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=helpers.script_env(HF_HUB_OFFLINE="1")
    )
    assert process.stdout.readline().startswith(b"text,")
    process.stdout.close()  # what `head -n 1` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141 and "Traceback" not in stderr and "BrokenPipeError" not in stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"learning_rate: 1e-4\nlearning_rate: 2e-4\n", "line 2, column 1: the key 'learning_rate' is given twice"),
        (b"\xff\xfe\x00binary", "is not UTF-8 text (byte 0); pass a YAML file."),
        (b"aspects: [a, b\n", "is not valid YAML: line 2, column 1: expected ',' or ']'"),
    ],
)
def test_a_yaml_config_with_a_repeated_key_or_binary_bytes_is_refused_in_one_line(capsys, tmp_path, content, needle):
    config = tmp_path / "run.yaml"
    config.write_bytes(content)
    from hf_visobert_absa.cli.main import main

    capsys.readouterr()
    code = main(["train", "--config", str(config), "--output_dir", str(tmp_path / "run")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and needle in lines[0] and not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"text": "a", "aspects": {"Battery": "positive", "Battery": "negative"}}',
         "the key 'Battery' is given twice in one object; keep one."),
        ('{"text": "a", "aspects": ' + "[" * 100_000 + "]" * 100_000 + "}", "the JSON is nested too deeply to read"),
        ('{"text": "pin \\ud83d", "aspects": {}}', "holds the escape \\ud83d, half of a surrogate pair"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["train", "predict"])
def test_jsonl_with_repeated_keys_deep_nesting_or_a_lone_surrogate_is_refused(capsys, encoder, tmp_path, line, needle,
                                                                             command, model_dir):  # fmt: skip
    data = tmp_path / "reviews.jsonl"
    data.write_text('{"text": "pin trâu", "aspects": {"Battery": "positive"}}\n' + line + "\n", encoding="utf-8")
    if command == "train":
        code, message = _train(capsys, encoder, data, tmp_path / "run")
    else:
        code, message = run_cli(
            capsys, "predict", "--model", model_dir, "--input", data, "--output", tmp_path / "o.jsonl"
        )
    assert code == 2 and needle in message and f"{data}, " in message and "line 2" in message


def test_resume_from_checkpoint_is_used_or_refused_never_ignored(capsys, encoder, tmp_path, caplog):
    import logging

    train = _write(tmp_path / "train.jsonl")
    out = tmp_path / "run"
    assert _train(capsys, encoder, train, out, "--save_total_limit", "3")[0] == 0
    checkpoint = sorted(out.glob("checkpoint-*"))[0]
    # a missing path and an incomplete checkpoint: refused before training, one line
    code, message = _train(capsys, encoder, train, tmp_path / "b", "--resume_from_checkpoint", tmp_path / "nope")
    assert code == 2 and "`--resume_from_checkpoint`" in message and "it is not a folder" in message
    assert not (tmp_path / "b").exists()
    (checkpoint / "trainer_state.json").unlink()
    code, message = _train(capsys, encoder, train, tmp_path / "c", "--resume_from_checkpoint", checkpoint)
    assert code == 2 and "cannot be resumed from" in message
    # a complete one is resumed from (and said so), into a new folder
    good = tmp_path / "good"
    good.mkdir()
    assert _train(capsys, encoder, train, good / "run", "--save_total_limit", "3")[0] == 0
    source = sorted((good / "run").glob("checkpoint-*"))[-1]
    with caplog.at_level(logging.INFO):
        assert _train(capsys, encoder, train, tmp_path / "d", "--resume_from_checkpoint", source)[0] == 0
    assert any(f"Resuming from {source}" in r.getMessage() for r in caplog.records)


def test_resume_refuses_a_checkpoint_trained_on_other_aspects_or_pooling(capsys, encoder, tmp_path):
    out = tmp_path / "run"
    assert _train(capsys, encoder, _write(tmp_path / "train.jsonl"), out)[0] == 0
    other = [{"text": "giao hàng nhanh", "aspects": {"Shipping": "positive"}}, *ROWS]
    code, message = _train(capsys, encoder, _write(tmp_path / "other.jsonl", other), out, "--resume")
    assert code == 2 and "was trained with aspects" in message and "new names on its heads" in message
    code, message = _train(capsys, encoder, tmp_path / "train.jsonl", out, "--resume", "--pooling", "mean")
    assert code == 2 and "was trained with pooling 'aspect_query', but this run has 'mean'" in message


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("twice.csv", "text,id,text\npin trâu,1,camera\n", "the header repeats column name(s) ['text']"),
        ("own.csv", "text,pred_Battery,status\npin trâu,positive,ok\n", "column(s) ['pred_Battery', 'status'] already"),
        ("own.jsonl", '{"text": "pin trâu", "predictions": {}, "status": "ok"}\n',
         "line 1: key(s) ['predictions', 'status'] already exist"),
    ],
)  # fmt: skip
def test_predict_refuses_an_input_whose_fields_it_would_overwrite(capsys, model_dir, tmp_path, name, content, needle):
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    output = tmp_path / f"out{source.suffix}"
    code, message = run_cli(capsys, "predict", "--model", model_dir, "--input", source, "--output", output)
    assert code == 2 and needle in message and not output.exists()


@pytest.mark.parametrize("damage", ["drop_classifier", "edit_hidden_size", "edit_layers"])
def test_a_model_folder_whose_weights_and_config_disagree_is_named_exactly(capsys, tmp_path, model_dir, data_file,
                                                                           damage):  # fmt: skip
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "model"
    folder.mkdir()
    for f in model_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    if damage == "drop_classifier":
        weights = load_file(str(folder / "model.safetensors"))
        save_file({k: v for k, v in weights.items() if not k.startswith("classifier.out_proj")},
                  str(folder / "model.safetensors"), metadata={"format": "pt"})  # fmt: skip
        needle = "the weights file lacks 2 tensor(s) the model needs (classifier.out_proj.weight"
    elif damage == "edit_hidden_size":
        config["text_config"]["hidden_size"] = 64
        config["text_config"]["intermediate_size"] = 128
        needle = "has shape [128, 32] in the weights but [128, 64] from config.json"
    else:
        config["text_config"]["num_hidden_layers"] += 1
        needle = "the weights file lacks 16 tensor(s) the model needs (encoder.encoder.layer.2."
    (folder / "config.json").write_text(json.dumps(config))
    code, message = run_cli(capsys, "evaluate", "--model", folder, "--file", data_file)
    assert code == 2 and needle in message, message


def test_a_tokenizer_larger_than_the_encoder_vocabulary_is_refused(capsys, tmp_path, data_file):
    from tests.helpers import tiny_text_config, tiny_tokenizer

    folder = tmp_path / "model"
    helpers.tiny_model(0, aspects=helpers.ASPECTS, text_config=tiny_text_config(vocab_size=20)).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)  # 48 tokens for 20 embeddings
    code, message = run_cli(capsys, "evaluate", "--model", folder, "--file", data_file)
    assert code == 2 and "its tokenizer has 48 tokens but the encoder's embeddings hold 20" in message


def test_push_to_hub_offline_or_without_a_token_is_refused_before_training(capsys, encoder, tmp_path, monkeypatch):
    train = _write(tmp_path / "train.jsonl")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, message = _train(capsys, encoder, train, tmp_path / "a", "--push_to_hub", "true", "--hub_model_id", "me/x")
    assert code == 2 and "offline mode is on" in message and not (tmp_path / "a").exists()
    monkeypatch.setattr("hf_visobert_absa.publishing.push.hub_offline", lambda: False)  # online, but no token anywhere
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    code, message = _train(capsys, encoder, train, tmp_path / "b", "--push_to_hub", "true", "--hub_model_id", "me/x")
    assert code == 2 and "`--push_to_hub`: No Hugging Face token" in message and not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            ("--aspect_query_heads", "2", "--pooling", "mean"),
            "`--aspect_query_heads` has no effect with pooling 'mean'",
        ),
        (("--aspect_prompt_init", "random"), "`--aspect_prompt_init` has no effect with pooling 'aspect_query'"),
    ],
)
def test_an_option_of_a_pooling_not_chosen_is_said_to_have_no_effect(capsys, encoder, tmp_path, caplog, extra, needle):
    import logging

    with caplog.at_level(logging.WARNING):
        code, _ = _train(capsys, encoder, _write(tmp_path / "train.jsonl"), tmp_path / "run", *extra)
    assert code == 0 and any(needle in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_predict_writes_probabilities_that_agree_with_its_labels(capsys, model_dir, tmp_path, suffix):
    import csv

    from hf_visobert_absa.data.label_schemes import predictions_from_probabilities

    source = tmp_path / f"in{suffix}"
    texts = ["pin trâu", "camera xấu", ""]
    if suffix == ".csv":
        source.write_text("text\n" + "\n".join(f'"{t}"' for t in texts) + "\n", encoding="utf-8")
    else:
        source.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    assert (
        run_cli(capsys, "predict", "--model", model_dir, "--input", source, "--output", out, "--probabilities")[0] == 0
    )
    if suffix == ".csv":
        with open(out, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        distributions = [json.loads(r["probabilities"]) if r["probabilities"] else {} for r in rows]
        labels = [{k[5:]: v for k, v in r.items() if k.startswith("pred_") and v} for r in rows]
    else:
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        distributions, labels = [r["probabilities"] for r in rows], [r["predictions"] for r in rows]
    assert distributions[2] == {}  # the empty review is skipped, with no probabilities
    for distribution, label in zip(distributions[:2], labels[:2], strict=True):
        aspects = list(distribution)
        assert all(abs(sum(p.values()) - 1) < 1e-4 for p in distribution.values())
        probs = np.array([[list(distribution[a].values()) for a in aspects]])
        codes = predictions_from_probabilities(probs, "absent_as_class")[0]
        names = list(next(iter(distribution.values())))
        assert {a: names[c] for a, c in zip(aspects, codes, strict=True) if c} == label


def test_the_pipeline_refuses_a_lone_surrogate_with_its_place():
    from hf_visobert_absa.hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline

    pipe = AspectSentimentPipeline(model=helpers.tiny_model(0).eval(), tokenizer=helpers.tiny_tokenizer(), task=TASK)
    with pytest.raises(ValueError, match=r"Input 1 holds a lone surrogate \(\\ud83d at character 4\)"):
        pipe(["pin trâu", "pin \ud83d tốt"])
    assert len(pipe(["pin 😀 tốt"])) == 1  # a whole emoji is a character


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_full_disk_is_one_line_not_a_traceback(capsys, monkeypatch, command):
    import errno
    import importlib

    from hf_visobert_absa.cli.main import main

    def full(argv):
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/model/model.safetensors")

    monkeypatch.setattr(importlib.import_module(f"hf_visobert_absa.cli.{command}"), "main", full)
    capsys.readouterr()
    assert main([command]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no space left on the device writing /runs/x/model/model.safetensors" in err[0]
    assert ("--resume" in err[0]) == (command == "train") and "Traceback" not in err[0]
