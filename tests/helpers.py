"""Test helpers: paths, tiny encoders and tokenizers built in code (never downloaded), a tiny saved run folder,
and the tiny model, batch and examples shared by the distributed, numerics and resumption scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"
SCRIPTS = TESTS / "scripts"

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

WORDS = (
    "pin trâu yếu camera chụp đẹp xấu máy mạnh chậm lag màn hình sáng tối thiết kế sang đóng gói cẩn thận "
    "giá rẻ đắt shop tư vấn nhiệt tình giao hàng nhanh tốt ổn kém không rất hơi hài lòng sản phẩm"
).split()


def tiny_text_config(model_type: str = "xlm-roberta", vocab_size: int = 128, **overrides: Any) -> dict[str, Any]:
    """A 2-layer, 32-wide encoder config (transformers test style)."""
    config: dict[str, Any] = {
        "model_type": model_type,
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "max_position_embeddings": 130,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "type_vocab_size": 1,
    }
    if model_type in ("xlm-roberta", "roberta"):
        config.update({"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2})
    else:
        config.update({"pad_token_id": 1})
    config.update(overrides)
    return config


def tiny_tokenizer(model_max_length: int = 128):
    """A word-level fast tokenizer over a small Vietnamese vocabulary, with XLM-R special tokens and template."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    from hf_visobert_absa.data.tokenization import wrap_xlmr_tokenizer

    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    return wrap_xlmr_tokenizer(backend, model_max_length)


def save_tiny_encoder(folder: Path, seed: int = 0) -> Path:
    """A tiny XLM-R masked-LM checkpoint (keys prefixed `roberta.`) with its tokenizer in `folder`, as a Hub
    encoder would be; deterministic for a seed."""
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    torch.manual_seed(seed)
    config = XLMRobertaConfig(**{k: v for k, v in tiny_text_config().items() if k != "model_type"})
    XLMRobertaForMaskedLM(config).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return folder


def tiny_model(seed: int = 0, text_config: dict[str, Any] | None = None, **config_kwargs: Any):
    """A `ViSoBertAbsaForAspectSentiment` on a tiny random encoder, deterministic for a seed."""
    import torch

    from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment

    torch.manual_seed(seed)
    config = ViSoBertAbsaConfig(text_config=text_config or tiny_text_config(), **config_kwargs)
    return ViSoBertAbsaForAspectSentiment(config)


def script_command(name: str, *args: str) -> list[str]:
    """`python -m tests.scripts.<name> ARGS...`, to run with `script_env()` (the project root on `PYTHONPATH`)."""
    return [sys.executable, "-m", f"tests.scripts.{name}", *args]


def script_env(**extra: str) -> dict[str, str]:
    """The environment for a test script: this one, plus the project root on `PYTHONPATH`."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


# ------------------------------------------------------------------------------------------------------------
# A tiny saved run folder (export and publish tests)
# ------------------------------------------------------------------------------------------------------------

#: Per-split metrics as `hf-visobert-absa train` writes them (values are arbitrary but fixed).
RUN_METRICS: dict[str, Any] = {
    "validation": {"detection_micro_f1": 0.61, "sentiment_macro_f1": 0.52, "joint_micro_f1": 0.47},
    "test": {
        "detection_micro_f1": 0.6234,
        "detection_macro_f1": 0.5821,
        "sentiment_accuracy": 0.7312,
        "sentiment_macro_f1": 0.5543,
        "joint_micro_f1": 0.4876,
        "absent_as_neutral_weighted_f1": 0.8411,
    },
}

#: Files a Trainer run leaves beside the model; none of them may be exported.
STRAY_FILES = ("training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state.pth", "notes.txt", "train.csv")


def save_tiny_checkpoint(folder: Path, *, seed: int = 0, stray: bool = True, **config_kwargs: Any) -> Path:
    """Save a tiny `visobert_absa` model with its tokenizer (as training does) into `folder` and return it."""
    from hf_visobert_absa import register_auto_classes

    register_auto_classes()
    config_kwargs.setdefault("base_model_name_or_path", "uitnlp/visobert")
    model = tiny_model(seed, **config_kwargs)
    model.save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    (folder / "metrics.json").write_text(json.dumps(RUN_METRICS), encoding="utf-8")
    if stray:
        for name in STRAY_FILES:
            (folder / name).write_bytes(b"\x80\x04not a model file")
        (folder / "trainer_state.json").write_text(
            json.dumps({"num_train_epochs": 3, "train_batch_size": 8, "global_step": 12}), encoding="utf-8"
        )
        (folder / "checkpoint-12").mkdir()
        (folder / "checkpoint-12" / "optimizer.pt").write_bytes(b"x")
    return folder


# ------------------------------------------------------------------------------------------------------------
# The tiny model, batch and examples of the distributed, numerics and resumption scripts
# ------------------------------------------------------------------------------------------------------------

ASPECTS = ["Battery", "Camera", "Price"]
BATCH = 8  # global batch of `full_batch()`

#: Canonical labels (0 none, 1 positive, 2 negative, 3 neutral) for Battery, Camera, Price. Rank 0 gets rows
#: 0-3, rank 1 rows 4-7: rows 4, 5 and 6 repeat rows 0, 2 and 1, so identical label sets only meet ACROSS ranks.
CANONICAL_LABELS = [
    [1, 0, 2],
    [1, 1, 0],
    [0, 2, 2],
    [3, 0, 1],
    [1, 0, 2],
    [0, 2, 2],
    [1, 1, 0],
    [2, 3, 1],
]


def build_model(overrides: dict) -> torch.nn.Module:
    """The same tiny model on every rank and in the single-process reference."""
    model = tiny_model(seed=0, aspects=ASPECTS, classifier_dropout=0.0, pooling="mean", **overrides)
    model.train()
    return model


def full_batch(label_scheme: str = "absent_as_class") -> dict[str, torch.Tensor]:
    """A fixed padded batch of `BATCH` reviews labelled with `CANONICAL_LABELS` in the given scheme."""
    generator = torch.Generator().manual_seed(1234)
    lengths = torch.tensor([9, 7, 12, 5, 12, 8, 6, 10])
    input_ids = torch.randint(5, 60, (BATCH, 12), generator=generator)
    attention_mask = (torch.arange(12).unsqueeze(0) < lengths.unsqueeze(1)).long()
    input_ids = input_ids.masked_fill(attention_mask == 0, 1)  # <pad> = 1
    input_ids[:, 0] = 0  # <s>
    canonical = torch.tensor(CANONICAL_LABELS)
    if label_scheme == "mentioned_only":
        labels = torch.where(canonical > 0, canonical - 1, torch.full_like(canonical, -100))
    else:
        labels = canonical
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def tiny_examples(tokenizer, count: int = 16, seed: int = 7) -> list[dict]:
    """`count` tokenised reviews with canonical labels (absent_as_class), deterministic for a seed; a list of
    dicts the `Trainer` takes as a dataset with `DataCollatorWithPadding`."""
    generator = torch.Generator().manual_seed(seed)
    examples = []
    for _ in range(count):
        length = int(torch.randint(3, 9, (1,), generator=generator))
        words = [WORDS[int(i)] for i in torch.randint(0, len(WORDS), (length,), generator=generator)]
        encoded = tokenizer(" ".join(words))
        labels = torch.randint(0, 4, (len(ASPECTS),), generator=generator).tolist()
        examples.append(
            {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": labels}
        )
    return examples


# ------------------------------------------------------------------------------------------------------------
# Loss settings without a config object, and loader error messages
# ------------------------------------------------------------------------------------------------------------


def loss_config(**overrides: Any) -> Any:
    """The default objective's settings as a plain namespace (what `compute_absa_loss` reads from a config)."""
    from types import SimpleNamespace

    fields: dict[str, Any] = dict(
        label_scheme="absent_as_class",
        focal_gamma=2.0,
        focal_alpha=None,
        contrastive_temperature=0.1,
        contrastive_mode="mulsupcon",
        focal_weight=0.8,
        contrastive_weight=0.2,
        contrastive_across_devices=False,
    )
    fields.update(overrides)
    return SimpleNamespace(**fields)


#: How loader messages describe a CSV row.
ROW = "1-based data row, header not counted"


def at(path: Path, row: int, line: int) -> str:
    """The location prefix of a loader message for `row` (data row) on file `line`."""
    return f"{path}, row {row} ({ROW}; line {line} of the file)"


def error_of(*args: Any, **kwargs: Any) -> str:
    """The message of the `AbsaInputError` that `load_absa_dataset(*args, **kwargs)` raises."""
    import pytest

    from hf_visobert_absa.data.loading import load_absa_dataset
    from hf_visobert_absa.errors import AbsaInputError

    with pytest.raises(AbsaInputError) as info:
        load_absa_dataset(*args, **kwargs)
    return str(info.value)


def assert_int8_close(model: torch.nn.Module, folder: Path, atol: float = 0.01) -> None:
    """The int8 ONNX export of `model` gives probabilities within `atol` of fp32 on three short reviews."""
    import numpy as np
    import pytest

    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from hf_visobert_absa.evaluation.inference import score_texts
    from hf_visobert_absa.evaluation.int8 import quantize_int8

    tokenizer = tiny_tokenizer()
    texts = ["pin tốt", "màn hình đẹp nhưng giao hàng chậm quá", "ok"]
    int8 = quantize_int8(model, save_dir=folder, threads=1)
    p32, _ = score_texts(model, tokenizer, texts, 3, 64, "cpu")
    p8, _ = score_texts(int8, tokenizer, texts, 3, 64, "cpu")
    assert p8.shape == p32.shape and np.abs(p8 - p32).max() < atol


# ------------------------------------------------------------------------------------------------------------
# Comparing floats computed in different processes
# ------------------------------------------------------------------------------------------------------------

#: Largest absolute weight difference accepted between two processes that should compute the same thing: a process
#: may run another BLAS thread count and split reductions differently (seen: about 2e-9 on logits).
CROSS_PROCESS_ATOL = 1e-6


def assert_states_close(got: dict, expected: dict, atol: float = CROSS_PROCESS_ATOL, what: str = "weights") -> float:
    """Assert two state dicts have the same keys and shapes and differ by at most `atol`; the message names the
    worst tensor and the measured difference. Returns the largest difference (0.0 when bit-identical)."""
    assert got.keys() == expected.keys(), f"{what}: different tensors {sorted(set(got) ^ set(expected))}"
    worst, worst_name = 0.0, None
    for name, tensor in expected.items():
        assert got[name].shape == tensor.shape, (
            f"{what}: {name} has shape {tuple(got[name].shape)}, not {tuple(tensor.shape)}"
        )
        diff = (got[name].double() - tensor.double()).abs().max().item() if tensor.numel() else 0.0
        if diff > worst:
            worst, worst_name = diff, name
    assert worst <= atol, f"{what} differ by {worst:.3g} (> {atol:g}) at {worst_name}"
    return worst


def sigkill_when_flagged(command: list[str], flag: Path, env: dict[str, str], timeout: float) -> None:
    """Start `command`, wait (at most `timeout` seconds) until it creates `flag`, then SIGKILL it."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while not flag.exists():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the run never reached the point where it is killed"
        time.sleep(0.2)
    process.kill()  # SIGKILL
    assert process.wait(timeout=60) == -9


def run_cli(capsys, *argv) -> tuple[int, str]:
    """Exit code and the last line of stderr (the error or the summary; progress bars come before it) of one
    `hf-visobert-absa` call."""
    capsys.readouterr()
    from hf_visobert_absa.cli.main import main

    code = main([str(a) for a in argv])
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines[-1] if lines else ""


def budget_args(tmp_path: Path, **fields: Any):
    """`AbsaTrainingArguments` for the budget-rule tests: a run folder under `tmp_path`, CPU, quiet, plus `fields`."""
    from hf_visobert_absa.training.arguments import AbsaTrainingArguments

    base = {"output_dir": str(tmp_path / "run"), "use_cpu": True, "disable_tqdm": True, "report_to": "none"}
    return AbsaTrainingArguments(**{**base, **fields})


def train_tiny_run(tmp_path: Path, rows: int, *flags: str) -> dict[str, Any]:
    """`hf-visobert-absa train` on a tiny encoder and `rows` one-aspect JSON-lines reviews with `flags`; asserts it
    exits 0 and returns the `training_args.json` it wrote beside the model."""
    from hf_visobert_absa.cli.main import main

    encoder = save_tiny_encoder(tmp_path / "encoder")
    data = tmp_path / "train.jsonl"
    reviews = [{"text": f"pin trâu {i}", "aspects": {"Battery": "positive"}} for i in range(rows)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reviews), encoding="utf-8")
    code = main([
        "train", "--encoder", str(encoder), "--train_file", str(data), "--output_dir", str(tmp_path / "out"),
        "--use_cpu", "true", "--disable_tqdm", "true", "--max_length", "16", *flags,
    ])  # fmt: skip
    assert code == 0
    return json.loads((tmp_path / "out" / "model" / "training_args.json").read_text(encoding="utf-8"))
