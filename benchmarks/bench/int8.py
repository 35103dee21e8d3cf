"""Benchmark `int8`: fp32 vs int8 on the CPU, speed and accuracy side by side in one run.

Part A — speed at encoder size (`--encoder`, random weights) on real reviews, through the bulk path
(`score_texts`: one tokenizer call, length-sorted batches, dynamic padding), timed in interleaved rounds:

- `fp32`: the PyTorch model;
- `int8_onnxruntime` (the library's int8 path, `hf_visobert_absa.evaluation.int8`): ONNX Runtime, weights
  quantised to int8 per output channel with its dynamic quantisation;
- `int8_torch_dynamic` (for comparison only): `torch.ao.quantization.quantize_dynamic` on every `nn.Linear`.

Part B — a trained model (`--int8_model`, e.g. a MiniLM trained on phone_reviews) on a labelled test file
(`--int8_data`): fp32, int8 (per channel, the library's default) and int8 per tensor (for comparison) each score
the whole file in interleaved rounds; reviews/s, joint micro-F1 and
the other metrics of `compute_absa_metrics`, and the share of (review, aspect) decisions that agree. Skipped,
with the reason, without a model.
"""

from __future__ import annotations

import copy
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hf_visobert_absa.explain.common import (
    BenchSettings,
    machine_info,
    measure_interleaved,
    result_document,
    summarize,
    write_json,
)
from hf_visobert_absa.explain.models import build_model, encoder_config

from .inference import default_data_path, default_tokenizer_path, read_reviews

logger = logging.getLogger(__name__)

MAX_LENGTH = 256
METRICS = ("joint_micro_f1", "joint_macro_f1", "detection_micro_f1", "sentiment_accuracy", "sentiment_macro_f1")


def _torch_dynamic_int8(model: torch.nn.Module) -> torch.nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.ao.quantization is deprecated (torchao)
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def _rates(timings: dict[str, list[float]], count: int) -> dict[str, Any]:
    return {name: {**summarize(seconds), "reviews": count, "reviews_per_second": [count / s for s in seconds],
                   "median_reviews_per_second": float(np.median([count / s for s in seconds]))}
            for name, seconds in timings.items()}  # fmt: skip


def _speed_part(settings: BenchSettings, tokenizer: Any, texts: list[str]) -> dict[str, Any]:
    from hf_visobert_absa.evaluation.inference import score_texts
    from hf_visobert_absa.evaluation.int8 import quantize_int8

    text_config, encoder_text = encoder_config(settings.encoder)
    model = build_model(text_config, seed=settings.seed).eval()
    models = {"fp32": model, "int8_onnxruntime": quantize_int8(model), "int8_torch_dynamic": _torch_dynamic_int8(model)}
    n_sets = max(1, min(settings.inference_sets, len(texts)))
    sets = [list(chunk) for chunk in np.array_split(np.array(texts, dtype=object), n_sets)]
    batch = settings.inference_batch_size
    variants = {name: (lambda i, m=m: score_texts(m, tokenizer, sets[i % n_sets], batch, MAX_LENGTH, "cpu"))
                for name, m in models.items()}  # fmt: skip
    reference = score_texts(model, tokenizer, sets[0], batch, MAX_LENGTH, "cpu")[0]
    max_diff = {name: float(np.abs(score_texts(m, tokenizer, sets[0], batch, MAX_LENGTH, "cpu")[0] - reference).max())
                for name, m in models.items() if name != "fp32"}  # fmt: skip
    timings = measure_interleaved(variants, reps=settings.reps, warmup=settings.warmup)
    results = _rates(timings, len(sets[0]))
    sizes = [len(sets[i % n_sets]) for i in range(settings.warmup, settings.warmup + settings.reps)]
    for name, seconds in timings.items():  # the sets may differ in size by one review
        rates = [size / s for size, s in zip(sizes, seconds, strict=True)]
        results[name].update(reviews=sizes, reviews_per_second=rates, median_reviews_per_second=float(np.median(rates)))
    fp32 = results["fp32"]["median_reviews_per_second"]
    return {
        "encoder": encoder_text, "reviews": len(texts), "sets": n_sets, "batch_size": batch, "results": results,
        "speedup_over_fp32": {name: r["median_reviews_per_second"] / fp32 for name, r in results.items() if name != "fp32"},
        "max_abs_probability_difference_vs_fp32": max_diff,
    }  # fmt: skip


def _accuracy_part(settings: BenchSettings, model_dir: str, data: str, aliases: dict | None) -> dict[str, Any]:
    from hf_visobert_absa.cli.evaluate import load_trained
    from hf_visobert_absa.data.label_schemes import predictions_from_probabilities
    from hf_visobert_absa.data.loading import load_absa_dataset
    from hf_visobert_absa.evaluation.inference import score_texts
    from hf_visobert_absa.evaluation.int8 import quantize_int8
    from hf_visobert_absa.evaluation.metrics import compute_absa_metrics

    model, tokenizer = load_trained(model_dir)
    config = model.config
    datasets, _ = load_absa_dataset({"test": data}, aspects=list(config.aspects), label_scheme=config.label_scheme,
                                    label_aliases=aliases)  # fmt: skip
    texts, gold = list(datasets["test"]["text"]), np.asarray(datasets["test"]["gold"])
    models = {"fp32": model, "int8_onnxruntime": quantize_int8(model),
              "int8_onnxruntime_per_tensor": quantize_int8(model, per_channel=False)}  # fmt: skip
    batch = settings.inference_batch_size
    probabilities: dict[str, np.ndarray] = {}

    length = min(MAX_LENGTH, int(getattr(tokenizer, "model_max_length", MAX_LENGTH) or MAX_LENGTH))

    def run(name: str) -> None:
        probabilities[name] = score_texts(models[name], tokenizer, texts, batch, length, "cpu")[0]

    timings = measure_interleaved(
        {name: (lambda i, n=name: run(n)) for name in models}, reps=settings.int8_reps, warmup=0
    )
    threshold = np.asarray(config.detection_thresholds) if getattr(config, "detection_thresholds", None) else 0.5
    predictions = {
        name: predictions_from_probabilities(p, config.label_scheme, threshold) for name, p in probabilities.items()
    }
    metrics = {name: compute_absa_metrics(pred, gold, list(config.aspects), config.label_scheme, config.sentiments)
               for name, pred in predictions.items()}  # fmt: skip
    results = _rates(timings, len(texts))
    for name in models:
        results[name]["metrics"] = {key: metrics[name][key] for key in METRICS}
    return {
        "model": model_dir, "encoder_hidden_size": int(getattr(config.text_config, "hidden_size", 0) or 0),
        "data": data, "reviews": len(texts), "batch_size": batch, "results": results,
        "speedup_over_fp32": results["int8_onnxruntime"]["median_reviews_per_second"] / results["fp32"]["median_reviews_per_second"],
        "joint_micro_f1_points_lost": 100 * (metrics["fp32"]["joint_micro_f1"] - metrics["int8_onnxruntime"]["joint_micro_f1"]),
        "per_tensor_joint_micro_f1_points_lost": 100 * (metrics["fp32"]["joint_micro_f1"] - metrics["int8_onnxruntime_per_tensor"]["joint_micro_f1"]),
        "decisions_agreeing": float((predictions["fp32"] == predictions["int8_onnxruntime"]).mean()),
        "max_abs_probability_difference_vs_fp32": float(np.abs(probabilities["fp32"] - probabilities["int8_onnxruntime"]).max()),
    }  # fmt: skip


def run_int8_benchmark(settings: BenchSettings, out_dir: Path) -> dict[str, Any]:
    """Run parts A and B (see the module docstring) and write `int8.json`; a part whose inputs are missing is
    recorded as skipped, with the reason."""
    data_path = Path(settings.data) if settings.data else default_data_path()
    tokenizer_path = Path(settings.tokenizer) if settings.tokenizer else default_tokenizer_path()
    load_before = machine_info("cpu")["load_average_1_5_15"]
    document = result_document("int8", "int8 (ONNX Runtime) vs fp32 on the CPU: speed at encoder size, accuracy of a trained model",
                               settings=settings.to_dict(), inputs={}, results={}, derived={}, memory={})  # fmt: skip
    if not settings.int8_speed:
        document["results"]["speed"] = {"skipped": "--int8_no_speed"}
    elif data_path is None or tokenizer_path is None:
        document["results"]["speed"] = {"skipped": "needs real reviews and a tokenizer (--data, --tokenizer)"}
    else:
        from hf_visobert_absa.data.tokenization import load_tokenizer

        texts = read_reviews(data_path, settings.reviews)
        document["results"]["speed"] = _speed_part(settings, load_tokenizer(str(tokenizer_path)), texts)
        document["inputs"]["speed"] = {"data": str(data_path), "tokenizer": str(tokenizer_path)}
    if settings.int8_model:
        int8_data = settings.int8_data or str(data_path)
        document["results"]["accuracy"] = _accuracy_part(
            settings, settings.int8_model, int8_data, settings.label_aliases
        )
    else:
        document["results"]["accuracy"] = {"skipped": "needs a trained model (--int8_model) and a labelled test file"}
    speed, accuracy = document["results"]["speed"], document["results"]["accuracy"]
    document["derived"] = {
        "speedup_int8_over_fp32_at_encoder_size": speed.get("speedup_over_fp32", {}).get("int8_onnxruntime"),
        "speedup_torch_dynamic_over_fp32_at_encoder_size": speed.get("speedup_over_fp32", {}).get("int8_torch_dynamic"),
        "trained_model_speedup": accuracy.get("speedup_over_fp32"),
        "joint_micro_f1_points_lost": accuracy.get("joint_micro_f1_points_lost"),
    }
    document["machine"] = {**machine_info("cpu"), "load_average_before": load_before}
    write_json(out_dir / "int8.json", document)
    return document
