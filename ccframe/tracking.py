"""MLflow tracking: every run's parameters, replicate-averaged metrics and artifacts.

Embedded default: MLflow's own default store, a SQLite file ``mlflow.db`` in the
working directory, with artifacts beside it (``mlruns/``); ``tracking.uri`` points at
any MLflow server instead. A Hydra multirun becomes one parent run with a child run
per job (see :mod:`ccframe.multirun`). MLflow is imported only when a run is logged, and
this module imports little else, so the upload worker (:mod:`ccframe.uploader`) starts fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ccframe
from ccframe.outputs import data_files, figure_files

if TYPE_CHECKING:
    from ccframe.settings import Settings

# A store that is down should cost a job seconds, not MLflow's default minutes of retries;
# the run waits in the outbox instead (ccframe/outbox.py). MLflow's usage telemetry (network
# calls from the upload worker, often on offline cluster nodes) is off. A user's own setting wins.
for _name, _value in (("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"), ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1"),
                      ("MLFLOW_HTTP_REQUEST_TIMEOUT", "30"), ("MLFLOW_DISABLE_TELEMETRY", "true")):
    os.environ.setdefault(_name, _value)
COMPANIONS = ("sd", "ci_low", "ci_high")


def tracking_uri(uri: str) -> str:
    """The store to log to: ``uri``, or the embedded SQLite file in the working directory."""
    return uri or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def experiment_name(settings: Settings) -> str:
    """The configured experiment, by default the scenario's name."""
    return settings.tracking.experiment or settings.scenario.name


def run_name(overrides: Sequence[str]) -> str:
    """A run's name: its overrides but those about tracking itself, or ``defaults``."""
    shown = [o for o in overrides if not o.lstrip("+~").startswith("tracking.")]
    return " ".join(shown)[:250] or "defaults"


def flatten(node: Any, prefix: str = "") -> dict[str, str]:
    """A nested mapping as ``{"a.b.c": "value"}`` strings, the way MLflow params are kept."""
    if isinstance(node, Mapping):
        flat: dict[str, str] = {}
        for key, value in node.items():
            flat.update(flatten(value, f"{prefix}{key}."))
        return flat
    value = "[" + ", ".join(map(str, node)) + "]" if isinstance(node, list | tuple) else str(node)
    return {prefix[:-1]: value}


def metric_series(summary) -> list[tuple[str, float, int]]:
    """(key, value, step) for every metric's mean and its sd and CI companions, step = year."""
    series = []
    for row in summary.iter_rows(named=True):
        series.append((row["metric"], row["mean"], row["year"]))
        series.extend((f"{row['metric']}_{c}", row[c], row["year"]) for c in COMPANIONS)
    return [(k, float("nan") if v is None else float(v), int(s)) for k, v, s in series]


def run_tags(settings: Settings, overrides: Sequence[str]) -> dict[str, str]:
    """Tags: overrides, scenario, ccframe version, git commit, active mechanisms and plugins."""
    tags = {
        "ccframe.overrides": " ".join(overrides),
        "ccframe.scenario": settings.scenario.name,
        "ccframe.version": ccframe.__version__,
    }
    commit = _git_commit()
    if commit:
        tags["ccframe.git_commit"] = commit
    for slot, mechanism in settings.mechanisms.items():
        info = mechanism.info
        tags[f"ccframe.mechanism.{slot}"] = info.name
        tags[f"ccframe.plugin.{slot}"] = f"{info.plugin} ({info.distribution} {info.version})"
    return tags


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(ccframe.__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


class Tracker:
    """A connection to one MLflow store."""

    def __init__(self, uri: str) -> None:
        from mlflow import MlflowClient

        self.uri = tracking_uri(uri)
        self.client = MlflowClient(tracking_uri=self.uri)

    def experiment_id(self, name: str) -> str:
        """The id of experiment ``name``, created if missing (safe against a parallel creator)."""
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(name)
        except MlflowException:
            return self.client.get_experiment_by_name(name).experiment_id

    def start(self, experiment: str, name: str, tags: Mapping[str, str],
              parent_run_id: str | None = None) -> str:
        """Create a run (a child of ``parent_run_id`` if given); return its id."""
        tags = dict(tags)
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        run = self.client.create_run(self.experiment_id(experiment), run_name=name, tags=tags)
        return run.info.run_id

    def log_result(self, run_id: str, params: Mapping[str, str], metrics: Iterable[tuple[str, float, int]]) -> None:
        """Params and metric series in batches within MLflow's limits."""
        from mlflow.entities import Metric, Param
        from mlflow.utils.validation import (
            MAX_METRICS_PER_BATCH,
            MAX_PARAM_VAL_LENGTH,
            MAX_PARAMS_TAGS_PER_BATCH,
        )

        items = [Param(k, v[:MAX_PARAM_VAL_LENGTH]) for k, v in params.items()]
        for batch in _chunks(items, MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(run_id, params=batch, synchronous=True)
        timestamp = _now_ms()
        entries = [Metric(k, v, timestamp, step) for k, v, step in metrics]
        for batch in _chunks(entries, MAX_METRICS_PER_BATCH):
            self.client.log_batch(run_id, metrics=batch, synchronous=True)

    def log_files(self, run_id: str, folder: Path, files: Iterable[Path]) -> None:
        """Log ``files`` as artifacts at their paths relative to ``folder``."""
        for path in files:
            parent = path.parent.relative_to(folder).as_posix()
            self.client.log_artifact(run_id, str(path), None if parent == "." else parent)

    def runs_with_key(self, experiment_id: str, key: str) -> list:
        """The live runs of an experiment tagged with ccframe run key ``key``."""
        return self.client.search_runs([experiment_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}'")

    def finish(self, run_id: str, ok: bool = True, error: str | None = None) -> None:
        """Mark the run FINISHED, or FAILED with its error as a tag."""
        if error:
            self.client.set_tag(run_id, "ccframe.error", error[:5000])
        self.client.set_terminated(run_id, "FINISHED" if ok else "FAILED")


def _chunks(items: list, size: int) -> Iterable[list]:
    return (items[i:i + size] for i in range(0, len(items), size))


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


MANIFEST_FILE = "run.json"
UPLOADED_FILE = ".uploaded"
RUN_KEY_TAG = "ccframe.run_key"


def write_manifest(settings: Settings, config: Any, overrides: Sequence[str], folder: Path,
                   parent_run_id: str | None = None, error: str | None = None, summary: Any = None) -> Path:
    """Record in ``folder`` everything needed to log the run, so it can be uploaded any time.

    Together with the files of :func:`ccframe.outputs.save_outputs` the folder is a
    complete record of the run: the upload needs nothing from the process that ran it.
    The metric series of ``summary`` are kept here too, so the upload reads no Parquet.
    A run that failed while simulating has an ``error`` and no results. The run key,
    kept as a tag, makes the upload idempotent (see :func:`upload`).
    """
    from omegaconf import OmegaConf

    folder.mkdir(parents=True, exist_ok=True)
    params = flatten(OmegaConf.to_container(config, resolve=True)) if config is not None else {}
    manifest = {
        "tracking_uri": tracking_uri(settings.tracking.uri),
        "experiment": experiment_name(settings),
        "run_name": run_name(overrides),
        "run_key": uuid.uuid4().hex,
        "tags": run_tags(settings, overrides),
        "params": params,
        "parent_run_id": parent_run_id,
        "error": error,
        "metrics": metric_series(summary) if summary is not None else [],
    }
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=1))
    return path


def upload(folder: Path) -> str:
    """Log the run recorded in ``folder`` (see :func:`write_manifest`) exactly once; return its run id.

    A folder already uploaded is not uploaded again: its run id is returned. An upload cut
    short (the store went away half-way) leaves a run that is not FINISHED under the same
    run key; the next upload deletes it and logs the run afresh, so the store ends up with
    one complete run per folder however often the upload is tried.
    """
    return end_upload(folder, begin_upload(folder))


def begin_upload(folder: Path) -> str:
    """The part of :func:`upload` that needs no figures (done while the job draws them); return the run id."""
    done = folder / UPLOADED_FILE
    if done.exists():
        return done.read_text().strip()
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    if "finish_run_id" in manifest:  # a sweep's end: its parent gets the comparison figure
        return manifest["finish_run_id"]
    tracker = Tracker(manifest["tracking_uri"])
    experiment_id = tracker.experiment_id(manifest["experiment"])
    key = manifest["run_key"]
    for run in tracker.runs_with_key(experiment_id, key):
        if run.info.status in ("FINISHED", "FAILED") and run.data.tags.get(COMPLETE_TAG) == "1":
            done.write_text(run.info.run_id)
            return run.info.run_id
        tracker.client.delete_run(run.info.run_id)  # half-made by an interrupted upload
    run_id = tracker.start(manifest["experiment"], manifest["run_name"],
                           {**manifest["tags"], RUN_KEY_TAG: key}, manifest["parent_run_id"])
    tracker.log_result(run_id, manifest["params"], [tuple(m) for m in manifest["metrics"]])
    tracker.log_files(run_id, folder, data_files(folder))
    return run_id


def end_upload(folder: Path, run_id: str) -> str:
    """The rest of :func:`upload`: the figures, then the run marked complete and finished."""
    done = folder / UPLOADED_FILE
    if done.exists():
        return done.read_text().strip()
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    tracker = Tracker(manifest["tracking_uri"])
    tracker.log_files(run_id, folder, figure_files(folder))
    if "finish_run_id" not in manifest:
        tracker.client.set_tag(run_id, COMPLETE_TAG, "1")
    tracker.finish(run_id, ok=manifest.get("error") is None, error=manifest.get("error"))
    done.write_text(run_id)
    return run_id


COMPLETE_TAG = "ccframe.complete"


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"ccframe: warning: {message}", file=sys.stderr)


def log_virtual_survey(config: Mapping[str, Any], overrides: Sequence[str], paths: Any,
                       fit_indices: Mapping[str, float], folder: Path) -> str:
    """Log a virtual survey (``task=virtual_survey``) as one MLflow run; return its id.

    Params: the flattened resolved config. Metrics: every finite fit index, and per
    hypothesis of ``paths`` (Table 7, :func:`ccframe.sem.report.structural_table`) its
    standardised estimate (``std_H1``), p-value (``p_H1``) and support (``supported_H1``,
    0/1), plus ``n_supported``. Artifacts: the Parquet tables and the PNG figures (the path
    diagram) in ``folder``.
    """
    import math

    metrics = [(k, float(v), 0) for k, v in fit_indices.items() if math.isfinite(v)]
    for row in paths.iter_rows(named=True):
        metrics += [(f"std_{row['hypothesis']}", float(row["std"]), 0),
                    (f"p_{row['hypothesis']}", float(row["p"]), 0),
                    (f"supported_{row['hypothesis']}", float(row["supported"]), 0)]
    metrics.append(("n_supported", float(paths["supported"].sum()), 0))
    tracker = Tracker(config["tracking"]["uri"])
    tags = {"ccframe.overrides": " ".join(overrides), "ccframe.task": "virtual_survey",
            "ccframe.version": ccframe.__version__}
    run_id = tracker.start(config["tracking"]["experiment"] or "virtual_survey", run_name(overrides), tags)
    try:
        tracker.log_result(run_id, flatten(config), metrics)
        tracker.log_files(run_id, folder, sorted([*folder.glob("*.parquet"), *folder.glob("*.png")]))
    except BaseException as exc:
        tracker.finish(run_id, ok=False, error=f"{type(exc).__name__}: {exc}")
        raise
    tracker.finish(run_id)
    return run_id
