"""`hf-visobert-absa explain`: three valid PNGs and EXPLAINED.md from a tiny encoder; the timeline's stages
account for the separately measured step; the architecture figure follows the config; the staged step
computes exactly the model's loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from hf_visobert_absa.cli import explain as explain_command
from hf_visobert_absa.cli.main import main as cli_main
from hf_visobert_absa.explain import models as bench_models
from hf_visobert_absa.explain.run import describe_architecture
from hf_visobert_absa.explain.stages import STAGES, staged_loss
from hf_visobert_absa.hub.configuration_visobert_absa import ViSoBertAbsaConfig


def assert_png(path: Path) -> None:
    assert path.is_file() and 0 < path.stat().st_size < 200_000, path
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        assert min(image.size) > 200


def all_text(spec: dict) -> str:
    return "\n".join(box["title"] + "\n" + "\n".join(box["lines"]) for row in spec["rows"] for box in row)


@pytest.fixture(scope="module")
def explained(tmp_path_factory):
    out = tmp_path_factory.mktemp("explained")
    assert explain_command.main(["--out", str(out), "--reps", "25", "--threads", "1"]) == 0
    return out


def test_explain_writes_three_figures_and_the_explanation(explained):
    for name in ("model_architecture.png", "forward_pass_timeline.png", "sequential_vs_parallel.png"):
        assert_png(explained / name)
    timeline = json.loads((explained / "forward_pass_timeline.json").read_text())["results"]
    passes = json.loads((explained / "one_vs_two_pass.json").read_text())
    markdown = (explained / "EXPLAINED.md").read_text()
    # The numbers in the text are the measured ones.
    assert f"{timeline['full_step']['median_s'] * 1e3:.3f} ms" in markdown
    assert f"{passes['results']['ours_one_pass']['median_s'] * 1e3:.1f} ms for ours" in markdown
    assert f"{passes['derived']['ratio_two_pass_over_ours']:.2f}×" in markdown
    for label in STAGES.values():
        assert label in markdown


def test_timeline_stages_sum_to_the_measured_step(explained):
    timeline = json.loads((explained / "forward_pass_timeline.json").read_text())["results"]
    assert list(timeline["stages"]) == list(STAGES)
    drawn = timeline["median_repetition"]["stage_s"]
    assert all(seconds > 0 for seconds in drawn.values())
    assert sum(drawn.values()) == pytest.approx(timeline["median_repetition"]["total_s"])
    assert len(timeline["full_step"]["seconds"]) == 25
    # The acceptance criterion: the staged step accounts for the separately measured whole step (±10%).
    assert abs(timeline["relative_difference"]) <= 0.10, timeline["relative_difference"]


def test_architecture_figure_follows_the_config(tmp_path):
    base, changed = tmp_path / "base", tmp_path / "changed"
    assert explain_command.main(["--out", str(base), "--architecture_only"]) == 0
    assert explain_command.main(["--out", str(changed), "--architecture_only", "--aspects", "Pin,Camera",
                                 "--label_scheme", "mentioned_only", "--projection_dim", "64"]) == 0  # fmt: skip
    text_base = all_text(json.loads((base / "model_architecture.json").read_text()))
    text_changed = all_text(json.loads((changed / "model_architecture.json").read_text()))
    assert "logits [B, 11, 4]" in text_base and "Battery, Camera, Performance" in text_base
    assert "logits [B, 2, 3]" in text_changed and "Pin, Camera" in text_changed
    assert "embeddings [B, 64]" in text_changed and "Linear 32→64" in text_changed
    assert "mentioned_only: positive, negative, neutral" in text_changed
    assert (base / "model_architecture.png").read_bytes() != (changed / "model_architecture.png").read_bytes()
    assert not (base / "forward_pass_timeline.png").exists()


def test_architecture_counts_come_from_the_model():
    model = bench_models.build_model(dict(bench_models.TINY_ENCODER_CONFIG), pooling="pooler", focal_gamma=1.5)
    spec = describe_architecture(model, batch_size=8, seq_len=32)
    total = sum(p.numel() for p in model.parameters())
    assert spec["parameters"]["total"] == total
    assert spec["parameters"]["classification_head"] == 32 * 512 + 512 + 512 * 44 + 44
    text = all_text(spec)
    assert f"{total:,}" in text and "2 layers" in text and "γ = 1.5" in text
    assert "Linear 32→512 → ReLU → Dropout 0.3 → Linear 512→44" in text
    assert "Tanh" in text and "B=8, L=32" in text


@pytest.mark.parametrize("pooling", ["aspect_query", "aspect_prompt"])
def test_architecture_of_the_aspect_poolings(pooling):
    model = bench_models.build_model(dict(bench_models.TINY_ENCODER_CONFIG), pooling=pooling)
    text = all_text(describe_architecture(model, batch_size=8, seq_len=32))
    assert f"Pooling: {pooling}" in text and f"[B, {model.config.num_aspects}, 32]" in text


def test_architecture_names_the_heads_of_the_aspect_query():
    model = bench_models.build_model(
        dict(bench_models.TINY_ENCODER_CONFIG), pooling="aspect_query", aspect_query_heads=4
    )
    assert "one learned query per aspect (4 heads) attends" in all_text(describe_architecture(model, 8, 32))


def test_explain_reads_a_model_config_file(tmp_path):
    config = ViSoBertAbsaConfig(text_config=dict(bench_models.TINY_ENCODER_CONFIG), aspects=["Gia", "Ship", "Pin"])
    config.to_json_file(tmp_path / "config.json")
    out = tmp_path / "out"
    assert explain_command.main(["--out", str(out), "--config", str(tmp_path), "--architecture_only"]) == 0
    assert "Gia, Ship, Pin" in all_text(json.loads((out / "model_architecture.json").read_text()))


@pytest.mark.parametrize(
    "config_kwargs",
    [
        {},
        {"label_scheme": "mentioned_only", "pooling": "mean"},
        ViSoBertAbsaConfig.original_design().to_diff_dict(),
        {"pooling": "aspect_query"},
        {"pooling": "aspect_query", "aspect_query_heads": 4},
        {"pooling": "aspect_prompt"},
        {"pooling": "aspect_query", "contrastive_mode": "aspect_sentiment"},
        {"pooling": "aspect_prompt", "contrastive_mode": "aspect_sentiment"},
    ],
)
def test_staged_step_computes_the_models_loss(config_kwargs):
    kwargs = {k: v for k, v in config_kwargs.items() if k in ViSoBertAbsaConfig.field_names() and k != "text_config"}
    model = bench_models.build_model(dict(bench_models.TINY_ENCODER_CONFIG), **kwargs).eval()
    batch = bench_models.synthetic_batches(1, 8, 16, vocab_size=15004, num_aspects=model.config.num_aspects,
                                           label_scheme=model.config.label_scheme, seed=2)[0]  # fmt: skip
    with torch.no_grad():
        torch.testing.assert_close(staged_loss(model, batch, "cpu", "fp32"), model(**batch).loss)


def test_bad_config_path_exits_2(tmp_path, capsys):
    code = cli_main(
        ["explain", "--out", str(tmp_path), "--config", str(tmp_path / "missing.json"), "--architecture_only"]
    )
    assert code == 2
    assert "`--config`" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--seq_len", "100000"], "`--seq_len` got 100000; allowed: 4 to "),
        (["--threads", "-1"], "`--threads` got -1; allowed: an integer >= 1"),
    ],
)
def test_explain_refuses_lengths_beyond_the_encoder_and_negative_threads(tmp_path, capsys, extra, needle):
    assert cli_main(["explain", "--out", str(tmp_path / "out"), "--architecture_only", *extra]) == 2
    assert needle in capsys.readouterr().err
