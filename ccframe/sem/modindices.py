"""Modification indices (score tests) for the parameters a fitted model holds at zero.

semopy has no modification indices, so they are computed here the way lavaan's
``modindices()`` does, from the fitted matrices. For a fixed parameter ω with
∂Σ/∂ω = D, the ML gradient is g = tr(Σ⁻¹(Σ - S)Σ⁻¹D) (of F = log|Σ| + tr(SΣ⁻¹) - ...),
and with J_ab = tr(Σ⁻¹∂_aΣ Σ⁻¹∂_bΣ) over ω and the free parameters θ,

    MI  = n·g² / (2·(J_ωω - J_ωθ J_θθ⁻¹ J_θω))       (the χ² drop of freeing ω, 1 df)
    EPC = -g / (J_ωω - J_ωθ J_θθ⁻¹ J_θω)             (its expected value once freed)

n is N (lavaan) or N - 1 (AMOS, ``n_minus_one``), as for the test statistic. Two
kinds are scored: correlated measurement errors (``x ~~ y``) and cross-loadings
(``F =~ x`` for a latent x does not measure). Σ = ΛΦ*Λ' + Θ with Φ* the latents'
covariance, so ∂Σ/∂θ_xy = E_xy + E_yx and ∂Σ/∂λ_xF = E_xF Φ*Λ' + ΛΦ*E_Fx.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

MI_COLUMNS = ("lhs", "op", "rhs", "kind", "same_latent", "mi", "epc", "sepc_all")


def modification_indices(result: Any, kinds: tuple[str, ...] = ("error_covariance", "cross_loading")) -> pl.DataFrame:
    """Every fixed error covariance and cross-loading of ``result`` with its MI and EPC, largest MI first.

    ``same_latent`` marks error covariances between two items of one latent: the
    only ones the paper's revision treats as theoretically admissible. A parameter
    that would not be identified once freed (e.g. the error covariance of a
    two-item latent that nothing else constrains) has no MI (null).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _modification_indices(result, kinds)


def _modification_indices(result: Any, kinds: tuple[str, ...]) -> pl.DataFrame:
    from ccframe.sem.fit import _trace_products

    unknown = sorted(set(kinds) - {"error_covariance", "cross_loading"})
    if unknown:
        raise ValueError(f"kinds: unknown kind {unknown[0]!r} (allowed: error_covariance, cross_loading)")
    model = result.model
    spec = result.spec
    sigma, parts = model.calc_sigma()
    inv = np.linalg.inv(sigma)
    obs = list(model.names_theta[0])
    inner = list(model.names_beta[0])
    lam, theta, phi_star = (result.matrices[k] for k in ("lambda", "theta", "cov_latent"))  # at the estimate
    S = _in_order(result.sample_cov, result.observed, obs)
    n_eff = result.n_obs - 1 if result.n_minus_one else result.n_obs

    candidates: list[tuple[str, str, str, str, bool, np.ndarray]] = []
    if "error_covariance" in kinds:
        free = {r.key for r in spec.error_covariances}
        for a, b in combinations(spec.observed, 2):
            key = tuple(sorted((a, b)))
            if (key[0], "~~", key[1]) in free:
                continue
            i, j = obs.index(a), obs.index(b)
            d = np.zeros_like(sigma)
            d[i, j] = d[j, i] = 1.0
            candidates.append((a, "~~", b, "error_covariance", spec.latent_of(a) == spec.latent_of(b), d))
    if "cross_loading" in kinds:
        lam_phi = lam @ phi_star  # Λ Φ*: row x is Cov(x, latents)
        for latent in spec.latents:
            f = inner.index(latent.name)
            for item in spec.observed:
                if item in latent.items:
                    continue
                i = obs.index(item)
                d = np.zeros_like(sigma)
                d[i, :] += lam_phi[:, f]
                d[:, i] += lam_phi[:, f]
                candidates.append((latent.name, "=~", item, "cross_loading", False, d))
    if not candidates:
        return pl.DataFrame(schema=dict.fromkeys(MI_COLUMNS, pl.Utf8))

    a_free = inv @ np.asarray(model.calc_sigma_grad(*parts), dtype=float)  # Σ⁻¹∂_θΣ, (k, p, p)
    j_free = _trace_products(a_free)                                 # J_θθ
    d_all = np.stack([cand[-1] for cand in candidates])              # (m, p, p)
    a_new = inv @ d_all                                              # Σ⁻¹D
    residual = inv @ (sigma - S) @ inv
    g = np.einsum("ij,mji->m", residual, d_all)                      # tr(Σ⁻¹(Σ-S)Σ⁻¹D)
    j_cross = np.einsum("mij,kji->mk", a_new, a_free)                # J_ωθ
    j_new = np.einsum("mij,mji->m", a_new, a_new)                    # J_ωω
    conditional = j_new - np.einsum("mk,mk->m", j_cross, np.linalg.solve(j_free, j_cross.T).T)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(conditional > 1e-12, n_eff * g**2 / (2 * conditional), np.nan)
        epc = np.where(conditional > 1e-12, -g / conditional, np.nan)

    sd_obs = np.sqrt(np.diag(sigma))
    sd_inner = np.sqrt(np.clip(np.diag(phi_star), 0, None))
    rows = []
    for (lhs, op, rhs, kind, same, _), m, e in zip(candidates, mi, epc, strict=True):
        if op == "~~":
            i, j = obs.index(lhs), obs.index(rhs)
            denom = theta[i, i] * theta[j, j]
            sepc = e / np.sqrt(denom) if denom > 0 else np.nan
        else:
            sepc = e * sd_inner[inner.index(lhs)] / sd_obs[obs.index(rhs)]
        rows.append((lhs, op, rhs, kind, same, float(m), float(e), float(sepc)))
    frame = pl.DataFrame(rows, schema={"lhs": pl.Utf8, "op": pl.Utf8, "rhs": pl.Utf8, "kind": pl.Utf8,
                                       "same_latent": pl.Boolean, "mi": pl.Float64, "epc": pl.Float64,
                                       "sepc_all": pl.Float64}, orient="row")
    frame = frame.with_columns(pl.col(c).fill_nan(None) for c in ("mi", "epc", "sepc_all"))
    return frame.sort("mi", descending=True, nulls_last=True)


def _in_order(matrix: np.ndarray, names: list[str], order: list[str]) -> np.ndarray:
    """``matrix`` (rows/columns named ``names``) re-indexed to ``order``."""
    idx = [names.index(n) for n in order]
    return np.asarray(matrix)[np.ix_(idx, idx)]
