"""`evaluate` module for aspect-based sentiment analysis, wrapping `hf_visobert_absa.evaluation.metrics.compute_absa_metrics`.

Load it by path — it works offline (no Hub lookup happens for a local folder or file):

    import evaluate
    from hf_visobert_absa.evaluation.metrics import EVALUATE_MODULE_PATH
    metric = evaluate.load(EVALUATE_MODULE_PATH)  # or the path of this file

It needs the `hf-visobert-absa` package installed (it imports the metric code from it).
"""

from __future__ import annotations

from typing import Any

import datasets
import evaluate

from hf_visobert_absa.evaluation.metrics import compute_absa_metrics

_DESCRIPTION = """
Aspect-based sentiment metrics on canonical per-aspect labels (0 = not mentioned, 1 = positive,
2 = negative, 3 = neutral), one row of A codes per review:
aspect detection (mentioned or not) precision/recall/F1, micro and macro over aspects; sentiment accuracy and
macro F1 on the gold-mentioned aspects; joint (aspect, sentiment) pair precision/recall/F1, micro and macro;
a per-aspect table; and the absent-as-neutral "absent counts as neutral" 3-way accuracy and weighted F1, reported
only beside the others (most cells are absent, so that number stays high for a model that predicts nothing).
Zero divisions give 0.0 (scikit-learn's zero_division=0). With label_scheme "absent_as_neutral" or "mentioned_only" the
model cannot predict an absent aspect: detection metrics are None.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[list[int]]`): canonical predicted codes, one list of A codes per review.
    references (`list[list[int]]`): canonical gold codes, same shape.
    aspects (`list[str]`, *optional*): the A aspect names, in column order; `aspect_1`... when omitted.
    label_scheme (`str`, defaults to `"absent_as_class"`): the scheme the model was trained with
        (`"absent_as_class"`, `"absent_as_neutral"` or `"mentioned_only"`).
Returns:
    `dict`: detection_*, sentiment_*, joint_*, absent_as_neutral_* (floats or None), num_examples,
    num_gold_mentions, num_predicted_mentions, and per_aspect (aspect -> dict of numbers).
Examples:
    >>> metric = evaluate.load("path/to/absa_metric")
    >>> result = metric.compute(predictions=[[1, 0]], references=[[1, 2]], aspects=["Battery", "Camera"])
    >>> result["detection_micro_recall"]
    0.5
"""

_CITATION = """
@inproceedings{pontiki-etal-2016-semeval,
    title = "{S}em{E}val-2016 Task 5: Aspect Based Sentiment Analysis",
    author = "Pontiki, Maria and Galanis, Dimitris and Papageorgiou, Haris and Androutsopoulos, Ion and
              Manandhar, Suresh and AL-Smadi, Mohammad and others",
    booktitle = "Proceedings of the 10th International Workshop on Semantic Evaluation (SemEval-2016)",
    year = "2016",
    pages = "19--30",
}
"""


class AbsaMetric(evaluate.Metric):
    """Aspect detection, sentiment, joint-pair and per-aspect metrics (see `compute_absa_metrics`)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int64")),
                    "references": datasets.Sequence(datasets.Value("int64")),
                }
            ),
            reference_urls=["https://aclanthology.org/S16-1002/"],
        )

    def _compute(
        self,
        predictions: list[list[int]],
        references: list[list[int]],
        aspects: list[str] | None = None,
        label_scheme: str = "absent_as_class",
    ) -> dict[str, Any]:
        if aspects is None:
            width = len(references[0]) if len(references) else 0
            aspects = [f"aspect_{i + 1}" for i in range(width)]
        return compute_absa_metrics(predictions, references, aspects, label_scheme)
