"""`python -m benchmarks.bench`: run the performance benchmarks; write one JSON + one PNG per benchmark and a
`summary.json` with every target read back from those files (pass / miss).

Run from the repository root of a source checkout. The naive loop losses of benchmark 3 are found in
`benchmarks/losses_vs_loops.py` (or `--naive_losses PATH`): without them that benchmark is recorded as skipped,
with the reason.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import torch

from hf_visobert_absa.errors import AbsaInputError

logger = logging.getLogger(__name__)

BENCHMARKS = {
    "step": "1. full training step: FocalContrastiveTrainer vs encoder + linear + cross-entropy",
    "passes": "2. one forward/backward for both losses vs two sequential passes",
    "losses": "3. vectorised losses vs naive loops, B in --loss_batch_sizes",
    "inference": "4. reviews/s of the pipeline on real reviews (sorted dynamic vs fixed 256 vs one per review)",
    "int8": "5. int8 (ONNX Runtime) vs fp32 on the CPU: speed at encoder size; accuracy of --int8_model (opt-in)",
}
#: Run by default (int8 needs the optional extra and a trained model: ask for it with --only int8).
DEFAULT_BENCHMARKS = ("step", "passes", "losses", "inference")

INFERENCE_VARIANTS = ("pipeline_sorted_dynamic", "pipeline_unsorted_dynamic", "pipeline_one_call_per_review",
                      "raw_sorted_dynamic", "raw_fixed_256")  # fmt: skip

EXAMPLES = """examples:
  python -m benchmarks.bench --quick                       # tiny encoder, seconds -> benchmarks/results/quick
  python -m benchmarks.bench --encoder ../shared/visobert/config.json --out benchmarks/results
  python -m benchmarks.bench --only step --only passes --reps 9
  python -m benchmarks.bench --device cuda --dtype bf16 --out benchmarks/results/h100

Every JSON holds the settings, inputs, machine (CPU model, cores, torch threads, load average), library
versions, every repetition and the medians; memory is the peak RSS around the measured calls. Targets are
checked afterwards by reading the JSON files (summary.json). Benchmark 4 needs real reviews and a tokenizer
(defaults: ../shared/data/phone_reviews/test.csv and ../shared/visobert) and is skipped, with the reason,
when they are absent.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m benchmarks.bench` (examples in its epilog)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Measure the cost of the two heads and losses, one pass vs two, the losses vs naive loops, "
        "and inference throughput. Writes <name>.json + <name>.png per benchmark and summary.json.\n\n"
        + "\n".join(f"  {key:<10} {text}" for key, text in BENCHMARKS.items()),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="Tiny encoder, 5 repetitions, few reviews: seconds (a smoke run).")
    add("--out", default=None, help="Output folder (default: benchmarks/results; benchmarks/results/quick with "
        "--quick, so a smoke run never overwrites full-size results).")  # fmt: skip
    add("--only", action="append", choices=list(BENCHMARKS), help="Run only these (repeatable).")
    add("--encoder", default=None, help="'tiny', 'visobert' (built-in ViSoBERT architecture) or an encoder "
        "config.json (random weights). Default: 'visobert', or 'tiny' with --quick.")  # fmt: skip
    add("--batch_size", "--batch-size", type=int, default=16, help="Training batch size (default 16).")
    add("--seq_len", "--seq-len", type=int, default=64, help="Training sequence length (default 64).")
    add("--reps", type=int, default=None, help="Timed repetitions (default 7; 5 with --quick).")
    add("--warmup", type=int, default=None, help="Untimed rounds first (default 2; 1 with --quick).")
    add("--input_sets", "--input-sets", type=int, default=4, help="Different batches rotated (default 4).")
    add("--loss_batch_sizes", "--loss-batch-sizes", default=None, help="Comma list (default 16,32,64,128; "
        "16,32 with --quick).")  # fmt: skip
    add("--reviews", type=int, default=None, help="Reviews for benchmark 4 (default 1000; 64 with --quick).")
    add("--inference_batch_size", "--inference-batch-size", type=int, default=None, help="Default 32 (16 --quick).")
    add("--inference_sets", "--inference-sets", type=int, default=5, help="Review sets rotated (default 5).")
    add("--data", default=None, help="Reviews for benchmark 4: a CSV with a data/text column or a .txt file.")
    add("--tokenizer", default=None, help="Tokenizer folder for benchmark 4 (default ../shared/visobert).")
    add("--inference_variants", "--inference-variants", default=None, help="Comma list of benchmark 4's variants "
        f"to run (default: all of {', '.join(INFERENCE_VARIANTS)}).")  # fmt: skip
    add("--int8_model", "--int8-model", default=None, help="int8: a trained model folder for the accuracy part.")
    add("--int8_data", "--int8-data", default=None, help="int8: its labelled test file (default: --data).")
    add("--int8_reps", "--int8-reps", type=int, default=3, help="int8: interleaved rounds of the accuracy part.")
    add("--int8_no_speed", "--int8-no-speed", action="store_true", help="int8: the accuracy part only.")
    add(
        "--label_aliases",
        "--label-aliases",
        default=None,
        help='int8: JSON label aliases, e.g. \'{"Posititve": "positive"}\'.',
    )
    add("--naive_losses", "--naive-losses", default=None, help="Path of benchmarks/losses_vs_loops.py.")
    add("--device", default="cpu", help="cpu (default) or cuda[:N].")
    add("--dtype", default="fp32", choices=["fp32", "bf16"], help="fp32, or bf16 autocast as Trainer(bf16=True).")
    add("--threads", type=int, default=None, help="torch intra-op threads (default: torch's; 1 with --quick).")
    add("--seed", type=int, default=0)
    add("--compile", action="store_true", help="Benchmarks 1-2: every variant's step through torch.compile(model).")
    return parser


def settings_from_args(args: argparse.Namespace):
    """[`BenchSettings`] from parsed arguments (quick defaults applied), validated."""
    from hf_visobert_absa.explain.common import BenchSettings

    quick = args.quick
    sizes = args.loss_batch_sizes or ("16,32" if quick else "16,32,64,128")
    try:
        loss_sizes = [int(part) for part in sizes.split(",") if part.strip()]
    except ValueError:
        raise AbsaInputError(
            f"`--loss_batch_sizes` got {sizes!r}; allowed: a comma list of integers, e.g. 16,32,64."
        ) from None
    variants = (
        [part.strip() for part in args.inference_variants.split(",") if part.strip()]
        if args.inference_variants
        else None
    )
    unknown = [name for name in variants or [] if name not in INFERENCE_VARIANTS]
    if unknown:
        raise AbsaInputError(
            f"`--inference_variants` got {', '.join(unknown)}; allowed: a comma list of {', '.join(INFERENCE_VARIANTS)}."
        )
    settings = BenchSettings(
        encoder=args.encoder or ("tiny" if quick else "visobert"),
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        reps=args.reps if args.reps is not None else (5 if quick else 7),
        warmup=args.warmup if args.warmup is not None else (1 if quick else 2),
        input_sets=args.input_sets,
        device=args.device,
        dtype=args.dtype,
        threads=args.threads if args.threads is not None else (1 if quick else None),
        seed=args.seed,
        quick=quick,
        loss_batch_sizes=loss_sizes,
        reviews=args.reviews if args.reviews is not None else (64 if quick else 1000),
        inference_batch_size=args.inference_batch_size or (16 if quick else 32),
        inference_sets=args.inference_sets,
        data=args.data,
        tokenizer=args.tokenizer,
        inference_variants=variants,
        int8_model=args.int8_model,
        int8_data=args.int8_data,
        int8_reps=args.int8_reps,
        int8_speed=not args.int8_no_speed,
        compile=args.compile,
        label_aliases=_aliases(args.label_aliases),
    )
    for name in ("batch_size", "seq_len", "reps", "input_sets", "reviews", "inference_batch_size", "inference_sets"):
        if getattr(settings, name) < 1:
            raise AbsaInputError(f"`--{name}` got {getattr(settings, name)}; allowed: an integer >= 1.")
    if settings.warmup < 0 or any(size < 2 for size in loss_sizes):
        raise AbsaInputError("`--warmup` must be >= 0 and every `--loss_batch_sizes` value >= 2.")
    if settings.seq_len < 4:
        raise AbsaInputError(f"`--seq_len` got {settings.seq_len}; allowed: >= 4 tokens.")
    if settings.device.startswith("cuda") and not torch.cuda.is_available():
        raise AbsaInputError("`--device cuda` was asked for but torch sees no CUDA device; use --device cpu.")
    if not (settings.device == "cpu" or settings.device.startswith("cuda")):
        raise AbsaInputError(f"`--device` got {settings.device!r}; allowed: cpu, cuda, cuda:N.")
    return settings


def main(argv: list[str]) -> int:
    """Run the chosen benchmarks, draw their PNGs, check the targets from the JSON; returns the exit code.

    Raises:
        AbsaInputError: a bad argument or input file (the CLI turns it into exit code 2).
    """
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    from hf_visobert_absa.explain.training import run_training_benchmarks
    from hf_visobert_absa.threads import torch_threads

    from . import plots
    from .inference import run_inference_benchmark
    from .losses import find_naive_losses, run_losses_benchmark
    from .targets import check_targets, format_targets, summary_markdown

    if settings.reps < 5:
        logger.warning("--reps %d: reported numbers need at least 5 repetitions", settings.reps)
    chosen = args.only or list(DEFAULT_BENCHMARKS)
    out_dir = Path(args.out or ("benchmarks/results/quick" if settings.quick else "benchmarks/results"))
    out_dir.mkdir(parents=True, exist_ok=True)
    naive_path = find_naive_losses(args.naive_losses)
    if args.naive_losses and naive_path is None:
        raise AbsaInputError(
            f"`--naive_losses` {args.naive_losses} does not exist; pass benchmarks/losses_vs_loops.py."
        )
    documents = []
    started = time.perf_counter()
    with torch_threads(settings.threads):
        try:
            which = {name for key, name in (("step", "step_overhead"), ("passes", "one_vs_two_pass")) if key in chosen}
            if which:
                documents += run_training_benchmarks(settings, out_dir, which).values()
            if "losses" in chosen:
                documents.append(run_losses_benchmark(settings, out_dir, naive_path))
            if "inference" in chosen:
                documents.append(run_inference_benchmark(settings, out_dir))
            if "int8" in chosen:
                from .int8 import run_int8_benchmark

                documents.append(run_int8_benchmark(settings, out_dir))
        except ValueError as error:  # bad --encoder file, unreadable reviews, ...
            raise AbsaInputError(str(error)) from error
    for document in documents:
        plots.plot_document(document, out_dir)
        print(_one_line(document))
    report = check_targets(out_dir)
    summary = {"out_dir": str(out_dir), "benchmarks_run": [d["benchmark"] for d in documents], "quick": settings.quick,
               "seconds": time.perf_counter() - started, "targets": report}  # fmt: skip
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "summary.md").write_text(summary_markdown(out_dir), encoding="utf-8")
    print()
    print(format_targets(report))
    print(
        f"\nwrote {out_dir}/ ({', '.join(sorted(p.name for p in out_dir.iterdir() if p.suffix in ('.json', '.png', '.md')))})"
    )
    return 0


def _aliases(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        aliases = json.loads(text)
    except json.JSONDecodeError as error:
        raise AbsaInputError(
            f'`--label_aliases` is not valid JSON ({error.msg}); e.g. \'{{"Posititve": "positive"}}\'.'
        ) from None
    if not isinstance(aliases, dict):
        raise AbsaInputError('`--label_aliases` must be a JSON object, e.g. \'{"Posititve": "positive"}\'.')
    return aliases


def _one_line(document: dict) -> str:
    name = document["benchmark"]
    if document.get("skipped"):
        return f"{name}: skipped: {document['skipped']}"
    results, derived = document["results"], document["derived"]
    if name == "int8":
        return f"{name}: " + ", ".join(f"{key} {value:.3f}" for key, value in derived.items() if value is not None)
    if name == "step_overhead":
        return (f"{name}: ours {results['ours_one_pass']['median_s'] * 1e3:.1f} ms, bare "
                f"{results['bare_encoder_linear_ce']['median_s'] * 1e3:.1f} ms, ratio {derived['ratio_ours_over_bare']:.3f}")  # fmt: skip
    if name == "one_vs_two_pass":
        return (f"{name}: ours {results['ours_one_pass']['median_s'] * 1e3:.1f} ms, two passes "
                f"{results['sequential_two_pass']['median_s'] * 1e3:.1f} ms, ratio {derived['ratio_two_pass_over_ours']:.2f}")  # fmt: skip
    if name == "losses_vs_loops":
        return f"{name}: speed-up of ours over loops " + ", ".join(
            f"B={b}: {s:.1f}x" for b, s in derived["speedup_naive_over_ours"].items()
        )
    return (
        f"{name}: "
        + ", ".join(
            f"{variant} {entry['median_reviews_per_second']:.1f} reviews/s" for variant, entry in results.items()
        )
        + "".join(f", {key} {value:.3f}" for key, value in derived.items())
    )


def run(argv: list[str]) -> int:
    """`main` with the command line's exit codes (2 for a bad argument, with one line saying what and how to fix)."""
    from hf_visobert_absa.cli.main import run_command

    return run_command("bench", lambda: main(argv), program="python -m benchmarks.bench")
