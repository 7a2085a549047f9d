"""A fitted virtual survey beside what Wang et al. (2022) published, through the SEM layer.

:func:`side_by_side` runs the same violation-of-estimation checks as ``task=sem``
(:func:`ccframe.sem.checks.violations`) and builds the paper's Tables 6, 7 and 9 with
:mod:`ccframe.sem.report`, the published values read from ``conf/sem/<published>.yaml``.
Unlike ``task=sem`` it prints the tables of an inadmissible solution too (marked, with
no hypothesis supported), since simulated answers often give one. A hypothesis is
supported when its path is positive and its p-value below the configured significance
(the paper: all sixteen at p < .001). :func:`composite_paths` is the survey's own
cross-check, on average scores, that needs no admissible SEM.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ccframe.sem.checks import PAPER_CRITERIA, admissible, violations
from ccframe.sem.report import (
    CHECKS_TITLE,
    FIT_TITLE,
    MEASUREMENT_TITLE,
    STRUCTURAL_TITLE,
    Report,
    checks_table,
    fit_table,
    load_published,
    measurement_table,
    structural_table,
    supported,
)


def side_by_side(sem: Any, significance: float, published: str) -> Report:
    """The violation checks and Tables 6, 7 and 9 of one fitted survey, the paper's values beside ours.

    ``published`` names a ``conf/sem/published_*.yaml`` (or ``""`` for none); the fit is
    judged against the paper's Table 6 standards (:data:`ccframe.sem.checks.PAPER_CRITERIA`).
    """
    checks = violations(sem)
    ok = admissible(checks)
    paper = load_published(published) or {}
    chisq, df = sem.fit_indices.get("chisq", float("nan")), sem.fit_indices.get("df", float("nan"))
    status = "admissible" if ok else "INADMISSIBLE (see the violation checks): no hypothesis is supported"
    lines = [f"spec {sem.spec.name}, N = {sem.n_obs}; solution {status}; chi2 = {chisq:.1f}, df = {df:.0f}",
             f"a hypothesis is supported by a positive path with p < {significance:g} in an admissible solution"]
    tables = {CHECKS_TITLE: checks_table(checks),
              FIT_TITLE: fit_table(sem.fit_indices, PAPER_CRITERIA, paper.get("fit_revised") or {}),
              STRUCTURAL_TITLE: structural_table(sem, paper.get("structural") or {}, significance,
                                                 admissible=ok, positive_only=True),
              MEASUREMENT_TITLE: measurement_table(sem, paper.get("measurement") or {})}
    return Report(title="Virtual survey beside Wang et al. (2022)", lines=lines, tables=tables, admissible=ok)


def composite_paths(spec: Any, answers: pl.DataFrame, significance: float) -> pl.DataFrame:
    """H1-H16 on unit-weighted composite scores: a cross-check that needs no admissible SEM.

    Each latent's score is the mean of its items' answers, standardised. A regression
    hypothesis (A ~ B) gets the standardised OLS coefficient of A on all of A's
    predictors; a covariance hypothesis between exogenous latents gets their Pearson
    correlation; one between endogenous latents (H16) the correlation of their OLS
    residuals, as the SEM's disturbance correlation. p-values are two-sided t-tests.
    Composites carry measurement error, so they understate the SEM's latent values.
    """
    from scipy.stats import t as t_dist

    scores = {lat.name: _z(answers.select(lat.items).to_numpy().astype(float).mean(axis=1)) for lat in spec.latents}
    n = answers.height
    residuals, rows = {}, []
    for outcome in dict.fromkeys(r.lhs for r in spec.regressions):
        relations = [r for r in spec.regressions if r.lhs == outcome]
        X = np.column_stack([scores[r.rhs] for r in relations])
        beta, *_ = np.linalg.lstsq(X, scores[outcome], rcond=None)
        resid = scores[outcome] - X @ beta
        residuals[outcome] = resid
        dof = n - X.shape[1] - 1
        se = np.sqrt(np.diag(np.linalg.inv(X.T @ X)) * (resid @ resid) / dof)
        for relation, b, s in zip(relations, beta, se, strict=True):
            rows.append((relation.label, float(b), float(2 * t_dist.sf(abs(b / s), dof))))
    for relation in spec.covariances:
        a, b = residuals.get(relation.lhs, scores[relation.lhs]), residuals.get(relation.rhs, scores[relation.rhs])
        r = float(np.corrcoef(a, b)[0, 1])
        stat = r * np.sqrt((n - 2) / max(1 - r * r, 1e-12))
        rows.append((relation.label, r, float(2 * t_dist.sf(abs(stat), n - 2))))
    rows = [(label, std, p, supported(std, p, significance, positive=True)) for label, std, p in rows if label]
    frame = pl.DataFrame(rows, schema={"hypothesis": pl.Utf8, "std": pl.Float64, "p": pl.Float64,
                                       "supported": pl.Boolean}, orient="row")
    return frame.sort(pl.col("hypothesis").str.slice(1).cast(pl.Int64))


def _z(values: np.ndarray) -> np.ndarray:
    sd = values.std()
    return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)
