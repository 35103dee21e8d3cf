"""`hf-visobert-absa train | evaluate | predict` end to end with a tiny encoder saved in a temp folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from hf_visobert_absa.cli.main import main
from tests import helpers

FIXTURES = helpers.FIXTURES
OUTPUTS = ["metrics.json", "predictions_validation.csv", "dataset_report.json", "log_history.json"]
PLOTS = ["confusion_validation.png", "per_aspect_f1_validation.png", "training_curves.png"]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory) -> Path:
    """A tiny masked-LM checkpoint (keys prefixed `roberta.`) with its tokenizer, as a Hub encoder would be."""
    path = tmp_path_factory.mktemp("encoder")
    helpers.save_tiny_encoder(path)
    return path


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


REVIEWS = [
    ("pin trâu camera chụp đẹp", {"Battery": "positive", "Camera": "positive"}),
    ("pin yếu máy lag", {"Battery": "negative", "Performance": "negative"}),
    ("giao hàng nhanh shop tư vấn nhiệt tình", {"Shipping": "positive", "Shop_Service": "positive"}),
    ("giá rẻ", {"Price": "positive"}),
    ("màn hình tối", {"Display": "negative"}),
    ("đóng gói cẩn thận", {"Packaging": "positive"}),
]


@pytest.fixture(scope="module")
def trained(encoder_dir, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    rows = [{"text": t, "aspects": a} for t, a in REVIEWS]
    _write_jsonl(data / "train.jsonl", rows * 3)
    _write_jsonl(data / "validation.jsonl", rows)
    out = tmp_path_factory.mktemp("run")
    code = main(
        [
            "train",
            "--encoder",
            str(encoder_dir),
            "--train_file",
            str(data / "train.jsonl"),
            "--validation_file",
            str(data / "validation.jsonl"),
            "--aspects",
            "Battery,Camera,Performance,Display,Design,Packaging,Price,Shop_Service,Shipping,General,Others",
            "--output_dir",
            str(out),
            "--num_train_epochs",
            "2",
            "--per_device_train_batch_size",
            "6",
            "--learning_rate",
            "1e-3",
            "--use_cpu",
            "true",
            "--disable_tqdm",
            "true",
            "--max_length",
            "32",
            "--logging_steps",
            "1",
        ]
    )
    assert code == 0
    return out


def test_train_writes_every_output(trained):
    for name in OUTPUTS:
        assert (trained / name).is_file(), name
    for name in PLOTS:
        with Image.open(trained / "plots" / name) as image:
            assert image.size[0] > 100
    model_dir = trained / "model"
    assert {"config.json", "model.safetensors", "modeling_visobert_absa.py", "tokenizer.json"} <= {
        p.name for p in model_dir.iterdir()
    }
    assert json.loads((model_dir / "config.json").read_text())["auto_map"]["AutoModel"].endswith(
        "ViSoBertAbsaForAspectSentiment"
    )
    for record in ("config.json", "training_args.json", "training_data.json"):  # no machine path in what may travel
        assert "/tmp/" not in (model_dir / record).read_text(), record
    assert b"/tmp/" not in (model_dir / "training_args.bin").read_bytes()  # the Trainer's pickle, saved again
    metrics = json.loads((trained / "metrics.json").read_text())
    assert "joint_micro_f1" in metrics["validation"] and "absent_as_neutral_weighted_f1" in metrics["validation"]
    assert list(json.loads((trained / "dataset_report.json").read_text())["splits"]) == ["train", "validation"]
    checkpoints = sorted(trained.glob("checkpoint-*"))
    assert checkpoints and (checkpoints[-1] / "modeling_visobert_absa.py").is_file()
    history = json.loads((trained / "log_history.json").read_text())
    assert any("focal_loss" in e for e in history) and any("eval_contrastive_loss" in e for e in history)
    with open(trained / "predictions_validation.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(REVIEWS) and rows[0]["text"] == REVIEWS[0][0] and rows[0]["gold_Battery"] == "positive"


def test_evaluate_scores_a_file(trained, tmp_path, capsys):
    data = _write_jsonl(tmp_path / "eval.jsonl", [{"text": t, "aspects": a} for t, a in REVIEWS])
    out = tmp_path / "m.json"
    assert main(["evaluate", "--model", str(trained / "model"), "--file", str(data), "--output", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["num_examples"] == len(REVIEWS)
    assert "absent-as-neutral" in capsys.readouterr().out


def test_predict_streams_every_row_once_in_order(trained, tmp_path):
    source = tmp_path / "in.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(1000):
            writer.writerow([i, "" if i == 500 else f"{REVIEWS[i % len(REVIEWS)][0]} {i}"])
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "predict",
                "--model",
                str(trained / "model"),
                "--input",
                str(source),
                "--output",
                str(out),
                "--chunk_size",
                "128",
                "--batch_size",
                "32",
            ]
        )
        == 0
    )
    with open(out, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in rows] == list(range(1000))
    assert rows[500]["status"] == "skipped: empty text"
    assert sum(r["status"] == "ok" for r in rows) == 999
    assert "pred_Battery" in rows[0]


def test_predict_jsonl_and_stdin(trained, tmp_path, monkeypatch, capsys):
    import io
    import sys

    source = _write_jsonl(tmp_path / "in.jsonl", [{"text": t, "id": i} for i, (t, _) in enumerate(REVIEWS)])
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(trained / "model"), "--input", str(source), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == list(range(len(REVIEWS))) and all("predictions" in r for r in rows)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("pin trâu\ngiá rẻ\n".encode())))
    assert main(["predict", "--model", str(trained / "model")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in lines] == ["pin trâu", "giá rẻ"]


def test_exit_codes_and_messages(trained, encoder_dir, tmp_path, capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    assert main(["train", "--help"]) == 0
    assert "examples:" in capsys.readouterr().out
    assert main(["train", "--no_such_flag", "1"]) == 2
    # bad input: an unknown label -> exit 2 with the loader's message
    assert (
        main(
            [
                "train",
                "--encoder",
                str(encoder_dir),
                "--train_file",
                str(FIXTURES / "typo.csv"),
                "--output_dir",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "label_aliases" in err and "typo.csv" in err
    assert main(["evaluate", "--model", str(encoder_dir), "--file", str(FIXTURES / "reviews.jsonl")]) == 2
    assert "not a visobert_absa model" in capsys.readouterr().err
    assert main(["predict", "--model", str(trained / "model"), "--input", str(tmp_path / "missing.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    tsv = tmp_path / "reviews.tsv"
    tsv.write_text("text\tid\npin trâu\t1\n", encoding="utf-8")
    assert main(["predict", "--model", str(trained / "model"), "--input", str(tsv)]) == 2
    assert "unsupported file type '.tsv'; allowed: .csv" in capsys.readouterr().err
    # continuing a trained model with flags that its config fixes is refused, not silently ignored
    data = _write_jsonl(tmp_path / "t.jsonl", [{"text": t, "aspects": a} for t, a in REVIEWS])
    assert (
        main(
            [
                "train",
                "--model_name_or_path",
                str(trained / "model"),
                "--train_file",
                str(data),
                "--label_scheme",
                "absent_as_neutral",
                "--pooling",
                "mean",
                "--output_dir",
                str(tmp_path / "y"),
            ]
        )
        == 2
    )
    assert "these flags would be ignored: --label_scheme, --pooling" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--model_name_or_path",
                str(trained / "model"),
                "--train_file",
                str(data),
                "--encoder",
                str(encoder_dir),
                "--classifier_bias_init",
                "zeros",
                "--output_dir",
                str(tmp_path / "z"),
            ]
        )
        == 2
    )
    assert "these flags would be ignored: --classifier_bias_init, --encoder" in capsys.readouterr().err


def test_yaml_config_and_flag_override(encoder_dir, tmp_path):
    from hf_visobert_absa.training.arguments import (
        AbsaTrainingArguments,
        DataArguments,
        ModelArguments,
        build_parser,
        parse_with_yaml,
    )

    config = tmp_path / "run.yaml"
    config.write_text(
        f"encoder: {encoder_dir}\nlabel_scheme: absent_as_neutral\nlearning_rate: 0.001\noutput_dir: {tmp_path}\n"
    )
    parser = build_parser((ModelArguments, DataArguments, AbsaTrainingArguments), "d", "e")
    model_args, data_args, training_args = parse_with_yaml(parser, ["--config", str(config), "--learning_rate", "0.01"])
    assert model_args.label_scheme == "absent_as_neutral" and training_args.learning_rate == 0.01
    bad = tmp_path / "bad.yaml"
    bad.write_text("not_a_key: 1\n")
    from hf_visobert_absa.errors import AbsaInputError

    with pytest.raises(AbsaInputError, match=r"unknown keys \['not_a_key'\]"):
        parse_with_yaml(parser, ["--config", str(bad)])


@pytest.mark.parametrize("flag", ["--seed_preset", "--seed-preset", "--seed_preset=true"])
def test_the_old_seed_preset_flag_still_works_and_warns(flag, tmp_path):
    from hf_visobert_absa.training.arguments import (
        AbsaTrainingArguments,
        DataArguments,
        ModelArguments,
        build_parser,
        parse_with_yaml,
    )

    parser = build_parser((ModelArguments, DataArguments, AbsaTrainingArguments), "d", "e")
    with pytest.warns(FutureWarning, match="is a deprecated name; read as `--original_design`"):
        model_args, _, _ = parse_with_yaml(parser, [flag, "--output_dir", str(tmp_path)])
    assert model_args.original_design is True
    assert model_args.resolved_pooling() == "pooler" and model_args.bias_init() == "zeros"


def test_old_seed_names_in_yaml_still_work_and_warn(tmp_path):
    from hf_visobert_absa.training.arguments import (
        AbsaTrainingArguments,
        DataArguments,
        ModelArguments,
        build_parser,
        parse_with_yaml,
    )

    config = tmp_path / "run.yaml"
    config.write_text(f"seed_preset: true\nlabel_scheme: seed\ncontrastive_mode: seed\noutput_dir: {tmp_path}\n")
    parser = build_parser((ModelArguments, DataArguments, AbsaTrainingArguments), "d", "e")
    with pytest.warns(FutureWarning) as record:
        model_args, _, _ = parse_with_yaml(parser, ["--config", str(config)])
    messages = " ".join(str(w.message) for w in record)
    assert "read as `original_design`" in messages
    assert "read as `label_scheme='absent_as_neutral'`" in messages
    assert "read as `contrastive_mode='soft_agreement'`" in messages
    assert model_args.original_design is True
    assert (model_args.label_scheme, model_args.contrastive_mode) == ("absent_as_neutral", "soft_agreement")


@pytest.mark.shared
@pytest.mark.parametrize(
    "dataset,extra",
    [
        ("phone_reviews", ["--label_aliases", '{"Posititve": "positive"}']),
        ("uit_visfd", []),
    ],
)
def test_train_on_200_real_rows(dataset, extra, encoder_dir, shared, tmp_path):
    data_dir = shared("data", dataset)
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--encoder",
            str(encoder_dir),
            "--data_dir",
            str(data_dir),
            "--output_dir",
            str(out),
            "--max_train_samples",
            "200",
            "--max_eval_samples",
            "200",
            "--max_test_samples",
            "200",
            "--num_train_epochs",
            "1",
            "--use_cpu",
            "true",
            "--disable_tqdm",
            "true",
            "--max_length",
            "64",
            *extra,
        ]
    )
    assert code == 0
    for name in OUTPUTS + ["predictions_test.csv"]:
        assert (out / name).is_file(), name
    for name in PLOTS + ["confusion_test.png"]:
        with Image.open(out / "plots" / name) as image:
            image.verify()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["num_examples"] == 200
