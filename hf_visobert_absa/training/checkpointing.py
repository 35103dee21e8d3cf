"""Crash-safe Trainer checkpoints: a checkpoint that was not completely written is never resumed from.

`transformers.Trainer` (5.24) writes `checkpoint-N/` in place, file after file (weights, optimizer, scheduler,
RNG state, and `trainer_state.json` last), and `train(resume_from_checkpoint=True)` resumes from the
highest-numbered `checkpoint-N` folder, complete or not. A run killed while saving therefore leaves a
half-written folder that the next run picks up (and fails on, or worse, loads truncated state from).

[`CrashSafeCheckpointCallback`] closes that gap without changing how the Trainer writes:

1. before a save, the main process creates `checkpoint-N/` with an in-progress marker;
2. after the save (every rank done: a barrier under `torch.distributed`), it flushes every file to disk,
   writes a manifest `checkpoint_complete.json` (file names and sizes) atomically (temp file, fsync,
   `os.replace`) and removes the marker;
3. when a Trainer is created, every `checkpoint-N/` that is not complete is renamed `incomplete-checkpoint-N/`
   (kept for inspection, invisible to `resume_from_checkpoint=True` and to checkpoint rotation).

A checkpoint is complete when its manifest matches the files on disk; a folder written without this callback
(no manifest, no marker) counts as complete when its `trainer_state.json`, which the Trainer writes last,
parses. The manifest protects against crashes, not against tampering (sizes, no hashes).

Example:

```python
>>> from hf_visobert_absa.training.checkpointing import CrashSafeCheckpointCallback, last_complete_checkpoint
>>> trainer = FocalContrastiveTrainer(..., callbacks=[CrashSafeCheckpointCallback()])
>>> trainer.train(resume_from_checkpoint=last_complete_checkpoint(args.output_dir))  # or True
```
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..process_group import wait_for_every_rank

logger = logging.getLogger(__name__)

MANIFEST_NAME = "checkpoint_complete.json"
IN_PROGRESS_NAME = ".checkpoint_in_progress"
QUARANTINE_PREFIX = "incomplete-"
TRAINER_STATE_NAME = "trainer_state.json"
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_status(path: str | os.PathLike) -> tuple[bool, str]:
    """Whether a `checkpoint-N` folder was completely written, and why.

    Args:
        path (`str` or `os.PathLike`): a checkpoint folder.

    Returns:
        `(complete, reason)`.

    Example:

    ```python
    >>> checkpoint_status("runs/a/checkpoint-40")
    (True, 'manifest matches 8 files')
    ```
    """
    folder = Path(path)
    if not folder.is_dir():
        return False, "not a folder"
    manifest = folder / MANIFEST_NAME
    if manifest.is_file():
        try:
            files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (ValueError, KeyError, TypeError) as error:
            return False, f"unreadable manifest {MANIFEST_NAME} ({error})"
        for name, size in files.items():
            file = folder / name
            if not file.is_file():
                return False, f"{name} is listed in the manifest but missing"
            if file.stat().st_size != size:
                return False, f"{name} has {file.stat().st_size} bytes, the manifest says {size}"
        return True, f"manifest matches {len(files)} files"
    if (folder / IN_PROGRESS_NAME).exists():
        return False, "the save was interrupted (in-progress marker, no manifest)"
    state = folder / TRAINER_STATE_NAME
    if not state.is_file():
        return False, f"no {MANIFEST_NAME} and no {TRAINER_STATE_NAME} (the Trainer writes it last)"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except ValueError as error:
        return False, f"{TRAINER_STATE_NAME} does not parse ({error})"
    return True, f"written without a manifest; {TRAINER_STATE_NAME} parses"


def is_complete_checkpoint(path: str | os.PathLike) -> bool:
    """`True` when [`checkpoint_status`] says the folder was completely written."""
    return checkpoint_status(path)[0]


def _checkpoint_folders(output_dir: str | os.PathLike) -> list[Path]:
    root = Path(output_dir)
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if p.is_dir() and _CHECKPOINT_RE.match(p.name)]
    return sorted(folders, key=lambda p: int(_CHECKPOINT_RE.match(p.name).group(1)))


def last_complete_checkpoint(output_dir: str | os.PathLike) -> str | None:
    """The highest-numbered complete `checkpoint-N` folder under `output_dir`, or `None`.

    Args:
        output_dir (`str` or `os.PathLike`): the Trainer's `output_dir`.

    Returns:
        `str` or `None`: a path to pass as `resume_from_checkpoint`.
    """
    for folder in reversed(_checkpoint_folders(output_dir)):
        complete, reason = checkpoint_status(folder)
        if complete:
            return str(folder)
        logger.warning("Skipping %s: %s", folder, reason)
    return None


def quarantine_incomplete_checkpoints(output_dir: str | os.PathLike) -> list[str]:
    """Rename every incomplete `checkpoint-N` under `output_dir` to `incomplete-checkpoint-N` (kept, not deleted).

    Args:
        output_dir (`str` or `os.PathLike`): the Trainer's `output_dir`.

    Returns:
        `list[str]`: the new paths of the renamed folders.
    """
    moved = []
    for folder in _checkpoint_folders(output_dir):
        complete, reason = checkpoint_status(folder)
        if complete:
            continue
        target = folder.with_name(QUARANTINE_PREFIX + folder.name)
        suffix = 1
        while target.exists():
            suffix += 1
            target = folder.with_name(f"{QUARANTINE_PREFIX}{folder.name}-{suffix}")
        os.replace(folder, target)
        logger.warning("%s is incomplete (%s); moved to %s so that it is never resumed from.", folder, reason, target)
        moved.append(str(target))
    return moved


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its renames are durable on return
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_manifest(folder: str | os.PathLike, fsync: bool = True) -> Path:
    """Record every file of a finished checkpoint (name -> size) in `checkpoint_complete.json`, atomically.

    Args:
        folder (`str` or `os.PathLike`): the checkpoint folder, after every process finished writing it.
        fsync (`bool`, defaults to `True`): flush the checkpoint's files and the manifest to disk first, so that
            the manifest never describes data that a power cut could still lose.

    Returns:
        `Path`: the manifest.
    """
    folder = Path(folder)
    files = {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST_NAME, IN_PROGRESS_NAME) and not p.name.endswith(".tmp")
    }
    if fsync:
        for name in files:
            _fsync_file(folder / name)
    manifest = folder / MANIFEST_NAME
    temporary = folder / (MANIFEST_NAME + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"format": 1, "files": files}, handle, indent=2, sort_keys=True)
        handle.flush()
        if fsync:
            os.fsync(handle.fileno())
    os.replace(temporary, manifest)
    marker = folder / IN_PROGRESS_NAME
    if marker.exists():
        marker.unlink()
    if fsync:
        _fsync_dir(folder)
    return manifest


class CrashSafeCheckpointCallback(TrainerCallback):
    """Makes `Trainer` checkpoints crash-safe: an interrupted save is never resumed from (see the module doc).

    Args:
        fsync (`bool`, defaults to `True`): flush each finished checkpoint to disk before declaring it complete.

    Example:

    ```python
    >>> trainer = FocalContrastiveTrainer(model=model, args=args, train_dataset=train,
    ...                                   callbacks=[CrashSafeCheckpointCallback()])
    >>> trainer.train(resume_from_checkpoint=True)  # never picks a half-written checkpoint
    ```
    """

    def __init__(self, fsync: bool = True) -> None:
        self.fsync = fsync

    def on_init_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        if args.should_save:
            quarantine_incomplete_checkpoints(args.output_dir)
        wait_for_every_rank()  # no rank resolves `resume_from_checkpoint=True` before the renames
        return control

    def _mark_in_progress(self, args: TrainingArguments, state: TrainerState, control: TrainerControl) -> None:
        if control.should_save and args.should_save:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            folder.mkdir(parents=True, exist_ok=True)
            for stale in (MANIFEST_NAME, MANIFEST_NAME + ".tmp"):  # a folder being overwritten
                if (folder / stale).exists():
                    (folder / stale).unlink()
            (folder / IN_PROGRESS_NAME).touch()

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        self._mark_in_progress(args, state, control)
        return control

    def on_epoch_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        self._mark_in_progress(args, state, control)
        return control

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        wait_for_every_rank()  # every rank has written its part (e.g. rng_state_<rank>.pth)
        if args.should_save:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                write_manifest(folder, fsync=self.fsync)
        return control


__all__ = [
    "CrashSafeCheckpointCallback",
    "checkpoint_status",
    "is_complete_checkpoint",
    "last_complete_checkpoint",
    "quarantine_incomplete_checkpoints",
    "write_manifest",
]
