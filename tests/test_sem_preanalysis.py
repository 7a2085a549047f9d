"""Pre-analysis: KMO, Bartlett, PCA + varimax, retention, alpha, CR and AVE against hand formulas."""

import math

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("factor_analyzer")

from ccframe.sem.fit import fit  # noqa: E402
from ccframe.sem.population import load_population, simulate  # noqa: E402
from ccframe.sem.preanalysis import (  # noqa: E402
    analyse_scale,
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
    preanalysis,
)


@pytest.fixture(scope="module")
def data():
    return simulate(load_population(), seed=17)


@pytest.fixture(scope="module")
def result(data):
    return preanalysis("wang2022_revised", data, fit("wang2022_revised", data))


def test_cronbach_alpha_by_hand():
    x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]], dtype=float)
    # item variances 2.5, 1.3, 1.3; total scores 5, 8, 10, 13, 14 -> variance 13.5
    assert cronbach_alpha(x) == pytest.approx(3 / 2 * (1 - 5.1 / 13.5), abs=1e-12)


def test_alpha_equals_the_standardised_formula_for_equal_variances():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 1)) + rng.standard_normal((200, 4))
    x = (x - x.mean(0)) / x.std(0, ddof=1)
    r = np.corrcoef(x, rowvar=False)
    mean_r = (r.sum() - 4) / 12
    assert cronbach_alpha(x) == pytest.approx(4 * mean_r / (1 + 3 * mean_r), abs=1e-12)


def test_cr_and_ave_by_hand():
    lam = [0.8, 0.7, 0.6]
    assert composite_reliability(lam) == pytest.approx(2.1**2 / (2.1**2 + (0.36 + 0.51 + 0.64)), abs=1e-12)
    assert average_variance_extracted(lam) == pytest.approx((0.64 + 0.49 + 0.36) / 3, abs=1e-12)


def test_kmo_and_bartlett_against_their_formulas(result, data):
    scale = result.scale("industrial_cluster")
    items = [f"C{k}" for k in range(1, 14)]
    x = data.select(items).to_numpy().astype(float)
    r = np.corrcoef(x, rowvar=False)
    inv = np.linalg.inv(r)
    partial = -inv / np.sqrt(np.outer(np.diag(inv), np.diag(inv)))
    off = ~np.eye(13, dtype=bool)
    r2, p2 = (r[off] ** 2).sum(), (partial[off] ** 2).sum()
    assert scale.kmo == pytest.approx(r2 / (r2 + p2), abs=1e-10)
    n, p = x.shape
    chisq = -(n - 1 - (2 * p + 5) / 6) * math.log(np.linalg.det(r))
    assert scale.bartlett_chisq == pytest.approx(chisq, rel=1e-10)
    assert scale.bartlett_df == 78
    assert scale.bartlett_pvalue == pytest.approx(stats.chi2.sf(chisq, 78), abs=1e-12)


def test_rotation_keeps_communalities_and_variance(data):
    items = [f"C{k}" for k in range(15, 25)]
    x = data.select(items).to_numpy().astype(float)
    out = analyse_scale(x, items, 3)
    loadings = out.loadings.drop("item").to_numpy()
    eigval, eigvec = np.linalg.eigh(np.corrcoef(x, rowvar=False))
    top = eigvec[:, -3:] * np.sqrt(eigval[-3:])
    # varimax is an orthogonal rotation: each item's communality and the total are unchanged
    np.testing.assert_allclose((loadings**2).sum(1), (top**2).sum(1), atol=1e-9)
    assert out.cumulative_variance == pytest.approx(100 * eigval[-3:].sum() / len(items), abs=1e-9)
    # and it is a simple structure: each latent's items share a dominant component
    dominant = np.argmax(np.abs(loadings), axis=1)
    groups = [dominant[0:4], dominant[4:8], dominant[8:10]]
    assert [len(set(g)) for g in groups] == [1, 1, 1]
    assert len({g[0] for g in groups}) == 3


def test_retention_drops_weak_items_and_refits(data):
    # one component for B4's four items plus a pure-noise item: the noise cannot reach 0.5
    items = ["C15", "C16", "C17", "C18", "noise"]
    rng = np.random.default_rng(3)
    x = np.column_stack([data.select(items[:-1]).to_numpy().astype(float), rng.integers(1, 6, data.height)])
    out = analyse_scale(x, items, 1)
    assert out.dropped == ["noise"] and out.retained == items[:-1]
    assert out.initial_loadings.height == 5 and out.loadings.height == 4
    assert out.cumulative_variance == pytest.approx(analyse_scale(x[:, :-1], items[:-1], 1).cumulative_variance)


def test_an_item_off_the_structure_is_flagged(data):
    # with three components, PCA hands the noise item a component of its own and a high
    # loading: the 0.5 rule keeps it, the structure check flags it
    items = [f"C{k}" for k in range(15, 25)] + ["noise"]
    groups = {f"C{k}": lat for lat, ks in {"B4": range(15, 19), "B5": range(19, 23), "B6": (23, 24)}.items()
              for k in ks}
    rng = np.random.default_rng(3)
    x = np.column_stack([data.select(items[:-1]).to_numpy().astype(float), rng.integers(1, 6, data.height)])
    out = analyse_scale(x, items, 3, groups=groups)
    assert "noise" in out.inconsistent


def test_reliability_table(result, data):
    table = {row["latent"]: row for row in result.reliability.iter_rows(named=True)}
    assert set(table) == {"B1", "B2", "B3", "B4", "B5", "B6", "A1", "A2"}
    b1 = data.select(["C1", "C2", "C3", "C4"]).to_numpy().astype(float)
    assert table["B1"]["cronbach_alpha"] == pytest.approx(cronbach_alpha(b1), abs=1e-12)
    assert table["B1"]["items"] == 4
    for row in table.values():
        assert 0 < row["ave"] < row["cr"] < 1
    assert [s.name for s in result.scales] == ["industrial_cluster", "cross_border_ecommerce", "exogenous"]


def test_scales_of_the_simulated_survey(result):
    # only the weakly loading items (population loading 0.35) can fall under 0.5
    dropped = {item for scale in result.scales for item in scale.dropped}
    assert dropped <= {"C13", "C14", "C25"}
    for scale in result.scales:
        assert scale.kmo > 0.6 and scale.bartlett_pvalue < 1e-10
