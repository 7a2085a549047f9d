"""What the command-line benchmarks share: the wall time of one command."""

from __future__ import annotations

import subprocess
import time


def timed(args: list[str], cwd: str) -> float:
    """Wall seconds of one command, its output discarded."""
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start
