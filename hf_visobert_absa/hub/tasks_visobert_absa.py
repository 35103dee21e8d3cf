"""The pipeline tasks a saved model folder serves with `trust_remote_code=True`, and how its config answers for them.

This file travels to the Hugging Face Hub next to the weights (a sibling of the configuration): it imports
only the standard library.
"""

from __future__ import annotations

import copy
from typing import Any

#: The task a saved folder serves with `pipeline(..., trust_remote_code=True)`.
ABSA_TASK = "aspect-sentiment-analysis"

#: `custom_pipelines` entries, by task: the folder's pipeline file serves its own task and text-classification.
#: Only `ABSA_TASK` is written to config.json (so `pipeline(model=folder)` can infer it: transformers infers a
#: task only when a folder declares one); the text-classification entry is resolved through [`TaskPipelines`].
PIPELINE_TASKS: dict[str, dict[str, Any]] = {
    ABSA_TASK: {
        "impl": "pipeline_visobert_absa.AspectSentimentPipeline",
        "pt": ["AutoModelForSequenceClassification"],
        "tf": [],
        "type": "text",
    },
    "text-classification": {
        "impl": "pipeline_visobert_absa.AspectSentimentTextClassificationPipeline",
        "pt": ["AutoModelForSequenceClassification"],
        "tf": [],
        "type": "text",
    },
}


class TaskPipelines(dict):
    """A loaded config's `custom_pipelines`: the saved entries, plus the text-classification view of the model.

    `transformers.pipeline` looks a task up in `config.custom_pipelines` (`task in ...`, `...[task]`) and infers
    the task of `pipeline(model=folder)` only when the mapping holds exactly one entry. This mapping holds (and
    saves) the aspect-sentiment entry alone, and also answers for `"text-classification"`, so that
    `pipeline("text-classification", model=folder, trust_remote_code=True)` runs this model's own
    text-classification pipeline instead of the stock one, which cannot read `[B, A, C]` logits.
    Lookups return copies: `transformers` rewrites the entry it gets.
    """

    def __contains__(self, task: object) -> bool:
        return dict.__contains__(self, task) or (task in PIPELINE_TASKS and dict.__contains__(self, ABSA_TASK))

    def __getitem__(self, task: str) -> dict[str, Any]:
        if dict.__contains__(self, task):
            return copy.deepcopy(dict.__getitem__(self, task))
        if task in self:
            return copy.deepcopy(PIPELINE_TASKS[task])
        raise KeyError(task)

    def get(self, task: str, default: Any = None) -> Any:
        return self[task] if task in self else default


__all__ = ["ABSA_TASK", "PIPELINE_TASKS", "TaskPipelines"]
