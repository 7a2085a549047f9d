"""Time of one SEM fit of the paper's model on n = 481, and the bootstrap's use of cores.

Measures, in one process (imports and a warm-up fit excluded):
  * ``fit`` of ``wang2022_revised`` and ``wang2022_initial`` to simulated n = 481 answers
    (AMOS convention), median of ``--repeats`` fits each, alternating;
  * the bootstrap of the standardised estimates with 1 worker and with all cores on the same
    ``--compare-draws`` draws (speed-up = serial / parallel wall time), and the CPU time its
    workers used per wall second (how many cores were busy);
  * optionally (``--draws 1000``) one full bootstrap on all cores.

    python benchmarks/sem_fit.py --repeats 9 --compare-draws 60 --draws 1000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path


def cpu_seconds_of_children() -> float:
    """User + system CPU seconds of this process's live children (joblib's workers), from /proc (Linux)."""
    me, tick, total = os.getpid(), os.sysconf("SC_CLK_TCK"), 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:  # fields after the name: state, ppid, ..., utime (12), stime (13)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def timed_bootstrap(spec, values, draws: int, n_jobs: int) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds per wall second, failed draws, and worker processes that fitted draws."""
    from joblib.externals.loky import get_reusable_executor

    from ccframe.sem.bootstrap import bootstrap

    get_reusable_executor().shutdown(wait=True)  # fresh workers: their CPU time starts at this bootstrap
    before_self = time.process_time()
    before_children = cpu_seconds_of_children()
    start = time.perf_counter()
    result = bootstrap(spec, values, draws=draws, seed=1, n_jobs=n_jobs, n_minus_one=True)
    wall = time.perf_counter() - start
    busy = (time.process_time() - before_self) + (cpu_seconds_of_children() - before_children)
    return wall, busy / wall, result.failed, result.processes


def main() -> None:
    """Print Markdown tables of the fit times and the bootstrap's scaling."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--compare-draws", type=int, default=60)
    parser.add_argument("--draws", type=int, default=0, help="also time one bootstrap of this many draws")
    options = parser.parse_args()

    from joblib import cpu_count

    from ccframe.sem.fit import fit_matrix, prepare_data
    from ccframe.sem.population import simulate
    from ccframe.sem.spec import load_spec

    data = simulate(n=481, seed=3576)
    specs = {name: load_spec(name) for name in ("wang2022_revised", "wang2022_initial")}
    values = {name: prepare_data(spec, data) for name, spec in specs.items()}
    times: dict[str, list[float]] = {name: [] for name in specs}
    cpu: dict[str, list[float]] = {name: [] for name in specs}
    for name, spec in specs.items():
        fit_matrix(spec, values[name], n_minus_one=True)  # warm-up: imports and first-call costs
    for _ in range(options.repeats):
        for name, spec in specs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fit_matrix(spec, values[name], n_minus_one=True)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("\n| model (n = 481) | median wall s | min wall s | max wall s | median CPU s |\n|---|---|---|---|---|")
    for name, values_s in times.items():
        print(f"| {name} | {statistics.median(values_s):.3f} | {min(values_s):.3f} | {max(values_s):.3f} "
              f"| {statistics.median(cpu[name]):.3f} |")

    spec, matrix = specs["wang2022_revised"], values["wang2022_revised"]
    cores = cpu_count()
    if options.compare_draws:
        serial = timed_bootstrap(spec, matrix, options.compare_draws, 1)
        parallel = timed_bootstrap(spec, matrix, options.compare_draws, -1)
        print(f"\n| bootstrap, {options.compare_draws} draws | wall s | busy cores (CPU s / wall s) | failed draws "
              "| processes that fitted draws |\n|---|---|---|---|---|")
        print(f"| 1 worker | {serial[0]:.1f} | {serial[1]:.2f} | {serial[2]} | {serial[3]} |")
        print(f"| all cores ({cores} workers) | {parallel[0]:.1f} | {parallel[1]:.2f} | {parallel[2]} "
              f"| {parallel[3]} |")
        print(f"\nspeed-up with {cores} workers: {serial[0] / parallel[0]:.2f}x; "
              f"load average now {os.getloadavg()[0]:.1f}")
    if options.draws:
        wall, busy, failed, processes = timed_bootstrap(spec, matrix, options.draws, -1)
        print(f"\n{options.draws}-draw bootstrap on all cores: {wall:.1f} s, {busy:.2f} busy cores, "
              f"{failed} failed draws, {processes} worker processes fitted draws")


if __name__ == "__main__":
    main()
