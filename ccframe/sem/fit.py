"""Fit a spec to survey data by maximum likelihood (semopy), report it as lavaan does.

semopy does the optimisation; its estimates are sound. Everything reported is
computed here from the fitted matrices, because semopy's own report is not
(see :mod:`ccframe.sem.indices` for the fit indices):

- fit indices: from the model-implied Σ, the sample S, N and the parameter count,
  with lavaan's formulas (:func:`ccframe.sem.indices.all_indices`);
- standard errors: from the expected information at the estimate, scaled by the
  same N (or N - 1) as the test statistic;
- standardised estimates: lavaan's ``std.all``. semopy divides the covariance of
  two endogenous latents by their total SDs; lavaan (and AMOS, which reports the
  disturbance correlation) divides by the SDs of the disturbances, i.e. the
  residual variances in Ψ. The same holds for correlated measurement errors (Θ).

``n_minus_one=True`` gives the AMOS/LISREL convention: S with divisor N - 1 and
T = (N - 1)·F, so χ², RMSEA and the SEs match AMOS's output.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ccframe.sem import indices as ix
from ccframe.sem.spec import SemSpec, load_spec

ESTIMATE_COLUMNS = ("lhs", "op", "rhs", "label", "free", "estimate", "se", "z", "pvalue", "std_all")


class DataError(ValueError):
    """Survey data that cannot be fitted; the message is one line saying what and where."""


@dataclass
class SemResult:
    """A fitted model: estimates, lavaan-named fit indices, and the matrices they come from."""

    spec: SemSpec
    estimates: pl.DataFrame
    fit_indices: dict[str, float]
    observed: list[str]
    sample_cov: np.ndarray
    sigma: np.ndarray
    n_obs: int
    npar: int
    n_minus_one: bool
    converged: bool
    message: str
    model: Any = field(repr=False)
    matrices: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    def paths(self, op: str | None = None) -> pl.DataFrame:
        """The estimates of one kind: ``"=~"`` loadings, ``"~"`` regressions, ``"~~"`` (co)variances."""
        return self.estimates if op is None else self.estimates.filter(pl.col("op") == op)

    def hypotheses(self) -> pl.DataFrame:
        """The labelled relations (H1..), sorted by their number."""
        frame = self.estimates.filter(pl.col("label").is_not_null())
        key = frame["label"].str.extract(r"(\d+)$").cast(pl.Int64, strict=False).fill_null(0)
        return frame.with_columns(_k=key).sort("_k", "label").drop("_k")

    def std(self, lhs: str, op: str, rhs: str) -> float:
        """The ``std.all`` value of one parameter (covariances in either order)."""
        row = self.estimates.filter(
            (pl.col("op") == op)
            & (((pl.col("lhs") == lhs) & (pl.col("rhs") == rhs))
               | ((op == "~~") & (pl.col("lhs") == rhs) & (pl.col("rhs") == lhs))))
        if row.height != 1:
            raise KeyError(f"{lhs} {op} {rhs} is not a parameter of the model")
        return float(row["std_all"][0])


# -- data ---------------------------------------------------------------------------
def prepare_data(spec: SemSpec, data: Any, *, missing: str = "error", check_scale: bool = True) -> np.ndarray:
    """The spec's items as a float matrix (rows = respondents), after the checks of issue 5.

    ``data`` is a Polars or pandas frame (or anything ``pl.DataFrame`` accepts).
    ``missing="listwise"`` drops incomplete rows; the default refuses them.
    """
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
    items = spec.observed
    absent = [c for c in items if c not in frame.columns]
    if absent:
        raise DataError(f"data: item(s) {', '.join(absent)} missing from the data (columns: "
                        f"{', '.join(frame.columns[:12])}{' ...' if frame.width > 12 else ''})")
    frame = frame.select(items)
    for name, dtype in frame.schema.items():
        if not dtype.is_numeric():
            bad = frame[name].cast(pl.Float64, strict=False)
            culprit = frame[name].filter(bad.is_null() & frame[name].is_not_null())
            example = culprit[0] if culprit.len() else None
            if example is not None:
                raise DataError(f"data: column {name} has a non-numeric value {example!r}")
    frame = frame.select(pl.col(c).cast(pl.Float64, strict=False) for c in items)
    values = frame.to_numpy()
    incomplete = ~np.isfinite(values).all(axis=1)
    if incomplete.any():
        if missing == "listwise":
            values = values[~incomplete]
        elif missing == "error":
            col = items[int(np.argmax(~np.isfinite(values).all(axis=0)))]
            raise DataError(f"data: {int(incomplete.sum())} row(s) have missing values (first in {col}); "
                            "pass missing='listwise' to drop them")
        else:
            raise DataError(f"missing: expected 'error' or 'listwise', got {missing!r}")
    if check_scale and spec.scale is not None:
        low, high = spec.scale
        outside = (values < low) | (values > high) | (values != np.round(values))
        if outside.any():
            r, c = np.argwhere(outside)[0]
            raise DataError(f"data: {items[c]} row {r + 1} is {values[r, c]:g}, outside the answer scale "
                            f"{low}..{high} (integers)")
    sd = values.std(axis=0)
    if (sd == 0).any():
        raise DataError(f"data: item {items[int(np.argmax(sd == 0))]} is constant; it carries no covariance")
    npar = spec.n_free_parameters()
    if values.shape[0] <= npar:
        raise DataError(f"data: {values.shape[0]} complete rows for {npar} free parameters; need more rows")
    return values


def sample_covariance(values: np.ndarray, *, n_minus_one: bool = False) -> np.ndarray:
    """S with divisor N (lavaan's ML) or N - 1 (AMOS)."""
    return np.cov(values, rowvar=False, ddof=1 if n_minus_one else 0)


# -- fitting ------------------------------------------------------------------------
def fit(spec: SemSpec | str | dict, data: Any, *, n_minus_one: bool = False, missing: str = "error",
        check_scale: bool = True) -> SemResult:
    """Fit ``spec`` to ``data`` by ML and return estimates and lavaan-defined fit indices.

    semopy minimises the ML discrepancy (SLSQP with a tight tolerance, then a few
    Fisher-scoring steps to polish the optimum); indices, SEs and standardised
    values are computed here from the solution.
    """
    spec = load_spec(spec)
    values = prepare_data(spec, data, missing=missing, check_scale=check_scale)
    return fit_matrix(spec, values, n_minus_one=n_minus_one)


def fit_matrix(spec: SemSpec, values: np.ndarray, *, n_minus_one: bool = False) -> SemResult:
    """Fit to a checked float matrix whose columns are ``spec.observed`` in order."""
    S = sample_covariance(values, n_minus_one=n_minus_one)
    return fit_covariance(spec, S, values.shape[0], n_minus_one=n_minus_one, values=values)


def fit_covariance(spec: SemSpec | str | dict, S: np.ndarray, n_obs: int, *, n_minus_one: bool = False,
                   values: np.ndarray | None = None) -> SemResult:
    """Fit to a covariance matrix of ``spec.observed`` (divisor N, or N - 1 with ``n_minus_one``).

    ``values``, when given, only helps semopy choose starting values.
    BLAS runs single-threaded here: semopy inverts a p x p matrix at every step
    and OpenBLAS's threaded ``dpotri`` takes milliseconds on a 26 x 26 matrix
    (measured: 3-5 ms against 2 us), which made one fit ~20x slower.
    """
    from threadpoolctl import threadpool_limits

    spec = load_spec(spec)
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(spec, np.asarray(S, dtype=float), int(n_obs), n_minus_one=n_minus_one, values=values)


def _fit(spec: SemSpec, S: np.ndarray, n_obs: int, *, n_minus_one: bool, values: np.ndarray | None) -> SemResult:
    import pandas as pd

    items = spec.observed
    frame = pd.DataFrame(values, columns=items) if values is not None else None
    cov = pd.DataFrame(S, index=items, columns=items)
    root = logging.getLogger()
    was = root.disabled
    root.disabled = True  # semopy logs its import (no graphviz) and optimiser warnings through the root logger
    try:
        import semopy

        model = semopy.Model(spec.syntax(), cov_diag=True)
        result = model.fit(frame, cov=cov, obj="MLW", solver="SLSQP", n_samples=n_obs,
                           options={"ftol": 1e-12, "maxiter": 10000})
    finally:
        root.disabled = was
    n_eff = n_obs - 1 if n_minus_one else n_obs
    converged = bool(result.success)
    message = str(result.message)
    if converged:
        _polish(model, n_eff)
    obs = list(model.names_theta[0])
    order = [obs.index(i) for i in items]
    sigma_full, _ = model.calc_sigma()
    sigma = sigma_full[np.ix_(order, order)]
    npar = int(len(model.param_vals))
    try:
        fit_indices = ix.all_indices(S, sigma, n_obs=n_obs, npar=npar, n_minus_one=n_minus_one)
    except np.linalg.LinAlgError:
        converged, message = False, "model-implied covariance matrix is not positive definite"
        fit_indices = {}
    estimates, matrices = _estimates(model, spec, n_eff)
    return SemResult(spec=spec, estimates=estimates, fit_indices=fit_indices, observed=items, sample_cov=S,
                     sigma=sigma, n_obs=n_obs, npar=npar, n_minus_one=n_minus_one, converged=converged,
                     message=message, model=model, matrices=matrices)


def _information(model: Any) -> np.ndarray:
    """Unit-sample expected information tr(Σ⁻¹∂Σ_iΣ⁻¹∂Σ_j) at the current parameters.

    One matrix product over all parameter pairs instead of semopy's k² einsum calls
    (``Model.calc_fim``); n·½ times this is lavaan's expected information.
    """
    sigma, (m, c) = model.calc_sigma()
    inv = np.linalg.inv(sigma)
    grads = np.asarray(model.calc_sigma_grad(m, c), dtype=float)  # (k, p, p)
    return _trace_products(inv @ grads)


def _trace_products(a: np.ndarray) -> np.ndarray:
    """tr(A_i A_j) for every pair of the stacked (k, p, p) matrices A_i = Σ⁻¹∂Σ_i."""
    k = a.shape[0]
    return a.reshape(k, -1) @ np.transpose(a, (0, 2, 1)).reshape(k, -1).T


def _polish(model: Any, n_eff: int, steps: int = 6) -> None:
    """Fisher scoring θ ← θ - I(θ)⁻¹∇F from semopy's optimum, while it lowers F.

    SLSQP stops when F changes little, which can leave parameters ~1e-4 from the
    optimum; a few scoring steps bring the gradient to ~1e-10 so the indices and
    estimates do not depend on the optimiser's stopping rule.
    """
    x = np.array(model.param_vals, dtype=float)
    bounds = model.get_bounds()
    low = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    high = np.array([np.inf if b[1] is None else b[1] for b in bounds])
    f_now = model.obj_mlw(x)
    try:
        for _ in range(steps):
            grad = np.asarray(model.grad_mlw(x), dtype=float)
            if np.max(np.abs(grad)) < 1e-10:
                break
            step = np.linalg.solve(_information(model), -grad)
            trial = np.clip(x + step, low, high)
            f_new = model.obj_mlw(trial)
            if not np.isfinite(f_new) or f_new > f_now + 1e-14:
                break
            x, f_now = trial, f_new
    except np.linalg.LinAlgError:
        pass
    model.param_vals = x
    model.update_matrices(x)


def _estimates(model: Any, spec: SemSpec, n_eff: int) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Every parameter (free and fixed) with SE, z, p and lavaan's std.all."""
    from scipy.special import ndtr

    beta, lam, psi, theta = (np.asarray(m, dtype=float) for m in model.matrices[:4])
    inner = list(model.names_beta[0])
    obs = list(model.names_theta[0])
    sigma, (_, c) = model.calc_sigma()
    cov_inner = c @ psi @ c.T
    sd_inner = np.sqrt(np.clip(np.diag(cov_inner), 0, None))
    sd_obs = np.sqrt(np.clip(np.diag(sigma), 0, None))
    se = _standard_errors(model, n_eff)
    active = [name for name, p in model.parameters.items() if p.active]
    position = {name: i for i, name in enumerate(active)}
    labels = spec.labels()
    latents = set(spec.latent_names)

    rows: list[tuple] = []
    seen: set[tuple[int, int, int]] = set()
    for name, param in model.parameters.items():
        for loc in param.locations:
            i, j = loc.indices
            if loc.matrix is model.mx_psi or loc.matrix is model.mx_theta:
                i, j = min(i, j), max(i, j)  # a symmetric entry may be stored at either triangle
            if (id(loc.matrix), i, j) in seen:
                continue
            seen.add((id(loc.matrix), i, j))
            if loc.matrix is model.mx_lambda:
                lhs, op, rhs = inner[j], "=~", obs[i]
                value = lam[i, j]
                std = value * sd_inner[j] / sd_obs[i]
            elif loc.matrix is model.mx_beta:
                lhs, op, rhs = inner[i], "~", inner[j]
                value = beta[i, j]
                std = value * sd_inner[j] / sd_inner[i]
            elif loc.matrix is model.mx_psi or loc.matrix is model.mx_theta:
                in_psi = loc.matrix is model.mx_psi
                names = inner if in_psi else obs
                mat = psi if in_psi else theta
                lhs, op, rhs = names[i], "~~", names[j]
                value = mat[i, j]
                if i == j:  # (residual) variance over total variance
                    total = cov_inner[i, i] if in_psi else sigma[i, i]
                    std = value / total if total != 0 else float("nan")  # an inadmissible zero variance
                else:  # lavaan: divide by the two variances of this matrix (residual ones)
                    denom = mat[i, i] * mat[j, j]
                    std = value / math.sqrt(denom) if denom > 0 else float("nan")
            else:  # pragma: no cover - no other matrices without a mean structure
                continue
            if op == "=~" and lhs not in latents:
                continue  # an observed variable's identity loading in semopy's Lambda
            free = bool(param.active)
            k = position.get(name)
            err = float(se[k]) if free and k is not None else float("nan")
            z = value / err if free and err > 0 else float("nan")
            p = float(2 * ndtr(-abs(z))) if math.isfinite(z) else float("nan")
            key = (lhs, op, rhs) if op != "~~" else (*sorted((lhs, rhs))[:1], "~~", sorted((lhs, rhs))[1])
            rows.append((lhs, op, rhs, labels.get(tuple(key)), free, float(value), err, z, p, float(std)))

    order = {"=~": 0, "~": 1, "~~": 2}
    rows.sort(key=lambda r: (order[r[1]], r[1] == "~~" and r[0] == r[2], _spec_rank(spec, r)))
    frame = pl.DataFrame(rows, schema={"lhs": pl.Utf8, "op": pl.Utf8, "rhs": pl.Utf8, "label": pl.Utf8,
                                       "free": pl.Boolean, "estimate": pl.Float64, "se": pl.Float64,
                                       "z": pl.Float64, "pvalue": pl.Float64, "std_all": pl.Float64}, orient="row")
    matrices = {"beta": beta, "lambda": lam, "psi": psi, "theta": theta, "cov_latent": cov_inner,
                "names_latent": np.array(inner), "names_observed": np.array(obs)}
    return frame, matrices


def _spec_rank(spec: SemSpec, row: tuple) -> tuple[int, int]:
    """Sort key that follows the spec: latents in order, items in order."""
    names = spec.latent_names + spec.observed
    rank = {n: k for k, n in enumerate(names)}
    return (rank.get(row[0], len(names)), rank.get(row[2], len(names)))


def _standard_errors(model: Any, n_eff: int) -> np.ndarray:
    """SEs from the inverse expected information n_eff·½tr(Σ⁻¹∂Σ_iΣ⁻¹∂Σ_j) (lavaan's default)."""
    try:
        cov = np.linalg.inv(0.5 * n_eff * _information(model))
    except np.linalg.LinAlgError:
        return np.full(len(model.param_vals), np.nan)
    return np.sqrt(np.clip(np.diag(cov), 0, None))


def fit_indices(result: SemResult) -> dict[str, float]:
    """The lavaan-named indices of a fitted result (same as ``result.fit_indices``)."""
    return result.fit_indices
