"""A sweep's failed jobs: each leaves a note in its folder, and the sweep ends by naming them.

A job that fails (a plugin raising, a model error) does not stop the other jobs of a
multirun; :class:`FailedJobsCallback` lists the failures once all jobs are done, and
``python -m ccframe -m ...`` then exits 1, so a script or scheduler sees the sweep as failed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ccframe.outputs import job_files

FAILED_FILE = "job_failed.txt"

_failed_jobs: list[str] = []


def record(folder: Path, message: str) -> None:
    """Note in a job's folder that it failed, and why."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FAILED_FILE).write_text(message + "\n")


def clear(folder: Path) -> None:
    """Forget a failure noted by an earlier run of the same job folder."""
    (folder / FAILED_FILE).unlink(missing_ok=True)


def any_failed() -> bool:
    """Whether a sweep run by this process had a failed job."""
    return bool(_failed_jobs)


class FailedJobsCallback(Callback):
    """At the end of a multirun, name its failed jobs on stderr (see :func:`any_failed`)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(config.hydra.sweep.dir)
        notes = job_files(sweep, FAILED_FILE)
        if not notes:
            return
        jobs = len(list(sweep.glob("*/.hydra")))
        _failed_jobs.extend(p.parent.name for p in notes)
        print(f"ccframe: error: {len(notes)} of {jobs} jobs failed (their results are missing; the others are "
              f"complete):", file=sys.stderr)
        for note in notes:
            print(f"  job {note.parent.name}: {note.read_text().strip()}", file=sys.stderr)
