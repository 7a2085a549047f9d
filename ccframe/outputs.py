"""A run's files on local disk: resolved config, results as Parquet, figures.

Written before anything is sent to a tracking store, so a run's results survive an
unreachable store; the same folder is then logged as the run's MLflow artifacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from ccframe.results import RunResult

CONFIG_FILE = "config.yaml"
SUMMARY_FILE = "summary.parquet"
REPLICATES_FILE = "replicates.parquet"
FIGURES_DIR = "figures"


def save_outputs(result: RunResult, folder: Path) -> Path:
    """Write ``result``'s config and results into ``folder`` (created if needed); return it."""
    from omegaconf import OmegaConf

    folder.mkdir(parents=True, exist_ok=True)
    if result.config is not None:
        (folder / CONFIG_FILE).write_text(OmegaConf.to_yaml(result.config, resolve=True))
    result.summary.write_parquet(folder / SUMMARY_FILE)
    result.replicates.write_parquet(folder / REPLICATES_FILE)
    return folder


def figure_spec(settings) -> dict:
    """What the run's figure shows: the scenario's metrics, its file name and title."""
    scenario = settings.scenario
    return {"metrics": list(scenario.metrics), "name": scenario.name,
            "title": f"{scenario.description} — {settings.replicates} replicates, 95% CI"}


def draw_figure(summary: pl.DataFrame, folder: Path, metrics: list[str], name: str, title: str) -> Path:
    """The run's figure, ``figures/<name>.png``: each metric by year with its CI band."""
    from ccframe.figures import plot_metrics

    return plot_metrics(summary, metrics, folder / FIGURES_DIR / f"{name}.png", title)


def artifact_files(folder: Path) -> list[Path]:
    """The files :func:`save_outputs` and :func:`draw_figure` wrote in ``folder`` (not whatever else lives there)."""
    return data_files(folder) + figure_files(folder)


def data_files(folder: Path) -> list[Path]:
    """The config and results :func:`save_outputs` wrote in ``folder``."""
    return [p for p in (folder / CONFIG_FILE, folder / SUMMARY_FILE, folder / REPLICATES_FILE) if p.exists()]


def figure_files(folder: Path) -> list[Path]:
    """The figures in ``folder``."""
    return sorted((folder / FIGURES_DIR).glob("*.png"))


def job_files(sweep: Path, name: str) -> list[Path]:
    """The file ``name`` of each job folder of a sweep that has it, in job order (0, 1, ..., 10, ...)."""
    def order(path: Path) -> tuple[bool, int, str]:
        job = path.parent.name
        return (not job.isdigit(), int(job) if job.isdigit() else 0, job)

    return sorted(sweep.glob(f"*/{name}"), key=order)
