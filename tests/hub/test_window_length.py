"""One rule for the window length: the floor (`MIN_MAX_LENGTH`) and the stored default read the same way by the
pipeline and by `evaluate`/`predict`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hf_visobert_absa.evaluation.inference import resolve_max_length
from hf_visobert_absa.hub.windows_visobert_absa import (
    FALLBACK_MAX_LENGTH,
    MIN_MAX_LENGTH,
    max_length_problem,
    stored_max_length,
)


@pytest.mark.parametrize(
    ("stored", "expected"), [(64, 64), (MIN_MAX_LENGTH, 3), (2, None), (True, None), (10**30, None)]
)
def test_stored_max_length_keeps_only_usable_windows(stored, expected):
    assert stored_max_length(SimpleNamespace(model_max_length=stored)) == expected


def test_a_stored_length_below_the_floor_falls_back():
    config = SimpleNamespace(encoder_max_tokens=None)
    assert resolve_max_length(None, config, SimpleNamespace(model_max_length=2)) == FALLBACK_MAX_LENGTH


def test_the_floor_message_says_why():
    assert max_length_problem(MIN_MAX_LENGTH) is None
    assert max_length_problem(2, "--max_length") == (
        "`--max_length` got 2; allowed: an integer >= 3 (tokens per window: two special tokens and at least one "
        "token of text)."
    )
