"""The default recipe: what `hf-visobert-absa train`, `ModelArguments()`, `AbsaTrainingArguments()` and
`ViSoBertAbsaConfig()` do when no recipe flag is given. One place, so the study and `train` cannot drift apart.

It is the final recipe of the SemEval-2014 study (`aq_e10_asc` in docs/RESULTS.md, chosen on validation data over
four rounds; MiniLM reached category F1 89.2 and 4-way polarity 83.25 on test, NRC-Canada 88.58 / 82.92, Kiritchenko
et al., SemEval 2014): aspect-query attention pooling (each aspect its own query over the token states), the
classifier's output bias started at the log class priors of each aspect (Lin et al., 2017, Section 3.3), a 10x
learning rate for the freshly initialised heads, 10 epochs at 5e-5 with 6% warm-up, batches of similar lengths,
supervised contrast over each mentioned aspect's own vector (SupCon, Khosla et al., 2020; sentiment-level aspect
contrast as in SCAPT, Li et al., EMNLP 2021), 0.8 focal + 0.2 contrastive in one forward and one backward, the best
epoch kept on validation, and 10% of the training file held out as validation when no validation file is given
(then refit on every row: below).

Short budgets (issue 19, fifth round; docs/RESULTS.md "Short budgets"): a run that would make fewer than
`min_train_steps` optimisation steps at batch 32 trains with batch 16 (`short_budget.py`). On 1,500 rows for 2
epochs that raised validation joint µF1 by about 5 points on both Vietnamese sets; on SemEval-2014 it helped at 3
epochs (258 steps), was level at 5 (430) and lowered it at the full 10 epochs (860 steps).

Large training sets (issue 19, sixth round; docs/RESULTS.md "Large training sets"): a run on at least
`large_data_rows` (5,000) training rows that keeps the recipe's 10 epochs trains for `large_data_epochs` (15)
(`large_data.py`): on validation it raised joint µF1 by 1.0 on the whole phone_reviews training split and by 0.6 on
UIT-ViSFD's, in every seed; SemEval-2014 (about 2,700 rows) had plateaued by 10.

Refit after selection (issue 19, seventh round; docs/RESULTS.md "Refit after selection"): when the validation rows
are the recipe's own hold-out and the training file has fewer than `REFIT_BELOW_ROWS` (5,000) rows, the selection
run is followed by a second one from the same initial weights on every row for the whole budget, and that model is
saved (`refit.py`). On SemEval-2014, scored on an outer validation set that no arm trained or selected on, it beat
the selected model in every seed (joint µF1 70.22 → 72.94, 3 seeds; 4-way polarity 80.90 → 82.38).

`--original_design` (`ORIGINAL_DESIGN`) swaps the model side back to the packaged design; every field can still be set
one by one.
"""

from __future__ import annotations

from typing import Any

from ..hub.configuration_visobert_absa import DEFAULT_POOLING, default_contrastive_mode

#: The name the study gave this recipe (docs/RESULTS.md, "Fourth round").
RECIPE_NAME = "aq_e10_asc"

#: Model side (`ModelArguments` / `ViSoBertAbsaConfig` fields). The config's own class defaults are these values.
MODEL_RECIPE: dict[str, Any] = {
    "pooling": DEFAULT_POOLING,
    "contrastive_mode": default_contrastive_mode(DEFAULT_POOLING, "absent_as_class"),
    "classifier_bias_init": "priors",
    "focal_weight": 0.8,
    "contrastive_weight": 0.2,
}

#: Optimisation side (`AbsaTrainingArguments` fields).
TRAINING_RECIPE: dict[str, Any] = {
    "num_train_epochs": 10.0,
    "learning_rate": 5e-5,
    "head_learning_rate": 1e-3,
    "warmup_ratio": 0.06,
    "weight_decay": 0.01,
    "per_device_train_batch_size": 32,
    "min_train_steps": 300,
    "large_data_rows": 5000,
    "large_data_epochs": 15.0,
    "train_sampling_strategy": "group_by_length",
    "load_best_model_at_end": True,
    "metric_for_best_model": "joint_micro_f1",
    "refit_after_selection": "auto",
    "refit_epochs": "all",
}

#: `--refit_after_selection auto` refits only below this many training rows (after the hold-out): see `refit.py`.
REFIT_BELOW_ROWS = 5000

#: Data side: the share of the training file held out for selection when no validation file is given.
HOLDOUT_PERCENTAGE = 10.0

#: `--original_design`: the packaged original design's model side (the config's `original_design_kwargs` and zero bias).
ORIGINAL_DESIGN: dict[str, Any] = {"classifier_bias_init": "zeros"}


def recipe() -> dict[str, Any]:
    """The whole default recipe as one flat mapping of field -> value (model, training and hold-out)."""
    return {**MODEL_RECIPE, **TRAINING_RECIPE, "validation_split_percentage": HOLDOUT_PERCENTAGE}


__all__ = [
    "HOLDOUT_PERCENTAGE",
    "MODEL_RECIPE",
    "ORIGINAL_DESIGN",
    "RECIPE_NAME",
    "REFIT_BELOW_ROWS",
    "TRAINING_RECIPE",
    "recipe",
]
