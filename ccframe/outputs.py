"""A run's files on local disk: resolved config, results as Parquet, figures.

Written before anything is sent to a tracking store, so a run's results survive an
unreachable store; the same folder is then logged as the run's MLflow artifacts.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from ccframe.results import RunResult

CONFIG_FILE = "config.yaml"
SUMMARY_FILE = "summary.parquet"
REPLICATES_FILE = "replicates.parquet"
FIGURES_DIR = "figures"


def save_outputs(result: RunResult, folder: Path, figures: bool = True) -> Path:
    """Write ``result`` into ``folder`` (created if needed); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if result.config is not None:
        (folder / CONFIG_FILE).write_text(OmegaConf.to_yaml(result.config, resolve=True))
    result.summary.write_parquet(folder / SUMMARY_FILE)
    result.replicates.write_parquet(folder / REPLICATES_FILE)
    if figures:
        from ccframe.figures import plot_metrics

        scenario = result.settings.scenario
        plot_metrics(result.summary, scenario.metrics, folder / FIGURES_DIR / f"{scenario.name}.png",
                     f"{scenario.description} — {result.settings.replicates} replicates, 95% CI")
    return folder


def artifact_files(folder: Path) -> list[Path]:
    """The files :func:`save_outputs` wrote in ``folder`` (not whatever else lives there)."""
    names = [folder / CONFIG_FILE, folder / SUMMARY_FILE, folder / REPLICATES_FILE]
    return [p for p in names if p.exists()] + sorted((folder / FIGURES_DIR).glob("*.png"))
