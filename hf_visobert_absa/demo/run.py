"""The end-to-end demo behind `hf-visobert-absa demo`: train, evaluate, save, reload in a clean process, predict.

    built-in sample (demo/data/train.jsonl, validation.jsonl)
        -> tokenizer trained on the training reviews (BPE, XLM-R special tokens)   [or --encoder's tokenizer]
        -> small XLM-R encoder built from config, random weights                     [or --encoder's weights]
        -> FocalContrastiveTrainer (0.8 focal + 0.2 contrastive, one forward pass per step)
        -> metrics on the held-out validation reviews (`metrics.compute_absa_metrics`)
        -> Hub-loadable folder (`save_pretrained` writes `auto_map` and the Hub code; tokenizer beside the weights)
        -> a clean Python process (`demo_reload`: `python -I -S`, fresh HOME/HF_HOME, Hub off, cwd outside the
           project, `hf_visobert_absa` blocked) loads the folder with `trust_remote_code=True` and labels three
           new reviews; the demo relays what it prints

The default encoder is tiny, starts from random weights and sees 260 reviews: its scores show that every stage
works, not what the architecture reaches on real data. It pools by masked mean (`pooling="mean"`): a randomly
initialised encoder trained on so few reviews does not learn to gather a review into its first token (with
`"cls"`, 30 epochs left it predicting "not mentioned" almost everywhere in our runs: validation detection F1
0.00 and 0.12 for two seeds, against about 0.6 with `"mean"`). With `encoder="uitnlp/visobert"` (network needed)
the real pretrained encoder is used with the default recipe's pooling (`"aspect_query"`, `training/recipe.py`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainerCallback

from ..errors import AbsaInputError
from ..hub.labels_visobert_absa import DEFAULT_ASPECTS
from ..io_safety import write_json_atomic
from ..model_folder import save_tokenizer
from ..threads import torch_threads
from ..training.recipe import MODEL_RECIPE, TRAINING_RECIPE
from .reload import predict_in_clean_process
from .sample_encoder import small_encoder_config, train_sample_tokenizer

logger = logging.getLogger(__name__)

#: Three reviews that are not in the built-in sample; the clean process labels them.
NEW_REVIEWS: tuple[str, ...] = (
    "Pin xài được gần hai ngày, nhưng camera chụp tối thì nhiễu hạt quá.",
    "Shop đóng gói chắc chắn, giao hàng siêu nhanh, nhân viên tư vấn nhiệt tình.",
    "Máy giật lag khi chơi game, màn hình thì tối mà giá lại đắt.",
)

#: Defaults that depend on the encoder: (epochs, learning rate, pooling, CPU threads; None = torch's default).
#: The tiny encoder's matrices are too small to gain from a second thread, and on a shared 2-core machine two
#: threads wait on each other: we measured 14-24 ms per step with one thread and 64-612 ms with two under load.
_TINY_DEFAULTS = (30.0, 1e-3, "mean", 1)
_PRETRAINED_DEFAULTS = (
    TRAINING_RECIPE["num_train_epochs"],
    TRAINING_RECIPE["learning_rate"],
    MODEL_RECIPE["pooling"],
    None,
)


@dataclass
class DemoOptions:
    """How to run the demo. `None` fields take the value that suits the encoder (tiny or pretrained).

    Args:
        output_dir (`Path`, *optional*): where the run goes; a fresh temporary folder when omitted.
        encoder (`str`, *optional*): a pretrained encoder (Hub id such as `uitnlp/visobert`, or a local folder);
            `None` builds a small XLM-R encoder from config with a tokenizer trained on the sample.
        epochs (`float`, *optional*): training epochs (tiny encoder: 30, pretrained: 10).
        learning_rate (`float`, *optional*): peak learning rate (tiny encoder: 1e-3, pretrained: 5e-5).
        batch_size (`int`, defaults to 16): training batch size.
        threads (`int`, *optional*): CPU threads for torch during the run (tiny encoder: 1; pretrained: torch's
            default); restored afterwards.
        seed (`int`, defaults to 42): seeds weight initialisation and data order.
        overwrite (`bool`, defaults to `False`): allow a non-empty `output_dir`.
        clean_process_timeout (`float`, defaults to 300): seconds allowed for the clean-process reload.
    """

    output_dir: Path | None = None
    encoder: str | None = None
    epochs: float | None = None
    learning_rate: float | None = None
    batch_size: int = 16
    threads: int | None = None
    seed: int = 42
    overwrite: bool = False
    clean_process_timeout: float = 300.0


@dataclass
class DemoResult:
    """What the demo did and measured; `<output_dir>/demo_results.json` holds the same (without the relayed
    text).

    Args:
        output_dir, model_dir (`Path`): the run folder and the Hub-loadable model folder inside it.
        encoder (`str`): which encoder was trained.
        num_train, num_validation (`int`): reviews in each split; num_parameters (`int`): model parameters.
        epochs, learning_rate (`float`), pooling (`str`): the training settings used.
        metrics (`dict`): `compute_absa_metrics` on the validation reviews.
        predictions (`list[dict]`): per new review, `review`, `labels` (aspect -> class name) and
            `probabilities` (`[A, C]`), as computed by the clean process.
        clean_process_output (`str`): what the clean process printed.
        max_abs_probability_diff (`float`): largest difference between the clean process's probabilities and
            the in-memory model's on the same reviews.
        seconds (`dict[str, float]`): wall time of each stage and `total`.
    """

    output_dir: Path
    model_dir: Path
    encoder: str
    num_train: int
    num_validation: int
    num_parameters: int
    epochs: float
    learning_rate: float
    pooling: str
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]]
    clean_process_output: str
    max_abs_probability_diff: float
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the results (paths as strings, without the relayed text)."""
        data = asdict(self)
        data["output_dir"], data["model_dir"] = str(self.output_dir), str(self.model_dir)
        data.pop("clean_process_output")
        return data


def demo_data_files() -> dict[str, str]:
    """Paths of the built-in sample: `{"train": ..., "validation": ...}` (JSONL, see `demo/data/README.md`)."""
    folder = resources.files("hf_visobert_absa.demo") / "data"
    return {split: str(folder / f"{split}.jsonl") for split in ("train", "validation")}


def run_demo(options: DemoOptions) -> DemoResult:
    """Runs the whole demo (see the module docstring) and returns what it measured.

    Args:
        options ([`DemoOptions`]): output folder, encoder, epochs, seed, ...

    Returns:
        [`DemoResult`]; `<output_dir>/demo_results.json` holds the same numbers.

    Raises:
        AbsaInputError: `output_dir` is a file, or not empty while `overwrite` is off.
        RuntimeError: the clean process could not load the saved folder (its output is in the message).

    Example:

    ```python
    >>> result = run_demo(DemoOptions(epochs=1))
    >>> [p["review"] for p in result.predictions] == list(NEW_REVIEWS)
    True
    ```
    """

    start = time.perf_counter()
    output_dir = _prepare_output_dir(options.output_dir, options.overwrite)
    logger.info("Demo run folder: %s", output_dir)
    default_threads = (_PRETRAINED_DEFAULTS if options.encoder else _TINY_DEFAULTS)[3]
    threads = options.threads if options.threads is not None else default_threads
    try:
        with torch_threads(threads):
            return _run(options, output_dir, start)
    except BaseException:
        if options.output_dir is None and not any(output_dir.iterdir()):
            output_dir.rmdir()  # nothing was written: do not leave an empty temporary folder behind
        raise


def _run(options: DemoOptions, output_dir: Path, start: float) -> DemoResult:
    """Train, score the validation reviews, save, reload in a clean process; time each phase."""
    from ..data.loading import load_absa_dataset

    seconds: dict[str, float] = {}
    default_epochs, default_lr, pooling, _ = _PRETRAINED_DEFAULTS if options.encoder else _TINY_DEFAULTS
    epochs = float(options.epochs) if options.epochs is not None else default_epochs
    learning_rate = float(options.learning_rate) if options.learning_rate is not None else default_lr
    datasets, report = load_absa_dataset(demo_data_files(), format="jsonl", aspects=list(DEFAULT_ASPECTS))
    trainer, encoded = _build_trainer(options, output_dir, datasets, report.aspects, pooling, epochs, learning_rate)
    model, tokenizer = trainer.model, trainer.processing_class
    seconds["setup"] = time.perf_counter() - start

    tick = time.perf_counter()
    trainer.train()
    seconds["train"] = time.perf_counter() - tick
    trainer_dir = output_dir / "trainer"
    if trainer_dir.is_dir() and not any(trainer_dir.iterdir()):
        trainer_dir.rmdir()  # no checkpoints are saved

    tick = time.perf_counter()
    metrics = _validation_metrics(trainer, encoded["validation"], datasets["validation"]["gold"], report.aspects)
    seconds["evaluate"] = time.perf_counter() - tick

    tick = time.perf_counter()
    model_dir = _save(model, tokenizer, output_dir / "model")
    seconds["save"] = time.perf_counter() - tick

    tick = time.perf_counter()
    in_memory = _probabilities(model, tokenizer, NEW_REVIEWS)  # [R, A, C]
    output, labelled = predict_in_clean_process(model_dir, NEW_REVIEWS, timeout=options.clean_process_timeout)
    reloaded = np.asarray([p["probabilities"] for p in labelled], dtype=np.float64)  # [R, A, C]
    seconds["clean_process"] = time.perf_counter() - tick
    seconds["total"] = time.perf_counter() - start

    result = DemoResult(
        output_dir=output_dir,
        model_dir=model_dir,
        encoder=options.encoder or "small XLM-R built from config (random init), tokenizer trained on the sample",
        num_train=len(datasets["train"]),
        num_validation=len(datasets["validation"]),
        num_parameters=sum(p.numel() for p in model.parameters()),
        epochs=epochs,
        learning_rate=learning_rate,
        pooling=model.config.pooling,
        metrics=metrics,
        predictions=labelled,
        clean_process_output=output,
        max_abs_probability_diff=float(np.abs(reloaded - in_memory).max()),
        seconds=seconds,
    )
    write_json_atomic(output_dir / "demo_results.json", result.to_json(), ensure_ascii=False)
    return result


def _build_trainer(
    options: DemoOptions,
    output_dir: Path,
    datasets: Any,
    aspects: list[str],
    pooling: str,
    epochs: float,
    learning_rate: float,
) -> tuple[Any, Any]:
    """The seeded model and tokenizer, the tokenised splits, and a `FocalContrastiveTrainer` that saves nothing."""
    import torch
    from transformers import DataCollatorWithPadding, TrainingArguments, set_seed

    from ..data.tokenization import tokenize_dataset
    from ..training.trainer import FocalContrastiveTrainer

    set_seed(options.seed)
    model, tokenizer = _build_model_and_tokenizer(options.encoder, datasets["train"]["text"], aspects, pooling)
    logger.info(
        "%s: %s parameters; %d training and %d validation reviews; %g epochs at learning rate %g",
        options.encoder or "small XLM-R encoder built from config",
        f"{sum(p.numel() for p in model.parameters()):,}",
        len(datasets["train"]),
        len(datasets["validation"]),
        epochs,
        learning_rate,
    )
    encoded = tokenize_dataset(datasets, tokenizer, max_length=tokenizer.model_max_length)
    args = TrainingArguments(
        output_dir=str(output_dir / "trainer"),
        num_train_epochs=epochs,
        learning_rate=learning_rate,
        warmup_steps=0.1,
        weight_decay=0.01,
        per_device_train_batch_size=options.batch_size,
        per_device_eval_batch_size=64,
        logging_strategy="epoch",
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=options.seed,
        data_seed=options.seed,
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    trainer = FocalContrastiveTrainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        callbacks=[_EpochLogger(epochs)],
    )
    _silence_printer(trainer)
    return trainer, encoded


def _validation_metrics(trainer: Any, encoded: Any, gold: Any, aspects: list[str]) -> dict[str, Any]:
    """Honest metrics of the trained model on the tokenised validation split."""
    from ..data.label_schemes import predictions_from_logits
    from ..evaluation.metrics import compute_absa_metrics

    scheme = trainer.model.config.label_scheme
    logits = trainer.predict(encoded).predictions  # [N, A, C]
    predictions = predictions_from_logits(logits, scheme)  # [N, A] canonical
    references = np.asarray(gold, dtype=np.int64)  # [N, A] canonical
    return compute_absa_metrics(predictions, references, aspects, scheme)


def _save(model: Any, tokenizer: Any, model_dir: Path) -> Path:
    """Save the model (a complete Hub folder: `auto_map`, code files, safetensors) and its tokenizer into `model_dir`."""
    model.save_pretrained(str(model_dir))
    save_tokenizer(tokenizer, model_dir)
    return model_dir


# ------------------------------------------------------------------------------------------------ helpers
def _prepare_output_dir(output_dir: Path | None, overwrite: bool) -> Path:
    if output_dir is None:
        return Path(tempfile.mkdtemp(prefix="hf-visobert-absa-demo-"))
    output_dir = Path(output_dir).expanduser().resolve()
    if output_dir.exists() and not output_dir.is_dir():
        raise AbsaInputError(f"`--output-dir` {str(output_dir)!r} is a file; pass a new or empty folder.")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not overwrite:
        raise AbsaInputError(
            f"`--output-dir` {str(output_dir)!r} is not empty; pass a new or empty folder, or add `--overwrite` "
            "to write over it."
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    return output_dir


def _build_model_and_tokenizer(
    encoder: str | None, train_texts: Sequence[str], aspects: list[str], pooling: str
) -> tuple[Any, Any]:
    from ..hub.configuration_visobert_absa import ViSoBertAbsaConfig
    from ..hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment

    if encoder is None:
        tokenizer = train_sample_tokenizer(train_texts)
        text_config = small_encoder_config(len(tokenizer), tokenizer.model_max_length)
        config = ViSoBertAbsaConfig(text_config=text_config, aspects=aspects, pooling=pooling)
        return ViSoBertAbsaForAspectSentiment(config), tokenizer
    from ..data.tokenization import load_tokenizer

    tokenizer = load_tokenizer(encoder)
    tokenizer.model_max_length = min(int(tokenizer.model_max_length), 256)  # the sample's reviews are short
    model = ViSoBertAbsaForAspectSentiment.from_pretrained_encoder(encoder, aspects=aspects, pooling=pooling)
    return model, tokenizer


def _probabilities(model: Any, tokenizer: Any, reviews: Sequence[str]) -> np.ndarray:
    """Class probabilities `[R, A, C]` of the in-memory model, computed as the clean process does."""
    import torch

    model.eval()
    batch = tokenizer(list(reviews), padding=True, truncation=True, return_tensors="pt").to(model.device)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits  # [R, A, C]
    return logits.float().softmax(dim=-1).cpu().numpy().astype(np.float64)


def _silence_printer(trainer: Any) -> None:
    """`disable_tqdm=True` makes the Trainer print raw log dicts; `_EpochLogger` reports instead."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


class _EpochLogger(TrainerCallback):
    """Logs one line per epoch: the combined loss and its focal and contrastive terms."""

    def __init__(self, epochs: float) -> None:
        self.epochs = epochs

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
        if logs and "loss" in logs:
            logger.info(
                "epoch %3.0f/%g  loss %.4f  (focal %.4f, contrastive %.4f)",
                logs.get("epoch", state.epoch or 0),
                self.epochs,
                logs["loss"],
                logs.get("focal_loss", float("nan")),
                logs.get("contrastive_loss", float("nan")),
            )


__all__ = [
    "NEW_REVIEWS",
    "DemoOptions",
    "DemoResult",
    "demo_data_files",
    "run_demo",
]
