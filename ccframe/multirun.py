"""A Hydra multirun as one parent MLflow run with a child run per job (a sweep is one row in the UI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

import ccframe
from ccframe.tracking import MANIFEST_FILE, Tracker, run_name, tracking_uri, warn

PARENT_RUN_FILE = ".mlflow_parent_run_id"


class MultirunCallback(Callback):
    """Makes a Hydra multirun one parent MLflow run whose children are its jobs.

    The parent's id is left in the sweep folder for the jobs (which may run in other
    processes, e.g. with the joblib launcher); at the end the parent gets a figure
    comparing the jobs' scenario metrics.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not config.tracking.enabled:
            return
        sweep = Path(config.hydra.sweep.dir)
        sweep.mkdir(parents=True, exist_ok=True)
        overrides = list(OmegaConf.to_container(config.hydra.overrides.task))  # as typed, unresolved
        try:
            tracker = Tracker(config.tracking.uri)
            run_id = tracker.start(config.tracking.experiment or config.scenario.name,
                                   run_name(overrides), {"ccframe.sweep": " ".join(overrides),
                                                         "ccframe.version": ccframe.__version__})
        except Exception as exc:  # the jobs still run and keep their results locally
            warn(f"tracking store unreachable, sweep not logged as a parent run: {exc}")
            return
        (sweep / PARENT_RUN_FILE).write_text(run_id)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(config.hydra.sweep.dir)
        marker = sweep / PARENT_RUN_FILE
        if not marker.exists():
            return
        summaries = _job_summaries(sweep)
        if summaries:
            from ccframe.figures import plot_comparison

            plot_comparison(summaries, list(config.scenario.metrics), sweep / "figures" / "comparison.png",
                            f"{config.scenario.description}: {len(summaries)} jobs")
        manifest = {"tracking_uri": tracking_uri(config.tracking.uri), "finish_run_id": marker.read_text().strip()}
        (sweep / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1))
        from ccframe import outbox
        from ccframe.uploader import uploader_for

        outbox.enqueue(sweep)
        try:
            uploader_for(manifest["tracking_uri"]).upload(sweep)  # the worker that logged the jobs, if here
        except Exception as exc:  # noqa: BLE001 - the parent is finished by a later sync
            warn(f"tracking store unreachable, sweep's parent run left for python -m ccframe sync: "
                 f"{' '.join(str(exc).split())[:300]}")
            return
        outbox.dequeue(sweep)


def parent_run_id(sweep_dir: str) -> str | None:
    """The id of the multirun's parent run, if the sweep has one."""
    marker = Path(sweep_dir) / PARENT_RUN_FILE
    return marker.read_text().strip() if marker.exists() else None


def _job_summaries(sweep: Path) -> dict[str, Any]:
    import polars as pl
    import yaml

    from ccframe.outputs import SUMMARY_FILE, job_files

    summaries = {}
    for path in job_files(sweep, SUMMARY_FILE):
        overrides_file = path.parent / ".hydra" / "overrides.yaml"
        label = " ".join(yaml.safe_load(overrides_file.read_text())) if overrides_file.exists() else path.parent.name
        summaries[label] = pl.read_parquet(path)
    return summaries
