"""Where a ccframe command's wall time goes: its milestones, each with the seconds since it started.

Prints the lines of ``python -m ccframe ARGS`` (stdout and stderr) that mark a sweep's
milestones: Hydra launching the jobs, each job's first and last replicate, errors, and
the process's exit. Run in a fresh temporary folder.

    python -m benchmarks.timeline -- -m 'seed=range(0,16)' tracking.enabled=false hydra/launcher=joblib
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time


def main() -> None:
    """Run the command and print its milestones as they happen."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("args", nargs="*", help="arguments of python -m ccframe")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "ccframe", *options.args], cwd=cwd, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for line in process.stdout:
            if is_milestone(line):
                print(f"{time.perf_counter() - start:7.2f}  {line.rstrip()[:100]}")
        process.wait()
        print(f"{time.perf_counter() - start:7.2f}  exit {process.returncode}")


def is_milestone(line: str) -> bool:
    """Whether ``line`` marks Hydra's launch, a job's first or last replicate, or an error."""
    replicate = re.match(r"replicate (\d+)/(\d+) done", line)
    if replicate:
        return replicate[1] in ("1", replicate[2])
    return "Launching" in line or "error" in line


if __name__ == "__main__":
    main()
