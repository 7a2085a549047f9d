"""Figures of the kind the seed shows (its Figs. 3-7): metrics over simulated years with CI bands."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl


def pyplot():
    """Matplotlib's pyplot on the non-interactive Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: A panel's size and the margins around it, in inches: room for tick labels of up to six
#: digits (Matplotlib writes larger values with an offset), a title and the x label. Fixed
#: margins, because ``tight_layout`` measures every label and costs half a second a figure.
PANEL = (4.2, 3.2)
MARGIN = {"left": 0.7, "right": 0.2, "bottom": 0.5, "top": 0.75, "between_x": 0.75, "between_y": 0.9}


def _grid(count: int):
    plt = pyplot()
    cols = min(count, 3)
    rows = math.ceil(count / cols)
    width, height = PANEL[0] * cols, PANEL[1] * rows
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    axes_width = (width - MARGIN["left"] - MARGIN["right"] - (cols - 1) * MARGIN["between_x"]) / cols
    axes_height = (height - MARGIN["bottom"] - MARGIN["top"] - (rows - 1) * MARGIN["between_y"]) / rows
    fig.subplots_adjust(left=MARGIN["left"] / width, right=1 - MARGIN["right"] / width,
                        bottom=MARGIN["bottom"] / height, top=1 - MARGIN["top"] / height,
                        wspace=MARGIN["between_x"] / axes_width, hspace=MARGIN["between_y"] / axes_height)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return plt, fig, axes.flat


def plot_metrics(summary: pl.DataFrame, metrics: Sequence[str], path: Path, title: str) -> Path:
    """One panel per metric: the replicate mean by year with its 95% CI band."""
    metrics = [m for m in metrics if not summary.filter(pl.col("metric") == m).is_empty()]
    plt, fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes, metrics, strict=False):
        rows = summary.filter(pl.col("metric") == metric).sort("year")
        years = rows["year"].to_numpy()
        ax.fill_between(years, rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy(),
                        alpha=0.25, label="95% CI")
        ax.plot(years, rows["mean"].to_numpy(), marker="o", label="mean")
        ax.set_title(metric)
        ax.set_xlabel("simulated year")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize="small")
    return _save(plt, fig, title, path)


def plot_comparison(summaries: Mapping[str, pl.DataFrame], metrics: Sequence[str], path: Path,
                    title: str) -> Path:
    """One panel per metric, one line (with CI band) per job of a multirun."""
    plt, fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes, metrics, strict=False):
        for label, summary in summaries.items():
            rows = summary.filter(pl.col("metric") == metric).sort("year")
            if rows.is_empty():
                continue
            years = rows["year"].to_numpy()
            line, = ax.plot(years, rows["mean"].to_numpy(), marker=".", label=label)
            ax.fill_between(years, rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy(),
                            alpha=0.15, color=line.get_color())
        ax.set_title(metric)
        ax.set_xlabel("simulated year")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize="x-small")
    return _save(plt, fig, title, path)


def _save(plt, fig, title: str, path: Path) -> Path:
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
