"""A gallery for error analysis: wrong and correct predictions of a labelled split, each with its evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .view import evidence_gallery

#: Reviews of each kind (wrong, correct) a gallery shows.
PER_KIND = 25


def evidence_method_for(config: Any) -> Any:
    """The evidence method a model gets: its aspect attention where its pooling has one, else Integrated Gradients
    (the `[attribution]` extra), else None (no method available)."""
    if config.pooling == "aspect_query":
        return "attention"
    from .attribution import captum_available, integrated_gradients

    return integrated_gradients if captum_available() else None


def write_gallery(
    model: Any,
    tokenizer: Any,
    texts: list[str],
    predictions: np.ndarray,
    gold: np.ndarray,
    path: str | Path,
    **call: Any,
) -> Path:
    """Write `path` (HTML): up to `PER_KIND` wrong then `PER_KIND` correct reviews (a review is correct when every
    aspect's code equals the gold one), each with the pipeline's aspects and their top-3 evidence words. `call`
    goes to the pipeline (e.g. `max_length`, `threshold`)."""
    from ..hub.pipeline_visobert_absa import AspectSentimentPipeline

    correct = (np.asarray(predictions) == np.asarray(gold)).all(axis=1)
    chosen = [i for i in np.flatnonzero(~correct)[:PER_KIND]] + [i for i in np.flatnonzero(correct)[:PER_KIND]]
    pipe = AspectSentimentPipeline(model=model, tokenizer=tokenizer, device=model.device)
    entries = pipe(
        [texts[i] for i in chosen], return_evidence=True, evidence_method=evidence_method_for(model.config), **call
    )
    names, aspects = list(model.config.canonical_names), list(model.config.aspects)
    records = [
        {"text": texts[i], "entries": found, "correct": bool(correct[i]),
         "gold": {aspects[a]: names[code] for a, code in enumerate(gold[i]) if code > 0}}
        for i, found in zip(chosen, entries, strict=True)
    ]  # fmt: skip
    return evidence_gallery(
        records, path, title=f"Evidence: {int((~correct).sum())} wrong, {int(correct.sum())} correct"
    )


__all__ = ["PER_KIND", "evidence_method_for", "write_gallery"]
