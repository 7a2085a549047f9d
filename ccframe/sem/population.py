"""A population model from the paper's standardised estimates; simulated Likert answers.

The population (``conf/sem/population_wang2022.yaml``) is written on the scale of
continuous latent responses, all standardised: exogenous latents B ~ N(0, Φ),
endogenous A = Γ·B + ζ with Var(A) = 1, items C* = λ·latent + ε with Var(C*) = 1.
An answer is the category of C* on the five-point scale, cut at fixed thresholds.

Cutting a normal variable into five categories attenuates its Pearson
correlations, so a model fitted to the answers (as AMOS fits Likert items) finds
smaller loadings than the continuous λ. That attenuation is not hidden or tuned
away: :func:`likert_covariance` computes the exact population covariance of the
answers (bivariate-normal orthant integrals), and :func:`pseudo_true` fits the spec
to it, giving the values an estimator on Likert data converges to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

from ccframe.sem.spec import SPEC_DIR, SemSpec, SpecError, load_spec


@dataclass(frozen=True)
class Population:
    """The population model: standardised parameters and the answer scale."""

    name: str
    spec: SemSpec
    n: int
    seed: int
    latents: tuple[str, ...]               # exogenous first, then endogenous
    gamma: np.ndarray                      # (endogenous x exogenous) standardised weights
    phi: np.ndarray                        # exogenous correlation matrix
    disturbance_corr: np.ndarray           # correlation matrix of the disturbances ζ
    items: tuple[str, ...]                 # every simulated item (modelled and dropped)
    item_latent: tuple[str, ...]           # the latent each item loads on
    loadings: np.ndarray                   # standardised λ per item
    error_corr: np.ndarray                 # correlation matrix of the measurement errors
    probabilities: np.ndarray              # marginal probabilities of the answers 1..K

    @property
    def exogenous(self) -> list[str]:
        return list(self.latents[: self.phi.shape[0]])

    @property
    def endogenous(self) -> list[str]:
        return list(self.latents[self.phi.shape[0]:])

    def thresholds(self) -> np.ndarray:
        """τ_1..τ_{K-1}: normal quantiles of the cumulative answer probabilities."""
        from scipy.special import ndtri

        return ndtri(np.cumsum(self.probabilities)[:-1])

    def latent_covariance(self) -> np.ndarray:
        """Covariance (= correlation) of all latents, exogenous first."""
        k = self.phi.shape[0]
        explained = self.gamma @ self.phi @ self.gamma.T
        resid_var = 1.0 - np.diag(explained)
        sd = np.sqrt(resid_var)
        psi = self.disturbance_corr * np.outer(sd, sd)
        cov = np.zeros((len(self.latents), len(self.latents)))
        cov[:k, :k] = self.phi
        cov[k:, :k] = self.gamma @ self.phi
        cov[:k, k:] = cov[k:, :k].T
        cov[k:, k:] = explained + psi
        return cov

    def disturbance_variances(self) -> np.ndarray:
        """Var(ζ) = 1 - R² of each endogenous latent."""
        return 1.0 - np.diag(self.gamma @ self.phi @ self.gamma.T)

    def continuous_covariance(self) -> np.ndarray:
        """Σ* of the continuous responses C* (a correlation matrix), in ``items`` order."""
        index = {name: i for i, name in enumerate(self.latents)}
        lam = np.zeros((len(self.items), len(self.latents)))
        for row, (latent, value) in enumerate(zip(self.item_latent, self.loadings, strict=True)):
            lam[row, index[latent]] = value
        err_sd = np.sqrt(1.0 - self.loadings**2)
        theta = self.error_corr * np.outer(err_sd, err_sd)
        return lam @ self.latent_covariance() @ lam.T + theta

    def column(self, item: str) -> int:
        return self.items.index(item)


# -- loading ------------------------------------------------------------------------
def load_population(source: str | Path | dict[str, Any] = "population_wang2022") -> Population:
    """A validated population model from a shipped name, a YAML path or a mapping."""
    if isinstance(source, Population):
        return source
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        if not path.suffix:
            path = SPEC_DIR / f"{path}.yaml" if not path.is_file() else path
        if not path.is_file():
            raise SpecError(f"population model {str(source)!r} not found")
        data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise SpecError("population: expected a mapping")
    spec = load_spec(data.get("spec", "wang2022_revised"))
    endo = spec.endogenous
    exo = spec.exogenous

    structural = data.get("structural") or {}
    gamma = np.zeros((len(endo), len(exo)))
    for outcome, weights in structural.items():
        if outcome not in endo:
            raise SpecError(f"structural.{outcome}: not an endogenous latent of {spec.name} ({', '.join(endo)})")
        for predictor, value in (weights or {}).items():
            if predictor not in exo:
                raise SpecError(f"structural.{outcome}.{predictor}: not an exogenous latent ({', '.join(exo)})")
            gamma[endo.index(outcome), exo.index(predictor)] = _number(value, f"structural.{outcome}.{predictor}")
    for rel in spec.regressions:
        if gamma[endo.index(rel.lhs), exo.index(rel.rhs)] == 0.0:
            raise SpecError(f"structural: no value for {rel} of the spec")

    phi = _correlations(data.get("exogenous_correlations"), exo, "exogenous_correlations", complete=True)
    dist = _correlations(data.get("disturbance_correlation"), endo, "disturbance_correlation", complete=False)

    loadings_raw = data.get("loadings") or {}
    items: list[str] = []
    owners: list[str] = []
    values: list[float] = []
    for item in spec.observed:
        if item not in loadings_raw:
            raise SpecError(f"loadings: no value for item {item} of the spec")
        items.append(item)
        owners.append(spec.latent_of(item))
        values.append(_number(loadings_raw[item], f"loadings.{item}"))
    for item, body in (data.get("dropped_items") or {}).items():
        if not isinstance(body, dict) or body.get("latent") not in spec.latent_names:
            raise SpecError(f"dropped_items.{item}: expected {{latent: <latent>, loading: <value>}}, got {body!r}")
        items.append(item)
        owners.append(body["latent"])
        values.append(_number(body.get("loading"), f"dropped_items.{item}.loading"))
    loadings = np.array(values)
    if np.any(np.abs(loadings) >= 1):
        bad = items[int(np.argmax(np.abs(loadings) >= 1))]
        raise SpecError(f"loadings.{bad}: a standardised loading must lie in (-1, 1)")
    errors = _correlations(data.get("error_correlations"), items, "error_correlations", complete=False)

    probs = np.asarray((data.get("likert") or {}).get("probabilities", []), dtype=float)
    if probs.ndim != 1 or probs.size < 2 or np.any(probs <= 0) or abs(probs.sum() - 1) > 1e-9:
        raise SpecError(f"likert.probabilities: expected positive probabilities summing to 1, got {probs.tolist()}")
    if spec.scale is not None and probs.size != spec.scale[1] - spec.scale[0] + 1:
        raise SpecError(f"likert.probabilities: {probs.size} categories for the scale {spec.scale[0]}..{spec.scale[1]}")

    population = Population(name=str(data.get("name", "population")), spec=spec, n=int(data.get("n", 481)),
                            seed=int(data.get("seed", 0)), latents=tuple(exo + endo), gamma=gamma, phi=phi,
                            disturbance_corr=dist, items=tuple(items), item_latent=tuple(owners),
                            loadings=loadings, error_corr=errors, probabilities=probs)
    _check_admissible(population)
    return population


def _correlations(raw: Any, names: list[str], key: str, *, complete: bool) -> np.ndarray:
    """A correlation matrix from a list of {between: [a, b], value: r}."""
    out = np.eye(len(names))
    given = set()
    for k, entry in enumerate(raw or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("between"), list) or len(entry["between"]) != 2:
            raise SpecError(f"{key}[{k}]: expected {{between: [a, b], value: r}}, got {entry!r}")
        a, b = entry["between"]
        for name in (a, b):
            if name not in names:
                raise SpecError(f"{key}[{k}]: unknown variable {name!r}")
        value = _number(entry.get("value"), f"{key}[{k}].value")
        if not -1 < value < 1 or a == b:
            raise SpecError(f"{key}[{k}]: a correlation between two variables must lie in (-1, 1), got {value}")
        i, j = names.index(a), names.index(b)
        out[i, j] = out[j, i] = value
        given.add(frozenset((a, b)))
    if complete:
        for i in range(len(names)):
            for j in range(i):
                if frozenset((names[i], names[j])) not in given:
                    raise SpecError(f"{key}: no value for {names[j]} <-> {names[i]}")
    return out


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{key}: expected a number, got {value!r}")
    return float(value)


def _check_admissible(pop: Population) -> None:
    if np.linalg.eigvalsh(pop.phi).min() <= 0:
        raise SpecError("exogenous_correlations: the matrix is not positive definite")
    if np.any(pop.disturbance_variances() <= 0):
        bad = pop.endogenous[int(np.argmin(pop.disturbance_variances()))]
        raise SpecError(f"structural.{bad}: the weights explain more than all of its variance (R² ≥ 1)")
    if np.linalg.eigvalsh(pop.disturbance_corr).min() <= 0 or np.linalg.eigvalsh(pop.error_corr).min() <= 0:
        raise SpecError("disturbance/error correlations: the matrix is not positive definite")
    if np.linalg.eigvalsh(pop.continuous_covariance()).min() <= 0:
        raise SpecError("population: the implied item covariance matrix is not positive definite")


# -- simulation ---------------------------------------------------------------------
def simulate(population: Population | str | Path | dict | None = None, n: int | None = None,
             seed: int | np.random.Generator | None = None, *, likert: bool = True) -> pl.DataFrame:
    """N respondents' answers (default: the population's n = 481 and seed), one column per item.

    ``likert=False`` returns the continuous responses C* instead of the 1..K answers.
    Same seed, same answers (a NumPy ``Generator`` drives all randomness).
    """
    pop = load_population(population if population is not None else "population_wang2022")
    n = pop.n if n is None else int(n)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(pop.seed if seed is None else seed)
    chol = np.linalg.cholesky(pop.continuous_covariance())
    continuous = rng.standard_normal((n, len(pop.items))) @ chol.T
    if not likert:
        return pl.DataFrame(continuous, schema=list(pop.items), orient="row")
    low = pop.spec.scale[0] if pop.spec.scale else 1
    answers = low + np.searchsorted(pop.thresholds(), continuous, side="left")
    return pl.DataFrame(answers.astype(np.int64), schema=list(pop.items), orient="row")


def likert_covariance(population: Population | str | None = None, items: list[str] | None = None) -> np.ndarray:
    """Exact population covariance of the answers (1..K scores) of ``items`` (default: the spec's).

    For a pair with latent correlation ρ, Cov = Σ_k Σ_l [Φ₂(τ_k, τ_l; ρ) - Φ(τ_k)Φ(τ_l)]
    = Σ_k Σ_l ∫₀^ρ φ₂(τ_k, τ_l; r) dr (Sheppard/Plackett), integrated by 40-point
    Gauss-Legendre; the variance is that of the categorical marginal distribution.
    """
    pop = load_population(population if population is not None else "population_wang2022")
    items = pop.spec.observed if items is None else items
    idx = [pop.column(i) for i in items]
    rho = pop.continuous_covariance()[np.ix_(idx, idx)]
    tau = pop.thresholds()
    nodes, weights = np.polynomial.legendre.leggauss(40)
    a, b = np.meshgrid(tau, tau, indexing="ij")
    a, b = a.ravel(), b.ravel()

    def cov_of(r: float) -> float:
        t = 0.5 * r * (nodes + 1.0)  # Gauss-Legendre on [0, r]
        one_minus = 1.0 - t[:, None] ** 2
        dens = np.exp(-(a**2 - 2 * t[:, None] * a * b + b**2) / (2 * one_minus)) / (2 * np.pi * np.sqrt(one_minus))
        return float(0.5 * r * weights @ dens.sum(axis=1))

    k = len(items)
    out = np.zeros((k, k))
    scores = np.arange(pop.probabilities.size)
    variance = float(pop.probabilities @ scores**2 - (pop.probabilities @ scores) ** 2)
    for i in range(k):
        out[i, i] = variance
        for j in range(i):
            out[i, j] = out[j, i] = cov_of(rho[i, j])
    return out


def pseudo_true(population: Population | str | dict | None = None, spec: SemSpec | str | None = None, *,
                n_obs: int = 100_000) -> Any:
    """The spec fitted to the exact Likert population covariance: what estimates converge to.

    Its SEs and z values are those expected of a sample of ``n_obs`` respondents
    (the asymptotic ones, from the expected information): ``n_obs=481`` says how
    precisely the paper's sample can pin each path, whatever the seed.
    """
    from ccframe.sem.fit import fit_covariance

    pop = load_population(population if population is not None else "population_wang2022")
    spec = pop.spec if spec is None else load_spec(spec)
    starts = simulate(pop, n=2000, seed=0).select(spec.observed).to_numpy().astype(float)  # starting values only
    return fit_covariance(spec, likert_covariance(pop, spec.observed), n_obs, values=starts)


def population_values(population: Population | str | None = None) -> dict[tuple[str, str, str], float]:
    """The population's standardised values keyed as lavaan writes them (lhs, op, rhs)."""
    pop = load_population(population if population is not None else "population_wang2022")
    values: dict[tuple[str, str, str], float] = {}
    for item, latent, lam in zip(pop.items, pop.item_latent, pop.loadings, strict=True):
        if item in pop.spec.observed:
            values[(latent, "=~", item)] = float(lam)
    for rel in pop.spec.regressions:
        values[(rel.lhs, "~", rel.rhs)] = float(pop.gamma[pop.endogenous.index(rel.lhs), pop.exogenous.index(rel.rhs)])
    for rel in pop.spec.all_covariances():
        names = pop.exogenous if rel.lhs in pop.exogenous else pop.endogenous
        matrix = pop.phi if rel.lhs in pop.exogenous else pop.disturbance_corr
        values[rel.key] = float(matrix[names.index(rel.lhs), names.index(rel.rhs)])
    for rel in pop.spec.error_covariances:
        values[rel.key] = float(pop.error_corr[pop.column(rel.lhs), pop.column(rel.rhs)])
    return values
