"""Does averaging the weights of several epochs beat the one best epoch? (issue "Good models by default")

Weight averaging of checkpoints along one fine-tuning run: the uniform average of the last K epochs (checkpoint
averaging as in Vaswani et al., NeurIPS 2017; stochastic weight averaging, Izmailov et al., UAI 2018) and the greedy
soup of Wortsman et al. (ICML 2022, "Model soups": epochs in order of validation score, each kept in the average
only if the average does not score lower on validation). Every arm comes from the SAME training run, so the
comparison with the library's default (the best epoch on validation) is paired: no extra training, only scoring.

The run must keep every epoch's checkpoint: a `benchmarks.default_recipe` run with the library's defaults plus
`--save_total_limit 100` (saving changes nothing in training), e.g.

    OMP_NUM_THREADS=1 python -m benchmarks.default_recipe --setting semeval2014 --seeds 0 --tag keep \\
        --extra --save_total_limit 100
    OMP_NUM_THREADS=1 python -m benchmarks.weight_averaging /tmp/default_recipe_runs/semeval2014__keep/seed0
    python -m benchmarks.weight_averaging --report-only

Scores validation (the split `train` selected on) for every arm; `--score-test` also scores test (final numbers
only, after the decision). Results: `benchmarks/results/weight_averaging/<setting>/seed<k>.json`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.default_recipe import validation_split
from hf_visobert_absa.data.label_schemes import predictions_from_probabilities
from hf_visobert_absa.evaluation.metrics import compute_absa_metrics
from hf_visobert_absa.evaluation.protocol import semeval2014_metrics
from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "weight_averaging"
LAST_K = (2, 3, 5)
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def epoch_checkpoints(run_dir: Path) -> list[Path]:
    """The run's `checkpoint-N` folders, oldest first (one per epoch under the default save strategy)."""
    found = [(int(m.group(1)), p) for p in run_dir.iterdir() if (m := _CHECKPOINT.match(p.name)) and p.is_dir()]
    return [path for _, path in sorted(found)]


def load_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(checkpoint / "model.safetensors"))


def average(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The uniform average of state dicts (floating tensors averaged, others taken from the first)."""
    out = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            out[key] = torch.stack([s[key].float() for s in states]).mean(0).to(first.dtype)
        else:
            out[key] = first
    return out


def score(probabilities: np.ndarray, gold: np.ndarray, aspects: list[str], sentiments: list[str]) -> dict[str, Any]:
    """Headline metrics under the library's default rule (argmax), plus the SemEval-2014 protocol pair."""
    predictions = predictions_from_probabilities(probabilities, "absent_as_class")
    metrics = compute_absa_metrics(predictions, gold, aspects, "absent_as_class", sentiments)
    out = {k: metrics[k] for k in ("joint_micro_f1", "detection_micro_f1", "sentiment_accuracy")}
    out["mention_ratio"] = float((predictions != 0).sum() / max(1, (gold != 0).sum()))
    protocol = semeval2014_metrics(probabilities, gold, sentiments)
    out["category_f1"], out["polarity_accuracy"] = protocol["category_f1"], protocol["polarity_accuracy"]
    return out


class Scorer:
    """Loads one model skeleton and scores any state dict on fixed texts."""

    def __init__(self, run_dir: Path, split: str) -> None:
        from hf_visobert_absa.cli.evaluate import load_trained

        self.model, self.tokenizer = load_trained(str(run_dir / "model"))
        self.texts, self.gold = validation_split(run_dir, split)
        self.aspects, self.sentiments = list(self.model.config.aspects), list(self.model.config.sentiments)

    def __call__(self, state: dict[str, torch.Tensor]) -> dict[str, Any]:
        from hf_visobert_absa.evaluation.inference import predict_probabilities

        missing, unexpected = self.model.load_state_dict(state, strict=False)
        if unexpected or [k for k in missing if "position_ids" not in k]:
            raise RuntimeError(f"checkpoint does not match the model: missing {missing}, unexpected {unexpected}")
        probabilities = predict_probabilities(
            self.model, self.tokenizer, self.texts, max_length=self.tokenizer.model_max_length
        )
        return score(probabilities, self.gold, self.aspects, self.sentiments)


def greedy_soup(states: list[dict[str, torch.Tensor]], order: list[int], scorer: Scorer) -> tuple[list[int], dict]:
    """Wortsman et al. (2022): add epochs best-first; keep one only if validation joint µF1 does not drop."""
    kept = [order[0]]
    best = scorer(states[order[0]])
    for index in order[1:]:
        trial = scorer(average([states[i] for i in [*kept, index]]))
        if trial["joint_micro_f1"] >= best["joint_micro_f1"]:
            kept, best = [*kept, index], trial
    return kept, best


def arms(run_dir: Path, split: str, soup_members: list[int] | None = None) -> dict[str, Any]:
    """Every arm's scores on `split`; the soup's members are chosen on validation (passed in for test)."""
    scorer = Scorer(run_dir, split)
    checkpoints = epoch_checkpoints(run_dir)
    states = [load_weights(c) for c in checkpoints]
    per_epoch = [scorer(s) for s in states]
    state = json.loads((checkpoints[-1] / "trainer_state.json").read_text())
    best_index = [c.name for c in checkpoints].index(Path(state["best_model_checkpoint"]).name)
    out: dict[str, Any] = {"epochs": len(states), "best_epoch": best_index + 1, "per_epoch": per_epoch}
    out["best"], out["last"] = per_epoch[best_index], per_epoch[-1]
    for k in LAST_K:
        out[f"last{k}"] = scorer(average(states[-k:]))
    if soup_members is None:
        order = sorted(range(len(states)), key=lambda i: -per_epoch[i]["joint_micro_f1"])
        soup_members, out["greedy_soup"] = greedy_soup(states, order, scorer)
    else:
        out["greedy_soup"] = scorer(average([states[i] for i in soup_members]))
    out["soup_members"] = [i + 1 for i in soup_members]
    return out


def report() -> str:
    names = ["best", "last", *[f"last{k}" for k in LAST_K], "greedy_soup"]
    lines = [
        "| setting | split | seeds | metric | " + " | ".join(names) + " |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for folder in sorted(p for p in RESULTS.iterdir() if p.is_dir()):
        records = [json.loads(p.read_text()) for p in sorted(folder.glob("seed*.json"))]
        for split in ("validation", "test"):
            rows = [r[split] for r in records if split in r]
            for metric in ("joint_micro_f1", "category_f1", "polarity_accuracy"):
                if not rows or rows[0]["best"].get(metric) is None:
                    continue
                cells = [f"{100 * np.mean([r[a][metric] for r in rows]):.2f}" for a in names]
                lines.append(f"| {folder.name} | {split} | {len(rows)} | {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path, help="run folders that kept every epoch's checkpoint")
    parser.add_argument("--score-test", action="store_true", help="also score test (final numbers only)")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    for run_dir in [] if args.report_only else args.runs:
        target = RESULTS / run_dir.parent.name / f"{run_dir.name}.json"
        record = json.loads(target.read_text()) if target.exists() else {}
        if "validation" not in record:
            record["validation"] = arms(run_dir, "validation")
        if args.score_test and "test" not in record:
            members = [i - 1 for i in record["validation"]["soup_members"]]
            record["test"] = arms(run_dir, "test", members)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(target, record)
    print(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
