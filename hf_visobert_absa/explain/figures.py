"""The three `explain` figures and the benchmark bar charts, drawn from measured or introspected data.

- [`draw_architecture`]: boxes and arrows from an architecture description (see
  `explain.describe_architecture`, which reads the actual model and config); nothing in the picture is typed
  by hand.
- [`draw_timeline`]: a Gantt-style bar of one training step's measured stages, with the separately measured
  whole step beneath it.
- [`draw_sequential_vs_parallel`]: benchmark 2 (one pass vs two) from its JSON document.
- [`draw_medians`]: horizontal bars of medians with every repetition as a dot (benchmark PNGs).

Figures are built with `matplotlib.figure.Figure` and an Agg canvas, never `pyplot`: no global matplotlib
state changes and no window opens. matplotlib is imported on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..io_safety import atomic_path

logger = logging.getLogger(__name__)

#: Colour per part of the model (edge colour; boxes use a light tint of it).
COLOURS: dict[str, str] = {
    "input": "#7f7f7f",
    "encoder": "#4C72B0",
    "pooling": "#64B5CD",
    "classification": "#DD8452",
    "projection": "#55A868",
    "focal": "#C44E52",
    "contrastive": "#8172B3",
    "combine": "#937860",
    "backward": "#333333",
    "optimizer": "#8C8C8C",
}
STAGE_GROUPS: dict[str, str] = {
    "encoder_forward": "encoder",
    "classification_head": "classification",
    "projection_head": "projection",
    "focal_loss": "focal",
    "contrastive_loss": "contrastive",
    "combine": "combine",
    "backward": "backward",
    "optimizer_step": "optimizer",
}


def _figure(width: float, height: float, layout: str | None = "constrained") -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout=layout)


def _save(figure: Any, path: str | Path, tight: bool = False) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    with atomic_path(path) as temporary:  # a crash mid-write leaves no truncated PNG
        figure.savefig(temporary, format="png", bbox_inches="tight" if tight else None)
    logger.info("wrote %s", path)
    return path


def _tint(colour: str, amount: float = 0.85) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return tuple(c + (1.0 - c) * amount for c in to_rgb(colour))  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------- architecture
#: Box layout of the architecture figure, in axis units (0-100): line height, gap between rows, top of row 1.
_LINE_H, _ROW_GAP, _TOP = 1.75, 3.2, 95.0


def _draw_boxes(
    ax: Any, rows: list[list[dict[str, Any]]]
) -> tuple[dict[str, tuple[float, float, float, float]], float]:
    """Draw the rows of boxes top-down, scaled to fit; return each box's `(x, top, bottom, width)` by id, and the
    height below the last row."""
    from matplotlib.patches import FancyBboxPatch

    heights = [max(len(box["lines"]) + 1 for box in row) * _LINE_H + 1.6 for row in rows]
    total = sum(heights) + _ROW_GAP * (len(heights) - 1)
    scale = min(1.0, (_TOP - 6.0) / total)
    centres: dict[str, tuple[float, float, float, float]] = {}
    y = _TOP
    for row, height in zip(rows, heights, strict=True):
        height *= scale
        width = min(88.0 / len(row) - 4.0, 70.0)
        for index, box in enumerate(row):
            x = 100.0 * (index + 0.5) / len(row)
            colour = COLOURS[box["group"]]
            ax.add_patch(
                FancyBboxPatch(
                    (x - width / 2, y - height), width, height, boxstyle="round,pad=0.3,rounding_size=1.2",
                    facecolor=_tint(colour), edgecolor=colour, linewidth=2.0,
                )
            )  # fmt: skip
            ax.text(x, y - 0.9 * scale, box["title"], ha="center", va="top", fontsize=10.5, weight="bold", color=colour)
            body = "\n".join(box["lines"])
            ax.text(x, y - (0.9 + _LINE_H) * scale, body, ha="center", va="top", fontsize=8.6, linespacing=1.25)
            centres[box["id"]] = (x, y, y - height, width)
        y -= height + _ROW_GAP * scale
    return centres, y


def _draw_edges(ax: Any, edges: list[list[str]], centres: dict[str, tuple[float, float, float, float]]) -> None:
    """An arrow from the bottom of each source box to the top of its target, with its label beside it."""
    for source, target, label in edges:
        sx, _, s_bottom, _ = centres[source]
        tx, t_top, _, _ = centres[target]
        ax.annotate(
            "", xy=(tx, t_top + 0.4), xytext=(sx, s_bottom - 0.4),
            arrowprops={"arrowstyle": "-|>", "color": "#444444", "lw": 1.4, "shrinkA": 0, "shrinkB": 0},
        )  # fmt: skip
        if label:
            ax.text((sx + tx) / 2 + 1.0, (s_bottom + t_top) / 2, label, fontsize=8, color="#444444", va="center")


def _draw_feedback(ax: Any, feedback: str, centres: dict[str, tuple[float, float, float, float]]) -> None:
    """The dashed gradient path from the backward box up the left margin into the encoder."""
    bx, _, b_bottom, b_width = centres["backward"]
    ex, e_top, e_bottom, e_width = centres["encoder"]
    left = 1.5
    y_back = (b_bottom + centres["backward"][1]) / 2
    ax.plot([bx - b_width / 2 - 0.5, left, left], [y_back, y_back, (e_top + e_bottom) / 2], color=COLOURS["backward"],
            ls="--", lw=1.4)  # fmt: skip
    ax.annotate(
        "", xy=(ex - e_width / 2 - 0.4, (e_top + e_bottom) / 2), xytext=(left, (e_top + e_bottom) / 2),
        arrowprops={"arrowstyle": "-|>", "color": COLOURS["backward"], "lw": 1.4, "ls": "--"},
    )  # fmt: skip
    ax.text(left + 0.8, (y_back + e_bottom) / 2, feedback, rotation=90, fontsize=8.5, va="center",
            color=COLOURS["backward"])  # fmt: skip


def draw_architecture(spec: dict[str, Any], path: str | Path) -> Path:
    """Draw the architecture described by `spec` (rows of boxes, arrows, a title) into a PNG.

    Args:
        spec (`dict`): `{"title": str, "rows": [[box, ...], ...], "edges": [[from_id, to_id, label], ...],
            "feedback": str}` where a box is `{"id", "group", "title", "lines": [str, ...]}`; the group picks
            the colour ([`COLOURS`]).
        path (`str` or `Path`): the PNG to write.

    Returns:
        `Path`: the file written.
    """
    fig = _figure(11, 14, layout=None)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.axis("off")
    ax.text(50, 98, spec["title"], ha="center", va="top", fontsize=13, weight="bold")
    centres, y = _draw_boxes(ax, spec["rows"])
    bottom = max(0.0, y - 1.0)
    ax.set_ylim(bottom, 100)  # crop the unused space below the last row; keep the drawing's proportions
    fig.set_size_inches(11, 14 * (100 - bottom) / 100)
    _draw_edges(ax, spec["edges"], centres)
    if spec.get("feedback") and "backward" in centres and "encoder" in centres:
        _draw_feedback(ax, spec["feedback"], centres)
    return _save(fig, path, tight=True)


# ----------------------------------------------------------------------------------------------- timeline
def draw_timeline(timeline: dict[str, Any], path: str | Path, title: str) -> Path:
    """One training step as a Gantt bar: the stage times (ms) of the median repetition, the separately measured
    whole step (median) beneath it."""
    fig = _figure(12, 4.2)
    ax = fig.add_subplot()
    stages = timeline["median_repetition"]["stage_s"]
    labels = timeline["stage_labels"]
    total_ms = timeline["median_repetition"]["total_s"] * 1e3
    for row, name in enumerate(stages):
        start = timeline["start_s"][name] * 1e3
        width = stages[name] * 1e3
        colour = COLOURS[STAGE_GROUPS[name]]
        ax.barh(row, width, left=start, color=colour, edgecolor="black", linewidth=0.5, height=0.7)
        share = 100.0 * width / total_ms if total_ms else 0.0
        shown = f"{share:.1f}%" if share >= 1 else f"{share:.2g}%"
        ax.text(start + width + total_ms * 0.005, row, f"{_ms(width)} ({shown})", va="center", fontsize=8)
    full = timeline["full_step"]["median_s"] * 1e3
    row = len(stages)
    ax.barh(row, full, left=0, color="white", edgecolor="black", hatch="//", height=0.7)
    ax.text(full + total_ms * 0.005, row, f"{_ms(full)} (whole step, measured separately)", va="center", fontsize=8)
    ax.set_yticks(range(row + 1), [labels[name] for name in stages] + ["whole step"])
    ax.invert_yaxis()
    reps = timeline["full_step"]["reps"]
    ax.set_xlabel(
        f"time within one training step (ms): the median of {reps} staged steps; whole step = median of {reps}"
    )
    ax.set_xlim(0, max(total_ms, full) * 1.35)
    difference = 100.0 * timeline["relative_difference"]
    ax.set_title(
        f"{title}\nstaged step {_ms(total_ms)}, whole step {_ms(full)}; staged / whole per round: "
        f"{difference:+.1f}% (median)",
        fontsize=10,
    )
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path, tight=True)


def _ms(value_ms: float) -> str:
    return f"{value_ms:.3g} ms" if value_ms < 10 else f"{value_ms:,.0f} ms"


# ----------------------------------------------------------------------------------------------- bars
def draw_medians(
    names: Sequence[str],
    series: Sequence[Sequence[float]],
    path: str | Path,
    *,
    title: str,
    xlabel: str,
    colours: Sequence[str] | None = None,
    scale: float = 1.0,
    log: bool = False,
    annotate: Sequence[str] | None = None,
) -> Path:
    """Horizontal bars of the median of each series (times `scale`), every value as a dot."""
    import statistics
    import textwrap

    fig = _figure(12, 1.5 + 0.65 * len(names))
    ax = fig.add_subplot()
    colours = colours or ["#4C72B0"] * len(names)
    for row, (values, colour) in enumerate(zip(series, colours, strict=True)):
        scaled = [v * scale for v in values]
        median = statistics.median(scaled)
        ax.barh(row, median, color=_tint(colour, 0.35), edgecolor=colour, height=0.6)
        ax.plot(scaled, [row] * len(scaled), "o", color="black", ms=3, alpha=0.6)
        text = f"{median:.4g}" + (f"  {annotate[row]}" if annotate else "")
        right_edge = max(scaled)
        ax.text(
            right_edge * 1.25 if log else right_edge + 0.02 * max(max(v) for v in series) * scale,
            row,
            text,
            va="center",
            fontsize=8.5,
        )
    ax.set_yticks(range(len(names)), list(names))
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
    right = max(max(v) for v in series) * scale
    ax.set_xlim(right=right * (6 if log else 1.45))
    ax.set_xlabel(xlabel)
    ax.set_title("\n".join(textwrap.wrap(title, 100)), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path, tight=True)


def draw_sequential_vs_parallel(document: dict[str, Any], path: str | Path) -> Path:
    """Benchmark 2 as a picture: median step time of two passes vs one, every repetition as a dot."""
    results = document["results"]
    ratio = document["derived"]["ratio_two_pass_over_ours"]
    inputs = document["inputs"]
    shape = f"B={inputs['batch_size']}, L={inputs['seq_len']}, {inputs['encoder'].split(' (')[0]}"
    return draw_medians(
        ["sequential: fwd→focal→bwd, fwd→contrastive→bwd", "ours: one fwd → 0.8·focal + 0.2·contrastive → one bwd"],
        [results["sequential_two_pass"]["seconds"], results["ours_one_pass"]["seconds"]],
        path,
        title=f"One training step, two passes vs one ({shape}, {document['settings']['device']}): "
        f"two passes take {ratio:.2f}× as long",
        xlabel="ms per training step (bar = median, dots = repetitions)",
        colours=[COLOURS["contrastive"], COLOURS["encoder"]],
        scale=1e3,
    )
