"""The bootstrap: same draws whatever the number of workers, intervals that behave like the Wald ones."""

import numpy as np
import polars as pl
import pytest

pytest.importorskip("semopy.examples")
from semopy.examples import holzinger39  # noqa: E402

from ccframe.sem.bootstrap import bootstrap  # noqa: E402
from ccframe.sem.fit import fit, prepare_data  # noqa: E402
from ccframe.sem.spec import spec_from_dict  # noqa: E402

SPEC = spec_from_dict({
    "name": "hs",
    "items": {f"x{i}": "" for i in range(1, 10)},
    "latents": {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]},
})


@pytest.fixture(scope="module")
def values():
    return prepare_data(SPEC, holzinger39.get_data())


def test_results_do_not_depend_on_workers_or_chunks(values):
    serial = bootstrap(SPEC, values, draws=12, seed=7, n_jobs=1, chunk=5)
    parallel = bootstrap(SPEC, values, draws=12, seed=7, n_jobs=2, chunk=3)
    assert parallel.n_jobs == 2 and parallel.processes == 2  # both workers fitted draws
    assert serial.processes == 1
    np.testing.assert_allclose(serial.table["ci_lower"].to_numpy(), parallel.table["ci_lower"].to_numpy())
    np.testing.assert_allclose(serial.table["boot_sd"].to_numpy(), parallel.table["boot_sd"].to_numpy())
    other = bootstrap(SPEC, values, draws=12, seed=8, n_jobs=1)
    assert not np.allclose(serial.table["boot_sd"].to_numpy(), other.table["boot_sd"].to_numpy())


def test_percentile_intervals_agree_with_the_wald_standard_errors(values):
    """Bootstrap SD of the standardised loadings vs their delta-method size: same order (HS, N = 301)."""
    boot = bootstrap(SPEC, values, draws=80, seed=1, n_jobs=2)
    assert boot.failed <= 3
    table = boot.table.filter(pl.col("op") == "=~")
    inside = (table["ci_lower"] <= table["std_all"]) & (table["std_all"] <= table["ci_upper"])
    assert inside.all()
    # the unstandardised loading's SE over its estimate ~ the standardised one's relative spread
    est = fit(SPEC, holzinger39.get_data()).paths("=~").filter(pl.col("free"))
    rel_wald = (est["se"] / est["estimate"]).to_numpy()
    free = table.join(est.select("lhs", "rhs"), on=["lhs", "rhs"])
    rel_boot = (free["boot_sd"] / free["std_all"]).to_numpy()
    assert np.all(rel_boot < rel_wald * 1.5) and np.all(rel_boot > rel_wald * 0.2)


def test_bad_arguments(values):
    with pytest.raises(ValueError, match="draws: expected at least 2"):
        bootstrap(SPEC, values, draws=1)
    with pytest.raises(ValueError, match=r"level: expected a confidence level in \(0, 1\)"):
        bootstrap(SPEC, values, draws=10, level=1.5)


def test_a_given_base_fit_is_used_instead_of_refitting(values):
    from ccframe.sem.fit import fit_matrix

    refitted = bootstrap(SPEC, values, draws=4, seed=3, n_jobs=1)
    given = bootstrap(SPEC, values, draws=4, seed=3, n_jobs=1, base=fit_matrix(SPEC, values))
    assert given.table.equals(refitted.table)
