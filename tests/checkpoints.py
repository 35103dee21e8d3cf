"""A tiny saved run folder for the export and publish tests: model, tokenizer, metrics and the trainer files
that must never travel to the Hub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tiny import tiny_model, tiny_tokenizer

#: Per-split metrics as `hf-visobert-absa train` writes them (values are arbitrary but fixed).
RUN_METRICS: dict[str, Any] = {
    "validation": {"detection_micro_f1": 0.61, "sentiment_macro_f1": 0.52, "joint_micro_f1": 0.47},
    "test": {
        "detection_micro_f1": 0.6234,
        "detection_macro_f1": 0.5821,
        "sentiment_accuracy": 0.7312,
        "sentiment_macro_f1": 0.5543,
        "joint_micro_f1": 0.4876,
        "seed_style_weighted_f1": 0.8411,
    },
}

#: Files a Trainer run leaves beside the model; none of them may be exported.
STRAY_FILES = ("training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state.pth", "notes.txt", "train.csv")


def save_tiny_checkpoint(folder: Path, *, seed: int = 0, stray: bool = True, **config_kwargs: Any) -> Path:
    """Save a tiny `visobert_absa` model with its tokenizer (as training does) into `folder` and return it."""
    from hf_visobert_absa import register_auto_classes

    register_auto_classes()
    config_kwargs.setdefault("base_model_name_or_path", "uitnlp/visobert")
    model = tiny_model(seed, **config_kwargs)
    model.save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    (folder / "metrics.json").write_text(json.dumps(RUN_METRICS), encoding="utf-8")
    if stray:
        for name in STRAY_FILES:
            (folder / name).write_bytes(b"\x80\x04not a model file")
        (folder / "trainer_state.json").write_text(
            json.dumps({"num_train_epochs": 3, "train_batch_size": 8, "global_step": 12}), encoding="utf-8"
        )
        (folder / "checkpoint-12").mkdir()
        (folder / "checkpoint-12" / "optimizer.pt").write_bytes(b"x")
    return folder
