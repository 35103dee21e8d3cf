"""Bad input, checkpoints: folders that are not usable visobert_absa models, Hub ids that cannot be reached, and
checkpoints whose aspects differ from the data; each refused with the exact message and exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from transformers import XLMRobertaConfig

from hf_visobert_absa.cli.main import main
from tests.helpers import at, run_cli, tiny_text_config

PASS = "Pass the `model/` folder of a `hf-visobert-absa train` run or an exported model."


@pytest.fixture(scope="module")
def bad_folders(model_dir, tmp_path_factory) -> dict[str, Path]:
    """Folders (and a file) that are not usable visobert_absa models."""
    root = tmp_path_factory.mktemp("bad_models")

    def copy(name: str, skip: str = "") -> Path:
        folder = root / name
        shutil.copytree(model_dir, folder, ignore=shutil.ignore_patterns(skip) if skip else None)
        return folder

    folders = {
        "missing": root / "missing",
        "empty": root / "empty",
        "encoder": root / "encoder",
        "a_file": root / "model.txt",
    }
    folders["empty"].mkdir()
    XLMRobertaConfig(**{k: v for k, v in tiny_text_config().items() if k != "model_type"}).save_pretrained(
        folders["encoder"]
    )
    folders["a_file"].write_text("weights?")
    folders["broken_json"] = copy("broken_json")
    (folders["broken_json"] / "config.json").write_text("{not json")
    folders["invalid_value"] = copy("invalid_value")
    config = json.loads((folders["invalid_value"] / "config.json").read_text())
    (folders["invalid_value"] / "config.json").write_text(json.dumps({**config, "label_scheme": "binary"}))
    folders["no_weights"] = copy("no_weights", skip="model.safetensors")
    folders["pickle_only"] = copy("pickle_only", skip="model.safetensors")
    (folders["pickle_only"] / "pytorch_model.bin").write_bytes(b"not really a pickle")
    folders["no_tokenizer"] = copy("no_tokenizer", skip="tokenizer*")
    # damaged weights: empty, cut short (an interrupted copy), a config whose aspect count disagrees with them
    folders["empty_weights"] = copy("empty_weights")
    (folders["empty_weights"] / "model.safetensors").write_bytes(b"")
    folders["truncated_weights"] = copy("truncated_weights")
    weights = folders["truncated_weights"] / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    folders["aspect_count"] = copy("aspect_count")
    config = json.loads((folders["aspect_count"] / "config.json").read_text())
    (folders["aspect_count"] / "config.json").write_text(json.dumps({**config, "aspects": ["Battery", "Camera"]}))
    # a config without a field that defines the model: never filled with a default (the 11 phone aspects)
    for field in ("aspects", "label_scheme", "head_hidden_size"):
        folders[f"no_{field}"] = copy(f"no_{field}")
        config = json.loads((folders[f"no_{field}"] / "config.json").read_text())
        del config[field]
        (folders[f"no_{field}"] / "config.json").write_text(json.dumps(config))
    return folders


def _damaged_size(folder: Path) -> tuple[int, int]:
    """(the size the safetensors header describes, the file's size) of a truncated weights file."""
    import struct

    data = (folder / "model.safetensors").read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    return 8 + length + end, len(data)


def model_message(kind: str, path: Path, flag: str) -> str:
    fix = "Copy or save the model again (e.g. an interrupted download or a full disk leaves such a file)."
    if kind == "truncated_weights":
        described, size = _damaged_size(path)
        return (
            f"`{flag}` {path}: model.safetensors is truncated or damaged: its header describes {described} bytes but "
            f"the file has {size}. {fix}"
        )
    lacks = (
        "which define(s) the model; a missing field is never filled with a default (the default aspects would "
        "relabel every prediction). Add the field(s) with the values the model was trained with, or save the model "
        "again."
    )
    return {
        "empty_weights": f"`{flag}` {path}: model.safetensors is empty (0 bytes). {fix}",
        "aspect_count": f"`{flag}` {path}: the weights do not match config.json: the classification layer has 12 outputs (3 aspects x 4 classes), but config.json lists 2 aspects ['Battery', 'Camera'] x 4 classes = 8. Restore the config.json saved with these weights (its `aspects`), or save the model again.",
        "no_aspects": f"`{flag}` {path}: config.json lacks 'aspects', {lacks}",
        "no_label_scheme": f"`{flag}` {path}: config.json lacks 'label_scheme', {lacks}",
        "no_head_hidden_size": f"`{flag}` {path}: config.json lacks 'head_hidden_size', {lacks}",
        "no_tokenizer": f"`{flag}` {path} has no tokenizer files (tokenizer.json / tokenizer_config.json). Save the tokenizer next to the model (`tokenizer.save_pretrained(folder)`).",
        "missing": f"`{flag}` {path} does not exist. {PASS}",
        "a_file": f"`{flag}` {path} is a file, not a folder. {PASS}",
        "empty": f"`{flag}` {path} is not a model folder: it has no config.json. {PASS}",
        "encoder": f"`{flag}` {path} holds a 'xlm-roberta' model, not a visobert_absa model. {PASS}"
        + (" To start from a pretrained encoder, pass it as `--encoder` instead." if flag == "--model_name_or_path" else ""),
        "broken_json": f"`{flag}` {path}: config.json is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)).",
        "invalid_value": f"`{flag}` {path}: config.json holds an invalid value: `label_scheme` got 'binary'; allowed: 'absent_as_class', 'absent_as_neutral', 'mentioned_only'. Fix config.json or save the model again.",
        "no_weights": f"`{flag}` {path} has no model.safetensors: the weights are missing. Save the model again (`model.save_pretrained(folder)`).",
        "pickle_only": f"`{flag}` {path} has no model.safetensors, only pickled weights (pytorch_model.bin); visobert_absa models load weights only from safetensors, because unpickling a file can run arbitrary code. Convert a file you trust once with `safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')`.",
    }[kind]  # fmt: skip


KINDS = [
    "missing",
    "a_file",
    "empty",
    "encoder",
    "broken_json",
    "invalid_value",
    "no_weights",
    "pickle_only",
    "no_tokenizer",
    "empty_weights",
    "truncated_weights",
    "aspect_count",
    "no_aspects",
    "no_label_scheme",
    "no_head_hidden_size",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_a_folder_that_is_not_a_visobert_absa_model(command, kind, bad_folders, data_file, tmp_path, capsys):
    folder = bad_folders[kind]
    argv = {
        "train": ["--model_name_or_path", folder, "--train_file", data_file, "--output_dir", tmp_path / "run"],
        "evaluate": ["--model", folder, "--file", data_file],
        "predict": ["--model", folder, "--input", data_file, "--output", tmp_path / "out.csv"],
    }[command]
    code, err = run_cli(capsys, command, *argv)
    flag = "--model_name_or_path" if command == "train" else "--model"
    assert (code, err.strip()) == (2, f"hf-visobert-absa {command}: error: {model_message(kind, folder, flag)}")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "run" / "model").exists()


def test_train_from_a_hub_id_that_cannot_be_reached_is_a_clear_error(data_file, tmp_path, capsys, monkeypatch):
    import huggingface_hub.constants

    # conftest sets HF_HUB_OFFLINE after huggingface_hub read it at import: without this the lookup goes online
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    code = main(["train", "--model_name_or_path", "no-such-org/no-such-model", "--train_file", str(data_file),
                 "--output_dir", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(
        "hf-visobert-absa train: error: `--model_name_or_path` no-such-org/no-such-model is not a local folder and "
        "could not be loaded from the Hub: "
    )  # then huggingface_hub's reason: here, offline and not in the cache
    assert "couldn't find them in the cached files" in err
    assert err.strip().endswith(PASS)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("missing", "encoder")])
def test_export_refuses_what_is_not_a_saved_model(kind, bad_folders, tmp_path, capsys):
    """`export` runs the same model-folder check as train, evaluate and predict (one function, one message)."""
    folder = bad_folders[kind]
    code, err = run_cli(capsys, "export", folder, tmp_path / "out")
    assert (code, err.strip()) == (2, "hf-visobert-absa export: error: " + model_message(kind, folder, "checkpoint"))
    assert not (tmp_path / "out").exists()


def _other_aspects(tmp_path: Path) -> tuple[Path, Path]:
    wide = tmp_path / "other.csv"
    wide.write_text("text,Battery,Screen\npin trâu,positive,\n", encoding="utf-8")
    jsonl = tmp_path / "other.jsonl"
    jsonl.write_text(json.dumps({"text": "màn hình đẹp", "aspects": {"Screen": "positive"}}) + "\n", encoding="utf-8")
    return wide, jsonl


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_checkpoint_whose_aspects_differ_from_the_data(command, model_dir, tmp_path, capsys):
    wide, jsonl = _other_aspects(tmp_path)
    source = f"those of the model {model_dir}"

    def run(path: Path) -> tuple[int, str]:
        if command == "train":
            return run_cli(capsys, "train", "--model_name_or_path", model_dir, "--train_file", path, "--output_dir",
                           tmp_path / "run")  # fmt: skip
        return run_cli(capsys, "evaluate", "--model", model_dir, "--file", path)

    code, err = run(wide)
    assert (code, err.strip()) == (2, (
        f"hf-visobert-absa {command}: error: Aspect mismatch: {wide} has aspect columns ['Battery', 'Screen'], but "
        f"the aspects in use ({source}) are ['Battery', 'Camera', 'Price']; missing from the file: ['Camera', "
        "'Price']; not in the aspect list: ['Screen']. Fix the file's aspect columns, or load with the aspect list "
        "that matches the model (`aspects=` from its config)."
    ))  # fmt: skip
    code, err = run(jsonl)
    assert (code, err.strip()) == (2, (
        f"hf-visobert-absa {command}: error: Aspect 'Screen' at {at(jsonl, 1, 1)} is not in the aspects in use "
        f"({source}): ['Battery', 'Camera', 'Price']. All aspects of the file: ['Screen']. Fix the data, or load "
        "with `aspects=` listing every aspect the model knows."
    ))  # fmt: skip


def test_train_with_aspects_other_than_the_checkpoints(model_dir, tmp_path, capsys):
    wide, _ = _other_aspects(tmp_path)
    code, err = run_cli(capsys, "train", "--model_name_or_path", model_dir, "--train_file", wide, "--aspects",
                        "Battery,Screen", "--output_dir", tmp_path / "run", "--use_cpu", "true")  # fmt: skip
    assert code == 2
    assert err.strip().endswith(
        f"hf-visobert-absa train: error: The model at {model_dir} was trained on aspects ['Battery', 'Camera', "
        "'Price'] but the data has ['Battery', 'Screen']. Pass `--aspects` in the model's order or start from an "
        "encoder."
    )
    assert not (tmp_path / "run" / "model").exists()


def test_aspect_columns_in_another_order_give_the_same_metrics(model_dir, data_file, tmp_path, capsys):
    """Not an error and not a wrong answer: wide columns are matched by name, in the model's order."""
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("Price,text,Camera,Battery\n,pin trâu,,positive\n,camera xấu,negative,\n", encoding="utf-8")
    outputs = []
    for path in (data_file, shuffled):
        out = tmp_path / f"{path.stem}.json"
        assert run_cli(capsys, "evaluate", "--model", model_dir, "--file", path, "--output", out)[0] == 0
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1] and outputs[0]["num_examples"] == 2
