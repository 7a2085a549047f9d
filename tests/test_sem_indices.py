"""Fit indices, SEs and std.all against their formulas and lavaan's published output.

Each index is recomputed here from the fitted Σ, the sample S and N by a route of
its own (eigenvalues, explicit sums, the duplication matrix, SciPy's densities),
and compared to 1e-6. The lavaan numbers are those its tutorial prints for the
Holzinger-Swineford 3-factor CFA and Bollen's political democracy model (semopy
ships both data sets), asserted to their printed precision.
"""

import math

import numpy as np
import pytest
from scipy import stats

semopy_examples = pytest.importorskip("semopy.examples")
from semopy.examples import holzinger39, political_democracy  # noqa: E402

from ccframe.sem.fit import fit  # noqa: E402
from ccframe.sem.spec import spec_from_dict  # noqa: E402

TOL = 1e-6

HS_SPEC = {
    "name": "hs",
    "items": {f"x{i}": "" for i in range(1, 10)},
    "latents": {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]},
}
PD_SPEC = {
    "name": "pd",
    "items": {c: "" for c in "x1 x2 x3 y1 y2 y3 y4 y5 y6 y7 y8".split()},
    "latents": {"ind60": ["x1", "x2", "x3"], "dem60": ["y1", "y2", "y3", "y4"], "dem65": ["y5", "y6", "y7", "y8"]},
    "regressions": [{"outcome": "dem60", "predictor": "ind60"}, {"outcome": "dem65", "predictor": "ind60"},
                    {"outcome": "dem65", "predictor": "dem60"}],
    "error_covariances": [{"between": p} for p in
                          (["y1", "y5"], ["y2", "y4"], ["y2", "y6"], ["y3", "y7"], ["y4", "y8"], ["y6", "y8"])],
}


@pytest.fixture(scope="module")
def hs_data():
    return holzinger39.get_data()


@pytest.fixture(scope="module")
def hs(hs_data):
    return fit(spec_from_dict(HS_SPEC), hs_data)


@pytest.fixture(scope="module")
def hs_amos(hs_data):
    return fit(spec_from_dict(HS_SPEC), hs_data, n_minus_one=True)


@pytest.fixture(scope="module")
def pd():
    return fit(spec_from_dict(PD_SPEC), political_democracy.get_data())


@pytest.fixture(params=["hs", "hs_amos", "pd"])
def fitted(request):
    return request.getfixturevalue(request.param)


# -- independent reference computations -----------------------------------------------
def n_scale(r):
    return r.n_obs - 1 if r.n_minus_one else r.n_obs


def ref_chisq(r):
    # F_ML through the eigenvalues of Σ⁻¹S: Σ(λ - log λ - 1)
    lam = np.linalg.eigvals(np.linalg.solve(r.sigma, r.sample_cov)).real
    return n_scale(r) * float(np.sum(lam - np.log(lam) - 1))


def ref_baseline(r):
    # -n·log|R| with R the sample correlation matrix
    sd = np.sqrt(np.diag(r.sample_cov))
    corr = r.sample_cov / np.outer(sd, sd)
    return -n_scale(r) * math.log(np.linalg.det(corr))


def p_of(r):
    return r.sample_cov.shape[0]


def ref_df(r):
    p = p_of(r)
    return p * (p + 1) / 2 - r.npar


def duplication(p):
    """D with vec(A) = D·vech(A) for symmetric A."""
    pairs = [(i, j) for j in range(p) for i in range(j, p)]
    D = np.zeros((p * p, len(pairs)))
    for k, (i, j) in enumerate(pairs):
        D[i * p + j, k] = D[j * p + i, k] = 1.0
    return D, pairs


def ref_gfi(r):
    # lavaan's form: 1 - e'We / s'Ws, W = ½ D'(Σ⁻¹⊗Σ⁻¹)D, e = vech(S - Σ), s = vech(S)
    p = p_of(r)
    D, pairs = duplication(p)
    inv = np.linalg.inv(r.sigma)
    W = 0.5 * D.T @ np.kron(inv, inv) @ D
    e = np.array([(r.sample_cov - r.sigma)[i, j] for i, j in pairs])
    s = np.array([r.sample_cov[i, j] for i, j in pairs])
    return 1 - (e @ W @ e) / (s @ W @ s)


def ref_srmr(r):
    total, count = 0.0, 0
    S, Sig = r.sample_cov, r.sigma
    for i in range(p_of(r)):
        for j in range(i + 1):
            total += ((S[i, j] - Sig[i, j]) / math.sqrt(S[i, i] * S[j, j])) ** 2
            count += 1
    return math.sqrt(total / count)


def ref_rmsea_bounds(x2, df, n):
    # bisection on the noncentral chi-square cdf, independent of the module's root finder
    def solve(target):
        if stats.chi2.cdf(x2, df) < target:
            return 0.0
        lo, hi = 1e-12, 10.0 * x2 + 100
        for _ in range(200):
            mid = (lo + hi) / 2
            if stats.ncx2.cdf(x2, df, mid) > target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    return math.sqrt(solve(0.95) / (n * df)), math.sqrt(solve(0.05) / (n * df))


# -- each index against its formula --------------------------------------------------
def test_chisq_df_pvalue(fitted):
    fi = fitted.fit_indices
    assert fi["chisq"] == pytest.approx(ref_chisq(fitted), abs=TOL)
    assert fi["df"] == ref_df(fitted)
    assert fi["pvalue"] == pytest.approx(stats.chi2.sf(ref_chisq(fitted), ref_df(fitted)), abs=TOL)
    assert fi["chisq_df"] == pytest.approx(ref_chisq(fitted) / ref_df(fitted), abs=TOL)


def test_baseline_model(fitted):
    p = p_of(fitted)
    assert fitted.fit_indices["baseline_chisq"] == pytest.approx(ref_baseline(fitted), abs=TOL)
    assert fitted.fit_indices["baseline_df"] == p * (p - 1) / 2


def incremental(r):
    return ref_chisq(r), ref_df(r), ref_baseline(r), p_of(r) * (p_of(r) - 1) / 2


def test_cfi(fitted):
    x2, df, x0, df0 = incremental(fitted)
    expected = 1 - max(x2 - df, 0) / max(x2 - df, x0 - df0, 0)
    assert fitted.fit_indices["cfi"] == pytest.approx(expected, abs=TOL)


def test_tli(fitted):
    x2, df, x0, df0 = incremental(fitted)
    assert fitted.fit_indices["tli"] == pytest.approx((x0 / df0 - x2 / df) / (x0 / df0 - 1), abs=TOL)


def test_nfi(fitted):
    x2, _, x0, _ = incremental(fitted)
    assert fitted.fit_indices["nfi"] == pytest.approx(1 - x2 / x0, abs=TOL)


def test_ifi(fitted):
    x2, df, x0, _ = incremental(fitted)
    assert fitted.fit_indices["ifi"] == pytest.approx((x0 - x2) / (x0 - df), abs=TOL)


def test_rni(fitted):
    x2, df, x0, df0 = incremental(fitted)
    assert fitted.fit_indices["rni"] == pytest.approx(1 - (x2 - df) / (x0 - df0), abs=TOL)


def test_gfi_agfi_pgfi(fitted):
    g = ref_gfi(fitted)
    p, df = p_of(fitted), ref_df(fitted)
    fi = fitted.fit_indices
    assert fi["gfi"] == pytest.approx(g, abs=TOL)
    assert fi["agfi"] == pytest.approx(1 - p * (p + 1) / (2 * df) * (1 - g), abs=TOL)
    assert fi["pgfi"] == pytest.approx(2 * df / (p * (p + 1)) * g, abs=TOL)


def test_gfi_is_not_nfi(pd):
    # semopy 2.3.11 reports NFI (0.9478 here) under the name GFI; the ML GFI is 0.923
    assert pd.fit_indices["nfi"] == pytest.approx(0.9478, abs=1e-4)
    assert pd.fit_indices["gfi"] == pytest.approx(0.9227, abs=1e-4)


def test_rmsea_and_its_ci_and_close_fit(fitted):
    x2, df, n = ref_chisq(fitted), ref_df(fitted), n_scale(fitted)
    fi = fitted.fit_indices
    assert fi["rmsea"] == pytest.approx(math.sqrt(max(x2 - df, 0) / (n * df)), abs=TOL)
    low, high = ref_rmsea_bounds(x2, df, n)
    assert fi["rmsea_ci_lower"] == pytest.approx(low, abs=TOL)
    assert fi["rmsea_ci_upper"] == pytest.approx(high, abs=TOL)
    assert fi["rmsea_pvalue"] == pytest.approx(stats.ncx2.sf(x2, df, n * df * 0.05**2), abs=TOL)


def test_srmr(fitted):
    assert fitted.fit_indices["srmr"] == pytest.approx(ref_srmr(fitted), abs=TOL)


def test_loglik_aic_bic_from_the_normal_density(fitted, hs_data):
    # log-likelihood of the raw rows at (sample means, Σ): the density summed row by row
    data = (hs_data if fitted.spec.name == "hs" else political_democracy.get_data())[fitted.observed].to_numpy()
    sigma = fitted.sigma
    if fitted.n_minus_one:  # logl always refers to the ML covariance; AMOS's fit is Σ scaled by N/(N-1)
        sigma = sigma * (fitted.n_obs - 1) / fitted.n_obs
    ll = stats.multivariate_normal(data.mean(axis=0), sigma).logpdf(data).sum()
    fi = fitted.fit_indices
    if not fitted.n_minus_one:
        assert fi["logl"] == pytest.approx(ll, abs=1e-6)
    assert fi["aic"] == pytest.approx(-2 * fi["logl"] + 2 * fitted.npar, abs=TOL)
    assert fi["bic"] == pytest.approx(-2 * fi["logl"] + fitted.npar * math.log(fitted.n_obs), abs=TOL)
    unrestricted = stats.multivariate_normal(data.mean(axis=0), np.cov(data.T, ddof=0)).logpdf(data).sum()
    assert fi["unrestricted_logl"] == pytest.approx(unrestricted, abs=1e-6)


# -- lavaan's published output ---------------------------------------------------------
def test_holzinger_swineford_matches_lavaan(hs):
    fi = hs.fit_indices
    expected = {"chisq": 85.306, "df": 24, "baseline_chisq": 918.852, "baseline_df": 36, "cfi": 0.931,
                "tli": 0.896, "nfi": 0.907, "ifi": 0.931, "rni": 0.931, "gfi": 0.943, "agfi": 0.894,
                "pgfi": 0.503, "rmsea": 0.092, "rmsea_ci_lower": 0.071, "rmsea_ci_upper": 0.114,
                "rmsea_pvalue": 0.001, "srmr": 0.065, "logl": -3737.745, "unrestricted_logl": -3695.092,
                "aic": 7517.490, "bic": 7595.339, "npar": 21}
    for name, value in expected.items():
        assert fi[name] == pytest.approx(value, abs=6e-4), name
    # parameter estimates and SEs of lavaan's cfa() output
    loads = {r["rhs"]: r for r in hs.paths("=~").iter_rows(named=True)}
    assert loads["x2"]["estimate"] == pytest.approx(0.554, abs=6e-4)
    assert loads["x2"]["se"] == pytest.approx(0.100, abs=6e-4)
    assert loads["x5"]["estimate"] == pytest.approx(1.113, abs=6e-4)
    assert loads["x5"]["se"] == pytest.approx(0.065, abs=6e-4)
    assert loads["x1"]["std_all"] == pytest.approx(0.772, abs=6e-4)
    assert loads["x2"]["std_all"] == pytest.approx(0.424, abs=6e-4)


def test_political_democracy_matches_lavaan(pd):
    fi = pd.fit_indices
    for name, value in {"chisq": 38.125, "df": 35, "pvalue": 0.329, "logl": -1547.791,
                        "aic": 3157.582, "bic": 3229.424}.items():
        assert fi[name] == pytest.approx(value, abs=6e-4), name
    est = {(r["lhs"], r["op"], r["rhs"]): r for r in pd.estimates.iter_rows(named=True)}
    assert est[("dem60", "~", "ind60")]["estimate"] == pytest.approx(1.483, abs=6e-4)
    assert est[("dem65", "~", "dem60")]["estimate"] == pytest.approx(0.837, abs=6e-4)
    assert est[("dem65", "~", "dem60")]["std_all"] == pytest.approx(0.885, abs=6e-4)
    assert est[("y1", "~~", "y5")]["std_all"] == pytest.approx(0.296, abs=6e-4)
    assert est[("y2", "~~", "y6")]["std_all"] == pytest.approx(0.356, abs=6e-4)


# -- AMOS's N - 1 option ----------------------------------------------------------------
def test_n_minus_one_rescales_the_statistic_and_the_ses(hs, hs_amos):
    n = hs.n_obs
    assert hs_amos.n_minus_one and not hs.n_minus_one
    np.testing.assert_allclose(hs_amos.sample_cov, hs.sample_cov * n / (n - 1))
    # the discrepancy F is the same (Σ scales with S), the statistic is (N-1)F instead of N·F
    assert hs_amos.fit_indices["chisq"] == pytest.approx(hs.fit_indices["chisq"] * (n - 1) / n, abs=1e-5)
    assert hs_amos.fit_indices["rmsea"] == pytest.approx(
        math.sqrt((hs_amos.fit_indices["chisq"] - 24) / (24 * (n - 1))), abs=TOL)
    # loadings are scale free; their SEs grow by sqrt(N/(N-1))
    a, b = hs.paths("=~").filter(hs.paths("=~")["free"]), hs_amos.paths("=~").filter(hs_amos.paths("=~")["free"])
    np.testing.assert_allclose(a["estimate"].to_numpy(), b["estimate"].to_numpy(), atol=1e-5)
    np.testing.assert_allclose(b["se"].to_numpy() / a["se"].to_numpy(), math.sqrt(n / (n - 1)), atol=1e-5)


# -- standard errors and std.all ---------------------------------------------------------
def test_standard_errors_are_the_inverse_expected_information(pd):
    # numerical derivative of Σ(θ) -> information N/2 tr(Σ⁻¹ΣiΣ⁻¹Σj) -> SE
    model = pd.model
    x0 = np.array(model.param_vals, dtype=float)

    def sigma_at(x):
        model.update_matrices(x)
        return model.calc_sigma()[0]

    h = 1e-6
    grads = []
    for k in range(len(x0)):
        up, down = x0.copy(), x0.copy()
        up[k] += h
        down[k] -= h
        grads.append((sigma_at(up) - sigma_at(down)) / (2 * h))
    sigma_at(x0)
    inv = np.linalg.inv(sigma_at(x0))
    info = np.array([[0.5 * pd.n_obs * np.trace(inv @ a @ inv @ b) for b in grads] for a in grads])
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    free = pd.estimates.filter(pd.estimates["free"])
    assert sorted(free["se"].to_list()) == pytest.approx(sorted(se.tolist()), rel=1e-5)
    z = free["estimate"] / free["se"]
    np.testing.assert_allclose(free["pvalue"].to_numpy(), 2 * stats.norm.sf(np.abs(z.to_numpy())), atol=1e-12)


def test_std_all_of_endogenous_latents_divides_by_residual_sds(hs_data):
    spec = spec_from_dict({**HS_SPEC, "regressions": [{"outcome": "textual", "predictor": "visual"},
                                                      {"outcome": "speed", "predictor": "visual"}],
                           "covariances": [{"between": ["textual", "speed"], "label": "H1"}]})
    r = fit(spec, hs_data)
    est = {(row["lhs"], row["op"], row["rhs"]): row for row in r.estimates.iter_rows(named=True)}
    cov = est.get(("textual", "~~", "speed")) or est[("speed", "~~", "textual")]
    psi_t, psi_s = est[("textual", "~~", "textual")]["estimate"], est[("speed", "~~", "speed")]["estimate"]
    assert cov["label"] == "H1"
    assert cov["std_all"] == pytest.approx(cov["estimate"] / math.sqrt(psi_t * psi_s), abs=1e-12)
    # what semopy reports instead (total variances) is a different, smaller number
    names = list(r.matrices["names_latent"])
    total = r.matrices["cov_latent"]
    t, s = names.index("textual"), names.index("speed")
    assert abs(cov["std_all"] - cov["estimate"] / math.sqrt(total[t, t] * total[s, s])) > 0.01
    # a regression's std.all uses the total SDs; an endogenous variance's is 1 - R²
    beta = est[("textual", "~", "visual")]
    v = names.index("visual")
    assert beta["std_all"] == pytest.approx(beta["estimate"] * math.sqrt(total[v, v] / total[t, t]), abs=1e-12)
    assert est[("textual", "~~", "textual")]["std_all"] == pytest.approx(1 - beta["std_all"] ** 2, abs=1e-9)
