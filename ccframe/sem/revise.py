"""The paper's model revision, automated: free the largest admissible error covariance, refit, repeat.

Wang et al. (2022, Section 4.2) revised their initial model by hand from AMOS's
modification indices: they freed the error covariance with the largest index
(e11-e12), refitted, and went on (e2-e3, e9-e10, e17-e18, e20-e21) until the fit
met the reference standards. :func:`revise` runs that loop. A candidate is
theoretically admissible when both errors belong to items of the same latent
(two questions on one construct may share wording or context; an error
covariance across constructs would change what the latents mean). Each step is
logged (through ``log``) and kept in :attr:`Revision.steps`.

Stopping rules (``until``):

- ``"criteria"`` (the paper's): stop as soon as the fit criteria hold;
- ``"mi"``: ignore the criteria and keep freeing while the largest admissible MI
  is at least ``min_mi`` (10.83 = the χ²(1) critical value at p = .001).

Either way the loop stops when no admissible candidate has an MI of at least
``min_mi``, when a refit is not admissible (the five checks), or after ``max_steps``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ccframe.sem.checks import NEAR_ONE, PAPER_CRITERIA, SE_RATIO, admissible, judge_fit, violations
from ccframe.sem.fit import SemResult, fit_matrix
from ccframe.sem.modindices import modification_indices
from ccframe.sem.spec import SemSpec, load_spec

MIN_MI = 10.83
"""Smallest MI worth freeing: the χ²(1) critical value at p = .001."""
STOP_RULES = ("criteria", "mi")


@dataclass
class Revision:
    """The revision's steps (one row per fit), why it stopped, and the final spec and fit."""

    steps: pl.DataFrame
    stopped: str
    spec: SemSpec
    result: SemResult

    @property
    def freed(self) -> list[tuple[str, str]]:
        """The error covariances freed, in order."""
        rows = self.steps.filter(pl.col("freed").is_not_null())
        return [tuple(f.split(" ~~ ")) for f in rows["freed"]]


def revise(spec: SemSpec | str | dict, values: np.ndarray, *,
           criteria: Mapping[str, tuple[str, float]] = PAPER_CRITERIA, until: str = "criteria",
           min_mi: float = MIN_MI, max_steps: int = 10, n_minus_one: bool = False,
           near_one: float = NEAR_ONE, se_ratio: float = SE_RATIO,
           log: Callable[[str], None] | None = None) -> Revision:
    """Revise ``spec`` on the data matrix ``values`` (columns = the spec's items, in order).

    ``near_one`` and ``se_ratio`` are the thresholds of the violation checks
    (:func:`ccframe.sem.checks.violations`) that decide whether each refit is admissible.

    Returns the steps, the stopping reason and the revised spec with its fit.
    """
    if until not in STOP_RULES:
        raise ValueError(f"until: expected one of {', '.join(STOP_RULES)}, got {until!r}")
    spec = load_spec(spec)
    say = log or (lambda _message: None)
    rows: list[dict[str, Any]] = []
    freed: str | None = None
    mi_freed = float("nan")
    for step in range(max_steps + 1):
        result = fit_matrix(spec, values, n_minus_one=n_minus_one)
        checks = violations(result, near_one=near_one, se_ratio=se_ratio)
        verdict = judge_fit(result.fit_indices, criteria) if result.fit_indices else None
        fits = bool(verdict is not None and verdict["ok"].all())
        row = {"step": step, "freed": freed, "mi": mi_freed, "admissible": admissible(checks),
               **{k: result.fit_indices.get(k, float("nan")) for k in ("chisq", "df", "chisq_df", "gfi", "rmsea",
                                                                        "cfi", "nfi", "ifi", "pgfi", "srmr")},
               "criteria_met": fits}
        rows.append(row)
        say(_describe(row, verdict))
        if not row["admissible"]:
            failed = "; ".join(f"({c.number}) {c.name}: {c.detail}" for c in checks if not c.ok)
            stopped = f"the solution is not admissible: {failed}"
            break
        if until == "criteria" and fits:
            stopped = "the fit criteria hold"
            break
        if step == max_steps:
            stopped = f"max_steps ({max_steps}) reached"
            break
        candidates = modification_indices(result, kinds=("error_covariance",)).filter(
            pl.col("same_latent") & pl.col("mi").is_not_null() & (pl.col("mi") >= min_mi))
        if candidates.height == 0:
            stopped = f"no admissible error covariance has MI >= {min_mi:g}"
            break
        best = candidates.row(0, named=True)
        freed, mi_freed = f"{best['lhs']} ~~ {best['rhs']}", float(best["mi"])
        say(f"revise: freeing {freed} (MI {mi_freed:.2f}, expected change {best['epc']:+.3f}, "
            f"standardised {best['sepc_all']:+.3f})")
        spec = spec.with_error_covariance(best["lhs"], best["rhs"],
                                          note=f"freed at revision step {step + 1}, MI {mi_freed:.2f}")
    say(f"revise: stopped: {stopped}")
    return Revision(steps=pl.DataFrame(rows), stopped=stopped, spec=spec, result=result)


def _describe(row: dict[str, Any], verdict: pl.DataFrame | None) -> str:
    failing = [] if verdict is None else verdict.filter(~pl.col("ok"))["index"].to_list()
    status = "criteria met" if row["criteria_met"] else f"failing: {', '.join(failing) or 'no indices'}"
    return (f"revise: step {row['step']}: chi2 {row['chisq']:.2f} df {row['df']:.0f} chi2/df {row['chisq_df']:.3f} "
            f"GFI {row['gfi']:.3f} RMSEA {row['rmsea']:.3f} CFI {row['cfi']:.3f} ({status})")
