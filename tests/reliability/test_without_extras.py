"""Without the optional packages the core still works: `train` skips its plots with one warning, `explain` (which
draws figures) says which extra to install."""

from __future__ import annotations

import importlib.util
import json
import logging

import pytest

from hf_visobert_absa.evaluation import plots
from tests import helpers
from tests.helpers import run_cli


@pytest.fixture
def no_matplotlib(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))


def test_plotting_available_follows_the_installed_packages(no_matplotlib):
    assert plots.plotting_available() is False
    with pytest.raises(ImportError, match=r"Drawing figures needs matplotlib: pip install 'hf-visobert-absa\[plots\]'"):
        plots._figure(2, 2)


def test_explain_without_matplotlib_names_the_extra(capsys, no_matplotlib, tmp_path):
    code, message = run_cli(capsys, "explain", "--out", tmp_path / "out")
    assert code == 2 and "needs matplotlib: pip install 'hf-visobert-absa[plots]'" in message
    assert not (tmp_path / "out").exists()


def test_train_without_matplotlib_writes_everything_but_the_plots(capsys, caplog, no_matplotlib, tmp_path):
    helpers.save_tiny_encoder(tmp_path / "encoder")
    rows = [
        {"text": "pin trâu", "aspects": {"Battery": "positive"}},
        {"text": "giá đắt", "aspects": {"Price": "negative"}},
    ]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows * 6), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        code, _ = run_cli(
            capsys, "train", "--encoder", tmp_path / "encoder", "--train_file", train, "--output_dir", tmp_path / "run",
            "--num_train_epochs", "1", "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "16",
        )  # fmt: skip
    assert code == 0 and (tmp_path / "run" / "metrics.json").is_file() and (tmp_path / "run" / "model").is_dir()
    assert not (tmp_path / "run" / "plots").exists()
    assert any("matplotlib is not installed: the plots/ folder is not drawn" in r.getMessage() for r in caplog.records)
