"""Is a fitted solution admissible, and does it fit? Checked in that order, as the paper does.

Wang et al. (2022, Section 4.2) check five "violations of estimation" before they
judge the fit: (1) a negative error variance, (2) a standardised correlation
coefficient greater than 1, (3) a non-positive-definite covariance or correlation
matrix, (4) a standardised coefficient that exceeds or is very close to 1, (5) a very
large or extremely small standard error. :func:`violations` runs those five (plus
convergence) on a :class:`ccframe.sem.fit.SemResult`; :func:`judge_fit` compares the
fit indices with reference standards such as the paper's Table 6. A solution with a
violation is reported as inadmissible, never as a fit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

NEAR_ONE = 0.95
"""|standardised loading or path| at or above this counts as "very close to 1" (check 4)."""
SE_RATIO = 100.0
"""An SE more than this factor above or below the median SE of its kind is extreme (check 5)."""
BOUNDARY = 1e-6
"""A free variance at or below this is negative in effect: semopy bounds variances at 0, so a
Heywood case shows up as a variance stuck at the bound rather than below it (check 1)."""
PD_TOLERANCE = 1e-10
"""Smallest eigenvalue (relative to the largest) a matrix needs to count as positive definite."""

#: The paper's Table 6 reference standards: index -> (comparison, bound).
PAPER_CRITERIA: dict[str, tuple[str, float]] = {
    "chisq_df": ("<", 5.0), "gfi": (">", 0.9), "rmsea": ("<", 0.1), "cfi": (">", 0.9),
    "nfi": (">", 0.9), "ifi": (">", 0.9), "pgfi": (">", 0.5),
}


@dataclass(frozen=True)
class Check:
    """One admissibility check: what was looked at, whether it passed, and the offenders."""

    number: int
    name: str
    ok: bool
    detail: str


def violations(result: Any, *, near_one: float = NEAR_ONE, se_ratio: float = SE_RATIO) -> list[Check]:
    """Convergence and the paper's five checks, in its order (numbered 0 to 5)."""
    est = result.estimates
    free = est.filter(pl.col("free"))
    variances = est.filter((pl.col("op") == "~~") & (pl.col("lhs") == pl.col("rhs")))
    covs = est.filter((pl.col("op") == "~~") & (pl.col("lhs") != pl.col("rhs")))
    coefs = est.filter(pl.col("op").is_in(["=~", "~"]))

    checks = [Check(0, "estimation converged", bool(result.converged),
                    "yes" if result.converged else str(result.message))]

    negative = variances.filter(pl.col("free") & (pl.col("estimate") <= BOUNDARY))
    checks.append(Check(1, "no negative error variance", negative.height == 0,
                        _list(negative, "estimate") or f"all {variances.height} (residual) variances > 0"))

    too_big = covs.filter((pl.col("std_all").abs() >= 1) | pl.col("std_all").is_nan())
    checks.append(Check(2, "standardised correlations below 1 in size", too_big.height == 0,
                        _list(too_big, "std_all") or _range(covs["std_all"], "correlations")))

    not_pd = [name for name, matrix in _matrices(result).items() if not _positive_definite(matrix)]
    checks.append(Check(3, "covariance and correlation matrices positive definite", not not_pd,
                        ("not positive definite: " + ", ".join(not_pd)) if not_pd else
                        "S, implied Sigma, latent covariance, Psi and Theta are positive definite"))

    near = coefs.filter(pl.col("std_all").abs() >= near_one)
    checks.append(Check(4, f"standardised coefficients below {near_one:g}", near.height == 0,
                        _list(near, "std_all") or _range(coefs["std_all"], "loadings and paths")))

    extreme = _extreme_standard_errors(free, se_ratio)
    checks.append(Check(5, "no extreme standard error", extreme.height == 0,
                        _list(extreme, "se") or f"every SE within {se_ratio:g}x of the median SE of its kind"))
    return checks


def admissible(checks: list[Check]) -> bool:
    """True when every check passed."""
    return all(c.ok for c in checks)


def judge_fit(fit_indices: Mapping[str, float],
              criteria: Mapping[str, tuple[str, float]] = PAPER_CRITERIA) -> pl.DataFrame:
    """Each criterion's index, rule, value and verdict (``<`` / ``>`` strict, ``<=`` / ``>=`` not)."""
    rows = []
    for index, (op, bound) in criteria.items():
        value = float(fit_indices.get(index, math.nan))
        ok = {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[op]
        rows.append({"index": index, "standard": f"{op}{bound:g}", "value": value, "ok": bool(ok)})
    return pl.DataFrame(rows, schema={"index": pl.Utf8, "standard": pl.Utf8, "value": pl.Float64, "ok": pl.Boolean})


def parse_criteria(raw: Mapping[str, Any]) -> dict[str, tuple[str, float]]:
    """Criteria from config, ``{index: {max: 5}}`` or ``{index: {min: 0.9}}`` (strict bounds).

    Raises ValueError with one line naming the key and the value given.
    """
    from ccframe.sem.indices import INDEX_NAMES

    out = {}
    for index, rule in (raw or {}).items():
        if index not in INDEX_NAMES:
            raise ValueError(f"criteria.{index}: unknown fit index (allowed: {', '.join(INDEX_NAMES)})")
        if not isinstance(rule, Mapping) or len(rule) != 1 or next(iter(rule)) not in ("min", "max"):
            raise ValueError(f"criteria.{index}: expected {{min: <number>}} or {{max: <number>}}, got {rule!r}")
        side, bound = next(iter(rule.items()))
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
            raise ValueError(f"criteria.{index}.{side}: expected a finite number, got {bound!r}")
        out[str(index)] = ("<" if side == "max" else ">", float(bound))
    return out


# -- helpers -------------------------------------------------------------------------
def _matrices(result: Any) -> dict[str, np.ndarray]:
    m = result.matrices
    out = {"S": result.sample_cov, "implied Sigma": result.sigma}
    if m:
        out.update({"latent covariance": m["cov_latent"], "Psi": m["psi"], "Theta": m["theta"]})
    return out


def _positive_definite(matrix: np.ndarray) -> bool:
    matrix = np.asarray(matrix, dtype=float)
    if matrix.size == 0:
        return True
    if not np.all(np.isfinite(matrix)):
        return False
    eig = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    return bool(eig.min() > PD_TOLERANCE * max(eig.max(), 1.0))


def _extreme_standard_errors(free: pl.DataFrame, ratio: float) -> pl.DataFrame:
    """Free parameters whose SE is missing, zero, or ``ratio`` times off the median SE of its op."""
    kind = pl.when(pl.col("op") == "~~").then(
        pl.when(pl.col("lhs") == pl.col("rhs")).then(pl.lit("variance")).otherwise(pl.lit("covariance"))
    ).otherwise(pl.col("op"))
    frame = free.with_columns(_kind=kind)
    frame = frame.with_columns(_median=pl.col("se").median().over("_kind"))
    bad = (~pl.col("se").is_finite() | (pl.col("se") <= 0)
           | (pl.col("se") > ratio * pl.col("_median")) | (pl.col("se") < pl.col("_median") / ratio))
    return frame.filter(bad).drop("_kind", "_median")


def _list(frame: pl.DataFrame, column: str, limit: int = 6) -> str:
    if frame.height == 0:
        return ""
    shown = [f"{r['lhs']} {r['op']} {r['rhs']} = {r[column]:.3f}" for r in frame.head(limit).iter_rows(named=True)]
    more = f" (+{frame.height - limit} more)" if frame.height > limit else ""
    return "; ".join(shown) + more


def _range(values: pl.Series, what: str) -> str:
    finite = values.filter(values.is_finite())
    if finite.len() == 0:
        return f"no {what}"
    return f"{what} between {finite.min():.3f} and {finite.max():.3f}"
