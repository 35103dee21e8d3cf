"""Whole `hf-visobert-absa train` runs in subprocesses (tiny encoder built here, CPU, one thread):

- `--seed` governs everything the CLI initialises, heads included: an uninterrupted run and a run SIGKILLed
  mid-epoch then continued with `--resume` end with the same weights (before, the heads were initialised before
  the seed was set, so two `--seed 7` runs differed by up to 0.12 at init).
- A token passed with `--hub_token` reaches no file the run writes (`training_args.bin` in every checkpoint and in
  `model/` included).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests import helpers

FAKE_TOKEN = "hf_FAKEtokenNEVERonDISKq8Zr5Xw2Lp9Tm4"
ASPECTS = "Battery,Camera,Price"
ROWS = [
    ('"pin trâu, camera đẹp"', "positive,positive,"),
    ("pin yếu máy lag", "negative,,"),
    ("giá rẻ", ",,positive"),
    ("camera xấu giá đắt", ",negative,negative"),
]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("encoder")
    helpers.save_tiny_encoder(path)
    return path


@pytest.fixture(scope="module")
def train_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.csv"
    lines = ["text,Battery,Camera,Price"] + [f"{text},{labels}" for text, labels in ROWS * 4]  # 16 rows
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _train_args(encoder_dir: Path, train_file: Path, out: Path, *extra: str) -> list[str]:
    # 16 rows / batch 4 = 4 steps per epoch, 2 epochs; a checkpoint every 2 steps; dropout on (RNG state matters)
    return [
        "--encoder", str(encoder_dir), "--train_file", str(train_file), "--aspects", ASPECTS,
        "--output_dir", str(out), "--num_train_epochs", "2", "--per_device_train_batch_size", "4",
        "--learning_rate", "1e-3", "--save_strategy", "steps", "--save_steps", "2", "--save_total_limit", "10",
        "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "16", "--seed", "7",
        "--report_to", "none", "--eval_strategy", "no", "--load_best_model_at_end", "false", *extra,
    ]  # fmt: skip


def _run(args: list[str], *script_flags: str, check: bool = True) -> subprocess.CompletedProcess:
    command = helpers.script_command("cli_train", *script_flags, "--", *args)
    env = helpers.script_env(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def _kill_mid_epoch(args: list[str], flag: Path, step: int) -> None:
    command = helpers.script_command("cli_train", "--hang-at-step", str(step), "--flag", str(flag), "--", *args)
    env = helpers.script_env(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    helpers.sigkill_when_flagged(command, flag, env, timeout=300)


@pytest.mark.subprocess
def test_a_cli_run_killed_mid_epoch_and_resumed_ends_with_the_weights_of_an_uninterrupted_one(
    encoder_dir, train_file, tmp_path
):
    straight = tmp_path / "straight"
    _run(_train_args(encoder_dir, train_file, straight))

    killed = tmp_path / "killed"
    _kill_mid_epoch(_train_args(encoder_dir, train_file, killed), tmp_path / "hanging", step=3)  # epoch 1 of 2
    assert sorted(p.name for p in killed.glob("checkpoint-*")) == ["checkpoint-2"]
    assert not (killed / "model").exists()
    _run(_train_args(encoder_dir, train_file, killed, "--resume", "true"))

    expected = load_file(str(straight / "model" / "model.safetensors"))
    got = load_file(str(killed / "model" / "model.safetensors"))
    # two processes: a tolerance, with the measured difference in the message (0.0 here: both run one thread)
    helpers.assert_states_close(got, expected)
    initial = load_file(str(killed / "checkpoint-2" / "model.safetensors"))
    assert any(not torch.equal(initial[n], got[n]) for n in got)  # the resumed run did train


@pytest.mark.subprocess
def test_the_seed_governs_the_heads_initialisation(encoder_dir, train_file, tmp_path):
    """Two runs with the same `--seed`, killed after their first step: identical checkpoints (heads included);
    another seed gives other heads."""
    states = []
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        args = _train_args(encoder_dir, train_file, tmp_path / name, "--max_steps", "1", "--save_steps", "1")
        args[args.index("--seed") + 1] = seed
        _run(args)
        states.append(load_file(str(tmp_path / name / "checkpoint-1" / "model.safetensors")))
    helpers.assert_states_close(states[0], states[1])
    heads = [n for n in states[0] if not n.startswith("encoder.")]
    assert heads and any(not torch.equal(states[0][n], states[2][n]) for n in heads)


@pytest.mark.subprocess
def test_a_hub_token_reaches_no_file_the_run_writes(encoder_dir, train_file, tmp_path):
    out = tmp_path / "run"
    result = _run(_train_args(encoder_dir, train_file, out, "--max_steps", "2", "--hub_token", FAKE_TOKEN))
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"training_args.bin", "training_args.json", "model.safetensors", "metrics.json"} <= names
    assert sum(p.name == "training_args.bin" for p in files) >= 2  # a checkpoint's and the model's
    leaked = [str(p.relative_to(out)) for p in files if FAKE_TOKEN.encode() in p.read_bytes()]
    assert leaked == [], f"the token was written to {leaked}"
    assert FAKE_TOKEN not in result.stdout + result.stderr
    args = torch.load(out / "model" / "training_args.bin", weights_only=False)
    assert args.hub_token is None  # stripped, not masked
