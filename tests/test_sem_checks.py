"""The paper's five violation-of-estimation checks and the fit criteria: each check fails on its violation."""

import dataclasses

import numpy as np
import polars as pl
import pytest

from ccframe.sem.checks import PAPER_CRITERIA, admissible, judge_fit, parse_criteria, violations
from ccframe.sem.fit import fit
from ccframe.sem.population import simulate


@pytest.fixture(scope="module")
def result():
    return fit("wang2022_revised", simulate(n=481, seed=3576), n_minus_one=True)


def failed(checks):
    return [c.number for c in checks if not c.ok]


def with_estimate(result, lhs, op, rhs, **values):
    est = result.estimates.with_columns(
        [pl.when((pl.col("lhs") == lhs) & (pl.col("op") == op) & (pl.col("rhs") == rhs)).then(pl.lit(v))
         .otherwise(pl.col(k)).alias(k) for k, v in values.items()])
    return dataclasses.replace(result, estimates=est)


def test_a_sound_solution_passes_all_six(result):
    checks = violations(result)
    assert [c.number for c in checks] == [0, 1, 2, 3, 4, 5]
    assert admissible(checks) and failed(checks) == []


def test_each_check_catches_its_violation(result):
    assert failed(violations(with_estimate(result, "C6", "~~", "C6", estimate=-0.02))) == [1]
    assert failed(violations(with_estimate(result, "B1", "~~", "B4", std_all=1.02))) == [2]
    theta = result.matrices["theta"].copy()
    theta[0, 1] = theta[1, 0] = 2 * np.sqrt(theta[0, 0] * theta[1, 1])
    assert failed(violations(dataclasses.replace(result, matrices={**result.matrices, "theta": theta}))) == [3]
    assert failed(violations(with_estimate(result, "B1", "=~", "C1", std_all=0.97))) == [4]
    assert failed(violations(with_estimate(result, "B1", "=~", "C1", se=50.0))) == [5]
    assert failed(violations(with_estimate(result, "B1", "=~", "C1", se=float("nan")))) == [5]
    assert failed(violations(dataclasses.replace(result, converged=False, message="iteration limit"))) == [0]


def test_near_one_threshold_is_configurable(result):
    top = result.paths("=~")["std_all"].abs().max()
    assert failed(violations(result, near_one=top - 0.01)) == [4]


def test_judge_fit_uses_strict_bounds():
    indices = {"chisq_df": 5.0, "gfi": 0.95, "rmsea": 0.05, "cfi": 0.9, "nfi": 0.91, "ifi": 0.99, "pgfi": 0.6}
    verdict = dict(judge_fit(indices, PAPER_CRITERIA).select("index", "ok").iter_rows())
    assert verdict == {"chisq_df": False, "gfi": True, "rmsea": True, "cfi": False, "nfi": True, "ifi": True,
                       "pgfi": True}


def test_criteria_from_config():
    assert parse_criteria({"rmsea": {"max": 0.08}, "cfi": {"min": 0.95}}) == {"rmsea": ("<", 0.08), "cfi": (">", 0.95)}
    for bad, message in [({"rmse": {"max": 1}}, "criteria.rmse: unknown fit index"),
                         ({"cfi": {"above": 1}}, "criteria.cfi: expected {min: <number>}"),
                         ({"cfi": {"min": "high"}}, "criteria.cfi.min: expected a finite number, got 'high'")]:
        with pytest.raises(ValueError, match=message.replace("{", r"\{")):
            parse_criteria(bad)


def test_a_real_heywood_case_from_a_resample_is_caught(result):
    """B3 has two items and a free error covariance: some resamples put C11's error variance at 0."""
    from ccframe.sem.fit import fit_matrix, prepare_data

    values = prepare_data(result.spec, simulate(n=481, seed=3576))
    stream = np.random.SeedSequence(1).spawn(48)[15]  # the first such resample of the bootstrap with seed 1
    heywood = fit_matrix(result.spec, values[np.random.default_rng(stream).integers(0, 481, 481)], n_minus_one=True)
    assert heywood.converged
    assert failed(violations(heywood)) == [1, 2, 3, 4]
    assert "C11 ~~ C11 = 0.000" in violations(heywood)[1].detail
