"""PNG pictures of a training run: per-aspect confusion matrices, loss curves, per-aspect F1 bars.

Figures are built with `matplotlib.figure.Figure` and written with its Agg canvas, never through `pyplot`:
importing or calling this module changes no global matplotlib state (backend, rcParams) and opens no window,
so it is safe in a CLI, a notebook or a headless server. matplotlib is imported on first use.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..hub.labels_visobert_absa import SENTIMENTS
from ..io_safety import atomic_path
from .metrics import confusion_matrices

logger = logging.getLogger(__name__)

_SHORT_NAMES = {"positive": "pos", "negative": "neg", "neutral": "neu", "conflict": "conf"}


def _tick_names(sentiments: Sequence[str] | None) -> list[str]:
    """Axis names of the canonical classes: none, then the sentiments (the usual ones abbreviated)."""
    names = SENTIMENTS if sentiments is None else sentiments
    return ["none"] + [_SHORT_NAMES.get(name.lower(), name if len(name) <= 6 else name[:5] + "…") for name in names]


_CURVES = (("loss", "combined loss"), ("focal_loss", "focal loss"), ("contrastive_loss", "contrastive loss"))
_F1_SERIES = (
    ("detection_f1", "aspect detection F1"),
    ("sentiment_macro_f1", "sentiment macro F1"),
    ("joint_f1", "joint (aspect, sentiment) F1"),
)


def _plain(text: str) -> str:
    """`text` shown literally by matplotlib (a `$` would otherwise start mathtext)."""
    return text.replace("$", r"\$")


def _png_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"`path` must end in .png (the files are PNG images); got {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


#: What to install for the figures: matplotlib is the `[plots]` extra, not a dependency of the core.
PLOTS_EXTRA = "pip install 'hf-visobert-absa[plots]'"


def plotting_available() -> bool:
    """Whether matplotlib is installed (the `[plots]` extra)."""
    return importlib.util.find_spec("matplotlib") is not None


def _figure(width: float, height: float) -> Any:
    if not plotting_available():
        raise ImportError(f"Drawing figures needs matplotlib: {PLOTS_EXTRA}.")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(figure: Any, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # attaches an Agg canvas to this figure only
    with atomic_path(path) as temporary:  # a crash mid-write leaves no truncated PNG
        figure.savefig(temporary, format="png")
    logger.info("Wrote %s", path)
    return path


def plot_confusion_matrices(
    predictions: Any,
    references: Any,
    aspects: Sequence[str],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    sentiments: Sequence[str] | None = None,
) -> Path:
    r"""Draws one canonical (K+1)x(K+1) confusion matrix per aspect (gold rows x predicted columns), as small multiples.

    Cells show counts; their colour is the share of the gold row (so rare sentiments stay visible). Under
    the `absent_as_neutral` and `mentioned_only` schemes the "none" column is empty: those models never predict absence.

    Args:
        predictions (`array-like` of shape `[N, A]`): canonical predicted codes (0 none, 1..K the sentiments).
        references (`array-like` of shape `[N, A]`): canonical gold codes.
        aspects (`Sequence[str]`): the `A` aspect names, in column order.
        path (`str` or `os.PathLike`): where to write the PNG (parent folders are created).
        title (`str`, *optional*): a title above the grid.
        sentiments (`Sequence[str]`, *optional*): the K sentiments (default positive, negative, neutral).

    Aspect names appear exactly as given in the panel titles (one file per call, so names never reach a
    file name).

    Returns:
        `Path`: `path`.

    Raises:
        ValueError: invalid arrays (see `metrics.compute_absa_metrics`), an aspect count that does not match,
            or a path not ending in `.png`.

    Example:

    ```python
    >>> plot_confusion_matrices(preds, gold, config.aspects, "out/confusion_matrices.png")
    PosixPath('out/confusion_matrices.png')
    ```
    """
    path = _png_path(path)
    matrices = confusion_matrices(predictions, references, sentiments)  # [A, C, C], C = K + 1
    ticks = _tick_names(sentiments)
    aspects = list(aspects)
    if len(aspects) != matrices.shape[0]:
        raise ValueError(
            f"The arrays have {matrices.shape[0]} aspect columns but `aspects` names {len(aspects)}: {aspects}."
        )
    ncols = min(4, len(aspects))
    nrows = math.ceil(len(aspects) / ncols)
    figure = _figure(3.0 * ncols, 3.2 * nrows + (0.4 if title else 0.0))
    axes = np.atleast_1d(figure.subplots(nrows, ncols, squeeze=False)).ravel()
    row_totals = matrices.sum(axis=2, keepdims=True)
    shares = np.divide(matrices, row_totals, out=np.zeros(matrices.shape), where=row_totals > 0)
    for index, ax in enumerate(axes):
        if index >= len(aspects):
            ax.set_axis_off()
            continue
        _confusion_panel(ax, matrices[index], shares[index], ticks, str(aspects[index]))
        if index % ncols == 0:
            ax.set_ylabel("gold", fontsize=8)
        if index >= len(aspects) - ncols:
            ax.set_xlabel("predicted", fontsize=8)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def _confusion_panel(ax: Any, counts: np.ndarray, shares: np.ndarray, ticks: list[str], aspect: str) -> None:
    """One aspect's `[C, C]` matrix: colour = share of the gold row, text = count, title = aspect and mentions."""
    size = counts.shape[0]
    ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for gold in range(size):
        for pred in range(size):
            color = "white" if shares[gold, pred] > 0.6 else "black"
            ax.text(pred, gold, str(counts[gold, pred]), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(size), ticks, fontsize=8)
    ax.set_yticks(range(size), ticks, fontsize=8)
    # two lines, long names wrapped: one line of "<aspect> (mentioned: n)" is wider than a 3-inch panel
    name = textwrap.fill(_plain(aspect), width=24, break_long_words=True)
    ax.set_title(f"{name}\n(mentioned: {int(counts[1:].sum())})", fontsize=9)


def _points(log_history: Sequence[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    steps, values = [], []
    for index, entry in enumerate(log_history):
        value = entry.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            steps.append(float(entry.get("step", index)))
            values.append(float(value))
    return steps, values


def plot_training_curves(log_history: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    r"""Draws the combined loss, the focal term and the contrastive term against the step, train and eval.

    Reads `Trainer.state.log_history`: training points from entries holding `loss`, `focal_loss`,
    `contrastive_loss`; evaluation points from `eval_loss`, `eval_focal_loss`, `eval_contrastive_loss`. The
    x-axis is each entry's `step` (its position in the list when it has none). The run summary's
    `train_loss` (a mean over the run) is not a curve point and is ignored. A panel with nothing logged says
    so instead of staying silently empty.

    Args:
        log_history (`Sequence[Mapping[str, Any]]`): e.g. `trainer.state.log_history`.
        path (`str` or `os.PathLike`): where to write the PNG (parent folders are created).

    Returns:
        `Path`: `path`.

    Raises:
        ValueError: `log_history` is not a list of dicts, or `path` does not end in `.png`.

    Example:

    ```python
    >>> plot_training_curves(trainer.state.log_history, "out/training_curves.png")
    PosixPath('out/training_curves.png')
    ```
    """
    path = _png_path(path)
    if isinstance(log_history, (str, bytes, Mapping)) or not all(isinstance(e, Mapping) for e in log_history):
        raise ValueError(
            "`log_history` must be a list of dicts such as `trainer.state.log_history`; "
            f"got {type(log_history).__name__}."
        )
    figure = _figure(13.0, 3.6)
    axes = figure.subplots(1, len(_CURVES))
    anything = False
    for ax, (key, label) in zip(axes, _CURVES, strict=True):
        drawn = False
        for prefix, style, name in (("", "-o", "train"), ("eval_", "-s", "eval")):
            steps, values = _points(log_history, prefix + key)
            if steps:
                ax.plot(steps, values, style, markersize=3, label=name)
                drawn = True
        if drawn:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes, color="gray")
        anything = anything or drawn
        ax.set_title(label)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    if not anything:
        logger.warning("No loss values in `log_history` (%d entries); %s shows empty panels.", len(log_history), path)
    return _save(figure, path)


#: Above this many aspects the per-aspect F1 plot draws one row per aspect (horizontal bars) instead of a column.
MAX_ASPECTS_ACROSS = 12


def plot_per_aspect_f1(metrics: Mapping[str, Any], path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    r"""Draws grouped bars per aspect: detection F1, sentiment macro F1 and joint F1.

    A series whose values are all `None` (detection under the `absent_as_neutral` and `mentioned_only` schemes) is left
    out and the legend says it is not applicable. Each aspect's label carries its gold support.

    Args:
        metrics (`Mapping[str, Any]`): the dict of `metrics.compute_absa_metrics` (with its `per_aspect` table).
        path (`str` or `os.PathLike`): where to write the PNG (parent folders are created).
        title (`str`, *optional*): a title above the bars.

    Returns:
        `Path`: `path`.

    Raises:
        ValueError: `metrics` has no `per_aspect` table, or `path` does not end in `.png`.

    Example:

    ```python
    >>> plot_per_aspect_f1(compute_absa_metrics(preds, gold, aspects, "absent_as_class"), "out/f1.png")
    PosixPath('out/f1.png')
    ```
    """
    path = _png_path(path)
    table = metrics.get("per_aspect") if isinstance(metrics, Mapping) else None
    if not isinstance(table, Mapping) or not table:
        raise ValueError(
            "`metrics` has no `per_aspect` table; pass the dict returned by "
            "`hf_visobert_absa.evaluation.metrics.compute_absa_metrics` (the Trainer's flat dict has none)."
        )
    aspects = list(table)
    series = [(key, label) for key, label in _F1_SERIES if any(table[a].get(key) is not None for a in aspects)]
    skipped = [label for key, label in _F1_SERIES if (key, label) not in series]
    tall = len(aspects) > MAX_ASPECTS_ACROSS  # many aspects: one row each, so the image grows down, not across
    figure = _figure(8.0, 0.45 * len(aspects) + 1.5) if tall else _figure(max(6.0, 0.9 * len(aspects) + 2.0), 4.2)
    ax = figure.subplots()
    positions = np.arange(len(aspects))
    width = 0.8 / max(len(series), 1)
    names = [_plain(f"{a} (n={table[a].get('support', '?')})" if tall else f"{a}\n(n={table[a].get('support', '?')})")
             for a in aspects]  # fmt: skip
    for offset, (key, label) in enumerate(series):
        heights = [np.nan if table[a].get(key) is None else float(table[a][key]) for a in aspects]
        place = positions + (offset - (len(series) - 1) / 2) * width
        (ax.barh if tall else ax.bar)(place, heights, width, label=label)
    _label_f1_axes(ax, positions, names, tall)
    figure.legend(loc="outside upper center", ncols=max(len(series), 1), fontsize=8)
    notes = [title] if title else []
    notes += [f"{label}: not applicable to this label scheme" for label in skipped]
    if notes:
        ax.set_title("\n".join(notes), fontsize=9)
    return _save(figure, path)


def _label_f1_axes(ax: Any, positions: np.ndarray, names: list[str], tall: bool) -> None:
    """Aspect names along the bars' axis (rows when `tall`, the first aspect on top), F1 from 0 to 1 along the other."""
    if tall:
        ax.set_yticks(positions, names)
        ax.invert_yaxis()  # the first aspect on top
        ax.set_xlim(0.0, 1.05)
        ax.set_xlabel("F1")
        ax.grid(axis="x", alpha=0.3)
    else:
        ax.set_xticks(positions, names, rotation=45, ha="right")
        ax.set_ylim(0.0, 1.05)
        ax.set_ylabel("F1")
        ax.grid(axis="y", alpha=0.3)


__all__ = ["plot_confusion_matrices", "plot_per_aspect_f1", "plot_training_curves"]
