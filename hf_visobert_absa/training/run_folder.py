"""Guards of a training run's output folder: it never holds what the run reads, it is never taken over from a
finished (or started) run without `--resume`, and only one run writes into it at a time.

Each raises `AbsaInputError` (one line, exit 2 from the CLI) before anything is written into the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import AbsaInputError

#: The lock file a running `train` holds (advisory `flock`): a second run into the same folder is refused at once.
LOCK_FILE = ".train.lock"
#: What a run leaves in its folder; any of them means the folder holds a run.
RUN_ARTIFACTS: tuple[str, ...] = ("model", "metrics.json", "RUN_INCOMPLETE.txt", "log_history.json")


def refuse_inputs_inside(output_dir: str | os.PathLike, inputs: Iterable[tuple[str, str | None]]) -> None:
    """Refuse an input (a `(flag, path)` pair; non-local names such as Hub ids are skipped) that is the output folder
    or lies inside it, through links too: the run writes there and could replace it."""
    folder = Path(output_dir).resolve()
    for flag, source in inputs:
        if not source or not Path(source).exists():
            continue
        resolved = Path(source).resolve()
        if resolved == folder or folder in resolved.parents:
            raise AbsaInputError(
                f"`{flag}` {source} lies inside `--output_dir` {output_dir}, which this run writes into (it could be "
                "replaced). Move the input out of that folder, or choose another `--output_dir`."
            )


def refuse_existing_run(output_dir: str | os.PathLike, resume: bool) -> None:
    """Refuse a folder that already holds a run (its model, reports or checkpoints) unless `--resume` continues it."""
    folder = Path(output_dir)
    if resume or not folder.is_dir():
        return
    found = sorted(p.name for p in folder.iterdir() if p.name in RUN_ARTIFACTS or p.name.startswith("checkpoint-"))
    if found:
        raise AbsaInputError(
            f"`--output_dir` {output_dir} already holds a run ({', '.join(found[:3])}); training again would replace "
            "it. Pass `--resume` to continue it from its last checkpoint, or choose a new `--output_dir`."
        )


@contextlib.contextmanager
def run_lock(output_dir: str | os.PathLike) -> Iterator[None]:
    """Hold `LOCK_FILE` in the (existing) folder for the block; another holder means another run is writing there."""
    path = Path(output_dir) / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AbsaInputError(
                f"another `train` is writing into `--output_dir` {output_dir} right now; wait for it to finish, or "
                "choose another `--output_dir`."
            ) from None
        yield
    finally:
        handle.close()


__all__ = ["LOCK_FILE", "RUN_ARTIFACTS", "refuse_existing_run", "refuse_inputs_inside", "run_lock"]
