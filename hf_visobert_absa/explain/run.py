"""`explain`: the design's three pictures, drawn from the actual model and from measurements, plus EXPLAINED.md.

- `model_architecture.png` (+ `model_architecture.json`, its text): read from the model object and its config
  (layer counts, hidden size, parameter counts, head layers and output shapes, loss settings, weights).
- `forward_pass_timeline.png` (+ `.json`): one training step timed stage by stage
  (`explain.stages`), with the whole step measured separately in interleaved rounds.
- `sequential_vs_parallel.png` (+ `one_vs_two_pass.json`): benchmark 2 on the same model.
- `EXPLAINED.md`: what runs when, with the numbers just measured.
"""

from __future__ import annotations

import json
import logging
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import AbsaInputError
from ..hub.configuration_visobert_absa import ViSoBertAbsaConfig
from ..hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment
from ..io_safety import write_text_atomic
from ..threads import torch_threads
from ..training.trainer import FocalContrastiveTrainer
from .common import BenchSettings, machine_info, result_document, write_json
from .figures import draw_architecture, draw_sequential_vs_parallel, draw_timeline
from .models import build_model, encoder_config, make_trainer, parameter_count, synthetic_batches
from .stages import STAGES, measure_timeline
from .training import run_training_benchmarks

logger = logging.getLogger(__name__)

_CONTRASTIVE_TEXT = {
    "mulsupcon": "anchors: each mentioned (aspect, sentiment) pair;\npositives: other reviews holding that pair",
    "jaccard": "positives weighted by the Jaccard overlap\nof the reviews' (aspect, sentiment) sets",
    "any": "positives: reviews sharing at least one\n(aspect, sentiment) pair",
    "exact": "positives: reviews with the identical\n(aspect, sentiment) set",
    "soft_agreement": "the original soft-weighted loss: every pair\nweighted >= base, absent counted as neutral",
    "aspect_sentiment": "anchors: each mentioned aspect's own embedding;\npositives: other mentioned aspects, same sentiment",
}


@dataclass
class ExplainOptions:
    """What `explain` builds and measures. `encoder`: "tiny", "visobert" or an encoder config.json (None: the
    `config`'s encoder, else "tiny"); `config`: a model config.json (or a model folder) whose settings are
    used; `overrides`: config fields."""

    out_dir: Path
    encoder: str | None = None
    config: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 16
    seq_len: int = 64
    reps: int | None = None
    warmup: int | None = None
    device: str = "cpu"
    dtype: str = "fp32"
    threads: int | None = None
    seed: int = 0
    architecture_only: bool = False


def build_explained_model(options: ExplainOptions) -> tuple[ViSoBertAbsaForAspectSentiment, str]:
    """The model to draw and time (random weights), and a description of its encoder."""
    if options.config:
        path = Path(options.config)
        path = path / "config.json" if path.is_dir() else path
        if not path.is_file():
            raise ValueError(f"`--config` {options.config}: no such file; pass a model config.json or its folder.")
        fields = json.loads(path.read_text(encoding="utf-8"))
        fields = {k: v for k, v in fields.items() if k in ViSoBertAbsaConfig.field_names() or k == "text_config"}
        fields.update(options.overrides)
        description = f"text_config of {path} (random weights)"
        if options.encoder is not None or "text_config" not in fields:
            fields["text_config"], description = encoder_config(options.encoder or "tiny")
        torch.manual_seed(options.seed)
        return ViSoBertAbsaForAspectSentiment(ViSoBertAbsaConfig(**fields)).train(), description
    text_config, description = encoder_config(options.encoder or "tiny")
    return build_model(text_config, seed=options.seed, **options.overrides), description


def _chain(module: nn.Module) -> str:
    """The layers of a head, in order: `Linear 32→512 → ReLU → Dropout 0.3 → Linear 512→44`."""
    parts = []
    for layer in list(module.children()) or [module]:
        if isinstance(layer, nn.Linear):
            parts.append(f"Linear {layer.in_features}→{layer.out_features}")
        elif isinstance(layer, nn.Dropout):
            parts.append(f"Dropout {layer.p:g}")
        else:
            parts.append(type(layer).__name__)
    return " → ".join(parts)


#: The arrows between the architecture's boxes: `[from, to, label]`.
_ARCHITECTURE_EDGES = [
    ["input", "encoder", ""], ["encoder", "pooling", "[B, L, H]"], ["pooling", "classification", ""],
    ["pooling", "projection", ""], ["classification", "focal", "logits"], ["projection", "contrastive", "embeddings"],
    ["focal", "combine", ""], ["contrastive", "combine", ""], ["combine", "backward", "scalar loss"],
]  # fmt: skip


def _pooling_line(model: ViSoBertAbsaForAspectSentiment) -> str:
    """What the model's `config.pooling` does, in one line."""
    config = model.config
    hidden = config.text_config.hidden_size
    pool_lines = {
        "cls": "first token (<s>) of the last layer",
        "mean": "masked mean over the tokens of the last layer",
        "pooler": f"first token → Linear {hidden}→{hidden} → Tanh ({parameter_count(model.pooler) if model.pooler is not None else 0:,} parameters)",
        "aspect_query": f"one learned query per aspect ({config.aspect_query_heads} head"
        f"{'s' if config.aspect_query_heads > 1 else ''}) attends over the tokens → [B, {config.num_aspects}, {hidden}]",
        "aspect_prompt": f"one learned input vector per aspect after <s>; the last layer there → [B, {config.num_aspects}, {hidden}]",
    }
    return pool_lines[config.pooling]


def _encoder_rows(
    model: ViSoBertAbsaForAspectSentiment, encoder_params: int, batch_size: int, seq_len: int
) -> list[list[dict[str, Any]]]:
    """The boxes from the input through the encoder to the pooled vector."""
    config = model.config
    text = config.text_config
    hidden = text.hidden_size
    embedding_params = parameter_count(model.encoder.embeddings) if hasattr(model.encoder, "embeddings") else None
    layers = getattr(getattr(model.encoder, "encoder", None), "layer", None)
    num_layers = len(layers) if layers is not None else text.num_hidden_layers
    return [
        [{"id": "input", "group": "input", "title": "Input (tokenised reviews)", "lines": [
            f"input_ids, attention_mask [B, L]   (e.g. B={batch_size}, L={seq_len})",
            f"vocabulary {text.vocab_size:,} tokens, positions {getattr(text, 'max_position_embeddings', '?')}"]}],
        [{"id": "encoder", "group": "encoder",
          "title": f"Encoder: {text.model_type} ({encoder_params / 1e6:.2f} M parameters)", "lines": [
            f"embeddings {text.vocab_size:,} × {hidden}" + (f" ({embedding_params / 1e6:.2f} M)" if embedding_params else ""),
            f"{num_layers} layers × (self-attention {text.num_attention_heads} heads, hidden {hidden}, "
            f"FFN {getattr(text, 'intermediate_size', '?')})",
            f"hidden states [B, L, {hidden}] — ONE forward pass feeds both heads"]}],
        [{"id": "pooling", "group": "pooling", "title": f"Pooling: {config.pooling}",
          "lines": [_pooling_line(model), f"pooled [B, {hidden}]"]}],
    ]  # fmt: skip


def _head_and_loss_rows(
    model: ViSoBertAbsaForAspectSentiment, parameters: dict[str, int]
) -> list[list[dict[str, Any]]]:
    """The boxes of the two heads, the two losses, their weighted sum and the single backward pass."""
    config = model.config
    aspects, classes = config.num_aspects, config.num_classes
    aspect_lines = textwrap.wrap(", ".join(config.aspects), 58)
    alpha = "None" if config.focal_alpha is None else json.dumps(config.focal_alpha)
    return [
        [{"id": "classification", "group": "classification",
          "title": f"Classification head ({parameters['classification_head']:,} parameters)", "lines": [
            _chain(model.classifier), f"logits [B, {aspects}, {classes}] → softmax per aspect",
            f"{aspects} aspects:", *aspect_lines,
            f"label scheme {config.label_scheme}: {', '.join(config.class_names)}"]},
         {"id": "projection", "group": "projection",
          "title": f"Projection head ({parameters['projection_head']:,} parameters)",
          "lines": [f"{_chain(model.projection)} → L2-normalise", f"embeddings [B, {config.projection_dim}]",
                    "unit length: z·z' is a cosine"]}],
        [{"id": "focal", "group": "focal", "title": "Focal loss (Lin et al., 2017)", "lines": [
            f"γ = {config.focal_gamma:g}, α = {alpha}", "-α_t (1-p_t)^γ log p_t per (review, aspect)",
            "mean over valid cells (-100 ignored)"]},
         {"id": "contrastive", "group": "contrastive",
          "title": f"Contrastive loss: {config.contrastive_mode}", "lines": [
            f"τ = {config.contrastive_temperature:g}; B×B cosine similarities, self excluded",
            "SupCon (Khosla et al., 2020); MulSupCon (Zhang & Wu, 2024)",
            *_CONTRASTIVE_TEXT.get(config.contrastive_mode, config.contrastive_mode).split("\n")]}],
        [{"id": "combine", "group": "combine", "title": "Weighted sum", "lines": [
            f"loss = {config.focal_weight:g} · focal + {config.contrastive_weight:g} · contrastive"]}],
        [{"id": "backward", "group": "backward", "title": "One backward, one optimizer step", "lines": [
            "loss.backward(): gradients of both terms flow through both heads into the shared encoder",
            f"optimizer updates all {parameters['total']:,} parameters"]}],
    ]  # fmt: skip


def describe_architecture(
    model: ViSoBertAbsaForAspectSentiment, batch_size: int = 16, seq_len: int = 64
) -> dict[str, Any]:
    """The architecture as boxes of text, read from `model` and its config (input of `draw_architecture`)."""
    parameters = {
        "total": parameter_count(model),
        "encoder": parameter_count(model.encoder),
        "classification_head": parameter_count(model.classifier),
        "projection_head": parameter_count(model.projection),
    }
    rows = _encoder_rows(model, parameters["encoder"], batch_size, seq_len) + _head_and_loss_rows(model, parameters)
    return {
        "title": f"ViSoBertAbsaForAspectSentiment: {parameters['total'] / 1e6:.2f} M parameters (drawn from the model and its config)",
        "rows": rows,
        "edges": [list(edge) for edge in _ARCHITECTURE_EDGES],
        "feedback": "gradients (one backward pass)",
        "parameters": parameters,
    }


def run_explain(options: ExplainOptions) -> dict[str, Path]:
    """Write the three figures, their JSON files and EXPLAINED.md into `options.out_dir`.

    Returns:
        `dict[str, Path]`: what was written, by name.
    """
    out = Path(options.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with torch_threads(options.threads):
        model, encoder_text = build_explained_model(options)
        limit = model.config.encoder_max_tokens
        if limit is not None and options.seq_len > limit:
            raise AbsaInputError(
                f"`--seq_len` got {options.seq_len}; allowed: 4 to {limit} (the tokens this encoder's positions hold)."
            )
        spec = describe_architecture(model, options.batch_size, options.seq_len)
        written["model_architecture.json"] = write_json(out / "model_architecture.json", spec)
        written["model_architecture.png"] = draw_architecture(spec, out / "model_architecture.png")
        if options.architecture_only:
            return written
        tiny = options.encoder in (None, "tiny") and not options.config
        settings = BenchSettings(
            encoder=encoder_text, batch_size=options.batch_size, seq_len=options.seq_len,
            reps=options.reps or (20 if tiny else 7), warmup=options.warmup if options.warmup is not None else (3 if tiny else 2),
            device=options.device, dtype=options.dtype, threads=options.threads, seed=options.seed, quick=tiny,
        )  # fmt: skip
        device = torch.device(options.device)
        model = model.to(device)
        config = model.config
        batches = synthetic_batches(
            settings.input_sets, settings.batch_size, settings.seq_len, vocab_size=config.text_config.vocab_size,
            num_aspects=config.num_aspects, label_scheme=config.label_scheme, seed=options.seed, device=device,
        )  # fmt: skip
        optimizer = make_trainer(model, FocalContrastiveTrainer, device=str(device), dtype="fp32").optimizer
        timeline = measure_timeline(
            model, batches, optimizer, reps=settings.reps, warmup=settings.warmup, device=device, dtype=options.dtype
        )
        document = result_document(
            "forward_pass_timeline", "One training step, stage by stage (medians), and the whole step",
            settings=settings.to_dict(),
            inputs={"encoder": encoder_text, "batch_size": options.batch_size, "seq_len": options.seq_len,
                    "parameters": spec["parameters"]},
            results=timeline, derived={"relative_difference": timeline["relative_difference"]}, memory={},
            machine=machine_info(device),
        )  # fmt: skip
        written["forward_pass_timeline.json"] = write_json(out / "forward_pass_timeline.json", document)
        title = f"One training step, B={options.batch_size}, L={options.seq_len}, {encoder_text.split(' (')[0]}, {options.device} {options.dtype}"
        written["forward_pass_timeline.png"] = draw_timeline(timeline, out / "forward_pass_timeline.png", title)
        passes = run_training_benchmarks(settings, out, {"one_vs_two_pass"}, model=model, encoder_text=encoder_text)
        written["one_vs_two_pass.json"] = out / "one_vs_two_pass.json"
        comparison = passes["one_vs_two_pass"]
        written["sequential_vs_parallel.png"] = draw_sequential_vs_parallel(
            comparison, out / "sequential_vs_parallel.png"
        )
        markdown = explained_markdown(spec, document, comparison, options)
        write_text_atomic(out / "EXPLAINED.md", markdown)
        written["EXPLAINED.md"] = out / "EXPLAINED.md"
    return written


def _command_text(command: list[str]) -> str:
    """The command that measured the run, as a user would type it."""
    if command[1:2] == ["explain"]:
        return " ".join(["hf-visobert-absa", "explain", *command[2:]])
    return " ".join(command)


def _machine_text(machine: dict[str, Any]) -> str:
    """`CPU, N usable cores, T torch threads[, GPU]`."""
    where = f"{machine['cpu_model']}, {machine['usable_cores']} usable cores, {machine['torch_threads']} torch threads"
    if machine.get("gpu"):
        where += f", {machine['gpu']['name']}"
    return where


def _load_text(machine: dict[str, Any]) -> str:
    load = machine.get("load_average_1_5_15")
    return "n/a" if not load else " / ".join(f"{value:.2f}" for value in load)


def _timeline_section(timeline: dict[str, Any]) -> str:
    """EXPLAINED.md's section on `forward_pass_timeline.png`: the stage table and the shares of heads and losses."""
    full_ms = timeline["full_step"]["median_s"] * 1e3
    drawn = timeline["median_repetition"]["stage_s"]
    total_ms = timeline["median_repetition"]["total_s"] * 1e3
    rows = "\n".join(
        f"| {STAGES[name]} | {drawn[name] * 1e3:.3f} | {100 * drawn[name] * 1e3 / total_ms:.1f}% | "
        f"{entry['median_s'] * 1e3:.3f} |"
        for name, entry in timeline["stages"].items()
    )
    heads_ms = sum(drawn[n] for n in ("classification_head", "projection_head")) * 1e3
    losses_ms = sum(drawn[n] for n in ("focal_loss", "contrastive_loss", "combine")) * 1e3
    return f"""## One step, stage by stage (`forward_pass_timeline.png`)

The stage-by-stage step was timed {timeline["full_step"]["reps"]} times; the figure and the first columns show the
repetition whose total is the median, the last column each stage's own median over all repetitions.

| stage | ms (median step) | share | ms (stage median) |
|---|---:|---:|---:|
{rows}

Staged step: {total_ms:.3f} ms; the whole step (`model(**batch).loss`, backward, optimizer) measured separately
on the same batches, interleaved: {full_ms:.3f} ms (median). Per round, the staged step took
{100 * timeline["relative_difference"]:+.1f}% of the whole step's time (median over rounds): the stages account for the step. Both heads together take {heads_ms:.3f} ms and
both losses plus their weighted sum {losses_ms:.3f} ms, {100 * (heads_ms + losses_ms) / total_ms:.2f}% of the step;
the encoder forward, the single backward and the optimizer step take the rest.
"""


def _passes_section(comparison: dict[str, Any]) -> str:
    """EXPLAINED.md's section on `sequential_vs_parallel.png`: one training pass against two."""
    one = comparison["results"]["ours_one_pass"]["median_s"] * 1e3
    two = comparison["results"]["sequential_two_pass"]["median_s"] * 1e3
    return f"""## One pass vs two (`sequential_vs_parallel.png`, `one_vs_two_pass.json`)

Training the same model "sequentially" — forward → focal → backward, then forward again → contrastive →
backward — takes {two:.1f} ms per step against {one:.1f} ms for ours (one forward, the weighted sum, one
backward): {two / one:.2f}× as long. The second pass repeats the encoder's forward and backward, the
dominant costs above; only the optimizer step is shared.
"""


def explained_markdown(spec: dict, timeline_doc: dict, comparison: dict, options: ExplainOptions) -> str:
    """EXPLAINED.md: what runs when, with the measured numbers of this run."""
    machine = timeline_doc["machine"]
    params = spec["parameters"]
    encoder_line = spec["rows"][1][0]["title"]
    return f"""# What runs when in one training step

Measured by

    {_command_text(timeline_doc["command"])}

on {_machine_text(machine)}; device {options.device}, {options.dtype}; load average (1/5/15 min) {_load_text(machine)} at the end. Batch
B={options.batch_size}, L={options.seq_len}; encoder {timeline_doc["inputs"]["encoder"]}. Every number below comes
from the JSON files next to this one; rerun the command to regenerate them.

## The model (`model_architecture.png`, drawn from the model object)

{encoder_line}; classification head {params["classification_head"]:,} parameters, projection head
{params["projection_head"]:,} parameters, {params["total"]:,} in all. The encoder runs ONCE per step; its pooled
output feeds both heads. The heads are "parallel" in the data-flow sense only: on one device they run one
after the other, and both are tiny next to the encoder.

{_timeline_section(timeline_doc["results"])}
{_passes_section(comparison)}
Timings on a shared or busy machine vary from run to run; the JSON files keep every repetition.
"""


__all__ = ["ExplainOptions", "build_explained_model", "describe_architecture", "explained_markdown", "run_explain"]
