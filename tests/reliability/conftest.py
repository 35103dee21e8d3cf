"""Fixtures of the bad-input tests: a saved model folder and a small data file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_visobert_absa.registration import register_auto_classes
from tests.helpers import ASPECTS, tiny_model, tiny_tokenizer


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A saved (untrained) visobert_absa model with its tokenizer: what `--model` expects."""
    register_auto_classes()
    path = tmp_path_factory.mktemp("model")
    tiny_model(0, aspects=ASPECTS).save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    path.write_text("text,Battery,Camera,Price\npin trâu,positive,,\ncamera xấu,,negative,\n", encoding="utf-8")
    return path
