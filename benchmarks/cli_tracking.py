"""Wall time of the CLI with MLflow tracking off and on, against importing its dependencies.

Measures, in one session and alternating so machine noise hits every variant alike:
  * ``python -c "import hydra, mesa, mlflow"`` (the floor of DESIGN.md's CLI target),
  * ``python -m ccframe <overrides> tracking.enabled=false`` (results and figure kept locally),
  * the same with ``tracking.figures=false`` (no figure: what drawing it costs),
  * ``python -m ccframe <overrides>`` (the same, plus the MLflow run in ./mlflow.db),
    in a directory whose store already exists (a warm-up run creates it), as for a
    researcher's second and later runs, and in an empty directory, as for the first run
    (the store and its tables are created too).

    python -m benchmarks.cli_tracking --repeats 7 -- +scenario=fund ctrans=3000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile

from benchmarks.timing import timed


def main() -> None:
    """Time the variants alternately and print a Markdown table of medians."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("overrides", nargs="*", default=["+scenario=fund", "ctrans=3000"])
    options = parser.parse_args()
    cli = [sys.executable, "-m", "ccframe", *options.overrides]
    variants = {
        "import hydra, mesa, mlflow": [sys.executable, "-c", "import hydra, mesa, mlflow"],
        "ccframe, tracking off": [*cli, "tracking.enabled=false"],
        "ccframe, tracking off, no figure": [*cli, "tracking.enabled=false", "tracking.figures=false"],
        "ccframe, tracking on": cli,
        "ccframe, tracking on, new store": cli,
    }
    with tempfile.TemporaryDirectory() as cwd:
        timed(cli, cwd)  # creates the store
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(options.repeats):
            for name, args in variants.items():
                if name.endswith("new store"):
                    with tempfile.TemporaryDirectory() as empty:
                        times[name].append(timed(args, empty))
                else:
                    times[name].append(timed(args, cwd))
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median["import hydra, mesa, mlflow"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"overrides: {' '.join(options.overrides)}; median of {options.repeats}")
    print("| variant | median s | min s | x import floor |")
    print("|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {median[name]:.2f} | {min(values):.2f} | {median[name] / floor:.2f} |")
    for name in ("ccframe, tracking on", "ccframe, tracking on, new store"):
        added = median[name] - median["ccframe, tracking off"]
        print(f"\n{name}: tracking adds {added:.2f} s (median on - median off)")


if __name__ == "__main__":
    main()
