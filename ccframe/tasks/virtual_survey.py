"""The ``virtual_survey`` task: simulated clusters answer the questionnaire; the SEM tests H1-H16.

Simulates the clusters (progress on stderr), fields the survey, fits the spec, runs the
SEM layer's violation checks and prints the fit indices, path coefficients and loadings
beside the paper's Tables 6, 7 and 9 (:func:`ccframe.survey.report.side_by_side`), keeps
everything in the job folder (one Parquet file per table, named as ``task=sem`` names
them, and the fitted model's ``path_diagram.png``) and logs it to MLflow.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

import polars as pl
from omegaconf import DictConfig, OmegaConf

from ccframe import runner
from ccframe.sem.report import STRUCTURAL_TITLE, Report
from ccframe.survey import report
from ccframe.survey.world import cluster_settings, field_survey, task_settings


def run(config: DictConfig, job: runner.Job) -> None:
    """Field one virtual survey and print it side by side with the published one."""
    resolved: Any = OmegaConf.to_container(config, resolve=True)
    task = task_settings(resolved)
    cluster_settings(resolved, {})  # the base config is valid before any cluster is drawn
    print(f"ccframe: virtual survey: {task.clusters} clusters x {resolved['years']} years, "
          f"{task.n} respondents, spec {task.spec}", file=sys.stderr)
    progress = partial(runner.print_progress, unit="cluster", verb="simulated", every=10)
    world = field_survey(resolved, progress=progress)
    collapsed = int(world.contexts["collapsed"].is_not_null().sum())
    if collapsed:
        print(f"ccframe: {collapsed} of {task.clusters} clusters died out (no supplier or server left) and were not "
              "surveyed", file=sys.stderr)
    side = report.side_by_side(world.sem, task.significance, task.published)
    composite = report.composite_paths(world.sem.spec, world.answers, task.significance)
    side.write_tables(job.folder)
    for name, frame in {"composite_paths": composite, "answers": world.answers, "clusters": world.contexts,
                        "estimates": world.sem.estimates}.items():
        frame.write_parquet(job.folder / f"{name}.parquet")
    if world.sem.converged:
        from ccframe.sem.diagram import FILENAME, draw

        draw(world.sem, job.folder / FILENAME, admissible=side.admissible)
    paths = side.tables[STRUCTURAL_TITLE]
    _print(side, paths, composite, task.significance)
    if resolved["tracking"]["enabled"]:
        from ccframe.tracking import log_virtual_survey, warn

        try:
            log_virtual_survey(resolved, job.overrides, paths, world.sem.fit_indices, job.folder)
        except Exception as exc:  # results stay in the job folder
            warn(f"tracking failed ({type(exc).__name__}: {exc}); results kept in {job.folder}")


def _print(side: Report, paths: pl.DataFrame, composite: pl.DataFrame, significance: float) -> None:
    print(side.text())
    print(f"supported: {int(paths['supported'].sum())} of {paths.height} hypotheses "
          f"(the paper: 16 of 16): {', '.join(paths.filter(pl.col('supported'))['hypothesis']) or 'none'}")
    values = ", ".join(f"{h} {v:+.2f}{'*' if ok else ''}"
                       for h, v, ok in composite.select("hypothesis", "std", "supported").iter_rows())
    print(f"cross-check on composite scores (no SEM): {int(composite['supported'].sum())} of {composite.height} "
          f"supported (* = positive, p < {significance:g}): {values}")
