"""Does refitting on every training row, up to the epoch selected on the hold-out, beat keeping the selected model?

Issue 19's SemEval-2014 target was missed with the hold-out model (10% of the training file held out to pick the best
epoch), while the study's runs trained on the whole file for 10 epochs did better on test. Test data cannot decide
a default, so each setting here scores every arm on an OUTER validation set that no arm trains or selects on:

- `semeval2014`: 10% of SemEval-2014's training sentences (seed 2014); the other 90% are the user's training file.
- `phone_1500` / `uit_1500`: the first 1,500 rows of the training file are the user's training file, trained for 2
  epochs (issue 19's short budget); the data set's own validation file is the outer set.

Each arm is one `train` command a user would type on that training file (only data, encoder, output folder, the
data's own flags, the budget, the seed, and the arm's flags), with the outer set passed as `--test_file`; `train`
holds out 10% of the training file itself. Arms: `defaults` (no flag: the library's defaults), `selected`
(`--refit_after_selection false`) and `refit` (`--refit_after_selection true`).

    OMP_NUM_THREADS=1 python -m benchmarks.refit --setting semeval2014 --arm refit --seeds 0 1 2
    python -m benchmarks.refit --report-only

Results go to `benchmarks/results/refit/<setting>/<arm>/seed<N>/result.json`; the data files are rebuilt from
`../shared` under `--work-dir` and never stored in the repository. A finished run folder is collected, not trained
again.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from hf_visobert_absa.io_safety import atomic_path, atomic_write, write_json_atomic

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "refit"
OUTER_PERCENTAGE = 10
OUTER_SEED = 2014
SHORT_ROWS = 1500
ARMS: dict[str, list[str]] = {
    "defaults": [],
    "selected": ["--refit_after_selection", "false"],
    "refit": ["--refit_after_selection", "true"],
    "refit_selected": ["--refit_after_selection", "true", "--refit_epochs", "selected"],
}
SETTINGS: dict[str, dict[str, Any]] = {
    "semeval2014": {"flags": ["--sentiments", "positive,negative,neutral,conflict"]},
    "phone_1500": {
        "dir": "phone_reviews", "train": "train.csv", "outer": "validation.csv",
        "flags": ["--label_aliases", json.dumps({"Posititve": "positive"}), "--num_train_epochs", "2"],
    },
    "uit_1500": {"dir": "uit_visfd", "train": "Train.csv", "outer": "Dev.csv", "flags": ["--num_train_epochs", "2"]},
}  # fmt: skip


def write_outer_split(folder: Path) -> tuple[Path, Path]:
    """SemEval-2014: its training sentences split into `train.xml` (90%) and `outer_validation.xml` (10%, seeded)."""
    root = ET.parse(SHARED_DATA / "semeval2014_restaurants" / "Restaurants_Train.xml").getroot()
    sentences = list(root)
    order = list(range(len(sentences)))
    random.Random(OUTER_SEED).shuffle(order)
    outer = set(order[: round(len(sentences) * OUTER_PERCENTAGE / 100)])
    paths = folder / "train.xml", folder / "outer_validation.xml"
    for path, wanted in zip(paths, (False, True), strict=True):
        subset = ET.Element(root.tag)
        subset.extend(s for i, s in enumerate(sentences) if (i in outer) == wanted)
        with atomic_path(path) as partial:  # two arms may write the same (identical) file at once
            ET.ElementTree(subset).write(partial, encoding="utf-8", xml_declaration=True)
    return paths


def write_first_rows(folder: Path, setting: str) -> tuple[Path, Path]:
    """A short-budget setting: the first `SHORT_ROWS` rows of the training CSV as `train.csv`; the outer set is the
    data set's own validation file, read where it lies."""
    spec = SETTINGS[setting]
    source = SHARED_DATA / spec["dir"]
    with open(source / spec["train"], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    path = folder / "train.csv"
    with atomic_write(path, newline="") as handle:
        csv.writer(handle).writerows(rows[: SHORT_ROWS + 1])  # the header and the first rows
    return path, source / spec["outer"]


def data_files(setting: str, work_dir: Path) -> tuple[Path, Path]:
    """The setting's training file and outer validation file (written under `work_dir` when derived)."""
    folder = work_dir / setting / "data"
    folder.mkdir(parents=True, exist_ok=True)
    return write_outer_split(folder) if setting == "semeval2014" else write_first_rows(folder, setting)


def train_command(setting: str, encoder: str, files: tuple[Path, Path], output_dir: Path, seed: int, arm: str):
    """The arm's `train` command: a user's command on the training file, the outer set passed as the test split."""
    train, outer = files
    return [
        "hf-visobert-absa", "train", "--encoder", encoder, "--train_file", str(train), "--test_file", str(outer),
        *SETTINGS[setting]["flags"], *ARMS[arm], "--seed", str(seed), "--disable_tqdm", "true",
        "--output_dir", str(output_dir),
    ]  # fmt: skip


def run(setting: str, arm: str, seed: int, work_dir: Path) -> dict[str, Any]:
    """Train one setting, arm and seed (or collect its finished run folder); store and return its outer-validation
    and selection metrics and its times."""
    from benchmarks.default_recipe import headline
    from benchmarks.quality import minilm_path

    files = data_files(setting, work_dir)
    output_dir = work_dir / setting / "runs" / arm / f"seed{seed}"
    command = train_command(setting, minilm_path(), files, output_dir, seed, arm)
    wall = None  # a collected run folder's wall time was not kept; its Trainer times were
    if not (output_dir / "metrics.json").is_file() or (output_dir / "RUN_INCOMPLETE.txt").exists():
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True)
        wall = time.perf_counter() - started
    metrics = json.loads((output_dir / "metrics.json").read_text())
    recorded = json.loads((output_dir / "model" / "training_args.json").read_text())
    result = {
        "setting": setting, "arm": arm, "seed": seed, "flags": ARMS[arm], "wall_seconds": wall,
        "train_seconds": _train_seconds(output_dir), "refit": recorded.get("refit"),
        "command": " ".join(command[:3] + ["MINILM"] + command[4:]).replace(str(work_dir), "WORK_DIR"),
        "outer_validation": headline(metrics["test"]), "selection_validation": headline(metrics["validation"]),
    }  # fmt: skip
    stored = _result_path(setting, arm, seed)
    earlier = json.loads(stored.read_text()) if stored.is_file() else {}
    if "note" in earlier:  # a note on how the run was made stays
        result["note"] = earlier["note"]
    if not recorded.get("refit") and not metrics["validation"].get("calibration"):
        # the same training's last epoch (a refit for the whole budget repeats it on every row); not where the
        # selected model was calibrated, since a checkpoint carries no thresholds and the two would not compare
        result["outer_validation_last_epoch"] = _last_epoch_on(files[1], output_dir)
    write_json_atomic(stored, result)
    return result


def _last_epoch_on(outer: Path, output_dir: Path) -> dict[str, Any] | None:
    """The run's last checkpoint (`train` keeps it beside the best) scored on `outer` with `evaluate`."""
    from benchmarks.default_recipe import headline

    checkpoints = sorted(output_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    if not checkpoints:
        return None
    scored = output_dir / "last_epoch_outer_validation.json"
    if not scored.is_file():
        command = ["hf-visobert-absa", "evaluate", "--model", str(checkpoints[-1]), "--file", str(outer),
                   "--disable_tqdm", "--output", str(scored)]  # fmt: skip
        subprocess.run(command, cwd=REPO, check=True)
    document = json.loads(scored.read_text())
    return {"checkpoint": checkpoints[-1].name, **headline(document.get("metrics", document))}


def _result_path(setting: str, arm: str, seed: int) -> Path:
    folder = RESULTS / setting / arm / f"seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "result.json"


def _train_seconds(output_dir: Path) -> float:
    """The Trainer's own `train_runtime` of the run (both trainings of a refit run), in seconds."""
    seconds = 0.0
    for name in ("log_history.json", "refit_log_history.json"):
        if (output_dir / name).is_file():
            history = json.loads((output_dir / name).read_text())
            seconds += sum(entry.get("train_runtime", 0.0) for entry in history)
    return seconds


def _mean_std(rows: list[dict[str, Any]], key: str, scale: float = 100.0) -> str:
    values = np.array([r["outer_validation"][key] for r in rows], dtype=float) * scale
    return f"{values.mean():.2f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.2f}"


def report() -> str:
    """The Markdown table: per setting and arm, mean ± std over seeds of the outer-validation metrics (SemEval's
    category F1 and 4-way polarity where the protocol applies) and the training minutes."""
    lines = [
        "| setting | arm | seeds | joint µF1 | category F1 | 4-way polarity | mentions / gold | training minutes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for folder in sorted(p for p in RESULTS.glob("*/*") if p.is_dir()):
        rows = [json.loads(p.read_text()) for p in sorted(folder.glob("seed*/result.json"))]
        if not rows:
            continue
        protocol = "category_f1" in rows[0]["outer_validation"]
        cells = [_mean_std(rows, "joint_micro_f1")]
        cells += [_mean_std(rows, k) if protocol else "—" for k in ("category_f1", "polarity_accuracy")]
        minutes = np.mean([r["train_seconds"] for r in rows]) / 60
        lines.append(f"| {folder.parent.name} | {folder.name} | {len(rows)} | {' | '.join(cells)} | "
                     f"{_mean_std(rows, 'mention_ratio', 1.0)} | {minutes:.1f} |")  # fmt: skip
    return "\n".join(lines)


def per_seed_report(setting: str = "semeval2014") -> str:
    """Per seed: the epoch selected on the hold-out, and joint µF1 (category F1 / 4-way polarity where the protocol
    applies) on the outer set of the selected model, its run's last epoch, and each refit."""
    arms = ("selected", "refit", "refit_selected")
    lines = ["| seed | epoch selected on the hold-out | selected model | its last epoch (no refit) | refit, whole budget "
             "| refit, up to the selected epoch |", "|---|---|---|---|---|---|"]  # fmt: skip
    seeds = sorted({p.parent.name for arm in arms for p in (RESULTS / setting / arm).glob("seed*/result.json")})
    for seed in seeds:
        rows = {arm: _stored(setting, arm, seed) for arm in arms}
        selected = next((r["refit"]["selected_epoch"] for r in rows.values() if r and r.get("refit")), None)
        cells = [_scores(rows["selected"] and rows["selected"]["outer_validation"]),
                 _scores(rows["selected"] and rows["selected"].get("outer_validation_last_epoch")),
                 _scores(rows["refit"] and rows["refit"]["outer_validation"]),
                 _scores(rows["refit_selected"] and rows["refit_selected"]["outer_validation"])]  # fmt: skip
        epoch = "—" if selected is None else f"{selected:g}"
        lines.append(f"| {seed.removeprefix('seed')} | {epoch} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _stored(setting: str, arm: str, seed: str) -> dict[str, Any] | None:
    path = RESULTS / setting / arm / seed / "result.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _scores(metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return "—"
    text = f"{100 * metrics['joint_micro_f1']:.2f}"
    if "category_f1" in metrics:
        text += f" ({100 * metrics['category_f1']:.2f} / {100 * metrics['polarity_accuracy']:.2f})"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="semeval2014")
    parser.add_argument("--arm", choices=sorted(ARMS), default="defaults")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--work-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "refit_study")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.report_only:
        for seed in args.seeds:
            run(args.setting, args.arm, seed, args.work_dir)
    print(report())
    print()
    print(per_seed_report("semeval2014"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
