"""Fit indices of a covariance-structure model, as lavaan defines them.

Every function is a transcription of one formula of lavaan's ``R/lav_fit_*.R``
(lavaan 0.6), written for a single group without a mean structure. They take the
sample covariance ``S``, the model-implied ``Sigma``, the sample size that scales the
test statistic (``n``: N for lavaan, N - 1 for AMOS) and the degrees of freedom, so
each index can be checked on its own and nothing depends on a library's report.

Why not semopy's ``calc_stats``: semopy 2.3.11 reports NFI under the name GFI,
computes AGFI with the baseline df, has no max(0, .) clamp in CFI (so its CFI is
RNI and can exceed 1), uses N - 1 in RMSEA without a CI or close-fit test, takes
the fit function for the log-likelihood (so its AIC/BIC are not information
criteria), and has no IFI, PGFI or SRMR.
"""

from __future__ import annotations

import math

import numpy as np

RMSEA_CLOSE_FIT = 0.05
"""H0 of the close-fit test: RMSEA <= 0.05 (lavaan's ``rmsea.h0.closefit``)."""


def _logdet(matrix: np.ndarray) -> float:
    sign, logdet = np.linalg.slogdet(matrix)
    if sign <= 0:
        raise np.linalg.LinAlgError("matrix is not positive definite")
    return float(logdet)


def f_ml(S: np.ndarray, Sigma: np.ndarray) -> float:
    """ML discrepancy F = log|Σ| - log|S| + tr(SΣ⁻¹) - p (zero when Σ = S)."""
    p = S.shape[0]
    return _logdet(Sigma) - _logdet(S) + float(np.trace(np.linalg.solve(Sigma, S))) - p


def chisq(S: np.ndarray, Sigma: np.ndarray, n: float) -> float:
    """Test statistic T = n·F_ML (lavaan: n = N; AMOS: n = N - 1)."""
    return n * f_ml(S, Sigma)


def baseline_chisq(S: np.ndarray, n: float) -> float:
    """T of the independence model (free variances, zero covariances).

    Its ML solution is Σ = diag(S), so T = n(Σ log s_ii - log|S|) in closed form.
    """
    return n * (float(np.sum(np.log(np.diag(S)))) - _logdet(S))


def baseline_df(p: int) -> int:
    """Degrees of freedom of the independence model, p(p - 1)/2."""
    return p * (p - 1) // 2


def cfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """CFI = 1 - max(T - df, 0) / max(T - df, T0 - df0, 0) (Bentler 1990; lavaan)."""
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2_null - df_null, 0.0)
    if t1 == 0.0 and t2 == 0.0:
        return 1.0
    return 1.0 - t1 / t2


def rni(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """RNI = 1 - (T - df)/(T0 - df0): CFI without the clamps (may leave [0, 1])."""
    t1, t2 = x2 - df, x2_null - df_null
    if t1 < 0 and t2 < 0:
        return 1.0
    return 1.0 - t1 / t2


def tli(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """TLI (NNFI) = (T0/df0 - T/df) / (T0/df0 - 1) (lavaan: 1 when df = 0)."""
    if df <= 0 or df_null <= 0:
        return 1.0
    t1 = x2_null / df_null - x2 / df
    t2 = x2_null / df_null - 1.0
    if t1 < 0 and t2 < 0:
        return 1.0
    return t1 / t2


def nfi(x2: float, x2_null: float) -> float:
    """NFI = (T0 - T)/T0 (Bentler & Bonett 1980) -- what semopy calls GFI."""
    return (x2_null - x2) / x2_null


def ifi(x2: float, df: float, x2_null: float) -> float:
    """IFI = (T0 - T)/(T0 - df) (Bollen 1989)."""
    return (x2_null - x2) / (x2_null - df)


def gfi(S: np.ndarray, Sigma: np.ndarray) -> float:
    """GFI for ML = 1 - tr((Σ⁻¹S - I)²) / tr((Σ⁻¹S)²) (Jöreskog & Sörbom).

    This is lavaan's 1 - e'We / s'Ws with the ML weight W = ½D'(Σ⁻¹⊗Σ⁻¹)D.
    """
    A = np.linalg.solve(Sigma, S)
    R = A - np.eye(S.shape[0])
    return 1.0 - float(np.sum(R * R.T)) / float(np.sum(A * A.T))


def n_moments(p: int) -> int:
    """Sample moments without a mean structure, p(p + 1)/2."""
    return p * (p + 1) // 2


def agfi(gfi_value: float, p: int, df: float) -> float:
    """AGFI = 1 - (p(p+1)/2)/df · (1 - GFI) -- the model's df, not the baseline's."""
    return 1.0 - n_moments(p) / df * (1.0 - gfi_value)


def pgfi(gfi_value: float, p: int, df: float) -> float:
    """PGFI = df/(p(p+1)/2) · GFI (Mulaik et al. 1989)."""
    return df / n_moments(p) * gfi_value


def rmsea(x2: float, df: float, n: float) -> float:
    """RMSEA = sqrt(max(T/n/df - 1/n, 0)) = sqrt(max(T - df, 0)/(n·df))."""
    if df <= 0:
        return 0.0
    return math.sqrt(max((x2 - df) / (n * df), 0.0))


def _ncx2_cdf(x: float, df: float, ncp: float) -> float:
    from scipy.stats import chi2, ncx2

    return float(chi2.cdf(x, df)) if ncp <= 0 else float(ncx2.cdf(x, df, ncp))


def _ncp_at(x2: float, df: float, prob: float) -> float:
    """The noncentrality λ ≥ 0 with P(χ²_df(λ) ≤ T) = prob (0 when even λ = 0 is below)."""
    from scipy.optimize import brentq

    if _ncx2_cdf(x2, df, 0.0) < prob:
        return 0.0
    high = max(x2, 1.0)
    while _ncx2_cdf(x2, df, high) > prob:
        high *= 2.0
    return brentq(lambda lam: _ncx2_cdf(x2, df, lam) - prob, 0.0, high, xtol=1e-12, rtol=1e-14)


def rmsea_ci(x2: float, df: float, n: float, level: float = 0.90) -> tuple[float, float]:
    """RMSEA CI by inverting the noncentral χ² in its noncentrality (lavaan, Steiger).

    Lower: λ_L with P(χ²_df(λ_L) ≤ T) = 1 - α/2; upper: λ_U with P = α/2, α = 1 - level;
    each bound is sqrt(λ/(n·df)).
    """
    if df <= 0:
        return (0.0, 0.0)
    alpha = 1.0 - level
    lam_low = _ncp_at(x2, df, 1.0 - alpha / 2)
    lam_high = _ncp_at(x2, df, alpha / 2)
    return (math.sqrt(lam_low / (n * df)), math.sqrt(lam_high / (n * df)))


def rmsea_pvalue(x2: float, df: float, n: float, h0: float = RMSEA_CLOSE_FIT) -> float:
    """P-value of close fit, H0: RMSEA ≤ h0: 1 - F_χ²(T; df, λ = n·df·h0²)."""
    if df <= 0:
        return float("nan")
    return 1.0 - _ncx2_cdf(x2, df, n * df * h0 * h0)


def srmr(S: np.ndarray, Sigma: np.ndarray) -> float:
    """SRMR as lavaan's ``srmr`` (Bentler's): RMS of the standardised residuals.

    Residuals (S - Σ) are divided by the sample SDs, over the p(p+1)/2 unique
    elements, diagonal included; no mean structure is modelled.
    """
    sd = np.sqrt(np.diag(S))
    R = (S - Sigma) / np.outer(sd, sd)
    rows, cols = np.tril_indices(S.shape[0])
    return math.sqrt(float(np.mean(R[rows, cols] ** 2)))


def loglik(S: np.ndarray, Sigma: np.ndarray, n_obs: int) -> float:
    """Normal log-likelihood of the data at Σ, means at their sample values (lavaan's ``logl``).

    -N/2 · (p·log 2π + log|Σ| + tr(Σ⁻¹S)), S with divisor N.
    """
    p = S.shape[0]
    return -0.5 * n_obs * (p * math.log(2 * math.pi) + _logdet(Sigma) + float(np.trace(np.linalg.solve(Sigma, S))))


def aic(loglik_value: float, npar: int) -> float:
    """AIC = -2 logL + 2q (lavaan; q free parameters, means not counted without a mean structure)."""
    return -2.0 * loglik_value + 2.0 * npar


def bic(loglik_value: float, npar: int, n_obs: int) -> float:
    """BIC = -2 logL + q·log N."""
    return -2.0 * loglik_value + npar * math.log(n_obs)


INDEX_NAMES = ("chisq", "df", "pvalue", "chisq_df", "baseline_chisq", "baseline_df", "cfi", "tli", "nfi", "ifi",
               "rni", "gfi", "agfi", "pgfi", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "srmr",
               "aic", "bic")
"""The lavaan names :func:`all_indices` reports (besides npar, nobs and the log-likelihoods)."""


def all_indices(S: np.ndarray, Sigma: np.ndarray, *, n_obs: int, npar: int, n_minus_one: bool = False,
                S_ml: np.ndarray | None = None) -> dict[str, float]:
    """Every index under lavaan's name, from S, Σ, N and the number of free parameters.

    ``n_minus_one`` scales the test statistic (and so everything built on it) by
    N - 1 as AMOS and LISREL do; ``S`` is then the unbiased covariance that was fitted.
    The log-likelihood (for AIC/BIC) always uses the ML covariance ``S_ml`` (divisor
    N; defaults to ``S`` rescaled) and N, as lavaan does.
    """
    from scipy.stats import chi2 as chi2_dist

    p = S.shape[0]
    n = n_obs - 1 if n_minus_one else n_obs
    df = n_moments(p) - npar
    x2 = chisq(S, Sigma, n)
    x2_null = baseline_chisq(S, n)
    df_null = baseline_df(p)
    g = gfi(S, Sigma)
    low, high = rmsea_ci(x2, df, n)
    if S_ml is None:
        S_ml = S * (n_obs - 1) / n_obs if n_minus_one else S
    ll = loglik(S_ml, Sigma, n_obs)
    return {
        "npar": float(npar),
        "nobs": float(n_obs),
        "chisq": x2,
        "df": float(df),
        "pvalue": float(chi2_dist.sf(x2, df)) if df > 0 else float("nan"),
        "chisq_df": x2 / df if df > 0 else float("nan"),
        "baseline_chisq": x2_null,
        "baseline_df": float(df_null),
        "baseline_pvalue": float(chi2_dist.sf(x2_null, df_null)),
        "cfi": cfi(x2, df, x2_null, df_null),
        "tli": tli(x2, df, x2_null, df_null),
        "nfi": nfi(x2, x2_null),
        "ifi": ifi(x2, df, x2_null),
        "rni": rni(x2, df, x2_null, df_null),
        "gfi": g,
        "agfi": agfi(g, p, df),
        "pgfi": pgfi(g, p, df),
        "rmsea": rmsea(x2, df, n),
        "rmsea_ci_lower": low,
        "rmsea_ci_upper": high,
        "rmsea_pvalue": rmsea_pvalue(x2, df, n),
        "srmr": srmr(S, Sigma),
        "logl": ll,
        "unrestricted_logl": loglik(S_ml, S_ml, n_obs),
        "aic": aic(ll, npar),
        "bic": bic(ll, npar, n_obs),
    }
