"""Log runs' folders to MLflow from a second process that warms up while the jobs run.

Importing MLflow and its SQL store takes longer than a default run. ``python -m ccframe``
starts the worker before it even imports Hydra (:func:`start_early`), so MLflow loads on
the other core while Hydra composes and the model runs. A job tells the worker which
store it will log to when it starts, and which folder to upload when it ends (see
:func:`ccframe.tracking.upload`); the worker then serves the process's next job, so the
jobs of a sweep pay for loading MLflow once. Tracking so costs a job little more than
the upload itself.

``python -m ccframe.uploader`` is the worker. It reads commands from its standard input,
one per line: ``store URI`` (open that store now), ``upload FOLDER`` (log the folder), or
``begin FOLDER`` (log all but its figures, while the job draws them) and later ``end FOLDER``
(the figures, then the run is finished). It answers each but ``store`` with one line on
standard output, ``ccframe-uploader: ok RUN_ID`` or ``ccframe-uploader: error MESSAGE``;
nothing else is written there (MLflow's own prints go to standard error). End of input
stops it.
"""

from __future__ import annotations

import atexit
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ccframe.argv import single_tracked_simulation

UPLOAD_TIMEOUT_S = 600
REPLY_PREFIX = "ccframe-uploader: "
#: How long a process at exit waits for a worker that may be creating a new store's tables.
EXIT_WAIT_S = 30


class UploadError(RuntimeError):
    """The worker could not log the run; the folder keeps everything for a later upload."""


class BackgroundUploader:
    """A worker process, importing MLflow as soon as it is created."""

    def __init__(self) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+")  # read back only if the worker dies
        self._process = subprocess.Popen([sys.executable, "-m", "ccframe.uploader"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, text=True)
        self._replies: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_replies, daemon=True).start()
        self._state = "new"  # then "opening" a store for a job, "idle" once that job is uploaded
        self._begun: Path | None = None  # the folder a "begin" was sent for, its "end" not yet

    def _read_replies(self) -> None:
        for line in self._process.stdout:
            if line.startswith(REPLY_PREFIX):
                self._replies.put(line[len(REPLY_PREFIX):].rstrip("\n"))
        self._replies.put(None)  # the worker has exited

    def alive(self) -> bool:
        """Whether the worker can still take commands."""
        return self._process.poll() is None

    def connect(self, uri: str) -> BackgroundUploader:
        """Have the worker open the store at ``uri`` while the job runs; return self."""
        self._send(f"store {uri}")
        self._state = "opening"
        return self

    def begin(self, folder: Path) -> None:
        """Have the worker log all of ``folder`` but its figures, while the job draws them."""
        self._send(f"begin {folder}")
        self._begun = folder

    def upload(self, folder: Path) -> str:
        """Have the worker log ``folder`` (what :meth:`begin` left of it) and wait for it; return the run id."""
        if self._begun == folder:
            self._begun = None
            self._reply()
            self._send(f"end {folder}")
        else:
            self._send(f"upload {folder}")
        run_id = self._reply()
        self._state = "idle"
        return run_id

    def _reply(self) -> str:
        """The worker's answer to the oldest command awaiting one: a run id, else :class:`UploadError`."""
        try:
            reply = self._replies.get(timeout=UPLOAD_TIMEOUT_S)
        except queue.Empty:
            self.stop(wait_s=0)
            raise UploadError(f"no answer from the tracking store in {UPLOAD_TIMEOUT_S} s") from None
        if reply is None:
            raise UploadError(f"the upload worker stopped: {self._last_error()}")
        status, _, detail = reply.partition(" ")
        if status != "ok":
            self._state = "idle"
            raise UploadError(detail)
        return detail

    def stop(self, wait_s: float = EXIT_WAIT_S) -> None:
        """End the worker: an idle one ends by itself, one opening (maybe creating) a store may finish."""
        try:
            self._process.stdin.close()
        except OSError:
            pass
        if self._state == "idle":
            return  # it reads the end of its input and exits; nothing to wait for
        try:
            self._process.wait(timeout=wait_s if self._state == "opening" else 0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _send(self, command: str) -> None:
        try:
            self._process.stdin.write(f"{command}\n")
            self._process.stdin.flush()
        except (OSError, ValueError) as exc:
            raise UploadError(f"the upload worker stopped: {self._last_error() or exc}") from None

    def _last_error(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().strip().splitlines()
        return lines[-1] if lines else f"exit status {self._process.poll()}"


_worker: BackgroundUploader | None = None


def start_early(args: list[str]) -> None:
    """Start the worker now if the command line runs one simulation that will be logged."""
    if single_tracked_simulation(args):
        _start()


def uploader_for(uri: str) -> BackgroundUploader:
    """The process's worker (started now if there is none), opening the store at ``uri``."""
    worker = _worker if _worker is not None and _worker.alive() else _start()
    return worker.connect(uri)


def stop_worker() -> None:
    """Stop this process's worker, if it has one (tracking is off after all, or the process ends)."""
    global _worker
    if _worker is not None:
        _worker.stop()
        _worker = None


def _start() -> BackgroundUploader:
    global _worker
    if _worker is None:
        atexit.register(stop_worker)
    _worker = BackgroundUploader()
    return _worker


def _preload() -> None:
    """Import what an upload needs: MLflow, its SQL store and ccframe's tracking."""
    import mlflow  # noqa: F401

    import ccframe.tracking  # noqa: F401

    try:
        import mlflow.store.tracking.sqlalchemy_store  # noqa: F401 - the default store's
    except ImportError:  # a client without SQLAlchemy logs to a server only
        pass


def _open_store(uri: str) -> None:
    """Open the store (creating its tables on first use); MLflow keeps it for the upload."""
    from ccframe.tracking import Tracker

    try:
        Tracker(uri).client.search_experiments(max_results=1)
    except Exception:  # noqa: BLE001 - the upload reports what is wrong with the store
        pass


def _carry_out(command: str, folder: Path, begun: dict[Path, str]) -> str:
    """One reply line for ``begin``, ``end`` or ``upload`` of ``folder``: ``ok RUN_ID`` or ``error MESSAGE``."""
    from ccframe import tracking

    try:
        if command == "begin":
            run_id = begun[folder] = tracking.begin_upload(folder)
        elif command == "end":
            run_id = tracking.end_upload(folder, begun.pop(folder))
        else:
            run_id = tracking.upload(folder)
    except Exception as exc:  # noqa: BLE001 - reported to the job as one line
        return " ".join(f"error {type(exc).__name__}: {exc}".split())
    return f"ok {run_id}"


def main() -> int:
    """The worker: preload, then carry out commands from standard input until it ends."""
    replies, sys.stdout = sys.stdout, sys.stderr  # MLflow prints links to runs; keep them out of the replies
    if hasattr(os, "nice"):
        os.nice(10)  # yield the cores to the job while both work; the job waits idle for the upload
    _preload()
    begun: dict[Path, str] = {}
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "store":
            _open_store(argument)
        elif command in ("begin", "end", "upload"):
            print(f"{REPLY_PREFIX}{_carry_out(command, Path(argument), begun)}", file=replies, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
