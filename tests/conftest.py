"""Shared test fixtures: every cache and token path in a temp dir, no network, tiny models built in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SHARED, tiny_model, tiny_text_config, tiny_tokenizer  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_hub(tmp_path_factory, monkeypatch):
    """Point the Hugging Face caches and token at a temp dir and forbid Hub access."""
    home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_MODULES_CACHE", str(home / "modules"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "datasets"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # huggingface_hub read HF_HUB_OFFLINE when it was imported: set its constant too, so no test reaches the network
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    yield


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run faster (and deterministically) on one thread when the 2 cores are shared."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def text_config():
    return tiny_text_config()


@pytest.fixture
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture
def model():
    return tiny_model()


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the read-only ../shared folder beside the project); absent here")
    return path


@pytest.fixture
def shared():
    return shared_path
