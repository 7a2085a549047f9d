"""The ``virtual_survey`` task: simulated clusters answer the questionnaire; the SEM tests H1-H16.

Simulates the clusters (progress on stderr), fields the survey, fits the spec, prints the fit
indices, path coefficients and loadings beside the paper's Tables 6, 7 and 9, keeps
everything in the job folder and logs it to MLflow.
"""

from __future__ import annotations

import sys
from typing import Any

import polars as pl
from omegaconf import DictConfig, OmegaConf

from ccframe import runner
from ccframe.survey import report
from ccframe.survey.world import field_survey, task_settings


def run(config: DictConfig, job: runner.Job) -> None:
    """Field one virtual survey and print it side by side with the published one."""
    resolved: Any = OmegaConf.to_container(config, resolve=True)
    task = task_settings(resolved)
    runner.settings_from(OmegaConf.create({k: v for k, v in resolved.items() if k != "task"}))
    print(f"ccframe: virtual survey: {task.clusters} clusters x {resolved['years']} years, "
          f"{task.n} respondents, spec {task.spec}", file=sys.stderr)
    world = field_survey(resolved, progress=_progress)
    collapsed = int(world.contexts["collapsed"].is_not_null().sum())
    if collapsed:
        print(f"ccframe: {collapsed} of {task.clusters} clusters died out (no supplier left) and were not "
              "surveyed", file=sys.stderr)
    tables = {"table6_fit": report.fit_table(world.sem),
              "table7_paths": report.path_table(world.sem, task.significance),
              "table9_loadings": report.loading_table(world.sem),
              "composite_paths": report.composite_paths(world.sem.spec, world.answers, task.significance)}
    job.folder.mkdir(parents=True, exist_ok=True)
    for name, frame in {**tables, "answers": world.answers, "clusters": world.contexts,
                        "estimates": world.sem.estimates}.items():
        frame.write_parquet(job.folder / f"{name}.parquet")
    _print(tables, world.sem, task.significance)
    if resolved["tracking"]["enabled"]:
        from ccframe.tracking import log_virtual_survey, warn

        try:
            log_virtual_survey(resolved, job.overrides, tables, world.sem.fit_indices, job.folder)
        except Exception as exc:  # results stay in the job folder
            warn(f"tracking failed ({type(exc).__name__}: {exc}); results kept in {job.folder}")


def _progress(done: int, total: int, elapsed: float) -> None:
    line = f"cluster {done}/{total} simulated ({elapsed:.1f} s)"
    if sys.stderr.isatty():
        print(f"\r{line}", end="\n" if done == total else "", file=sys.stderr, flush=True)
    elif done == total or done % 10 == 0:
        print(line, file=sys.stderr, flush=True)


def _print(tables: dict[str, pl.DataFrame], sem: Any, significance: float) -> None:
    status = "converged" if sem.converged else f"NOT converged ({sem.message})"
    if sem.converged and not report.proper_solution(sem):
        status += "; INADMISSIBLE: a negative variance, |standardised value| > 1 or an extreme SE"
    paths = tables["table7_paths"]
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, float_precision=3,
                   tbl_hide_column_data_types=True, tbl_width_chars=200):
        print(f"Table 6 - fit of the revised model ({status}; chi2 = {sem.fit_indices.get('chisq', float('nan')):.1f},"
              f" df = {sem.fit_indices.get('df', float('nan')):.0f})")
        print(tables["table6_fit"])
        print(f"Table 7 - structural paths (supported: positive and p < {significance:g})")
        print(paths)
        print("Table 9 - standardised loadings")
        print(tables["table9_loadings"])
    print(f"supported: {int(paths['supported'].sum())} of {paths.height} hypotheses "
          f"(the paper: 16 of 16): {', '.join(paths.filter(pl.col('supported'))['hypothesis']) or 'none'}")
    composite = tables["composite_paths"].select("hypothesis", "std", "supported")
    values = ", ".join(f"{h} {v:+.2f}{'*' if ok else ''}" for h, v, ok in composite.iter_rows())
    print(f"cross-check on composite scores (no SEM): {int(composite['supported'].sum())} of 16 supported "
          f"(* = positive, p < {significance:g}): {values}")
