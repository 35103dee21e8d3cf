"""Argument dataclasses of the `train`, `evaluate` and `predict` commands: one schema for CLI flags and YAML.

`ModelArguments` and `DataArguments` hold what the model and the data need; `AbsaTrainingArguments` is a
`transformers.TrainingArguments` with defaults suited to this task. `HfArgumentParser` turns the three into
command-line flags (`--label_scheme mentioned_only` or `--label-scheme mentioned_only`) and reads the same keys from YAML.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from transformers import HfArgumentParser, TrainingArguments

from ..errors import AbsaInputError
from ..hub.configuration_visobert_absa import RENAMED_CONTRASTIVE_MODES
from ..hub.labels_visobert_absa import RENAMED_LABEL_SCHEMES, current_name
from ..hub.windows_visobert_absa import MIN_MAX_LENGTH, max_length_problem
from .recipe import HOLDOUT_PERCENTAGE, MODEL_RECIPE, ORIGINAL_DESIGN, TRAINING_RECIPE

DEFAULT_ENCODER = "uitnlp/visobert"

#: How a CLI user names the files of each split when a folder does not say it unambiguously.
CLI_FILES_HINT = (
    "pass the files one by one with `--train_file`, `--validation_file` and `--test_file` instead of `--data_dir`"
)


@dataclass
class ModelArguments:
    """What builds the model: the encoder, the label scheme, the heads and the loss settings."""

    encoder: str = field(
        default=DEFAULT_ENCODER,
        metadata={"help": "Hub id or local folder of ANY pretrained AutoModel encoder (MLM checkpoints included)."},
    )
    model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Continue from a trained visobert_absa model folder instead of a fresh encoder."},
    )
    tokenizer: str | None = field(
        default=None, metadata={"help": "Tokenizer folder or Hub id; defaults to the encoder's / model's."}
    )
    original_design: bool = field(
        default=False,
        metadata={
            "help": "Reproduce the original design (absent_as_neutral labels, pooler pooling, soft_agreement "
            "contrastive, zero output bias); other fields override. Formerly --seed_preset (still read, with a warning)."
        },
    )
    label_scheme: str | None = field(
        default=None, metadata={"help": "absent_as_class (default), absent_as_neutral, or mentioned_only."}
    )
    pooling: str | None = field(
        default=None,
        metadata={
            "help": "aspect_query (default: one learned query per aspect), cls, mean, pooler or "
            "aspect_prompt (one learned input vector per aspect after the first token)."
        },
    )
    aspect_query_heads: int | None = field(
        default=None,
        metadata={"help": "With --pooling aspect_query: heads per aspect query (1; a divisor of the encoder's width)."},
    )
    aspect_prompt_init: str | None = field(
        default=None,
        metadata={
            "help": "With --pooling aspect_prompt: names (default; each prompt starts as the mean embedding of "
            "its aspect name's words) or random."
        },
    )
    classifier_bias_init: str | None = field(
        default=None,
        metadata={
            "help": "priors (default; output bias = log of the training class frequencies per aspect) or zeros "
            "(the default with --original_design)."
        },
    )
    head_hidden_size: int | None = field(default=None, metadata={"help": "Classification head width (512)."})
    classifier_dropout: float | None = field(default=None, metadata={"help": "Head dropout (0.3)."})
    projection_dim: int | None = field(default=None, metadata={"help": "Contrastive embedding size (256)."})
    focal_gamma: float | None = field(default=None, metadata={"help": "Focal gamma (2.0); 0 = cross-entropy."})
    focal_alpha: str | None = field(
        default=None,
        metadata={"help": "'balanced' (per-aspect class weights from the training split) or a JSON list [C] / [A][C]."},
    )
    contrastive_temperature: float | None = field(default=None, metadata={"help": "Temperature (0.1)."})
    contrastive_mode: str | None = field(
        default=None,
        metadata={
            "help": "aspect_sentiment (default with an aspect pooling: over each mentioned aspect's own embedding) or, "
            "over review embeddings, mulsupcon (the default with other poolings), jaccard, any, exact or soft_agreement."
        },
    )
    focal_weight: float | None = field(default=None, metadata={"help": "Weight of the focal term (0.8)."})
    contrastive_weight: float | None = field(default=None, metadata={"help": "Weight of the contrastive term (0.2)."})
    contrastive_across_devices: bool = field(
        default=False, metadata={"help": "Under DDP, contrast against the embeddings of every rank."}
    )
    trust_remote_code: bool = field(default=False, metadata={"help": "Allow custom code of the encoder's repo."})

    def __post_init__(self) -> None:
        # old names of the original design's scheme and loss (`seed`) read as today's, with a FutureWarning
        self.label_scheme = current_name("label_scheme", self.label_scheme, RENAMED_LABEL_SCHEMES)
        self.contrastive_mode = current_name("contrastive_mode", self.contrastive_mode, RENAMED_CONTRASTIVE_MODES)

    def resolved_pooling(self) -> str:
        """The pooling the model will use: the flag's, else the original design's (`--original_design`), else the
        recipe's."""
        if self.pooling is not None:
            return self.pooling
        return "pooler" if self.original_design else MODEL_RECIPE["pooling"]

    def bias_init(self) -> str:
        """`classifier_bias_init` as given, else the recipe's (`priors`) or, with `--original_design`, `zeros`."""
        if self.classifier_bias_init is not None:
            return self.classifier_bias_init
        source = ORIGINAL_DESIGN if self.original_design else MODEL_RECIPE
        return source["classifier_bias_init"]

    def config_overrides(self) -> dict[str, Any]:
        """The `ViSoBertAbsaConfig` fields given explicitly (None = keep the default or the preset)."""
        names = (
            "label_scheme",
            "pooling",
            "aspect_query_heads",
            "head_hidden_size",
            "classifier_dropout",
            "projection_dim",
            "focal_gamma",
            "contrastive_temperature",
            "contrastive_mode",
            "focal_weight",
            "contrastive_weight",
        )
        overrides = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.contrastive_across_devices:
            overrides["contrastive_across_devices"] = True
        if self.focal_alpha not in (None, "balanced"):
            try:
                overrides["focal_alpha"] = json.loads(self.focal_alpha)
            except json.JSONDecodeError as error:
                raise AbsaInputError(
                    f"`--focal_alpha` got {self.focal_alpha!r}; allowed: 'balanced' or a JSON list such as "
                    f"'[1.0, 2.0, 2.0, 3.0]'. ({error})"
                ) from None
        return overrides


@dataclass
class DataArguments:
    """Where the reviews are and how to read them."""

    train_file: str | None = field(
        default=None, metadata={"help": "Training file (CSV, UIT-ViSFD CSV, JSONL or SemEval XML)."}
    )
    validation_file: str | None = field(default=None, metadata={"help": "Validation file (model selection)."})
    test_file: str | None = field(default=None, metadata={"help": "Test file: scored once at the end."})
    data_dir: str | None = field(
        default=None, metadata={"help": "Folder with train/validation(dev)/test files, instead of the three flags."}
    )
    format: str = field(
        default="auto", metadata={"help": "auto, wide_words, wide_int, uit_visfd, jsonl or semeval_xml."}
    )
    text_column: str | None = field(default=None, metadata={"help": "Name of the text column (auto-detected)."})
    aspects: str | None = field(
        default=None,
        metadata={"help": "Aspect names (default: the data's): comma-separated, or a JSON list for names with commas."},
    )
    sentiments: str | None = field(
        default=None,
        metadata={
            "help": "Sentiment set in class order, comma-separated or a JSON list (default positive,negative,neutral; "
            "SemEval-2014: positive,negative,neutral,conflict). A continued model keeps its own."
        },
    )
    label_aliases: str | None = field(
        default=None, metadata={"help": 'JSON object mapping misspelt labels, e.g. \'{"Posititve": "positive"}\'.'}
    )
    others_policy: str = field(
        default="neutral", metadata={"help": "UIT-ViSFD {OTHERS} tag without polarity: neutral, drop or error."}
    )
    drop_problems: bool = field(
        default=False,
        metadata={"help": "Drop empty texts, duplicates, rows with no aspect and texts shared with train (counted)."},
    )
    validation_split_percentage: float | None = field(
        default=None,
        metadata={
            "help": f"Hold out this percentage of the training file as validation (seeded random sample) for model "
            f"selection; default {HOLDOUT_PERCENTAGE:g} when no validation file is given, 0 to train on every row without "
            "selection; recorded in dataset_report.json."
        },
    )
    validation_split_seed: int = field(default=42, metadata={"help": "Seed of the held-out validation sample."})
    protocol: str = field(
        default="auto",
        metadata={
            "help": "SemEval-2014 protocol metrics in the final report: auto (when the data is SemEval XML), "
            "semeval2014 (always) or none."
        },
    )
    max_length: int = field(
        default=256,
        metadata={
            "help": f"Truncate reviews to this many tokens ({MIN_MAX_LENGTH} up to what the encoder's positions allow); "
            "stored with the model as the default of evaluate, predict and the pipeline."
        },
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training rows."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use only the first N validation rows."})
    max_test_samples: int | None = field(default=None, metadata={"help": "Use only the first N test rows."})

    def __post_init__(self) -> None:
        problem = max_length_problem(self.max_length, "--max_length")
        if problem is not None:
            raise AbsaInputError(problem)

    def data_files(self) -> dict[str, str] | str:
        files = {
            split: path
            for split, path in (
                ("train", self.train_file),
                ("validation", self.validation_file),
                ("test", self.test_file),
            )
            if path
        }
        if self.data_dir and files:
            raise AbsaInputError("Give either `--data_dir` or `--train_file/--validation_file/--test_file`, not both.")
        if self.data_dir:
            from ..data.data_files import resolve_data_files

            folder_files, _ = resolve_data_files(self.data_dir, hint=CLI_FILES_HINT)
            return {split: str(path) for split, path in folder_files.items()}
        if not files:
            raise AbsaInputError(
                "No data given. Pass `--data_dir FOLDER` (with train/validation/test files) or `--train_file FILE` "
                "(and optionally `--validation_file`, `--test_file`)."
            )
        return files

    def aspect_list(self) -> list[str] | None:
        return _name_list(self.aspects, "--aspects")

    def sentiment_list(self) -> list[str] | None:
        return _name_list(self.sentiments, "--sentiments")

    def alias_map(self) -> dict[str, str] | None:
        if not self.label_aliases:
            return None
        try:
            aliases = json.loads(self.label_aliases)
        except json.JSONDecodeError:
            aliases = None
        if not isinstance(aliases, dict):
            raise AbsaInputError(
                f"`--label_aliases` got {self.label_aliases!r}; allowed: a JSON object such as "
                '\'{"Posititve": "positive"}\'.'
            )
        return aliases


def _name_list(value: str | None, flag: str) -> list[str] | None:
    """`a,b,c` or a JSON list `["a, b", "c"]` (what a YAML list becomes) -> names; `None` when not given."""
    if not value:
        return None
    if value.lstrip().startswith("["):
        try:
            names = json.loads(value)
        except json.JSONDecodeError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AbsaInputError(f"`{flag}` got {value!r}; allowed: comma-separated names or a JSON list of strings.")
        return names
    return [name.strip() for name in value.split(",") if name.strip()]


@dataclass
class AbsaTrainingArguments(TrainingArguments):
    """`TrainingArguments` with defaults for aspect-sentiment training and `--resume`."""

    output_dir: str | None = field(default=None, metadata={"help": "Where checkpoints, the best model and reports go."})
    eval_strategy: str = field(default="epoch", metadata={"help": "When to evaluate: no, steps or epoch."})
    save_strategy: str = field(default="epoch", metadata={"help": "When to save a checkpoint: no, steps or epoch."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Keep at most this many checkpoints."})
    load_best_model_at_end: bool = field(
        default=TRAINING_RECIPE["load_best_model_at_end"], metadata={"help": "Keep the best checkpoint as the model."}
    )
    metric_for_best_model: str | None = field(
        default=TRAINING_RECIPE["metric_for_best_model"], metadata={"help": "Metric that picks the best checkpoint."}
    )
    greater_is_better: bool | None = field(default=True, metadata={"help": "Whether a larger metric is better."})
    learning_rate: float = field(
        default=TRAINING_RECIPE["learning_rate"], metadata={"help": "Peak learning rate of AdamW (the encoder's)."}
    )
    num_train_epochs: float = field(default=TRAINING_RECIPE["num_train_epochs"], metadata={"help": "Epochs."})
    per_device_train_batch_size: int = field(
        default=TRAINING_RECIPE["per_device_train_batch_size"],
        metadata={"help": "Batch size (also the contrastive batch)."},
    )
    min_train_steps: int = field(
        default=TRAINING_RECIPE["min_train_steps"],
        metadata={
            "help": "Short budgets: while the run would make fewer optimisation steps than this, the batch size is "
            "halved (not below 16); 0 = keep the batch size as given."
        },
    )
    large_data_rows: int = field(
        default=TRAINING_RECIPE["large_data_rows"],
        metadata={
            "help": "Large training sets: from this many training rows, a run that keeps the recipe's epochs trains "
            "for --large_data_epochs instead; 0 = off."
        },
    )
    large_data_epochs: float = field(
        default=TRAINING_RECIPE["large_data_epochs"],
        metadata={"help": "The epochs of a run on at least --large_data_rows training rows (see there)."},
    )
    per_device_eval_batch_size: int = field(default=64, metadata={"help": "Evaluation batch size."})
    warmup_ratio: float = field(
        default=TRAINING_RECIPE["warmup_ratio"], metadata={"help": "Share of steps with a linear warm-up."}
    )
    weight_decay: float = field(default=TRAINING_RECIPE["weight_decay"], metadata={"help": "AdamW weight decay."})
    train_sampling_strategy: str = field(
        default=TRAINING_RECIPE["train_sampling_strategy"],
        metadata={
            "help": "group_by_length (default: batches of similar lengths, little padding), random or sequential."
        },
    )
    logging_steps: float = field(default=10, metadata={"help": "Log every N steps."})
    resume: bool = field(
        default=False, metadata={"help": "Continue from the last complete checkpoint in --output_dir, if any."}
    )
    head_learning_rate: float | None = field(
        default=TRAINING_RECIPE["head_learning_rate"],
        metadata={
            "help": "Peak learning rate of the randomly initialised heads (1e-3; pass the --learning_rate value "
            "for one rate everywhere)."
        },
    )
    layer_lr_decay: float | None = field(
        default=None,
        metadata={
            "help": "Layer-wise learning-rate decay in (0, 1]: each encoder layer gets this times the rate of "
            "the layer above (the top layer keeps --learning_rate; default: one rate for the whole encoder)."
        },
    )
    early_stopping_patience: int | None = field(
        default=None, metadata={"help": "Stop after this many evaluations without improving the selection metric."}
    )
    calibrate_thresholds: str = field(
        default="auto",
        metadata={
            "help": "Tune per-aspect P(none) thresholds on validation for the selection metric (all aspects "
            "together; an aspect keeps the default rule unless it helps; saved in the config): auto (default: "
            "only when the default rule's validation mentions are outside 0.8-1.25x the gold ones), true (always; the bare flag means true) or false (never).",
            "nargs": "?",
            "const": "true",
        },
    )

    refit_after_selection: str = field(
        default=TRAINING_RECIPE["refit_after_selection"],
        metadata={
            "help": "After the best epoch is picked on rows held out from the training file, train again from the "
            "same initial weights on every row (for --refit_epochs) and save that model: auto (default: only with "
            "the recipe's own hold-out and fewer than 5,000 training rows), true (whenever the validation rows were "
            "held out from the training file; the bare flag means true) or false (keep the selected model).",
            "nargs": "?",
            "const": "true",
        },
    )

    refit_epochs: str = field(
        default=TRAINING_RECIPE["refit_epochs"],
        metadata={
            "help": "How long the refit trains: all (default: the whole budget, like the selection run) or "
            "selected (up to the epoch picked on the hold-out)."
        },
    )

    def __post_init__(self) -> None:
        from .refit import check_refit_epochs

        require_output_dir(self.output_dir)
        self.calibrate_thresholds = auto_true_false(self.calibrate_thresholds, "--calibrate_thresholds")
        self.refit_after_selection = auto_true_false(self.refit_after_selection, "--refit_after_selection")
        check_refit_epochs(self.refit_epochs)
        super().__post_init__()
        if self.dataloader_pin_memory and not _has_accelerator():
            self.dataloader_pin_memory = False  # pinning needs an accelerator; torch warns on every CPU run


def require_output_dir(output_dir: str | None) -> None:
    """Refuse a run without `--output_dir` (TrainingArguments would fall back to ./trainer_output and start a full
    run there).

    Raises:
        AbsaInputError: `output_dir` is empty; the message shows the flag to pass.
    """
    if not output_dir:
        raise AbsaInputError(
            "`--output_dir` is required: checkpoints, the model and the reports go there. Pass e.g. "
            "`--output_dir runs/my_model`."
        )


#: Values of an auto / true / false flag (`--calibrate_thresholds`, `--refit_after_selection`): auto, or what
#: `HfArgumentParser` and YAML accept for true / false.
AUTO_TRUE_FALSE = {
    "auto": "auto",
    "true": "true",
    "yes": "true",
    "1": "true",
    "false": "false",
    "no": "false",
    "0": "false",
}


def auto_true_false(value: Any, flag: str) -> str:
    """`auto`, `true` or `false` from a flag, a YAML value or a Python bool.

    Raises:
        AbsaInputError: naming `flag`, the value and what is allowed.
    """
    key = str(value).strip().lower()
    if key not in AUTO_TRUE_FALSE:
        raise AbsaInputError(f"`{flag}` got {value!r}; allowed: auto (default), true or false (e.g. {flag} false).")
    return AUTO_TRUE_FALSE[key]


def _has_accelerator() -> bool:
    import torch

    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None and hasattr(accelerator, "is_available"):
        return bool(accelerator.is_available())
    return torch.cuda.is_available()


class _UniqueKeyLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a key given twice in one mapping (plain YAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice; keep one", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def build_parser(dataclasses: tuple, description: str, epilog: str) -> HfArgumentParser:
    import argparse

    parser = HfArgumentParser(
        dataclasses, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=str, default=None, help="YAML file with any of these keys; flags override it.")
    return parser


#: Flags (and YAML keys) under the names older versions took, mapped to today's: read with a `FutureWarning`.
RENAMED_FLAGS: dict[str, str] = {"seed_preset": "original_design"}


def current_flag(name: str) -> str:
    """A flag or YAML key (`seed_preset`, `--seed_preset`, `--seed-preset=true`) under today's name, with a
    `FutureWarning` when it is an old one; any other `name` is returned as it is."""
    dashes = "--" if name.startswith("--") else ""
    key, equals, value = name[len(dashes) :].partition("=")
    new = RENAMED_FLAGS.get(key.replace("-", "_"))
    if new is None:
        return name
    warnings.warn(
        f"`{dashes}{key}` is a deprecated name; read as `{dashes}{new}`. Write `{dashes}{new}` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return f"{dashes}{new}{equals}{value}"


def parse_with_yaml(parser: HfArgumentParser, argv: list[str]) -> tuple:
    """Parse `argv`; `--config FILE.yaml` supplies defaults that explicit flags override. Old flag names
    ([`RENAMED_FLAGS`]) are read as today's, with a `FutureWarning`."""
    argv = [current_flag(arg) if arg.startswith("--") else arg for arg in argv]
    config_path = None
    if "--config" in argv:
        index = argv.index("--config")
        if index + 1 >= len(argv):
            raise AbsaInputError("`--config` needs a YAML file path.")
        config_path = argv[index + 1]
        del argv[index : index + 2]
    prefix: list[str] = []
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            state = "is a folder" if path.is_dir() else "does not exist"
            raise AbsaInputError(f"`--config` file {config_path} {state}; pass a YAML file.")
        try:
            values = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}  # noqa: S506 - safe
        except UnicodeDecodeError as error:
            raise AbsaInputError(
                f"`--config` file {config_path} is not UTF-8 text (byte {error.start}); pass a YAML file."
            ) from None
        except yaml.YAMLError as error:
            mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            detail = " ".join(str(problem or error).split())  # one line
            raise AbsaInputError(f"`--config` file {config_path} is not valid YAML: {where}{detail}.") from None
        if not isinstance(values, dict):
            raise AbsaInputError(f"`--config` file {config_path} must hold a mapping of argument names to values.")
        values = {current_flag(key) if isinstance(key, str) else key: value for key, value in values.items()}
        known = {action.dest for action in parser._actions}
        unknown = sorted(set(values) - known)
        if unknown:
            raise AbsaInputError(
                f"`--config` file {config_path} has unknown keys {unknown}; run with --help for the allowed names."
            )
        for key, value in values.items():
            if isinstance(value, bool):
                prefix += [f"--{key}", str(value)]
            elif isinstance(value, (list, dict)):
                prefix += [f"--{key}", json.dumps(value)]
            elif value is not None:
                prefix += [f"--{key}", str(value)]
    try:
        *parsed, remaining = parser.parse_args_into_dataclasses(args=prefix + argv, return_remaining_strings=True)
    except AbsaInputError:
        raise
    except ValueError as error:  # TrainingArguments' own checks of incompatible values
        raise AbsaInputError(f"invalid arguments: {error}") from None
    if remaining:
        raise AbsaInputError(f"unknown arguments {remaining}; run with --help for the allowed flags.")
    return tuple(p for p in parsed if not hasattr(p, "config"))


__all__ = [
    "DEFAULT_ENCODER",
    "AbsaTrainingArguments",
    "DataArguments",
    "ModelArguments",
    "RENAMED_FLAGS",
    "build_parser",
    "current_flag",
    "parse_with_yaml",
    "require_output_dir",
]
