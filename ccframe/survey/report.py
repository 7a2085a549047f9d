"""A fitted survey beside what Wang et al. (2022) published: Tables 6, 7 and 9 side by side.

The published values are read from ``conf/sem/published_wang2022.yaml``. A hypothesis
is supported when its path (regression or covariance) is positive and its p-value is
below the configured significance (the paper: all sixteen at p < .001).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import polars as pl
import yaml

from ccframe.sem.spec import SPEC_DIR

PUBLISHED = "published_wang2022"


@cache
def published(name: str = PUBLISHED) -> dict[str, Any]:
    """The published tables (plain data) of ``conf/sem/<name>.yaml``."""
    return yaml.safe_load((SPEC_DIR / f"{name}.yaml").read_text())


def fit_table(sem: Any) -> pl.DataFrame:
    """Table 6: each index the paper reports, its reference standard, paper and simulated value."""
    rows = []
    for index, ref in published()["table6"].items():
        value = float(sem.fit_indices.get(index, float("nan")))
        meets = value < ref["below"] if "below" in ref else value > ref["above"]
        rows.append({"index": index, "standard": ref["standard"], "paper": ref["value"],
                     "simulated": value, "meets_standard": meets})
    return pl.DataFrame(rows)


def path_table(sem: Any, significance: float) -> pl.DataFrame:
    """Table 7: each hypothesis's path, the paper's values and the simulated estimate, SE, C.R., p.

    ``supported`` needs a positive, significant path in an admissible solution
    (:func:`proper_solution`); an inadmissible fit supports nothing.
    """
    estimates = sem.hypotheses()
    proper = proper_solution(sem)
    rows = []
    for label, ref in published()["table7"].items():
        found = estimates.filter(pl.col("label") == label)
        if found.height != 1:
            raise KeyError(f"hypothesis {label} is not labelled in spec {sem.spec.name}")
        row = found.row(0, named=True)
        arrow = "<-" if ref["op"] == "~" else "<->"
        rows.append({"hypothesis": label, "path": f"{ref['lhs']} {arrow} {ref['rhs']}",
                     "paper_std": ref["std"], "std": row["std_all"], "estimate": row["estimate"],
                     "se": row["se"], "cr": row["z"], "p": row["pvalue"],
                     "supported": proper and supported(row["estimate"], row["pvalue"], significance)})
    return pl.DataFrame(rows).sort(pl.col("hypothesis").str.slice(1).cast(pl.Int64))


def loading_table(sem: Any) -> pl.DataFrame:
    """Table 9: each retained item's standardised loading, paper and simulated."""
    loadings = sem.paths("=~")
    rows = []
    for item, (latent, std, _) in published()["table9"].items():
        found = loadings.filter((pl.col("lhs") == latent) & (pl.col("rhs") == item))
        rows.append({"path": f"{item} <- {latent}", "paper_std": std,
                     "std": float(found["std_all"][0]) if found.height else float("nan"),
                     "estimate": float(found["estimate"][0]) if found.height else float("nan"),
                     "p": float(found["pvalue"][0]) if found.height else float("nan")})
    return pl.DataFrame(rows)


def supported(estimate: float, pvalue: float | None, significance: float) -> bool:
    """Positive and significant (two-sided p below ``significance``)."""
    return bool(estimate is not None and estimate > 0 and pvalue is not None and pvalue < significance)


def proper_solution(sem: Any, max_se: float = 10.0) -> bool:
    """Whether a fit is an admissible solution whose paths can be read.

    The paper's "violation of estimation" checks, in short: the optimiser converged,
    no variance is negative, every standardised loading, path and correlation is finite
    and within [-1, 1], and no standard error is extreme (> ``max_se`` on a 1..5 scale).
    """
    if not sem.converged:
        return False
    est = sem.estimates.filter(pl.col("free"))
    variances = est.filter((pl.col("op") == "~~") & (pl.col("lhs") == pl.col("rhs")))
    others = est.filter(~((pl.col("op") == "~~") & (pl.col("lhs") == pl.col("rhs"))))
    return bool((variances["estimate"] >= 0).all()
                and others["std_all"].is_finite().all() and (others["std_all"].abs() <= 1.0 + 1e-6).all()
                and est["se"].is_finite().all() and (est["se"] <= max_se).all())


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
    frame = pl.DataFrame(rows, schema={"hypothesis": pl.Utf8, "std": pl.Float64, "p": pl.Float64}, orient="row")
    return (frame.filter(pl.col("hypothesis").is_not_null())
            .with_columns(supported=(pl.col("std") > 0) & (pl.col("p") < significance))
            .sort(pl.col("hypothesis").str.slice(1).cast(pl.Int64)))


def _z(values: np.ndarray) -> np.ndarray:
    sd = values.std()
    return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)
