"""Bad input, second round (issue 12): outputs are never written over an input or left half-written, every
argument that would give a wrong result or a traceback is one line and exit 2, and data that would silently give
a wrong result is refused or reported. Each case asserts the exact message."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from hf_visobert_absa.data.loading import load_absa_dataset
from hf_visobert_absa.io_safety import atomic_write, write_json_atomic
from tests.helpers import at, error_of, run_cli

# Outputs: never over an input, never half-written; the message says what was (not) written.


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
@pytest.mark.parametrize("how", ["same_path", "symlink", "dot_path"])
def test_predict_refuses_an_output_that_is_its_input(model_dir, tmp_path, capsys, suffix, how):
    source = tmp_path / f"reviews{suffix}"
    data = b'{"text": "pin tr\xc3\xa2u"}\n' if suffix == ".jsonl" else b"id,text\n1,pin tr\xc3\xa2u\n"
    source.write_bytes(data)
    output = {"same_path": source, "symlink": tmp_path / f"link{suffix}", "dot_path": tmp_path / "." / source.name}[how]
    if how == "symlink":
        output.symlink_to(source)
    code, err = run_cli(capsys, "predict", "--model", model_dir, "--input", source, "--output", output)
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa predict: error: `--output` {output} is the input {source}: writing it would destroy the "
        "input. Nothing was written; choose another output file.",
    )
    assert source.read_bytes() == data  # before: truncated to 0 bytes, exit 0


def test_evaluate_refuses_an_output_that_is_its_input(model_dir, data_file, capsys):
    before = data_file.read_bytes()
    code, err = run_cli(capsys, "evaluate", "--model", model_dir, "--file", data_file, "--output", data_file)
    assert code == 2 and f"`--output` {data_file} is the input {data_file}" in err
    assert data_file.read_bytes() == before


def test_a_predict_that_fails_mid_file_leaves_the_output_as_it_was(model_dir, tmp_path, capsys):
    """A broken JSON line far down the file, small chunks: rows were scored and written to the temporary file
    before the error, but the output is renamed into place only on success."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "pin trâu"}\n' * 5 + "{broken\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("yesterday's results\n", encoding="utf-8")
    code, err = run_cli(
        capsys, "predict", "--model", model_dir, "--input", source, "--output", out, "--chunk_size", "1"
    )
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa predict: error: {source}, line 6 is not valid JSON (Expecting property name enclosed in "
        f"double quotes at column 2). Nothing was written: {out} is unchanged.",
    )
    assert out.read_text(encoding="utf-8") == "yesterday's results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temporary file left


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("where_to", ["missing_folder", "a_folder", "under_a_file"])
def test_an_output_path_that_cannot_be_a_file(command, where_to, model_dir, data_file, tmp_path, capsys):
    (tmp_path / "plain.txt").write_text("x")
    output = {
        "missing_folder": tmp_path / "no" / "such" / "out.json",
        "a_folder": tmp_path,
        "under_a_file": tmp_path / "plain.txt" / "out.json",
    }[where_to]
    flags = ["--input", data_file] if command == "predict" else ["--file", data_file]
    code, err = run_cli(capsys, command, "--model", model_dir, *flags, "--output", output)
    expected = {
        "missing_folder": f"`--output` {output}: the folder {output.parent} does not exist. Create the folder first "
        f"(`mkdir -p {output.parent}`) or choose another output path. Nothing was written.",
        "a_folder": f"`--output` {output} is a folder; pass a file path such as {output / 'output.jsonl'}.",
        "under_a_file": f"`--output` {output}: the folder {output.parent} is a file. Create the folder first "
        f"(`mkdir -p {output.parent}`) or choose another output path. Nothing was written.",
    }[where_to]
    assert (code, err.strip()) == (2, f"hf-visobert-absa {command}: error: {expected}")


def test_atomic_write_keeps_the_old_file_on_failure_and_gives_ordinary_permissions(tmp_path):

    target = tmp_path / "metrics.json"
    write_json_atomic(target, {"f1": 0.5})
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as handle:
        handle.write('{"f1": 0.')
        raise KeyboardInterrupt
    assert json.loads(target.read_text()) == {"f1": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as `open` would create it, not mkstemp's 0600


# Arguments: every value that would silently give a wrong result or a traceback is one line and exit 2.


@pytest.mark.parametrize("value", ["nan", "1.5", "-0.1", "inf"])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_threshold_outside_0_1_is_refused(command, value, model_dir, data_file, tmp_path, capsys):
    flags = ["--input", data_file, "--output", tmp_path / "o.csv"] if command == "predict" else ["--file", data_file]
    code, err = run_cli(capsys, command, "--model", model_dir, *flags, "--threshold", value)
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa {command}: error: `--threshold` got {float(value)!r}; allowed: a number from 0 to 1 (an "
        "aspect is mentioned when P(none) < threshold; 0.5 is the default).",
    )
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        ("predict", "--batch_size"), ("predict", "--chunk_size"), ("evaluate", "--batch_size"),
        ("train", "--per_device_train_batch_size"), ("train", "--per_device_eval_batch_size"),
        ("train", "--gradient_accumulation_steps"),
    ],
)  # fmt: skip
def test_a_batch_size_of_0_is_refused(command, flag, model_dir, data_file, tmp_path, capsys):
    flags = {
        "predict": ["--model", model_dir, "--input", data_file, "--output", tmp_path / "o.csv"],
        "evaluate": ["--model", model_dir, "--file", data_file],
        "train": ["--train_file", data_file, "--output_dir", tmp_path / "run"],
    }[command]
    code, err = run_cli(capsys, command, *flags, flag, "0")
    assert (code, err.strip()) == (
        2, f"hf-visobert-absa {command}: error: `{flag}` got 0; allowed: an integer of at least 1."
    )  # fmt: skip


@pytest.mark.parametrize("epochs", ["0", "-1", "nan"])
def test_train_refuses_a_number_of_epochs_that_trains_nothing(epochs, data_file, tmp_path, capsys):
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", tmp_path / "run",
                        "--num_train_epochs", epochs)  # fmt: skip
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa train: error: `--num_train_epochs` got {float(epochs)!r}: that trains nothing and would "
        "save an untrained model. Pass a positive number of epochs (e.g. 3), or `--max_steps N`.",
    )
    assert not (tmp_path / "run" / "model").exists()


def test_train_refuses_an_output_dir_that_is_a_file_or_not_writable(data_file, tmp_path, capsys):

    a_file = tmp_path / "run.txt"
    a_file.write_text("mine")
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", a_file)
    assert (code, err.strip()) == (
        2, f"hf-visobert-absa train: error: `--output_dir` {a_file} is a file, not a folder. Pass a folder path (it is created)."
    )  # fmt: skip
    assert a_file.read_text() == "mine"
    if os.geteuid() == 0:
        return  # root may write anywhere: the permission case cannot be made here
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", locked / "run")
    assert code == 2 and f"`--output_dir` {locked / 'run'} cannot be created" in err


def test_evaluate_refuses_label_aliases_that_are_not_a_json_object(model_dir, data_file, capsys):
    for value in ('{"Posititve": positive}', '["positive"]'):
        code, err = run_cli(capsys, "evaluate", "--model", model_dir, "--file", data_file, "--label_aliases", value)
        assert (code, err.strip()) == (
            2,
            f"hf-visobert-absa evaluate: error: `--label_aliases` got {value!r}; allowed: a JSON object such as "
            '\'{"Posititve": "positive"}\'.',
        )


# Data: silent wrong results.


def test_mentioned_only_with_nothing_mentioned_is_refused(tmp_path, capsys):
    path = tmp_path / "train.csv"
    path.write_text("text,Battery,Camera\npin trâu,,\ncamera,,\n", encoding="utf-8")
    code, err = run_cli(capsys, "train", "--train_file", path, "--output_dir", tmp_path / "run",
                        "--label_scheme", "mentioned_only")  # fmt: skip
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa train: error: Nothing to learn from {path} under `--label_scheme mentioned_only`: no "
        "aspect is mentioned in any row, and this scheme trains only on mentioned aspects. Check the labels (and "
        "`--label_aliases`), or use `--label_scheme absent_as_class`.",
    )  # before: trained at loss 0.0 and saved an untrained model, exit 0


def test_a_misspelt_aspect_in_jsonl_is_an_error_when_train_declares_the_aspects(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text('{"text": "pin trâu", "aspects": {"Battery": "positive", "Camera": null}}\n', encoding="utf-8")
    validation = tmp_path / "validation.jsonl"
    validation.write_text('{"text": "pin yếu", "aspects": {"Batery": "negative"}}\n', encoding="utf-8")
    message = error_of({"train": train, "validation": validation})
    assert message == (
        f"Aspect 'Batery' at {at(validation, 1, 1)} is not in the aspects in use (those of the training split "
        "train.jsonl): ['Battery', 'Camera']. Did you mean 'Battery'? All aspects of the file: ['Batery']. Fix the "
        "data, or load with `aspects=` listing every aspect the model knows."
    )  # before: 'Batery' silently became a third aspect
    assert "Did you mean 'Battery'?" in error_of(validation, aspects=["Battery", "Camera"])


def test_rare_aspects_are_flagged_in_the_report_when_no_list_is_declared(tmp_path):
    rows = [{"text": f"pin {i}", "aspects": {"Battery": "positive"}} for i in range(5)]
    rows.append({"text": "pin yếu", "aspects": {"Batery": "negative"}})
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    _, report = load_absa_dataset(path)
    assert report.rare_aspects == {"Batery": 1}
    assert (
        "rare aspects (no aspect list declared; mentioned in at most 2 training rows, a misspelling?): 'Batery' 1. "
        "Fix the data, or declare the list with --aspects." in report.format()
    )
    assert json.loads(json.dumps(report.to_dict()))["rare_aspects"] == {"Batery": 1}
    assert load_absa_dataset(path, aspects=["Battery", "Batery"])[1].rare_aspects == {}  # declared: nothing flagged


def test_train_and_predict_read_the_same_text_column(model_dir, tmp_path, capsys):
    """ONE rule (priority order, not file order): a file with `comment,text` is read from `text` by every command."""
    from hf_visobert_absa.data.formats import find_text_column

    assert find_text_column(Path("f.csv"), ["comment", "text"], None) == "text"
    assert find_text_column(Path("f.csv"), [" Review ", "content"], None) == " Review "
    path = tmp_path / "reviews.csv"  # UIT-ViSFD layout: columns other than text and label are not used
    path.write_text("comment,text,label\n,pin trâu,{BATTERY#Positive};\n", encoding="utf-8")
    dataset, report = load_absa_dataset(path)
    assert dataset["train"]["text"][:] == ["pin trâu"] and report.splits["train"].ignored_columns == ["comment"]
    out = tmp_path / "out.csv"
    code, _ = run_cli(capsys, "predict", "--model", model_dir, "--input", path, "--output", out)
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert code == 0 and rows[0]["status"] == "ok"  # before: read the empty `comment` column: "skipped: empty text"


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("--learning_rate", "-1", "a positive number such as 3e-5"),
        ("--learning_rate", "0", "a positive number such as 3e-5"),
        ("--learning_rate", "nan", "a positive number such as 3e-5"),
        ("--warmup_ratio", "5", "a share of the steps from 0 to 1 (e.g. 0.06)"),
        ("--weight_decay", "-0.1", "a number of at least 0 (e.g. 0.01)"),
        ("--max_grad_norm", "inf", "a number of at least 0 (0 turns clipping off)"),
        ("--seed", "-1", "an integer from 0 to 2**32 - 1"),
    ],
)  # fmt: skip
def test_train_refuses_optimizer_values_before_reading_data(flag, value, allowed, data_file, tmp_path, capsys):
    """Before: `Invalid learning rate: -1.0` / `Seed must be between 0 and 2**32 - 1` tracebacks (exit 1) after the
    data and the model had loaded, and `--warmup_ratio 5` trained without ever finishing the warm-up."""
    code, err = run_cli(capsys, "train", "--train_file", data_file, "--output_dir", tmp_path / "run", flag, value)
    number = int(value) if flag == "--seed" else float(value)
    assert (code, err.strip()) == (2, f"hf-visobert-absa train: error: `{flag}` got {number!r}; allowed: {allowed}.")
    assert not (tmp_path / "run" / "dataset_report.json").exists()  # refused before the data was read


def test_a_damaged_tokenizer_or_a_config_that_is_not_an_object_is_refused(model_dir, data_file, tmp_path, capsys):
    broken = tmp_path / "broken_tokenizer"
    shutil.copytree(model_dir, broken)
    (broken / "tokenizer.json").write_text("{oops")
    listed = tmp_path / "config_list"
    shutil.copytree(model_dir, listed)
    (listed / "config.json").write_text("[1, 2]")
    for folder, message in (
        (broken, f"`--model` {broken}: tokenizer.json is not valid JSON (Expecting property name enclosed in double "
                 "quotes: line 1 column 2 (char 1)). Save the tokenizer again (`tokenizer.save_pretrained(folder)`) or "
                 "copy it from the encoder the model was trained from."),
        (listed, f"`--model` {listed}: config.json holds a JSON list, not an object of model settings. Save the model "
                 "again."),
    ):  # fmt: skip
        code, err = run_cli(capsys, "predict", "--model", folder, "--input", data_file, "--output", tmp_path / "o.csv")
        assert (code, err.strip()) == (2, f"hf-visobert-absa predict: error: {message}")  # before: exit 1, traceback


def test_evaluate_finds_bad_data_before_loading_the_weights(model_dir, tmp_path, capsys, monkeypatch):
    from hf_visobert_absa.hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment

    def no_weights(*args, **kwargs):
        raise AssertionError("the weights were loaded before the data was checked")

    monkeypatch.setattr(ViSoBertAbsaForAspectSentiment, "from_pretrained", no_weights)
    path = tmp_path / "test.csv"
    path.write_text("text,Battery,Camera,Price\npin trâu,Posititve,,\n", encoding="utf-8")
    code, err = run_cli(capsys, "evaluate", "--model", model_dir, "--file", path)
    assert code == 2 and err.startswith(
        f"hf-visobert-absa evaluate: error: Unknown label 'Posititve' in {at(path, 1, 2)}"
    )


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_config_yaml_that_is_missing_or_a_folder(kind, data_file, tmp_path, capsys):
    path = tmp_path / "run.yaml" if kind == "missing" else tmp_path
    code, err = run_cli(capsys, "train", "--config", path, "--train_file", data_file, "--output_dir", tmp_path / "run")
    state = "does not exist" if kind == "missing" else "is a folder"
    assert (code, err.strip()) == (
        2,
        f"hf-visobert-absa train: error: `--config` file {path} {state}; pass a YAML file.",
    )
