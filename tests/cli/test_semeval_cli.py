"""`train` and `evaluate` on SemEval-2014 XML (in-code fixture): four polarities, a held-out validation split,
and the SemEval-2014 protocol numbers beside ours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_visobert_absa.cli.main import main
from hf_visobert_absa.evaluation.protocol import PROTOCOL_KEY
from tests import helpers

SENTENCES = [
    ("pin trâu camera chụp đẹp", [("food", "positive"), ("anecdotes/miscellaneous", "conflict")]),
    ("pin yếu máy lag", [("service", "negative")]),
    ("giao hàng nhanh", [("service", "positive"), ("price", "neutral")]),
    ("giá rẻ", [("price", "positive")]),
    ("màn hình tối", []),
]


def _xml(sentences: list) -> str:
    body = "".join(
        f'<sentence id="{i}"><text>{text}</text><aspectCategories>'
        + "".join(f'<aspectCategory category="{c}" polarity="{p}"/>' for c, p in categories)
        + "</aspectCategories></sentence>\n"
        for i, (text, categories) in enumerate(sentences)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sentences>\n{body}</sentences>\n'


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    encoder = tmp_path_factory.mktemp("encoder")
    helpers.save_tiny_encoder(encoder)
    data = tmp_path_factory.mktemp("semeval")
    (data / "Restaurants_Train.xml").write_text(_xml(SENTENCES * 4), encoding="utf-8")
    (data / "Restaurants_Test_Gold.xml").write_text(_xml(SENTENCES), encoding="utf-8")
    out = tmp_path_factory.mktemp("run")
    code = main([
        "train", "--encoder", str(encoder), "--data_dir", str(data), "--sentiments", "positive,negative,neutral,conflict",
        "--validation_split_percentage", "25", "--output_dir", str(out), "--num_train_epochs", "1",
        "--per_device_train_batch_size", "5", "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "32",
        "--save_strategy", "no", "--eval_strategy", "no", "--load_best_model_at_end", "false",
    ])  # fmt: skip
    assert code == 0
    return out


def test_train_on_xml_with_held_out_validation_reports_the_protocol(run):
    report = json.loads((run / "dataset_report.json").read_text(encoding="utf-8"))
    assert report["validation_split"]["rows"] == 5 and report["validation_split"]["train_rows_left"] == 15
    assert report["aspects"] == ["anecdotes/miscellaneous", "food", "price", "service"]
    assert list(report["splits"]) == ["train", "validation", "test"]
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    for split in ("validation", "test"):
        protocol = metrics[split][PROTOCOL_KEY]
        gold_pairs = sum(len(c) for _, c in SENTENCES) if split == "test" else protocol["category_pairs_gold"]
        assert protocol["polarity_pairs"] == gold_pairs > 0
        assert protocol["sentiments"] == ["positive", "negative", "neutral", "conflict"]
        assert protocol["category_f1"] == pytest.approx(metrics[split]["detection_micro_f1"])
    assert metrics["test"][PROTOCOL_KEY]["polarity_pairs_3way"] == 5


def test_evaluate_prints_the_protocol_for_xml_and_on_request(run, tmp_path, capsys):
    gold = next(Path(run).parent.glob("semeval*")) / "Restaurants_Test_Gold.xml"
    out = tmp_path / "m.json"
    assert main(["evaluate", "--model", str(run / "model"), "--file", str(gold), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SemEval-2014 protocol (Pontiki et al., 2014" in printed and "4-way" in printed
    assert json.loads(out.read_text())[PROTOCOL_KEY]["polarity_pairs_binary"] == 4
    assert main(["evaluate", "--model", str(run / "model"), "--file", str(gold), "--protocol", "none"]) == 0
    assert "SemEval-2014 protocol" not in capsys.readouterr().out
    assert main(["evaluate", "--model", str(run / "model"), "--file", str(gold), "--protocol", "x"]) == 2
