"""benchmarks/full_data.py: the commands it runs and the table it writes from their results."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import full_data

TEST_METRICS = {key: 0.5 for key, _ in full_data.KEYS}


def test_command_is_the_recipe_on_the_dataset_folder():
    command = full_data.train_command("phone_reviews", "ENC", Path("out"), 5)
    assert command[:4] == ["hf-visobert-absa", "train", "--encoder", "ENC"]
    assert command[command.index("--data_dir") + 1] == "../shared/data/phone_reviews"
    assert json.loads(command[command.index("--label_aliases") + 1]) == {"Posititve": "positive"}
    assert "--label_aliases" not in full_data.train_command("uit_visfd", "ENC", Path("out"), 5)
    assert command[command.index("--pooling") + 1] == "aspect_query"
    assert command[command.index("--num_train_epochs") + 1] == "5" and command.count("--num_train_epochs") == 1


def test_report_reads_results_and_writes_between_markers(tmp_path, monkeypatch):
    monkeypatch.setattr(full_data, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(full_data, "REPO", tmp_path)  # no TF-IDF results there
    for epochs, joint in ((3, 0.4), (5, 0.45)):
        record = {
            "dataset": "uit_visfd", "epochs": epochs, "command": f"hf-visobert-absa train ... {epochs}",
            "metrics": {"test": TEST_METRICS}, "train_seconds": 600.0 * epochs,
            "validation_curve": [{"epoch": 1.0, "joint_micro_f1": joint}],
        }  # fmt: skip
        full_data.result_path("uit_visfd", epochs).parent.mkdir(parents=True)
        full_data.result_path("uit_visfd", epochs).write_text(json.dumps(record))
    docs = tmp_path / "RESULTS.md"
    docs.write_text("a\n<!-- full_data:begin -->\nold\n<!-- full_data:end -->\nb\n")
    text = full_data.report(docs)
    assert "| MiniLM, the study's recipe, 3 epochs, full training data, seed 0 (30 min training) | 50.0 |" in text
    assert "| MiniLM, the study's recipe, 5 epochs, full training data, seed 0 (50 min training) | 50.0 |" in text
    assert "phone_reviews" not in text and "84.48" in text and ": 40.0;" in text and ": 45.0;" in text
    assert docs.read_text() == f"a\n<!-- full_data:begin -->\n{text}\n<!-- full_data:end -->\nb\n"


def test_a_study_variant_gives_its_own_settings_once_each():
    from benchmarks.semeval2014_variants import VARIANTS

    command = full_data.train_command("uit_visfd", "ENC", Path("out"), 10, "aq_e10_con0.6")
    flags = [part for part in command if part.startswith("--")]
    assert len(flags) == len(set(flags))  # no flag given twice
    values = {flag: command[command.index(flag) + 1] for flag in flags}
    assert values["--learning_rate"] == "5e-05" and values["--num_train_epochs"] == "10"
    assert values["--contrastive_weight"] == "0.6" and values["--focal_weight"] == "0.4"
    assert values["--max_length"] == "128" and values["--pooling"] == VARIANTS["aq_e10_con0.6"]["model"]["pooling"]
    assert full_data.variant_flags("aq_e10_con0.6")[1] == 10
    assert full_data.result_path("uit_visfd", 10, "aq_e10_con0.6").parent.name == "aq_e10_con0.6"
