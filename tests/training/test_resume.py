"""Crashes and resumption with `FocalContrastiveTrainer` on CPU (the CLI's `--resume` builds on the same calls).

- A run SIGKILLed while saving a checkpoint, resumed, SIGKILLed again mid-training, and resumed once more ends
  with the weights and metrics of an uninterrupted run (subprocesses, real SIGKILL; compared across processes
  within 1e-6, bit-identical in practice since both sides run one thread).
- `transformers` 5.24 writes checkpoints in place and `resume_from_checkpoint=True` takes the highest-numbered
  folder, complete or not; `CrashSafeCheckpointCallback` (hf_visobert_absa/training/checkpointing.py) makes an
  interrupted save invisible to it. Tested by injecting failures mid-save, in-process.
- Same seed, same data: identical weights and metrics.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import Trainer
from transformers.trainer_utils import get_last_checkpoint

from hf_visobert_absa.publishing.hub_files import CODE_FILES
from hf_visobert_absa.training.checkpointing import (
    IN_PROGRESS_NAME,
    MANIFEST_NAME,
    CrashSafeCheckpointCallback,
    checkpoint_status,
    is_complete_checkpoint,
    last_complete_checkpoint,
    quarantine_incomplete_checkpoints,
    write_manifest,
)
from tests import helpers
from tests.scripts import train_resume

SCRIPTS = helpers.SCRIPTS

# --------------------------------------------------------------------------------------------------------------
# Subprocesses killed with SIGKILL
# --------------------------------------------------------------------------------------------------------------


def _command(out_dir: Path, *flags: str) -> list[str]:
    return [sys.executable, str(SCRIPTS / "train_resume.py"), str(out_dir), *flags]


def _env() -> dict[str, str]:
    return helpers.script_env(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def _kill_when_hanging(command: list[str], out_dir: Path) -> None:
    """Start `command`, wait until it signals (OUT_DIR/hanging), SIGKILL it."""
    flag = out_dir / "hanging"
    if flag.exists():
        flag.unlink()
    helpers.sigkill_when_flagged(command, flag, _env(), timeout=180)


@pytest.mark.subprocess
def test_sigkill_during_save_and_mid_training_then_resume_is_bit_identical(tmp_path, uninterrupted):
    run_dir = tmp_path / "run"

    # 1. SIGKILL while checkpoint-4 is being saved: weights written, optimizer/RNG/trainer state not.
    _kill_when_hanging(_command(tmp_path, "--hang-while-saving-at-step", "4"), tmp_path)
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint-2", "checkpoint-4"]
    assert (run_dir / "checkpoint-4" / "model.safetensors").exists()
    assert not (run_dir / "checkpoint-4" / "trainer_state.json").exists()
    assert checkpoint_status(run_dir / "checkpoint-4") == (
        False,
        "the save was interrupted (in-progress marker, no manifest)",
    )
    assert is_complete_checkpoint(run_dir / "checkpoint-2")
    # The hazard: what plain `resume_from_checkpoint=True` would load.
    assert get_last_checkpoint(str(run_dir)) == str(run_dir / "checkpoint-4")

    # 2. Resumed (from checkpoint-2: checkpoint-4 is quarantined), SIGKILLed mid-training after step 5.
    _kill_when_hanging(_command(tmp_path, "--resume", "--hang-at-step", "5"), tmp_path)
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint-2", "checkpoint-4", "incomplete-checkpoint-4"]
    # written anew: the Trainer's 9 files, plus the Hub code files every model save writes
    assert checkpoint_status(run_dir / "checkpoint-4") == (True, f"manifest matches {9 + len(CODE_FILES)} files")

    # 3. Resumed again (from checkpoint-4), runs to the end.
    final = subprocess.run(_command(tmp_path, "--resume"), env=_env(), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr[-3000:]
    assert "Skipping" not in final.stderr and "is incomplete" not in final.stderr

    # The uninterrupted run of the same script's trainer, in this process (one thread too).
    expected_state, expected_metrics = uninterrupted
    # Two processes: compared with a tolerance, the measured difference in the message (bit-identical in practice:
    # both run one thread)
    helpers.assert_states_close(_weights(tmp_path / "final.safetensors"), expected_state)
    metrics = json.loads((tmp_path / "final.json").read_text())
    expected = json.loads(json.dumps(_without_timings(expected_metrics)))
    assert metrics.keys() == expected.keys()
    assert metrics == pytest.approx(expected, rel=1e-6, abs=1e-6), {k: (metrics[k], expected[k]) for k in metrics}
    assert metrics["epoch"] > 1  # the run crossed an epoch boundary (sampler re-seeded on resume)


# --------------------------------------------------------------------------------------------------------------
# In-process: failures injected mid-save, determinism
# --------------------------------------------------------------------------------------------------------------


def _final_state(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in trainer.model.state_dict().items()}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Weights and eval metrics of an uninterrupted run (in-process, one thread like every test here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainer = train_resume.build_trainer(tmp_path_factory.mktemp("reference"), [CrashSafeCheckpointCallback()])
        trainer.train()
        return _final_state(trainer), trainer.evaluate()
    finally:
        torch.set_num_threads(threads)


def _without_timings(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if "runtime" not in k and "per_second" not in k}


def test_same_seed_same_data_gives_identical_weights_and_metrics(tmp_path, uninterrupted):
    expected_state, expected_metrics = uninterrupted
    trainer = train_resume.build_trainer(tmp_path, [])
    trainer.train()
    state = _final_state(trainer)
    for name in expected_state:
        assert torch.equal(state[name], expected_state[name]), name
    assert _without_timings(trainer.evaluate()) == _without_timings(expected_metrics)
    initial = train_resume.build_trainer(tmp_path / "initial", []).model.state_dict()
    assert sum(not torch.equal(initial[n], state[n]) for n in state) > len(state) // 2  # training changed them
    assert "eval_joint_micro_f1" in expected_metrics


@pytest.mark.parametrize("failing", ["_save_optimizer_and_scheduler", "_save_rng_state", "save_to_json"])
def test_a_failure_mid_save_is_never_resumed_from(tmp_path, monkeypatch, uninterrupted, failing):
    """An exception while checkpoint-4 is being written (weights on disk, the rest not or partly): the next
    Trainer quarantines it and `resume_from_checkpoint=True` resumes from checkpoint-2, ending where an
    uninterrupted run ends."""
    from transformers import TrainerState

    owner = TrainerState if failing == "save_to_json" else Trainer
    original = getattr(owner, failing)

    def failing_save(self, path, *args, **kwargs):
        if f"checkpoint-4{os.sep}" in f"{path}{os.sep}":  # the folder, or a file in it
            if failing == "save_to_json":  # a torn write: half the JSON, then the crash
                Path(path).write_text('{"global_step": 4, "log_hist')
            raise RuntimeError("injected failure while saving")
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(owner, failing, failing_save)
    trainer = train_resume.build_trainer(tmp_path, [CrashSafeCheckpointCallback()])
    with pytest.raises(RuntimeError, match="injected failure while saving"):
        trainer.train()
    monkeypatch.setattr(owner, failing, original)
    run_dir = tmp_path / "run"
    assert (run_dir / "checkpoint-4" / "model.safetensors").exists()
    assert (run_dir / "checkpoint-4" / IN_PROGRESS_NAME).exists()
    assert not is_complete_checkpoint(run_dir / "checkpoint-4")
    assert last_complete_checkpoint(run_dir) == str(run_dir / "checkpoint-2")

    resumed = train_resume.build_trainer(tmp_path, [CrashSafeCheckpointCallback()])
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint-2", "incomplete-checkpoint-4"]
    resumed.train(resume_from_checkpoint=True)
    expected_state, _ = uninterrupted
    state = _final_state(resumed)
    for name in expected_state:
        assert torch.equal(state[name], expected_state[name]), name
    assert all(is_complete_checkpoint(run_dir / f"checkpoint-{step}") for step in (2, 4, 6, 8))


# --------------------------------------------------------------------------------------------------------------
# The completeness rules, on hand-made folders
# --------------------------------------------------------------------------------------------------------------


def _checkpoint(root: Path, step: int, manifest: bool = True) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 100)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    if manifest:
        write_manifest(folder)
    return folder


def test_manifest_detects_truncated_missing_and_unreadable(tmp_path):
    folder = _checkpoint(tmp_path, 2)
    assert checkpoint_status(folder) == (True, "manifest matches 2 files")
    (folder / "model.safetensors").write_bytes(b"x" * 40)  # truncated
    assert checkpoint_status(folder) == (False, "model.safetensors has 40 bytes, the manifest says 100")
    (folder / "model.safetensors").unlink()
    assert checkpoint_status(folder) == (False, "model.safetensors is listed in the manifest but missing")
    (folder / MANIFEST_NAME).write_text("{not json")
    complete, reason = checkpoint_status(folder)
    assert not complete and reason.startswith(f"unreadable manifest {MANIFEST_NAME}")


def test_a_crash_while_writing_the_manifest_leaves_the_checkpoint_incomplete(tmp_path):
    folder = _checkpoint(tmp_path, 2, manifest=False)
    (folder / IN_PROGRESS_NAME).touch()
    (folder / (MANIFEST_NAME + ".tmp")).write_text('{"format": 1, "fi')  # the temp file, never renamed
    assert checkpoint_status(folder) == (False, "the save was interrupted (in-progress marker, no manifest)")
    write_manifest(folder)  # the save finishing: manifest in place, marker gone, temp file not listed
    assert not (folder / IN_PROGRESS_NAME).exists()
    assert json.loads((folder / MANIFEST_NAME).read_text())["files"].keys() == {
        "model.safetensors",
        "trainer_state.json",
    }


def test_checkpoints_written_without_the_callback(tmp_path):
    plain = _checkpoint(tmp_path, 2, manifest=False)
    assert checkpoint_status(plain) == (True, "written without a manifest; trainer_state.json parses")
    (plain / "trainer_state.json").write_text('{"global_st')
    complete, reason = checkpoint_status(plain)
    assert not complete and reason.startswith("trainer_state.json does not parse")
    (plain / "trainer_state.json").unlink()
    assert checkpoint_status(plain) == (
        False,
        "no checkpoint_complete.json and no trainer_state.json (the Trainer writes it last)",
    )


def test_quarantine_and_last_complete_checkpoint(tmp_path):
    _checkpoint(tmp_path, 2)
    _checkpoint(tmp_path, 10)
    broken = _checkpoint(tmp_path, 12)
    (broken / "model.safetensors").write_bytes(b"")
    (tmp_path / "incomplete-checkpoint-12").mkdir()  # left by an earlier crash at the same step
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")  # numeric, not lexical order
    assert quarantine_incomplete_checkpoints(tmp_path) == [str(tmp_path / "incomplete-checkpoint-12-2")]
    assert get_last_checkpoint(str(tmp_path)) == str(tmp_path / "checkpoint-10")
    assert quarantine_incomplete_checkpoints(tmp_path) == []
    assert last_complete_checkpoint(tmp_path / "absent") is None
