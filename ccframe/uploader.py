"""Upload a run's folder to MLflow from a second process that warms up while the job runs.

Importing MLflow and its SQL store takes longer than a default run. ``python -m ccframe``
starts the worker before it even imports Hydra (:func:`start_early`), so MLflow loads on
the other core while Hydra composes and the model runs; the job then tells the worker
which store to open and, at the end, which folder to upload (see
:func:`ccframe.tracking.upload`). Tracking so costs the job little more than the upload
itself. ``python -m ccframe.uploader`` is the worker; it reads the store's URI and then
the folder from its standard input, and an empty line or end of input stops it.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
from pathlib import Path

from ccframe.argv import single_tracked_simulation

ERROR_PREFIX = "ccframe-uploader: error: "
UPLOAD_TIMEOUT_S = 600


class UploadError(RuntimeError):
    """The worker could not log the run; the folder keeps everything for a later upload."""


class BackgroundUploader:
    """A worker process, importing MLflow as soon as it is created."""

    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "ccframe.uploader"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)

    def connect(self, uri: str) -> BackgroundUploader:
        """Have the worker open the store at ``uri`` (while the job runs); return self."""
        self._process.stdin.write(f"{uri}\n")
        self._process.stdin.flush()
        return self

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

    def stop(self) -> None:
        """Stop the worker at once, uploading nothing."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


_early: BackgroundUploader | None = None


def start_early(args: list[str]) -> None:
    """Start the worker now if the command line runs one simulation that will be logged."""
    global _early
    if _early is None and single_tracked_simulation(args):
        _early = BackgroundUploader()
        atexit.register(release_early)


def release_early() -> None:
    """Stop the early worker if no job took it (tracking turned off in a config file, an error)."""
    global _early
    if _early is not None:
        _early.stop()
        _early = None


def uploader_for(uri: str) -> BackgroundUploader:
    """A worker opening the store at ``uri``: the one started early if there is one, else a new one."""
    global _early
    worker, _early = _early or BackgroundUploader(), None
    return worker.connect(uri)


def _preload() -> None:
    """Import what an upload needs: MLflow, its SQL store, Polars and ccframe's tracking."""
    import mlflow  # noqa: F401
    import polars  # noqa: F401

    import ccframe.tracking  # noqa: F401

    try:
        import mlflow.store.tracking.sqlalchemy_store  # noqa: F401 - the default store's
    except ImportError:  # a client without SQLAlchemy logs to a server only
        pass


def _warm_up(uri: str) -> None:
    """Open the store (creating its tables on first use), so the upload itself is quick."""
    from ccframe.tracking import Tracker

    try:
        Tracker(uri).client.search_experiments(max_results=1)
    except Exception:  # noqa: BLE001 - the upload reports what is wrong with the store
        pass


def main() -> int:
    """The worker: preload, read the store's URI and warm up, read a folder, upload it, print the run id."""
    _preload()
    uri = sys.stdin.readline().strip()
    if not uri:
        return 0
    _warm_up(uri)
    line = sys.stdin.readline().strip()
    if not line:
        return 0
    from ccframe.tracking import upload

    try:
        print(upload(Path(line)))
    except Exception as exc:  # noqa: BLE001 - reported to the job as one line
        print(f"{ERROR_PREFIX}{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
