"""The outbox: runs kept locally until the tracking store has them, and ``python -m ccframe sync``.

Every tracked run is entered in the outbox (``.ccframe/outbox/`` in the working directory)
*before* its upload starts and taken out only once the store has it, so a store that is
down, a locked SQLite file or a job killed half-way through its upload loses nothing: the
run folder (results, config, manifest; see :func:`ccframe.tracking.write_manifest`) stays
listed until ``python -m ccframe sync`` uploads it. Uploads are idempotent
(:func:`ccframe.tracking.upload`), so a run reaches the store exactly once.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATE_DIR = ".ccframe"
OUTBOX = "outbox"


def outbox_dir(root: Path | None = None) -> Path:
    """The outbox folder of the working directory (or of ``root``)."""
    return (root or Path.cwd()) / STATE_DIR / OUTBOX


def write_entry(entry: Path, folder: Path) -> Path:
    """Record ``folder`` in the state file ``entry``, atomically: an entry is whole or absent."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    temporary = entry.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"folder": str(folder.resolve())}))
    os.replace(temporary, entry)
    return entry


def read_entry(entry: Path) -> Path:
    """The folder recorded in ``entry`` (see :func:`write_entry`)."""
    return Path(json.loads(entry.read_text())["folder"])


def enqueue(folder: Path, root: Path | None = None) -> Path:
    """List ``folder`` (a run folder with a manifest) as waiting for upload; return its entry."""
    return write_entry(outbox_dir(root) / f"{_name(folder)}.json", folder)


def dequeue(folder: Path, root: Path | None = None) -> None:
    """Take ``folder`` out of the outbox (its run is in the store)."""
    (outbox_dir(root) / f"{_name(folder)}.json").unlink(missing_ok=True)


def pending(root: Path | None = None) -> list[Path]:
    """The run folders waiting for upload, oldest first."""
    entries = sorted(outbox_dir(root).glob("*.json"), key=lambda p: p.stat().st_mtime)
    return [read_entry(entry) for entry in entries]


def _name(folder: Path) -> str:
    import hashlib

    return hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:24]


def sync(root: Path | None = None, report=print) -> tuple[int, int]:
    """Upload every waiting run; return (uploaded, still waiting). Reports one line per run."""
    from ccframe.tracking import upload

    folders = pending(root)
    uploaded = 0
    for index, folder in enumerate(folders, start=1):
        if not folder.exists():
            report(f"[{index}/{len(folders)}] {folder}: folder is gone, entry dropped")
            dequeue(folder, root)
            continue
        try:
            run_id = upload(folder)
        except Exception as exc:  # noqa: BLE001 - the store is still unreachable: keep waiting
            report(f"[{index}/{len(folders)}] {folder}: still waiting ({type(exc).__name__}: "
                   f"{' '.join(str(exc).split())[:300]})")
            continue
        dequeue(folder, root)
        uploaded += 1
        report(f"[{index}/{len(folders)}] {folder}: uploaded as run {run_id}")
    return uploaded, len(folders) - uploaded


def sync_command(args: list[str]) -> int:
    """``python -m ccframe sync``: upload the outbox; exit 0 when it is empty afterwards."""
    if args:
        print(f"ccframe: error: sync takes no arguments, got {' '.join(args)}", file=sys.stderr)
        return 2
    count = len(pending())
    if count == 0:
        print("ccframe: sync: the outbox is empty, nothing to upload")
        return 0
    print(f"ccframe: sync: {count} run{'s' if count != 1 else ''} waiting in {outbox_dir()}", file=sys.stderr)
    uploaded, waiting = sync(report=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"ccframe: sync: {uploaded} uploaded, {waiting} still waiting")
    return 0 if waiting == 0 else 1
