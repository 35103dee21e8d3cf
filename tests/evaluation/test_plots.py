"""Plots: every function writes a valid PNG, handles the absent_as_neutral scheme and empty logs, and rejects bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from hf_visobert_absa.evaluation.metrics import compute_absa_metrics
from hf_visobert_absa.evaluation.plots import plot_confusion_matrices, plot_per_aspect_f1, plot_training_curves

ASPECTS = ["Battery", "Camera", "Performance", "Display", "Design"]


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    gold = np.where(rng.random((40, len(ASPECTS))) < 0.3, rng.integers(1, 4, (40, len(ASPECTS))), 0)
    pred = np.where(rng.random(gold.shape) < 0.7, gold, rng.integers(0, 4, gold.shape))
    return pred, gold


def assert_png(path):
    assert path.is_file() and path.stat().st_size > 0
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        width, height = image.size
        assert width > 100 and height > 100


def log_history():
    """The shape of `Trainer.state.log_history` with `FocalContrastiveTrainer`'s loss terms."""
    history = []
    for step in range(5, 45, 5):
        history.append({"loss": 1.0 / step, "focal_loss": 0.6 / step, "contrastive_loss": 2.0 / step, "step": step})
        if step % 20 == 0:
            history.append(
                {
                    "eval_loss": 1.2 / step,
                    "eval_focal_loss": 0.7 / step,
                    "eval_contrastive_loss": 2.5 / step,
                    "step": step,
                }
            )
    history.append({"train_loss": 0.1, "train_runtime": 3.0, "step": 40})  # run summary: not a curve point
    return history


def test_confusion_matrices_png(tmp_path, arrays):
    pred, gold = arrays
    path = plot_confusion_matrices(pred, gold, ASPECTS, tmp_path / "nested" / "confusion_matrices.png", title="val")
    assert path == tmp_path / "nested" / "confusion_matrices.png"
    assert_png(path)
    # A 5-aspect grid is 4 wide and 2 high: taller than a single row of 4.
    single_row = plot_confusion_matrices(pred[:, :4], gold[:, :4], ASPECTS[:4], tmp_path / "row.png")
    with Image.open(path) as grid, Image.open(single_row) as row:
        assert grid.size[1] > row.size[1]


def test_training_curves_png(tmp_path, caplog):
    assert_png(plot_training_curves(log_history(), tmp_path / "training_curves.png"))
    # Nothing logged (e.g. logging_steps larger than the run): still a picture, panels say so, a warning is logged.
    assert_png(plot_training_curves([{"train_loss": 0.3, "step": 2}], tmp_path / "empty.png"))
    assert "No loss values" in caplog.text


@pytest.mark.parametrize("scheme", ["absent_as_class", "absent_as_neutral"])
def test_per_aspect_f1_png(tmp_path, arrays, scheme):
    pred, gold = arrays
    if scheme == "absent_as_neutral":
        pred = np.where(pred == 0, 3, pred)
    metrics = compute_absa_metrics(pred, gold, ASPECTS, scheme)
    assert_png(plot_per_aspect_f1(metrics, tmp_path / f"f1_{scheme}.png", title=scheme))


def test_plots_leave_matplotlib_global_state_alone(tmp_path, arrays):
    import matplotlib

    had_pyplot = "matplotlib.pyplot" in sys.modules
    backend_before = matplotlib.rcParams._get_backend_or_none()
    pred, gold = arrays
    plot_confusion_matrices(pred, gold, ASPECTS, tmp_path / "a.png")
    plot_training_curves(log_history(), tmp_path / "b.png")
    plot_per_aspect_f1(compute_absa_metrics(pred, gold, ASPECTS), tmp_path / "c.png")
    assert matplotlib.rcParams._get_backend_or_none() == backend_before
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules


def test_plot_errors(tmp_path, arrays):
    pred, gold = arrays
    with pytest.raises(ValueError, match=r"`path` must end in \.png .*got '.*cm\.jpg'"):
        plot_confusion_matrices(pred, gold, ASPECTS, tmp_path / "cm.jpg")
    with pytest.raises(ValueError, match=r"5 aspect columns but `aspects` names 2"):
        plot_confusion_matrices(pred, gold, ASPECTS[:2], tmp_path / "cm.png")
    with pytest.raises(ValueError, match=r"`references` holds 7 at row 1 \(1-based\)"):
        plot_confusion_matrices(pred[:1], np.full((1, 5), 7), ASPECTS, tmp_path / "cm.png")
    with pytest.raises(ValueError, match=r"`log_history` must be a list of dicts .* got dict"):
        plot_training_curves({"loss": 1.0}, tmp_path / "curves.png")
    with pytest.raises(ValueError, match=r"`metrics` has no `per_aspect` table"):
        plot_per_aspect_f1({"eval_joint_micro_f1": 0.5}, tmp_path / "f1.png")
    assert not list(tmp_path.glob("*.png"))


def test_per_aspect_f1_with_34_aspects_grows_down_not_across(tmp_path):
    from PIL import Image

    aspects = [f"HOTEL#ASPECT_{i}" for i in range(34)]
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, size=(60, 34)) * (rng.random((60, 34)) < 0.3)
    path = plot_per_aspect_f1(compute_absa_metrics(gold, gold, aspects), tmp_path / "f1.png")
    with Image.open(path) as image:
        width, height = image.size
    assert width <= 1300 and height > width  # before: 3260 x 420 px
