"""Wall time of a Hydra multirun, serial against the joblib launcher with local workers.

Runs the same sweep (default: 16 jobs, ``seed=range(0,16)``, the full default run per job,
tracking off) with Hydra's basic launcher and with ``hydra/launcher=joblib`` at each worker
count, alternating the variants so machine noise hits them alike, each run in a fresh
folder (so no job is resumed from an earlier run), and prints a Markdown table of medians
and the ratio to serial (issue #7's target: at most 0.6 with 2 workers).

Beside each worker count it times a reference for the machine: the sweep cut into as many
independent serial sweeps as there are workers, all started at once. Its distance from
1/workers is the machine's (shared or throttled cores); each part pays its own start, which
a launcher whose workers import once (ccframe's fork server) need not.

    python -m benchmarks.sweep_scaling --repeats 3 --workers 2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys

from benchmarks.timing import timed_together


def main() -> None:
    """Time serial and joblib sweeps alternately; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=16, help="jobs in the sweep")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="joblib worker counts")
    parser.add_argument("overrides", nargs="*", default=["tracking.enabled=false"])
    options = parser.parse_args()
    sweep = sweep_command(0, options.jobs, options.overrides)
    variants = {"serial (basic launcher)": [sweep]}  # name: the commands run at once
    for workers in options.workers:
        variants[f"joblib, {workers} workers"] = [[*sweep, "hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}"]]
        variants[f"reference: {workers} serial sweeps at once"] = [
            sweep_command(options.jobs * k // workers, options.jobs * (k + 1) // workers, options.overrides)
            for k in range(workers)]
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(options.repeats):
        for name, commands in variants.items():
            times[name].append(timed_together(commands))
    serial = statistics.median(times["serial (basic launcher)"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{options.jobs} jobs, overrides: {' '.join(options.overrides)}; median of {options.repeats}")
    print("| launcher | median s | min s | x serial |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {min(values):.1f} | {median / serial:.2f} |")


def sweep_command(first: int, stop: int, overrides: list[str]) -> list[str]:
    """``python -m ccframe -m`` over the seeds ``first .. stop - 1``."""
    return [sys.executable, "-m", "ccframe", "-m", f"seed=range({first},{stop})", *overrides]


if __name__ == "__main__":
    main()
