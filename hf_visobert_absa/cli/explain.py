"""`hf-visobert-absa explain`: draw the architecture from the actual model, a measured per-stage timeline of one
training step, and one pass vs two; write EXPLAINED.md with the numbers."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import LABEL_SCHEMES

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  hf-visobert-absa explain --out explained                       # tiny encoder: seconds
  hf-visobert-absa explain --out explained/visobert --encoder ../shared/visobert/config.json
  hf-visobert-absa explain --out explained/mine --config runs/phone/model/config.json --architecture_only
  hf-visobert-absa explain --out explained/two --aspects Battery,Camera --label_scheme mentioned_only

Writes model_architecture.png (+ .json with its text), forward_pass_timeline.png (+ .json),
sequential_vs_parallel.png (+ one_vs_two_pass.json) and EXPLAINED.md. Weights are random: the figures show
structure and cost, which do not depend on trained weights.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `hf-visobert-absa explain` (examples in its epilog)."""
    parser = argparse.ArgumentParser(
        prog="hf-visobert-absa explain",
        description="Draw the model's architecture from the model itself, time one training step stage by "
        "stage, compare one pass with two, and explain it all in EXPLAINED.md.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--out", default="explained", help="Output folder (default: explained).")
    add("--encoder", default=None, help="'tiny' (the default without --config: seconds), 'visobert', or an "
        "encoder config.json. With --config, the default is that config's own encoder.")  # fmt: skip
    add("--config", default=None, help="A model config.json (or model folder) whose settings are drawn.")
    add("--aspects", default=None, help="Comma-separated aspect names (overrides the config).")
    add("--label_scheme", "--label-scheme", default=None, choices=list(LABEL_SCHEMES))
    add("--projection_dim", "--projection-dim", type=int, default=None)
    add("--batch_size", "--batch-size", type=int, default=16)
    add("--seq_len", "--seq-len", type=int, default=64)
    add("--reps", type=int, default=None, help="Timed repetitions (default 20 tiny, 7 otherwise).")
    add("--warmup", type=int, default=None, help="Untimed rounds first (default 3 tiny, 2 otherwise).")
    add("--device", default="cpu", help="cpu (default) or cuda[:N].")
    add("--dtype", default="fp32", choices=["fp32", "bf16"])
    add("--threads", type=int, default=None, help="torch intra-op threads (default: torch's).")
    add("--seed", type=int, default=0)
    add("--architecture_only", "--architecture-only", action="store_true", help="Only the architecture figure.")
    return parser


def main(argv: list[str]) -> int:
    """Draw the figures and write EXPLAINED.md; returns the exit code.

    Raises:
        AbsaInputError: a bad argument or config file (the CLI turns it into exit code 2).
    """
    args = build_parser().parse_args(argv)
    from ..evaluation.plots import PLOTS_EXTRA, plotting_available
    from ..explain.run import ExplainOptions, run_explain

    if not plotting_available():
        raise AbsaInputError(f"`explain` draws figures and needs matplotlib: {PLOTS_EXTRA}.")

    overrides: dict = {}
    if args.aspects is not None:
        overrides["aspects"] = [name.strip() for name in args.aspects.split(",") if name.strip()]
    if args.label_scheme is not None:
        overrides["label_scheme"] = args.label_scheme
    if args.projection_dim is not None:
        overrides["projection_dim"] = args.projection_dim
    for name in ("batch_size", "seq_len"):
        if getattr(args, name) < (2 if name == "batch_size" else 4):
            raise AbsaInputError(
                f"`--{name}` got {getattr(args, name)}; allowed: >= {2 if name == 'batch_size' else 4}."
            )
    if args.threads is not None and args.threads < 1:
        raise AbsaInputError(
            f"`--threads` got {args.threads}; allowed: an integer >= 1 (or omit it for torch's default)."
        )
    if args.reps is not None and args.reps < 1:
        raise AbsaInputError(f"`--reps` got {args.reps}; allowed: an integer >= 1.")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise AbsaInputError("`--device cuda` was asked for but torch sees no CUDA device; use --device cpu.")
    options = ExplainOptions(
        out_dir=Path(args.out), encoder=args.encoder, config=args.config, overrides=overrides,
        batch_size=args.batch_size, seq_len=args.seq_len, reps=args.reps, warmup=args.warmup, device=args.device,
        dtype=args.dtype, threads=args.threads, seed=args.seed, architecture_only=args.architecture_only,
    )  # fmt: skip
    try:
        written = run_explain(options)
    except ValueError as error:  # a bad config field or file: say which, exit 2
        raise AbsaInputError(str(error)) from error
    for path in written.values():
        print(f"wrote {path}")
    return 0
