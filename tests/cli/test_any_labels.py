"""Aspect names with `#`, `/`, `&`, spaces and Vietnamese letters, and a 4-polarity sentiment set, end to end:
`train` (CLI, tiny encoder) -> saved model -> `evaluate`, `predict`, `export` -> the pipeline in a clean process."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from hf_visobert_absa.cli.main import main
from hf_visobert_absa.hub.pipeline_visobert_absa import TASK
from hf_visobert_absa.publishing.verify import clean_process_report
from tests import helpers

ASPECTS = ["FOOD#QUALITY", "anecdotes/miscellaneous", "Shop Service", "Pin & sạc"]
SENTIMENTS = ["positive", "negative", "neutral", "conflict"]
REVIEWS = [
    ("pin trâu camera chụp đẹp", {"FOOD#QUALITY": "positive", "Pin & sạc": "conflict"}),
    ("pin yếu máy lag", {"Pin & sạc": "negative", "anecdotes/miscellaneous": "neutral"}),
    ("giao hàng nhanh shop tư vấn nhiệt tình", {"Shop Service": "positive"}),
    ("giá rẻ", {"anecdotes/miscellaneous": "conflict"}),
    ("màn hình tối", {"FOOD#QUALITY": "negative"}),
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    encoder = tmp_path_factory.mktemp("encoder")
    helpers.save_tiny_encoder(encoder)
    data = tmp_path_factory.mktemp("data")
    rows = [{"text": t, "aspects": a} for t, a in REVIEWS]
    _jsonl(data / "train.jsonl", rows * 3)
    _jsonl(data / "validation.jsonl", rows)
    (data / "run.yaml").write_text(
        "sentiments: [positive, negative, neutral, conflict]\naspects: "
        + json.dumps(ASPECTS, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path_factory.mktemp("run")
    code = main([
        "train", "--config", str(data / "run.yaml"), "--encoder", str(encoder), "--train_file", str(data / "train.jsonl"),
        "--validation_file", str(data / "validation.jsonl"), "--output_dir", str(out), "--num_train_epochs", "1",
        "--per_device_train_batch_size", "5", "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "32",
        "--save_strategy", "no", "--load_best_model_at_end", "false",
    ])  # fmt: skip
    assert code == 0
    (out / "validation.jsonl").write_bytes((data / "validation.jsonl").read_bytes())
    return out


def test_training_outputs_keep_names_and_sentiments(run):
    config = json.loads((run / "model" / "config.json").read_text(encoding="utf-8"))
    assert config["aspects"] == ASPECTS and config["sentiments"] == SENTIMENTS
    report = json.loads((run / "dataset_report.json").read_text(encoding="utf-8"))
    assert report["sentiments"] == SENTIMENTS
    assert report["splits"]["train"]["label_counts"]["Pin & sạc"]["conflict"] == 3
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["validation"]
    assert list(metrics["per_aspect"]) == ASPECTS
    with open(run / "predictions_validation.csv", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        first = next(reader)
    assert header == ["text"] + [f"gold_{a}" for a in ASPECTS] + [f"pred_{a}" for a in ASPECTS]
    assert first[1 + ASPECTS.index("Pin & sạc")] == "conflict"


def test_evaluate_and_predict_use_the_model_sentiments(run, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    assert (
        main(["evaluate", "--model", str(run / "model"), "--file", str(run / "validation.jsonl"), "--output", str(out)])
        == 0
    )
    assert list(json.loads(out.read_text())["per_aspect"]) == ASPECTS
    assert "anecdotes/miscellaneous" in capsys.readouterr().out
    source = tmp_path / "in.csv"
    source.write_text("text\npin trâu\n", encoding="utf-8")
    labelled = tmp_path / "out.csv"
    assert main(["predict", "--model", str(run / "model"), "--input", str(source), "--output", str(labelled)]) == 0
    with open(labelled, encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert [k for k in row if k.startswith("pred_")] == [f"pred_{a}" for a in ASPECTS]
    assert all(row[f"pred_{a}"] in ("", *SENTIMENTS) for a in ASPECTS)


def test_exported_model_runs_in_a_clean_process_with_exact_names(run, tmp_path):
    exported = tmp_path / "exported"
    assert main(["export", str(run / "model"), str(exported), "--dataset-split", "validation"]) == 0
    card = (exported / "README.md").read_text(encoding="utf-8")
    assert "`anecdotes/miscellaneous=conflict`" in card and "`Pin & sạc`" in card
    calls = [{"output_format": "flat", "top_k": None, "return_all_aspects": True}, {"return_all_aspects": True}]
    report = clean_process_report(exported, ["pin trâu", "giá rẻ"], calls, task=TASK, threads=1)
    flat, entries = report["pipeline"]["by_task"]
    labels = {item["label"] for item in flat[0]}
    assert {f"{a}={c}" for a in ASPECTS for c in ("none", *SENTIMENTS)} == labels
    assert all(item["label"] == f"{item['aspect']}={item['sentiment']}" for item in flat[0])
    assert [e["aspect"] for e in entries[1]] == ASPECTS
    assert list(entries[1][0]["probabilities"]) == ["none", *SENTIMENTS]


def test_unusable_aspect_names_exit_2(run, tmp_path, capsys):
    code = main([
        "train", "--encoder", str(run / "model"), "--train_file", str(run / "validation.jsonl"),
        "--aspects", '["Food", "Food "]', "--output_dir", str(tmp_path / "x"), "--use_cpu", "true",
    ])  # fmt: skip
    assert code == 2
    assert (
        "`aspects` got ['Food', 'Food ']; allowed: distinct names (compared after stripping spaces)"
        in capsys.readouterr().err
    )
