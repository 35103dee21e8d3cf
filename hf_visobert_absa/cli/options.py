"""Command-line options shared by the commands that score reviews with a trained model (`evaluate`, `predict`)."""

from __future__ import annotations

import argparse


def add_scoring_arguments(parser: argparse.ArgumentParser) -> None:
    """`--max_length`, `--disable_tqdm` and `--threshold`, with the same defaults and help in every command.

    The defaults come from the model: the max_length it was trained with, its calibrated `detection_thresholds`
    (else 0.5); progress bars are off when stderr is not a terminal.
    """
    parser.add_argument(
        "--max_length",
        type=int,
        default=None,
        help="Truncate reviews to this many tokens (default: the length the model was trained with).",
    )
    parser.add_argument(
        "--disable_tqdm", action="store_true", help="No progress bar (also off when stderr is not a terminal)."
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="An aspect is mentioned when P(none) < this (default: the model's detection_thresholds, else 0.5).",
    )
