"""The revision loop: from the paper's initial model on population data to a revised one, step by step."""

import polars as pl
import pytest

from ccframe.sem.fit import prepare_data
from ccframe.sem.modindices import modification_indices
from ccframe.sem.population import simulate
from ccframe.sem.revise import revise
from ccframe.sem.spec import load_spec

PAPER_FREED = {("C11", "C12"), ("C2", "C3"), ("C9", "C10"), ("C17", "C18"), ("C20", "C21")}


@pytest.fixture(scope="module")
def initial():
    return load_spec("wang2022_initial")


@pytest.fixture(scope="module")
def values(initial):
    return prepare_data(initial, simulate(n=481, seed=3576))


@pytest.fixture(scope="module")
def revision(initial, values):
    lines = []
    rev = revise(initial, values, until="mi", n_minus_one=True, log=lines.append)
    rev.lines = lines
    return rev


def test_reaches_a_revised_model_freeing_only_the_papers_error_covariances(revision):
    freed = {tuple(sorted(p, key=lambda c: int(c[1:]))) for p in revision.freed}
    assert len(freed) >= 2
    assert freed <= PAPER_FREED  # the population has exactly these five; nothing spurious at MI >= 10.83
    assert revision.stopped.startswith("no admissible error covariance has MI >= 10.83")
    assert len(revision.spec.error_covariances) == len(freed)


def test_every_step_is_logged_and_lowers_chisq_by_about_its_mi(revision):
    steps = revision.steps
    assert steps["step"].to_list() == list(range(steps.height))
    assert steps["admissible"].all()
    drops = (steps["chisq"].shift(1) - steps["chisq"]).to_list()[1:]
    for drop, mi in zip(drops, steps["mi"].to_list()[1:], strict=True):
        assert drop == pytest.approx(mi, rel=0.25)
    assert sum("freeing" in line for line in revision.lines) == len(revision.freed)
    assert revision.lines[-1].startswith("revise: stopped:")


def test_each_step_frees_the_largest_admissible_mi(initial, values):
    from ccframe.sem.fit import fit_matrix

    mi = modification_indices(fit_matrix(initial, values, n_minus_one=True), kinds=("error_covariance",))
    best = mi.filter(pl.col("same_latent") & pl.col("mi").is_not_null()).row(0, named=True)
    first = revise(initial, values, until="mi", max_steps=1, n_minus_one=True)
    assert first.freed == [(best["lhs"], best["rhs"])]
    assert first.stopped == "max_steps (1) reached"


def test_the_papers_rule_stops_once_the_criteria_hold(initial, values):
    lenient = revise(initial, values, n_minus_one=True)
    assert lenient.freed == [] and lenient.stopped == "the fit criteria hold"
    strict = revise(initial, values, criteria={"rmsea": ("<", 0.023)}, n_minus_one=True)
    assert strict.stopped == "the fit criteria hold"
    assert strict.steps["criteria_met"].to_list() == [False] * (strict.steps.height - 1) + [True]
    assert strict.steps["rmsea"][-1] < 0.023 <= strict.steps["rmsea"][0]


def test_a_two_item_latent_with_free_errors_is_not_identified(initial, values):
    from ccframe.sem.fit import fit_matrix

    mi = modification_indices(fit_matrix(initial, values), kinds=("error_covariance",))
    row = mi.filter((pl.col("lhs") == "C26") & (pl.col("rhs") == "C27"))
    assert row["mi"].is_null().all()  # A1's two errors: freeing their covariance leaves A1 unidentified


def test_bad_stop_rule():
    with pytest.raises(ValueError, match="until: expected one of criteria, mi, got 'never'"):
        revise("wang2022_initial", None, until="never")


def test_the_violation_thresholds_decide_admissibility_at_each_step(initial, values):
    strict = revise(initial, values, until="mi", near_one=0.5, n_minus_one=True)  # every loading is "near 1"
    assert strict.steps.height == 1 and not strict.steps["admissible"][0]
    assert strict.stopped.startswith("the solution is not admissible: (4)")
