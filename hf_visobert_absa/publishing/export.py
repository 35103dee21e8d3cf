"""Stage a Hub-ready folder from a training run, then prove it works in a clean process.

The staged folder holds exactly what a model repository needs — `config.json` (with `auto_map` for AutoConfig,
AutoModel and AutoModelForSequenceClassification, and `custom_pipelines`), `model.safetensors`, the code files,
the tokenizer files, `README.md` (the model card) and the run's metrics JSON — and an allow-list enforces it:
no `training_args.bin`, no optimizer or RNG state, no pickles, no data files. The folder is then loaded in a
clean Python process (see `verify`) through every public entry point, whose token ids, logits and
pipeline outputs must match the in-process ones (labels and token ids equal, numbers within `VERIFY_TOLERANCE`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data.tokenization import TOKENIZER_FILES
from ..errors import AbsaInputError
from ..model_folder import save_tokenizer, validate_model_folder
from .card_facts import read_training_data
from .card_metrics import load_metrics
from .hub_files import CODE_FILES
from .model_card import render_model_card
from .verify import clean_process_report, max_abs_diff

logger = logging.getLogger(__name__)

#: Files a run folder may carry besides the model; read for the card, never staged.
METRICS_FILES = ("metrics.json", "test_results.json", "eval_results.json", "all_results.json")
#: Every file name an exported folder may hold (plus weight shards and the code files, checked by pattern/name).
ALLOWED_FILES = frozenset(
    {"config.json", "model.safetensors", "model.safetensors.index.json", "README.md", *TOKENIZER_FILES, *METRICS_FILES}
)
_SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")

#: Probe reviews for the clean-process check (the last one is long enough to need several small windows).
PROBE_TEXTS = [
    "Pin trâu, camera chụp đẹp nhưng giao hàng hơi chậm.",
    "Máy mạnh, màn hình sáng, giá rẻ.",
    "shop tư vấn nhiệt tình, đóng gói cẩn thận, rất hài lòng",
    " ".join(["pin yếu máy chậm lag camera xấu màn hình tối giá đắt"] * 6),
]
#: Largest absolute difference allowed between in-process and clean-process logits and pipeline scores. Two
#: processes may run different thread counts, so BLAS splits reductions differently and the last bits of a float32
#: logit move (measured: about 2e-9); a real difference (other weights, other code) is orders of magnitude larger.
VERIFY_TOLERANCE = 1e-4
PROBE_CALLS: list[dict[str, Any]] = [
    {},
    {"return_all_aspects": True, "top_k": None},
    {"output_format": "flat", "top_k": 2, "batch_size": 2},
    {"long_text": "chunk", "max_length": 16, "stride": 4, "return_all_aspects": True},
]


class ExportError(RuntimeError):
    """The staged folder broke the allow-list or did not reproduce the model in a clean process."""


@dataclass
class ExportResult:
    """What [`export_model`] produced: the folder, its files, the card and the clean-process report."""

    out_dir: Path
    files: list[str]
    card: Any
    verification: dict[str, Any] = field(default_factory=dict)


def inspect_checkpoint(checkpoint: str | Path) -> dict[str, Any]:
    """Check that `checkpoint` is a usable saved visobert_absa model (see
    [`~hf_visobert_absa.model_folder.validate_model_folder`], the one check every command shares) and return its
    `config.json` as a dict.

    Raises:
        AbsaInputError: the folder is missing, is not a visobert_absa model, lacks a defining config field, has
            only pickled (`pytorch_model.bin`), empty or truncated weights, weights that disagree with the config,
            or no tokenizer files.
    """
    validate_model_folder(checkpoint, "checkpoint")
    return json.loads((Path(checkpoint) / "config.json").read_text(encoding="utf-8"))


def read_training_info(checkpoint: str | Path) -> tuple[dict[str, Any], str | None]:
    """Hyper-parameters recorded in the run folder (JSON only; `training_args.bin` is never unpickled)."""
    folder = Path(checkpoint)
    keys = (
        "learning_rate",
        "num_train_epochs",
        "max_steps",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "warmup_ratio",
        "warmup_steps",
        "weight_decay",
        "lr_scheduler_type",
        "max_grad_norm",
        "optim",
        "seed",
        "fp16",
        "bf16",
        "max_length",
        "label_scheme",
        "max_train_samples",
        "max_eval_samples",
        "max_test_samples",
        "refit",
    )
    args_path = folder / "training_args.json"
    if args_path.is_file():
        args = json.loads(args_path.read_text(encoding="utf-8"))
        return {k: args[k] for k in keys if k in args and args[k] not in (None, -1)}, args_path.name
    state_path = folder / "trainer_state.json"
    if state_path.is_file():
        state = json.loads(state_path.read_text(encoding="utf-8"))
        picked = {
            k: state[k] for k in ("num_train_epochs", "train_batch_size", "global_step", "max_steps") if k in state
        }
        return picked, state_path.name
    return {}, None


def check_allowed_files(folder: str | Path) -> list[str]:
    """Return the folder's file names, or raise [`ExportError`] naming every file that may not travel."""
    names = sorted(p.name for p in Path(folder).iterdir())
    stray = [
        name
        for name in names
        if not (Path(folder) / name).is_file()
        or not (name in ALLOWED_FILES or name in CODE_FILES or _SHARD.fullmatch(name))
    ]
    if stray:
        raise ExportError(
            f"The staged folder holds files outside the allow-list: {stray}. Only the config, safetensors weights, "
            f"code files {sorted(CODE_FILES)}, tokenizer files, README.md and the metrics JSON may travel."
        )
    return names


def _load_tokenizer(checkpoint: Path) -> Any:
    # `load_tokenizer` handles ViSoBERT's BPE tokenizer under transformers 5, and what it returns saves files that a
    # plain `AutoTokenizer.from_pretrained(OUT_DIR)` loads (the clean-process check proves it for each export).
    from ..data.tokenization import load_tokenizer

    return load_tokenizer(checkpoint)


def in_process_report(pipe: Any, texts: list[str]) -> dict[str, Any]:
    from transformers import TextClassificationPipeline

    from ..hub.modeling_visobert_absa import ViSoBertAbsaForSequenceClassification
    from ..registration import register_auto_classes

    register_auto_classes()  # transformers' text-classification pipeline then knows the class (no log noise)
    tokenizer, model = pipe.tokenizer, pipe.model
    flat_model = ViSoBertAbsaForSequenceClassification(model.config).eval()
    flat_model.load_state_dict(model.state_dict())
    with torch.no_grad():
        encoded = [tokenizer(t, return_tensors="pt", truncation=True) for t in texts]
        logits = [model(**inputs).logits[0].tolist() for inputs in encoded]
        flat_logits = [flat_model(**inputs).logits[0].tolist() for inputs in encoded]
    outputs = [pipe(texts, **kwargs) for kwargs in PROBE_CALLS]
    text_classification = TextClassificationPipeline(model=flat_model, tokenizer=tokenizer, device="cpu")
    return {
        "input_ids": [tokenizer(t)["input_ids"] for t in texts],
        "logits": {"AutoModel": logits, "AutoModelForSequenceClassification": flat_logits},
        "pipeline": json.loads(json.dumps(outputs)),
        "text_classification": json.loads(json.dumps(text_classification(texts, top_k=None))),
    }


def compare_reports(report: dict[str, Any], expected: dict[str, Any]) -> tuple[list[str], dict[str, float]]:
    """Compare a clean-process report with the in-process results: the problems found (empty when the folder
    reproduces the model within `VERIFY_TOLERANCE`) and the largest logit difference per auto class."""
    problems = []
    if report["package_importable"]:
        problems.append("hf_visobert_absa was importable in the clean process")
    for key in ("config_class", "AutoModel", "AutoModelForSequenceClassification", "pipeline_class"):
        cls = report[key]["class"] if isinstance(report[key], dict) else report[key]
        if not cls.startswith("transformers_modules."):
            problems.append(f"{key} came from {cls}, not from the folder's code")
    if report["input_ids"] != expected["input_ids"]:
        problems.append("the tokenizer gives different token ids")
    names = ("AutoModel", "AutoModelForSequenceClassification")
    diffs = {name: max_abs_diff(report[name]["logits"], expected["logits"][name]) for name in names}
    problems += [
        f"{name} logits differ (max abs diff {diff:.3g} > tolerance {VERIFY_TOLERANCE:g})"
        for name, diff in diffs.items()
        if not diff <= VERIFY_TOLERANCE
    ]
    for name in ("by_task", "inferred"):
        diff = max_abs_diff(report["pipeline"][name], expected["pipeline"])
        if not diff <= VERIFY_TOLERANCE:
            what = "labels or structure differ" if diff == float("inf") else f"max abs score diff {diff:.3g}"
            problems.append(
                f"pipeline ({name.replace('_', ' ')}) outputs differ from the in-process pipeline ({what}; "
                f"tolerance {VERIFY_TOLERANCE:g})"
            )
    if not max_abs_diff(report["text_classification"], expected["text_classification"]) <= VERIFY_TOLERANCE:
        problems.append("pipeline('text-classification') outputs differ from the in-process text-classification view")
    if report["AutoModel"]["training"]:
        problems.append("the loaded model is in training mode")
    return problems, diffs


def verify_folder(folder: Path, expected: dict[str, Any], *, timeout: float = 300) -> dict[str, Any]:
    """Load `folder` in a clean process and compare with `expected` (from [`in_process_report`]); raise
    [`ExportError`] on any difference. Returns a summary of what was checked."""
    from ..hub.pipeline_visobert_absa import TASK

    report = clean_process_report(folder, PROBE_TEXTS, PROBE_CALLS, task=TASK, timeout=timeout)
    problems, diffs = compare_reports(report, expected)
    if problems:
        raise ExportError(f"Verification of {folder} in a clean process failed: " + "; ".join(problems) + ".")
    return {
        "logits_max_abs_diff": diffs,
        "pipeline_outputs_equal": True,  # labels equal, scores within VERIFY_TOLERANCE
        "tolerance": VERIFY_TOLERANCE,
        "pipeline_inferred_task": report["pipeline_inferred_task"],
        "package_visible_on_path": report["package_visible_on_path"],
        "package_importable": report["package_importable"],
        "classes": {
            k: (report[k]["class"] if isinstance(report[k], dict) else report[k])
            for k in ("config_class", "AutoModel", "pipeline_class")
        },
        "tokenizer_class": report["tokenizer_class"],
        "transformers_version": report["transformers_version"],
        "probe_texts": len(PROBE_TEXTS),
        "pipeline_calls": len(PROBE_CALLS),
    }


@dataclass
class CardOptions:
    """What the model card says beyond the run's own records (see [`render_model_card`])."""

    repo_id: str | None = None
    model_name: str | None = None
    dataset: str | None = None
    dataset_split: str = "test"
    base_model: str | None = None
    license: str | None = None
    language: str | None = None
    exported_with: dict[str, str] | None = None


#: A Hub dataset id: `name` or `org/name` (letters, digits, `-`, `_`, `.`).
_DATASET_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


def check_dataset_name(dataset: str | None) -> None:
    """`--dataset`: a data set the card knows (described and cited) or a Hub dataset id; anything else is refused,
    since the card's metadata links it."""
    from .card_references import KNOWN_DATASETS

    if dataset is None or dataset in KNOWN_DATASETS or _DATASET_ID.fullmatch(dataset):
        return
    raise AbsaInputError(
        f"`--dataset` got {dataset!r}; allowed: {', '.join(sorted(KNOWN_DATASETS))} (described and cited in the card) "
        "or a Hub dataset id such as 'org/name'."
    )


def export_model(
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    repo_id: str | None = None,
    model_name: str | None = None,
    dataset: str | None = None,
    dataset_split: str = "test",
    base_model: str | None = None,
    license: str | None = None,
    language: str | None = None,
    verify: bool = True,
    exported_with: dict[str, str] | None = None,
) -> ExportResult:
    r"""Stage `checkpoint` into `out_dir` as a Hub-ready model folder and verify it in a clean process.

    The folder is written by the one save path every model folder of this package goes through
    (`ViSoBertAbsaForAspectSentiment.save_pretrained` + the tokenizer); the export adds only the model card, the run's metrics
    JSON and the allow-list check.

    Args:
        checkpoint (`str` or `Path`): a model folder with config.json, model.safetensors and tokenizer files, such
            as `train`'s `<output_dir>/model` (other run files there are read for the card, never copied except
            the metrics JSON).
        out_dir (`str` or `Path`): a new or empty folder; it is written only once verification passed.
        repo_id, model_name, dataset, dataset_split, base_model, license, language: shown in the model card
            (see [`render_model_card`]).
        verify (`bool`, defaults to `True`): run the clean-process check (tests of staging alone turn it off).
        exported_with (`dict`, *optional*): library versions to print in the card; defaults to the running ones.

    Returns:
        [`ExportResult`].

    Raises:
        AbsaInputError: the checkpoint is unusable or `out_dir` is not empty (message says how to fix it).
        ExportError: the staged folder broke the allow-list or did not reproduce the model.

    Example:

    ```python
    >>> result = export_model("runs/phone/model", "exported/phone", repo_id="my-org/visobert-absa-phone", dataset="phone_reviews")
    >>> result.files
    ['README.md', 'config.json', 'configuration_visobert_absa.py', ...]
    ```
    """
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    check_dataset_name(dataset)
    inspect_checkpoint(checkpoint)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise AbsaInputError(
            f"{out_dir} exists and is not an empty folder; the export never overwrites. Pass a new folder."
        )
    options = CardOptions(repo_id, model_name, dataset, dataset_split, base_model, license, language, exported_with)
    pipe = _load_pipeline(checkpoint)
    staging = _new_staging_folder(out_dir)
    try:
        card, files = _stage(checkpoint, staging, pipe, options)
        verification = {}
        if verify:
            expected = in_process_report(pipe, PROBE_TEXTS)
            verification = verify_folder(staging, expected)
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
        _owner_file(staging).unlink(missing_ok=True)
    logger.info("Exported %s to %s (%d files)", checkpoint, out_dir, len(files))
    return ExportResult(out_dir=out_dir, files=files, card=card, verification=verification)


def _owner_file(staging: Path) -> Path:
    """The file beside a staging folder that names the process writing it (never inside: the folder is exported)."""
    return staging.with_name(staging.name + ".pid")


def _new_staging_folder(out_dir: Path) -> Path:
    """A fresh staging folder beside `out_dir`, after removing the ones earlier exports to `out_dir` left when they
    were killed (their process is gone); a folder that cannot be written is one line, exit 2."""
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.parent.glob(f".{out_dir.name}.staging-*"):
            if stale.is_dir() and not _process_alive(_owner_file(stale)):
                shutil.rmtree(stale, ignore_errors=True)
                _owner_file(stale).unlink(missing_ok=True)
                logger.info("Removed %s, left by an export that did not finish", stale)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
        _owner_file(staging).write_text(str(os.getpid()), encoding="utf-8")
    except OSError as error:
        raise AbsaInputError(
            f"cannot write the export beside {out_dir} ({error.strerror or error}); pass an output folder you can "
            "write to."
        ) from None
    return staging


def _process_alive(owner: Path) -> bool:
    """Whether the process named in `owner` still runs (no file, or a pid that no longer exists: no)."""
    try:
        os.kill(int(owner.read_text(encoding="utf-8").strip()), 0)
    except PermissionError:  # it exists, under another user
        return True
    except (OSError, ValueError):
        return False
    return True


def _load_pipeline(checkpoint: Path) -> Any:
    """The checkpoint's model (eval mode, safetensors only) and tokenizer, as the pipeline a Hub user gets."""
    from ..hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment
    from ..hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline

    model = ViSoBertAbsaForAspectSentiment.from_pretrained(checkpoint, use_safetensors=True).eval()
    return AspectSentimentPipeline(model=model, tokenizer=_load_tokenizer(checkpoint), task=TASK, device="cpu")


def _stage(checkpoint: Path, staging: Path, pipe: Any, options: CardOptions) -> tuple[Any, list[str]]:
    """Write the model folder (the one save path), the metrics JSON and the card into `staging`; check the
    allow-list. Returns the card and the staged file names."""
    pipe.model.save_pretrained(staging)
    save_tokenizer(pipe.tokenizer, staging)
    metrics_name = next((name for name in METRICS_FILES if (checkpoint / name).is_file()), None)
    if metrics_name:
        shutil.copyfile(checkpoint / metrics_name, staging / metrics_name)
    card = _render_card(checkpoint, pipe, options, metrics_name, sorted(p.name for p in staging.glob("*.py")))
    card.save(staging / "README.md")
    files = check_allowed_files(staging)
    missing = CODE_FILES - set(files)
    if missing:
        raise ExportError(f"The staged folder lacks the code files {sorted(missing)}; a Hub user could not load it.")
    return card, files


def _render_card(
    checkpoint: Path, pipe: Any, options: CardOptions, metrics_name: str | None, code_files: list[str]
) -> Any:
    """The model card from the checkpoint's records (metrics, training arguments, training data facts)."""
    import transformers

    metrics = load_metrics(checkpoint / metrics_name, split=options.dataset_split) if metrics_name else None
    training, training_source = read_training_info(checkpoint)
    versions = options.exported_with or {
        "transformers": transformers.__version__,
        "torch": torch.__version__.split("+")[0],
    }
    return render_model_card(
        pipe.model.config,
        metrics=metrics,
        training=training,
        training_source=training_source,
        training_data=read_training_data(checkpoint),
        language=options.language,
        model_name=options.model_name or (options.repo_id.split("/")[-1] if options.repo_id else _run_name(checkpoint)),
        repo_id=options.repo_id,
        dataset=options.dataset,
        dataset_split=options.dataset_split,
        base_model=options.base_model,
        license=options.license,
        num_parameters=pipe.model.num_parameters(),
        max_tokens=pipe._window_length(None),
        code_files=code_files,
        exported_with=versions,
    )


def _run_name(checkpoint: Path) -> str:
    """`runs/phone/model` -> `phone` (the run folder names the model, not `model/`)."""
    folder = checkpoint.resolve()
    return folder.parent.name if folder.name == "model" and folder.parent.name else folder.name


__all__ = [
    "ALLOWED_FILES",
    "CardOptions",
    "ExportError",
    "ExportResult",
    "check_allowed_files",
    "compare_reports",
    "export_model",
    "inspect_checkpoint",
    "read_training_info",
    "verify_folder",
]
