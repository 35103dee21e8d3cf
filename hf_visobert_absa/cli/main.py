"""`hf-visobert-absa`: the command line. One module per command under `hf_visobert_absa.cli`.

Exit codes: 0 success, 2 bad arguments or bad input (the message says what and how to fix it),
1 unexpected failure.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Callable
from importlib import import_module

from ..errors import AbsaInputError

COMMANDS: dict[str, str] = {
    "demo": "train on the built-in Vietnamese sample, evaluate, save, reload in a clean process, predict",
    "train": "train on review files (CSV, UIT-ViSFD, integer-coded CSV, JSONL, SemEval XML)",
    "evaluate": "score a trained model on a labelled file with honest metrics",
    "predict": "label a file or stdin lines with a trained model",
    "export": "stage a Hub-ready folder from a training run and verify it in a clean process",
    "explain": "draw the architecture, a measured step timeline and one-pass-vs-two figures",
}

USAGE = (
    "usage: hf-visobert-absa COMMAND [ARGS...]\n\ncommands:\n"
    + "\n".join(f"  {name:<9} {text}" for name, text in COMMANDS.items())
    + "\n\nRun `hf-visobert-absa COMMAND --help` for the arguments and examples of a command."
)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hf-visobert-absa` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(
            f"hf-visobert-absa: unknown command {command!r}; allowed: {', '.join(COMMANDS)}.\n\n{USAGE}",
            file=sys.stderr,
        )
        return 2
    return run_command(command, lambda: import_module(f"hf_visobert_absa.cli.{command}").main(rest))


def run_command(name: str, call: Callable[[], int | None], program: str = "hf-visobert-absa") -> int:
    """Run one command with the CLI's exit-code contract: 0 success, 2 a user error (`AbsaInputError` or bad
    arguments; one line on stderr), 130 interrupted, 1 an unexpected failure (logged with its traceback)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(call() or 0)
    except AbsaInputError as error:
        print(f"{program} {name}: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # argparse: --help is 0, bad arguments are 2
        return int(exit_.code or 0) if isinstance(exit_.code, int) else 2
    except KeyboardInterrupt:
        print(f"{program} {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout stopped early (`... --output - | head -n 1`): not a failure
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush of stdout must not raise again
        return 141  # 128 + SIGPIPE, what a shell pipeline expects
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            return _unexpected(program, name, error)
        where = f" writing {error.filename}" if error.filename else ""
        again = " with --resume, which continues from the last complete checkpoint" if name == "train" else ""
        print(
            f"{program} {name}: error: no space left on the device{where}; free some space and run again{again}. "
            "Outputs are written whole or not at all, so none is half-written.",
            file=sys.stderr,
        )
        return 1
    except Exception as error:  # noqa: BLE001 - the last line of defence: say what failed, exit 1
        return _unexpected(program, name, error)


def _unexpected(program: str, name: str, error: BaseException) -> int:
    """An unexpected failure: logged with its traceback, one line on stderr, exit 1."""
    logging.getLogger(__name__).exception("unexpected failure", exc_info=error)
    print(f"{program} {name}: unexpected failure: {type(error).__name__}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
