r"""Scan overrides over the report's five seed blocks: which standard-model facts hold in how many.

A transparent alternative to an Optuna study when one key is refitted after a rule change:
each line of stdin is a set of Hydra overrides; for each, the default config runs with those
overrides on root seeds 42..46 (10 replicates each, as experiments/paper_abm/run.py's block
column) and the F1, F2, F5-F8 checks of ccframe/facts.py are printed per block (x = holds),
with the block means of the output index, the CBEC/TS unit-revenue ratio (per unit produced,
F2's metric, and per unit sold) and the CBEC share by year (:data:`SERIES`), and the share of all
50 replicates whose ratio is below 1 in each year (``below 1``: the ratio of one replicate sits
near 1.1 or, once fallen, at 0.6-0.95, so the block mean is mostly how many have fallen; an
undefined ratio is not below). With ``--sweeps`` each block also runs the seed's ctrans and
iexp sweeps, so F3 and F4 are checked too (five times the work). Example (issue #4)::

    printf '%s\n' export_choice.switch_rate=0.04 export_choice.switch_rate=0.06 \
        | python experiments/calibrate/block_scan.py
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl

from ccframe.reproduction import means, run_design
from ccframe.results import RunResult

BLOCK_SEEDS = (42, 43, 44, 45, 46)
SERIES = {"output": "output_index", "ratio": "unit_revenue_ratio", "per sold": "sold_revenue_ratio",
          "share": "cbec_share"}  # label: metric


def main() -> None:
    """Run every line of overrides on stdin over the five seed blocks and print the tallies."""
    sweeps = "--sweeps" in sys.argv[1:]
    sweep_values = {} if sweeps else {"ctrans": (), "iexp": ()}  # empty: not run, F3 and F4 not checked
    for line in sys.stdin:
        overrides = line.split()
        tally: dict[str, str] = {}
        series: dict[str, list[np.ndarray]] = {label: [] for label in SERIES}
        below: list[np.ndarray] = []
        for seed in BLOCK_SEEDS:
            design = run_design(overrides, replicates=10, seed=seed, **sweep_values)
            m, results = means(design.standard), design.facts
            for label, metric in SERIES.items():
                series[label].append(m[metric])
            below.append(replicate_values(design.standard, SERIES["ratio"]) < 1)
            for result in results:
                tally[result.fact] = tally.get(result.fact, "") + ("x" if result.passed else ".")
        print(" ".join(overrides) or "default", tally, flush=True)
        for label, values in series.items():
            print(f"  {label}", " ".join(f"{v:.3f}" for v in np.nanmean(values, 0)))
        print("  below 1", " ".join(f"{v:.3f}" for v in np.concatenate(below).mean(0)), flush=True)


def replicate_values(result: RunResult, metric: str) -> np.ndarray:
    """One metric's values as a replicates x years array (NaN where a replicate leaves it undefined)."""
    wide = (result.replicates.filter(pl.col("metric") == metric)
            .pivot(on="year", index="replicate", values="value").sort("replicate"))
    return wide.select(sorted(wide.columns[1:], key=int)).to_numpy()  # year columns, in year order


if __name__ == "__main__":
    main()
