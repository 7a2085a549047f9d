"""The ``simulate`` task: validate, run the replicates, keep, log and print the summary."""

from __future__ import annotations

import sys

import polars as pl
from omegaconf import DictConfig

from ccframe import runner


def run(config: DictConfig, job: runner.Job) -> None:
    """Run the model's replicates for one job; print the scenario's and plugins' metrics (mean ± 95% CI)."""
    settings = runner.settings_from(config)
    scenario = settings.scenario
    print(f"ccframe: scenario {scenario.name} ({scenario.description}): {settings.replicates} "
          f"replicates x {settings.years} years", file=sys.stderr)
    result = runner.run_job(settings, config, job, progress=runner.print_progress)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True, tbl_width_chars=200):
        shown = [*scenario.metrics, *result.plugin_metrics()]
        print(result.table(shown))
    dead = result.summary.filter(pl.col("metric") == "collapsed")["mean"].to_list()  # none in a resumed older job
    if dead and dead[-1] > 0:
        first = next(year for year, share in enumerate(dead) if share > 0)
        print(f"{round(dead[-1] * settings.replicates)} of {settings.replicates} replicates died out (no supplier or "
              f"server left, from year {first} on): the means are over the clusters still alive (docs/ODD.md 3.3.6)")
    others = sorted(set(result.metric_sources) - set(shown))
    if others:
        print(f"also in the results and MLflow: {', '.join(others)}")
