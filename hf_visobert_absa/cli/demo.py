"""`hf-visobert-absa demo`: train on the built-in Vietnamese sample, evaluate, save a Hub-loadable folder, reload
it in a clean process with `trust_remote_code=True` and label three new reviews."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
Train the two-head aspect-sentiment model on the built-in sample of Vietnamese smartphone reviews
(see hf_visobert_absa/demo/data/README.md; 11 aspects), score it on the validation reviews, save a Hub-loadable
folder (config with auto_map, code files, weights, tokenizer), reload that folder in a clean Python
process that cannot import this package (AutoModel + trust_remote_code=True, Hub offline) and print
each aspect's sentiment for three reviews that are not in the sample.

By default the encoder is a small XLM-R (2 layers, width 128) built from config with random weights
and a BPE tokenizer trained on the sample: no download, about a minute on 2 CPU cores. Its scores
show that the pipeline works end to end, not what ViSoBERT reaches on real data."""

EXAMPLES = """\
examples:
  # the default: tiny encoder, fresh temporary output folder (printed)
  hf-visobert-absa demo

  # keep the run in a folder of your choice; another seed
  hf-visobert-absa demo --output-dir runs/demo --seed 7

  # the real ViSoBERT encoder and its tokenizer (needs network access to the Hugging Face Hub)
  hf-visobert-absa demo --encoder uitnlp/visobert

  # a pretrained encoder saved in a local folder, 3 epochs
  hf-visobert-absa demo --encoder path/to/encoder --epochs 3
"""


def build_parser() -> argparse.ArgumentParser:
    """The `demo` command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="hf-visobert-absa demo",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--output-dir",
        "--output_dir",
        type=Path,
        default=None,
        help="folder for the run (model/, demo_results.json); default: a fresh temporary folder, printed",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="allow an --output-dir that is not empty (the run's files in it are written over)",
    )
    parser.add_argument(
        "--encoder",
        default=None,
        help="pretrained encoder: a Hub id such as uitnlp/visobert (network needed) or a local folder; "
        "default: a small XLM-R built from config with a tokenizer trained on the sample",
    )
    parser.add_argument(
        "--epochs", type=_positive_float, default=None, help="training epochs (default: 30 tiny encoder, 10 pretrained)"
    )
    parser.add_argument(
        "--learning-rate",
        "--learning_rate",
        type=_positive_float,
        default=None,
        help="peak learning rate (default: 1e-3 tiny encoder, 5e-5 pretrained)",
    )
    parser.add_argument("--batch-size", "--batch_size", type=_positive_int, default=16, help="batch size (default: 16)")
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="CPU threads for torch (default: 1 for the tiny encoder, whose matrices are too small to gain from more; "
        "torch's default for a pretrained encoder)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed for weights and data order (default: 42)")
    return parser


def main(argv: list[str]) -> int:
    """Runs the demo and prints its summary. Returns the exit code (0)."""
    args = build_parser().parse_args(argv)

    from ..demo.run import DemoOptions, run_demo
    from ..evaluation.table import format_metrics_table

    options = DemoOptions(
        output_dir=args.output_dir,
        encoder=args.encoder,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        threads=args.threads,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    result = run_demo(options)
    seconds = result.seconds

    print()
    print(f"== Validation: {result.num_validation} held-out reviews (trained on {result.num_train}) ==")
    print(format_metrics_table(result.metrics, per_aspect=True))
    print(
        "(A tiny sample: these numbers show that training, evaluation and reloading work, not what the "
        "model reaches on real data.)"
        if args.encoder is None
        else "(A tiny sample: expect noisy numbers.)"
    )
    print()
    print("== Three new reviews, labelled by the saved model in a clean process ==")
    print(result.clean_process_output)
    print(
        f"  clean-process probabilities vs the in-memory model: max |difference| = "
        f"{result.max_abs_probability_diff:.3g}"
    )
    print()
    print("== Summary ==")
    print(f"encoder:    {result.encoder}")
    print(
        f"model:      {result.num_parameters:,} parameters, pooling {result.pooling!r}; "
        f"{result.epochs:g} epochs at learning rate {result.learning_rate:g}, batch {args.batch_size}, seed {args.seed}"
    )
    print(
        f"wall time:  {seconds['total']:.1f} s (training {seconds['train']:.1f} s, evaluation "
        f"{seconds['evaluate']:.1f} s, save {seconds['save']:.1f} s, clean-process reload "
        f"{seconds['clean_process']:.1f} s)"
    )
    print(f"model:      {result.model_dir}  (AutoModel.from_pretrained(<folder>, trust_remote_code=True))")
    print(f"results:    {result.output_dir / 'demo_results.json'}")
    return 0


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return number


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


__all__ = ["build_parser", "main"]
