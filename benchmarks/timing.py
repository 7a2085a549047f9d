"""What the command-line benchmarks share: the wall time of commands."""

from __future__ import annotations

import subprocess
import tempfile
import time


def timed(args: list[str], cwd: str) -> float:
    """Wall seconds of one command, its output discarded."""
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_together(commands: list[list[str]]) -> float:
    """Wall seconds until every command, started at once (each in a fresh folder), has finished."""
    folders = [tempfile.TemporaryDirectory() for _ in commands]
    start = time.perf_counter()
    running = [subprocess.Popen(args, cwd=folder.name, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for args, folder in zip(commands, folders, strict=True)]
    codes = [process.wait() for process in running]
    elapsed = time.perf_counter() - start
    for folder in folders:
        folder.cleanup()
    if any(codes):
        raise subprocess.CalledProcessError(max(codes), commands[codes.index(max(codes))])
    return elapsed
