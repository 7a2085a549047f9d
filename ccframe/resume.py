"""Resumable sweeps: a job whose resolved config already finished with this ccframe version is skipped.

A job that has kept its results is recorded in ``.ccframe/finished/<hash>.json`` (in the
working directory), the hash taken over its resolved config and the ccframe version. When
a multirun is run again with the same overrides (after a crash, a kill, a reboot), each
job first looks itself up: if it finished before and its folder still holds its results,
those results are copied into the new job folder instead of running again, and the job is
not logged a second time (its run is already in the tracking store, or in the outbox).
``resume=false`` runs every job regardless.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ccframe.outbox import STATE_DIR, read_entry, write_entry

FINISHED = "finished"
#: Keys that say how to run, not what: they do not change a job's results.
NOT_HASHED = ("resume",)


def job_hash(config: Any) -> str:
    """A hash of a job's resolved config (less :data:`NOT_HASHED`) and the ccframe version."""
    from ccframe import __version__

    resolved = OmegaConf.to_container(config, resolve=True) if OmegaConf.is_config(config) else dict(config)
    for key in NOT_HASHED:
        resolved.pop(key, None)
    text = json.dumps({"config": resolved, "ccframe": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _entry(digest: str, root: Path | None) -> Path:
    return (root or Path.cwd()) / STATE_DIR / FINISHED / f"{digest}.json"


def mark_finished(digest: str, folder: Path, root: Path | None = None) -> None:
    """Record that the job with hash ``digest`` kept its results in ``folder``."""
    write_entry(_entry(digest, root), folder)  # atomic: a job is recorded whole or not at all


def finished_folder(digest: str, root: Path | None = None) -> Path | None:
    """The folder of an earlier run of this job, if it finished and its results are still there."""
    from ccframe.outputs import REPLICATES_FILE, SUMMARY_FILE

    entry = _entry(digest, root)
    if not entry.exists():
        return None
    folder = read_entry(entry)
    return folder if (folder / SUMMARY_FILE).exists() and (folder / REPLICATES_FILE).exists() else None


def restore(earlier: Path, folder: Path, config: Any, settings: Any):
    """Copy an earlier run's result files into ``folder``; return its RunResult."""
    import polars as pl

    from ccframe.outputs import REPLICATES_FILE, SUMMARY_FILE, artifact_files
    from ccframe.results import RunResult

    folder.mkdir(parents=True, exist_ok=True)
    if earlier.resolve() != folder.resolve():
        for path in artifact_files(earlier):
            target = folder / path.relative_to(earlier)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return RunResult(summary=pl.read_parquet(folder / SUMMARY_FILE),
                     replicates=pl.read_parquet(folder / REPLICATES_FILE), config=config, settings=settings)
