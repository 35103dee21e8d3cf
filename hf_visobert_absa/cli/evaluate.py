"""`hf-visobert-absa evaluate`: score a trained model on a labelled file with honest metrics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..checks import check_positive, check_threshold
from ..errors import AbsaInputError
from ..finiteness import check_finite
from ..io_safety import check_output_file, write_json_atomic
from ..model_folder import validate_model_folder
from .options import add_scoring_arguments

EXAMPLES = """examples:
  hf-visobert-absa evaluate --model runs/phone/model --file ../shared/data/phone_reviews/test.csv \\
      --label_aliases '{"Posititve": "positive"}' --output runs/phone/test_metrics.json
  hf-visobert-absa evaluate --model runs/uit/model --file ../shared/data/uit_visfd/Test.csv --format uit_visfd
  hf-visobert-absa evaluate --model runs/semeval/model \
      --file ../shared/data/semeval2014_restaurants/Restaurants_Test_Gold.xml   # + the SemEval-2014 protocol
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-visobert-absa evaluate",
        description="Score a trained visobert_absa model on a labelled file: aspect detection, sentiment on "
        "mentioned aspects, joint, and the absent-as-neutral number beside them.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="A trained model folder (config.json + model.safetensors).")
    parser.add_argument(
        "--file", required=True, help="Labelled file: wide CSV, UIT-ViSFD CSV, int-coded CSV, JSONL or SemEval XML."
    )
    parser.add_argument("--format", default="auto", help="auto, wide_words, wide_int, uit_visfd, jsonl or semeval_xml.")
    parser.add_argument("--text_column", default=None)
    parser.add_argument("--label_aliases", default=None, help='JSON object, e.g. \'{"Posititve": "positive"}\'.')
    parser.add_argument("--others_policy", default="neutral", help="UIT-ViSFD {OTHERS}: neutral, drop or error.")
    parser.add_argument("--batch_size", type=int, default=64)
    add_scoring_arguments(parser)
    parser.add_argument(
        "--protocol",
        default="auto",
        choices=("auto", "semeval2014", "none"),  # evaluation.protocol.PROTOCOL_CHOICES
        help="Also report the SemEval-2014 protocol metrics (category detection; polarity accuracy given the gold "
        "categories): auto = when the file is SemEval XML; semeval2014 = always; none = never.",
    )
    parser.add_argument("--output", default=None, help="Write the metrics JSON here.")
    parser.add_argument(
        "--evidence_gallery",
        default=None,
        help="Also write an HTML page of up to 25 wrong and 25 correct reviews with each aspect's evidence words "
        "(aspect attention; Integrated Gradients for other poolings, with the [attribution] extra).",
    )
    return parser


def show_progress(disabled: bool) -> bool:
    """A progress bar unless `--disable_tqdm` was given or stderr is not a terminal (a log file, a pipe)."""
    return not disabled and sys.stderr.isatty()


def load_trained(model_dir: str, *, validated: bool = False):
    """The model (eval mode) and tokenizer of a trained folder, with a clear error when it is not one (skipped
    when the caller has already run `validate_model_folder` on it: `validated=True`)."""
    from ..data.tokenization import load_tokenizer
    from ..hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment
    from ..registration import register_auto_classes

    path = Path(model_dir)
    if not validated:
        validate_model_folder(path, "--model")  # a clear error for anything that is not a usable saved model
    register_auto_classes()
    model = ViSoBertAbsaForAspectSentiment.from_pretrained(str(path))
    model.eval()
    check_finite(model, f"the model {model_dir}", "It cannot score anything: train it again (e.g. with a lower "
                 "--learning_rate, or --max_grad_norm 1.0).")  # fmt: skip
    tokenizer = load_tokenizer(str(path))
    vocabulary = model.config.text_config.vocab_size
    if len(tokenizer) > vocabulary:
        raise AbsaInputError(
            f"`--model` {model_dir}: its tokenizer has {len(tokenizer)} tokens but the encoder's embeddings hold "
            f"{vocabulary}; ids beyond them cannot be scored. Put back the tokenizer saved with this model."
        )
    return model, tokenizer


def _load_labelled(args: argparse.Namespace, config: Any) -> tuple[Any, Any]:
    """The labelled file read with the model's aspects, sentiments and label scheme (before any weight loads)."""
    from ..data.loading import load_absa_dataset, name_aspect_source
    from ..training.arguments import DataArguments

    try:
        return load_absa_dataset(
            {"test": args.file},
            format=args.format,
            aspects=list(config.aspects),
            sentiments=list(config.sentiments),
            label_scheme=config.label_scheme,
            text_column=args.text_column,
            label_aliases=DataArguments(label_aliases=args.label_aliases).alias_map(),
            others_policy=args.others_policy,
        )
    except AbsaInputError as error:
        raise name_aspect_source(error, f"those of the model {args.model}") from None


def _check_arguments(args: argparse.Namespace) -> None:
    """The arguments that can be checked before anything is read: sizes, aliases, the input and output paths."""
    from ..data.data_files import resolve_data_files
    from ..training.arguments import DataArguments

    check_positive(args.batch_size, "--batch_size")
    if args.threshold is not None:
        check_threshold(args.threshold)
    DataArguments(label_aliases=args.label_aliases).alias_map()  # valid JSON object, before anything is read
    resolve_data_files({"test": args.file})  # the file exists
    if args.output:
        check_output_file(args.output, [args.file, args.model])
    if args.evidence_gallery:
        check_output_file(args.evidence_gallery, [args.file, args.model, args.output], "--evidence_gallery")


def _evaluation_metrics(
    args: argparse.Namespace, config: Any, report: Any, probabilities: Any, predictions: Any, gold: Any, threshold: Any
) -> dict[str, Any]:
    """The metrics of `predictions`, plus the SemEval-2014 protocol when wanted and, for a model that detects
    aspects, its decision rule and the collapse warnings."""
    from ..data.label_schemes import describe_rule
    from ..evaluation.collapse import collapse_warnings
    from ..evaluation.metrics import compute_absa_metrics
    from ..evaluation.protocol import PROTOCOL_KEY, semeval2014_metrics, wants_protocol

    metrics = compute_absa_metrics(predictions, gold, list(config.aspects), config.label_scheme, config.sentiments)
    if wants_protocol(args.protocol, report):
        metrics[PROTOCOL_KEY] = semeval2014_metrics(
            probabilities, gold, config.sentiments, config.label_scheme, threshold
        )
    if config.can_detect_aspects:
        metrics["decision_rule"] = describe_rule(threshold, list(config.aspects))
        metrics["warnings"] = collapse_warnings(predictions, gold, Path(args.file).name, list(config.aspects))
    return metrics


def _print_metrics(report: Any, metrics: dict[str, Any]) -> None:
    """The dataset report, the metrics table, the protocol metrics when computed, and every warning."""
    from ..evaluation.protocol import PROTOCOL_KEY, format_protocol
    from ..evaluation.table import format_metrics_table

    print(report.format())
    print(format_metrics_table(metrics))
    if PROTOCOL_KEY in metrics:
        print(format_protocol(metrics[PROTOCOL_KEY]))
    for warning in metrics.get("warnings", []):
        print(f"WARNING: {warning}")


def main(argv: list[str]) -> int:
    import numpy as np

    from ..data.label_schemes import predictions_from_probabilities
    from ..evaluation.inference import predict_probabilities, resolve_max_length

    args = build_parser().parse_args(argv)
    _check_arguments(args)
    # the model folder's config (milliseconds), then the data, then the weights: bad input is found before long work
    folder_config = validate_model_folder(args.model, "--model")
    if args.evidence_gallery:
        _check_evidence_method(folder_config)
    datasets, report = _load_labelled(args, folder_config)
    model, tokenizer = load_trained(args.model, validated=True)
    config = model.config
    split = datasets["test"]
    max_length = resolve_max_length(args.max_length, config, tokenizer)
    probabilities = predict_probabilities(
        model, tokenizer, list(split["text"]), args.batch_size, max_length, progress=show_progress(args.disable_tqdm)
    )
    threshold = config.thresholds if args.threshold is None else args.threshold
    predictions = predictions_from_probabilities(probabilities, config.label_scheme, threshold)
    gold = np.asarray(split["gold"])
    metrics = _evaluation_metrics(args, config, report, probabilities, predictions, gold, threshold)
    _print_metrics(report, metrics)
    if args.output:
        write_json_atomic(args.output, metrics)
        print(f"metrics written to {args.output}")
    if args.evidence_gallery:
        from ..evidence.gallery import write_gallery

        call = {"max_length": max_length, **({} if args.threshold is None else {"threshold": args.threshold})}
        write_gallery(model, tokenizer, list(split["text"]), predictions, gold, args.evidence_gallery, **call)
        print(f"evidence gallery written to {args.evidence_gallery}")
    return 0


def _check_evidence_method(config: Any) -> None:
    """A gallery needs an evidence method: the aspect attention, or Captum for other poolings."""
    from ..evidence.gallery import evidence_method_for

    if evidence_method_for(config) is None:
        raise AbsaInputError(
            f"`--evidence_gallery`: this model's pooling {config.pooling!r} has no aspect attention, and Integrated "
            "Gradients needs Captum: pip install 'hf-visobert-absa[attribution]'."
        )
