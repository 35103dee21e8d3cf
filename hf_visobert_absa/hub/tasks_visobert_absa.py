"""The pipeline task a saved model folder serves with `trust_remote_code=True`.

This file travels to the Hugging Face Hub next to the weights (a sibling of the configuration): it imports
only the standard library.
"""

from __future__ import annotations

from typing import Any

#: The releases the Hub code of a saved folder (every file in `hub/`) is tested on, both ends in clean processes
#: (tests/hub_compat). 4.45 is the oldest: it is the first release on `tokenizers` 0.20, which reads the
#: `tokenizer.json` that transformers 5 writes (0.19 and older fail on its BPE merges). Saved into config.json and
#: stated in the model card.
HUB_CODE_REQUIRES: dict[str, str] = {"transformers": ">=4.45,<6", "torch": ">=2.4"}

#: The task a saved folder serves with `pipeline(..., trust_remote_code=True)`.
ABSA_TASK = "aspect-sentiment-analysis"

#: The `custom_pipelines` entry a saved config.json carries: one task, so that `pipeline(model=folder)` infers it
#: (transformers infers a task from a folder only when it declares exactly one). `pipeline("text-classification",
#: model=folder)` needs no entry: it is transformers' own pipeline over `AutoModelForSequenceClassification`, which
#: the folder maps to the flat, multi-label view of the model (`ViSoBertAbsaForSequenceClassification`).
PIPELINE_TASKS: dict[str, dict[str, Any]] = {
    ABSA_TASK: {
        "impl": "pipeline_visobert_absa.AspectSentimentPipeline",
        "pt": ["AutoModel"],
        "tf": [],
        "type": "text",
    },
}


__all__ = ["ABSA_TASK", "HUB_CODE_REQUIRES", "PIPELINE_TASKS"]
