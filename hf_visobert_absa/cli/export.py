"""`hf-visobert-absa export CHECKPOINT OUT_DIR`: stage a Hub-ready folder and verify it in a clean process."""

from __future__ import annotations

import argparse
import json

from ..publishing.model_card import card_summary

EXAMPLES = """examples:
  # stage and verify the model of a run (`hf-visobert-absa train --output_dir runs/phone` wrote runs/phone/model)
  hf-visobert-absa export runs/phone/model exported/phone

  # the same, with what the model card should say
  hf-visobert-absa export runs/phone/model exported/phone --repo-id my-org/visobert-absa-phone \\
      --dataset phone_reviews --license apache-2.0

  # then load it the way a Hub user will
  python -c "from transformers import pipeline; \\
      print(pipeline(model='exported/phone', trust_remote_code=True)('Pin trâu, camera đẹp'))"

The folder gets config.json (auto_map + custom_pipelines), model.safetensors, the code files, the tokenizer,
README.md (the model card) and the run's metrics JSON; nothing else from the run folder travels
(no training_args.bin, optimizer, RNG state or other pickles). A checkpoint with only pytorch_model.bin is
refused. The folder is then loaded in a clean Python process (fresh HF_HOME, offline, this package not
importable) whose logits and pipeline outputs must match the in-process ones (numbers within a tolerance of 1e-4).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-visobert-absa export",
        description="Stage a Hub-ready model folder from a training run and verify it in a clean process.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "checkpoint",
        help="model folder (config.json, model.safetensors, tokenizer files), e.g. train's <output_dir>/model",
    )
    parser.add_argument("out_dir", help="new or empty folder to write")
    parser.add_argument("--repo-id", help="ORG/NAME the model will be published as (shown in the card's usage example)")
    parser.add_argument("--model-name", help="title of the model card (default: the repo or folder name)")
    parser.add_argument(
        "--dataset",
        help="training data: 'phone_reviews' or 'uit_visfd' (described and cited in the card) or a Hub dataset id",
    )
    parser.add_argument("--dataset-split", default="test", help="split the metrics were computed on (default: test)")
    parser.add_argument(
        "--base-model",
        help="base model Hub id for the card (default: the config's base_model_name_or_path, if a Hub id)",
    )
    parser.add_argument(
        "--language", help="ISO 639-1 code for the card (default: the one training detected in its data)"
    )
    parser.add_argument("--license", help="licence identifier for the card, e.g. apache-2.0 (default: none stated)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str]) -> int:
    """Run the command; returns the exit code (bad input raises `AbsaInputError`, exit 2 in the CLI)."""
    from ..publishing.export import export_model

    args = build_parser().parse_args(argv)
    result = export_model(
        args.checkpoint,
        args.out_dir,
        repo_id=args.repo_id,
        model_name=args.model_name,
        dataset=args.dataset,
        dataset_split=args.dataset_split,
        base_model=args.base_model,
        license=args.license,
        language=args.language,
    )
    if args.json:
        print(
            json.dumps(
                {"out_dir": str(result.out_dir), "files": result.files, "verification": result.verification}, indent=2
            )
        )
        return 0
    print(f"exported to {result.out_dir}:")
    for name in result.files:
        print(f"  {name}")
    print(card_summary(result.card))
    diffs = ", ".join(f"{k} {v}" for k, v in result.verification["logits_max_abs_diff"].items())
    print(
        f"verified in a clean process: logits max abs diff {diffs}; pipeline labels equal, scores within {result.verification['tolerance']:g}"
    )
    return 0
