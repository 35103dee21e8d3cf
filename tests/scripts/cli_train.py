"""Run `hf-visobert-absa train ARGS...` in this process, optionally hanging after a training step so that a test
can SIGKILL it mid-epoch (not collected by pytest):

    python -m tests.scripts.cli_train [--hang-at-step K --flag FILE] -- TRAIN_ARGS...

`--hang-at-step K`: after optimiser step K (checkpoints of earlier steps are complete), write FILE and sleep.
Everything after `--` goes to the real CLI unchanged; the exit code is the CLI's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hf_visobert_absa.cli.main import main
from hf_visobert_absa.training import run
from tests.scripts.train_resume import HangAtStep


def _with_hang(step: int, flag: Path):
    original = run._callbacks

    def callbacks(*args, **kwargs):
        return [*original(*args, **kwargs), HangAtStep(step, flag)]

    return callbacks


if __name__ == "__main__":
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser()
    parser.add_argument("--hang-at-step", type=int, default=None)
    parser.add_argument("--flag", type=Path, default=None)
    options = parser.parse_args(argv[:split])
    if options.hang_at_step is not None:
        run._callbacks = _with_hang(options.hang_at_step, options.flag)
    sys.exit(main(["train", *argv[split + 1 :]]))
