"""The paper's pre-analysis (Section 3.2.2, Tables 3-5), plus composite reliability and AVE.

Per scale (a group of latents factored together, ``scales:`` in the spec):
KMO and Bartlett's test of sphericity, principal-component extraction with as
many components as the scale has latents, varimax rotation with Kaiser
normalisation (SPSS's "Kaiser standardized maximum variance"), retention of the
items whose largest absolute rotated loading exceeds 0.5, and the cumulative
variance explained by the components, recomputed on the retained items as the
paper did. Per latent: Cronbach's α on its items; from a CFA fit, composite
reliability and average variance extracted.

KMO, Bartlett and the varimax rotation are factor_analyzer's; the principal-
component extraction (an eigendecomposition), α, CR and AVE are written out here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ccframe.sem.spec import SemSpec, SpecError, load_spec

RETAIN_LOADING = 0.5
"""Items load above this on some rotated component, or are dropped (the paper's rule)."""


@dataclass
class ScaleAnalysis:
    """One scale's adequacy tests, rotated loadings and explained variance."""

    name: str
    latents: tuple[str, ...]
    kmo: float
    kmo_items: dict[str, float]
    bartlett_chisq: float
    bartlett_df: int
    bartlett_pvalue: float
    loadings: pl.DataFrame          # item + one column per component, rotated, on the retained items
    initial_loadings: pl.DataFrame  # the same on all of the scale's items, before dropping
    retained: list[str]
    dropped: list[str]
    variance: list[float]           # % of variance per rotated component (retained items)
    cumulative_variance: float      # % of variance of the retained items the components explain
    inconsistent: list[str] = field(default_factory=list)  # retained items off the intended structure


@dataclass
class PreAnalysis:
    """Every scale's analysis and the reliability table by latent."""

    scales: list[ScaleAnalysis]
    reliability: pl.DataFrame = field(default_factory=pl.DataFrame)

    def scale(self, name: str) -> ScaleAnalysis:
        for s in self.scales:
            if s.name == name:
                return s
        raise KeyError(name)


# -- formulas ------------------------------------------------------------------------
def cronbach_alpha(values: np.ndarray) -> float:
    """α = k/(k-1) · (1 - Σ var(item) / var(Σ items)) for a (rows x k) matrix."""
    values = np.asarray(values, dtype=float)
    k = values.shape[1]
    item_var = values.var(axis=0, ddof=1).sum()
    total_var = values.sum(axis=1).var(ddof=1)
    return k / (k - 1) * (1.0 - item_var / total_var)


def composite_reliability(loadings: np.ndarray) -> float:
    """CR = (Σλ)² / ((Σλ)² + Σ(1 - λ²)) from standardised loadings (Fornell & Larcker 1981)."""
    lam = np.asarray(loadings, dtype=float)
    squared_sum = lam.sum() ** 2
    return float(squared_sum / (squared_sum + np.sum(1.0 - lam**2)))


def average_variance_extracted(loadings: np.ndarray) -> float:
    """AVE = Σλ² / k from standardised loadings (Fornell & Larcker 1981)."""
    lam = np.asarray(loadings, dtype=float)
    return float(np.mean(lam**2))


# -- the analysis ----------------------------------------------------------------------
def analyse_scale(values: np.ndarray, items: list[str], n_components: int, *, name: str = "scale",
                  latents: tuple[str, ...] = (), groups: dict[str, str] | None = None,
                  threshold: float = RETAIN_LOADING) -> ScaleAnalysis:
    """KMO, Bartlett, PCA + varimax (Kaiser) on one scale; drop weak items and redo.

    An item is kept when its largest absolute rotated loading exceeds ``threshold``
    (the paper's rule). Items are dropped one at a time, weakest first, re-extracting
    after each, since dropping an item changes the rotation. Items whose dominant
    component does not fit the intended structure (``groups``: item -> latent) are
    listed in ``inconsistent`` for the analyst to judge -- they are not dropped
    automatically: with latents correlated as strongly as the paper's (~0.6), PCA +
    varimax often merges two latents' items on one component, and an automatic rule
    then cascades into dropping good items.
    """
    from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo

    values = np.asarray(values, dtype=float)
    kmo_items, kmo = calculate_kmo(values)
    chisq, pvalue = calculate_bartlett_sphericity(values)
    p = values.shape[1]

    initial = _rotated_pca(values, n_components)
    keep = np.ones(p, dtype=bool)
    final = initial
    while True:
        strength = np.max(np.abs(final), axis=1)
        if strength.min() > threshold:
            break
        keep[np.flatnonzero(keep)[int(np.argmin(strength))]] = False
        if keep.sum() <= n_components:
            raise SpecError(f"scales.{name}: only {int(keep.sum())} items load above {threshold}; "
                            f"cannot extract {n_components} components")
        final = _rotated_pca(values[:, keep], n_components)
    retained = [i for i, k in zip(items, keep, strict=True) if k]
    flagged = _inconsistent(final, retained, groups or {})
    variance = 100.0 * np.sum(final**2, axis=0) / keep.sum()
    columns = [f"component_{k + 1}" for k in range(n_components)]
    return ScaleAnalysis(
        name=name, latents=latents, kmo=float(kmo), kmo_items=dict(zip(items, map(float, kmo_items), strict=True)),
        bartlett_chisq=float(chisq), bartlett_df=p * (p - 1) // 2, bartlett_pvalue=float(pvalue),
        loadings=_frame(retained, final, columns), initial_loadings=_frame(items, initial, columns),
        retained=retained, dropped=[i for i in items if i not in retained],
        variance=variance.tolist(), cumulative_variance=float(variance.sum()),
        inconsistent=[i for i, f in zip(retained, flagged, strict=True) if f])


def _inconsistent(loadings: np.ndarray, items: list[str], groups: dict[str, str]) -> np.ndarray:
    """Items off the intended structure, as a boolean mask over ``items``.

    An item of a latent whose dominant component is not the one most of its
    latent's items load on, or whose latent shares that component
    with another latent; an item of no latent whose dominant component carries no
    latent's items (PCA gives a lone unrelated item a component of its own).
    """
    dominant = np.argmax(np.abs(loadings), axis=1)
    bad = np.zeros(len(items), dtype=bool)
    homes: dict[str, int] = {}
    for latent in dict.fromkeys(groups[i] for i in items if i in groups):
        members = [k for k, item in enumerate(items) if groups.get(item) == latent]
        homes[latent] = int(np.bincount(dominant[members]).argmax())
        bad[members] |= dominant[members] != homes[latent]
    shared = {h for h in homes.values() if list(homes.values()).count(h) > 1}
    for k, item in enumerate(items):
        if item in groups:
            bad[k] |= homes[groups[item]] in shared
        elif homes:
            bad[k] |= int(dominant[k]) not in set(homes.values())
        else:
            bad[k] |= int(np.sum(dominant == dominant[k])) < 2
    return bad


def _rotated_pca(values: np.ndarray, n_components: int) -> np.ndarray:
    """Principal-component loadings (eigenvector·√eigenvalue of R), varimax-rotated.

    Kaiser normalisation; each component's sign set so its largest loading is positive.

    The extraction is the eigendecomposition of the correlation matrix, written here:
    ``FactorAnalyzer.fit`` (0.5.1) calls scikit-learn's ``check_array`` with an
    argument scikit-learn 1.8 removed, so it fails with the installed 1.9. The
    rotation is factor_analyzer's ``Rotator`` (varimax, ``normalize=True``).
    """
    from factor_analyzer.rotator import Rotator

    corr = np.corrcoef(values, rowvar=False)
    eigval, eigvec = np.linalg.eigh(corr)
    top = np.argsort(eigval)[::-1][:n_components]
    loadings = eigvec[:, top] * np.sqrt(eigval[top])
    if n_components > 1:
        loadings = Rotator(method="varimax", normalize=True, max_iter=1000, tol=1e-10).fit_transform(loadings)
    signs = np.sign(loadings[np.argmax(np.abs(loadings), axis=0), np.arange(loadings.shape[1])])
    return loadings * np.where(signs == 0, 1.0, signs)


def _frame(items: list[str], loadings: np.ndarray, columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"item": items, **{c: loadings[:, k] for k, c in enumerate(columns)}})


def preanalysis(spec: SemSpec | str, data: Any, fit_result: Any = None, *,
                threshold: float = RETAIN_LOADING) -> PreAnalysis:
    """The paper's Tables 3-5 for ``data``, and (given a CFA/SEM fit) CR and AVE per latent.

    Scales come from the spec's ``scales:``; without them each latent is its own scale.
    α is computed on each latent's items as the spec lists them.
    """
    spec = load_spec(spec)
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
    scales = spec.scales or {lat.name: ((lat.name,), lat.items) for lat in spec.latents}
    results = []
    for name, (latents, items) in scales.items():
        absent = [i for i in items if i not in frame.columns]
        if absent:
            raise SpecError(f"scales.{name}: item(s) {', '.join(absent)} missing from the data")
        values = frame.select(items).to_numpy().astype(float)
        groups = {item: lat for lat in latents for item in spec.latents[spec.latent_names.index(lat)].items}
        results.append(analyse_scale(values, list(items), len(latents), name=name, latents=latents,
                                     groups=groups, threshold=threshold))
    return PreAnalysis(scales=results, reliability=reliability(spec, frame, fit_result))


def reliability(spec: SemSpec, data: pl.DataFrame, fit_result: Any = None) -> pl.DataFrame:
    """Per latent: number of items, Cronbach's α and, from ``fit_result``, CR and AVE."""
    rows = []
    for lat in spec.latents:
        values = data.select(lat.items).to_numpy().astype(float)
        row = {"latent": lat.name, "meaning": lat.meaning, "items": len(lat.items),
               "cronbach_alpha": cronbach_alpha(values), "cr": float("nan"), "ave": float("nan")}
        if fit_result is not None:
            loads = fit_result.estimates.filter((pl.col("op") == "=~") & (pl.col("lhs") == lat.name))
            lam = loads["std_all"].to_numpy()
            row["cr"] = composite_reliability(lam)
            row["ave"] = average_variance_extracted(lam)
        rows.append(row)
    return pl.DataFrame(rows)
