"""Upload a run's folder to MLflow from a second process that warms up while the model runs.

Importing MLflow and opening its store take longer than a default run.
A worker started when a job starts does that on another core, then uploads the folder
the job hands it (see :func:`ccframe.tracking.upload`), so tracking costs the job little
more than the upload itself. ``python -m ccframe.uploader URI`` is the worker.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ERROR_PREFIX = "ccframe-uploader: error: "
UPLOAD_TIMEOUT_S = 600


class UploadError(RuntimeError):
    """The worker could not log the run; the folder keeps everything for a later upload."""


class BackgroundUploader:
    """A worker process, warming up as soon as it is created."""

    def __init__(self, uri: str) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "ccframe.uploader", uri],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)

    def upload(self, folder: Path) -> str:
        """Hand ``folder`` to the worker and wait for it; return the run id."""
        try:
            out, err = self._process.communicate(f"{folder}\n", timeout=UPLOAD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            raise UploadError(f"no answer from the tracking store in {UPLOAD_TIMEOUT_S} s") from None
        if self._process.returncode != 0:
            errors = [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]
            detail = errors[-1][len(ERROR_PREFIX):] if errors else (err.strip().splitlines() or ["?"])[-1]
            raise UploadError(detail)
        return out.strip()

    def cancel(self) -> None:
        """Stop the worker without uploading anything."""
        self._process.communicate("", timeout=UPLOAD_TIMEOUT_S)


def _warm_up(uri: str) -> None:
    """Import MLflow and open the store, so the upload itself is quick."""
    from ccframe.tracking import Tracker

    try:
        Tracker(uri).client.search_experiments(max_results=1)
    except Exception:  # noqa: BLE001 - the upload reports what is wrong with the store
        pass


def main(argv: list[str]) -> int:
    """The worker: warm up, read a folder from stdin, upload it, print the run id."""
    from ccframe.tracking import upload

    _warm_up(argv[0])
    line = sys.stdin.readline().strip()
    if not line:
        return 0
    try:
        print(upload(Path(line)))
    except Exception as exc:  # noqa: BLE001 - reported to the job as one line
        print(f"{ERROR_PREFIX}{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
