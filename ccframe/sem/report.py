"""The AMOS-style report: the paper's Tables 3-9 (where they apply), ours beside the published values.

:func:`build_report` gathers the tables as Polars frames (kept as Parquet and logged
by the ``sem`` task); :meth:`Report.text` lays them out in the order the paper
judges a model: pre-analysis and reliability, then the five violation checks, then
(only for an admissible solution) the fit against its reference standards, then
the paths and hypothesis verdicts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from ccframe.sem.checks import Check, admissible, judge_fit
from ccframe.sem.diagram import stars
from ccframe.sem.spec import SPEC_DIR, SpecError

ALL_INDICES = ("chisq", "df", "pvalue", "chisq_df", "gfi", "agfi", "pgfi", "nfi", "ifi", "tli", "cfi", "rni",
               "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "srmr", "aic", "bic")
CHECKS_TITLE = "Violation of estimation checks (Section 4.2), before the fit is judged"
FIT_TITLE = "Table 6: fit indices against the reference standards"
STRUCTURAL_TITLE = "Table 7: structural paths and hypotheses"
MEASUREMENT_TITLE = "Table 9: measurement model"


@dataclass
class Report:
    """Named tables, a few header lines, and whether the solution may be judged at all."""

    title: str
    lines: list[str]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    admissible: bool = True

    def text(self) -> str:
        """Everything as plain text, tables drawn by Polars."""
        out = [self.title, "=" * len(self.title), *self.lines, ""]
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True,
                       tbl_width_chars=220, fmt_str_lengths=120, float_precision=3):
            for name, table in self.tables.items():
                out += [name, str(table), ""]
        return "\n".join(out)

    def write_tables(self, folder: Path) -> None:
        """One Parquet file per table in ``folder``, named after its title (``Table 7: ...`` -> ``table_7_...``)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            slug = re.sub(r"[^a-z0-9]+", "_", name.lower()[:60]).strip("_")
            table.write_parquet(folder / f"{slug}.parquet")


def load_published(source: str | Path | None) -> dict[str, Any] | None:
    """A published-values file (``conf/sem/published_*.yaml``) as plain data, or None for ``""``/None."""
    if not source:
        return None
    path = Path(source)
    if not path.is_file():
        path = SPEC_DIR / f"{source}.yaml"
    if not path.is_file():
        raise SpecError(f"published: {str(source)!r} not found (looked in {SPEC_DIR})")
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise SpecError(f"published: {path} must be a mapping")
    return data


def build_report(result: Any, checks: list[Check], criteria: dict[str, tuple[str, float]], *,
                 pre: Any = None, published: dict[str, Any] | None = None, alpha: float = 0.05,
                 revision: Any = None, bootstrap: Any = None, modindices: pl.DataFrame | None = None,
                 data_label: str = "") -> Report:
    """Every table the inputs allow; ``published`` adds the paper's numbers beside ours."""
    pub = published or {}
    ok = admissible(checks) and bool(result.fit_indices)
    spec = result.spec
    lines = [f"model: {spec.name} ({len(spec.observed)} items, {len(spec.latents)} latents, {result.npar} free "
             f"parameters); data: {data_label}; N = {result.n_obs}; "
             f"{'AMOS convention (N - 1)' if result.n_minus_one else 'lavaan convention (N)'}"]
    tables: dict[str, pl.DataFrame] = {"Table 1: items and latent variables": _items_table(spec),
                                       "Table 2: hypotheses": _hypotheses_table(spec)}
    if pre is not None:
        tables.update(_preanalysis_tables(pre, spec, pub.get("preanalysis") or {}))
    tables[CHECKS_TITLE] = checks_table(checks)
    if revision is not None:
        initial = pub.get("fit_initial") or {}
        if initial:
            paper = ", ".join(f"{k} {v:g}" for k, v in initial.items())
            ours = ", ".join(f"{k} {revision.steps[k][0]:.3f}" for k in initial if k in revision.steps.columns)
            lines.append(f"the paper's initial model: {paper}; ours (step 0 below): {ours}")
        tables["Model revision (Section 4.2): largest admissible MI freed, refitted"] = revision.steps
        lines.append(f"revision: {revision.stopped}; freed: "
                     f"{', '.join(' ~~ '.join(p) for p in revision.freed) or 'nothing'}"
                     + (f" (the paper freed: {', '.join('-'.join(p) for p in pub['revision'])})"
                        if pub.get("revision") else ""))
    if not ok:
        lines.append("THE SOLUTION IS NOT ADMISSIBLE: the fit is not judged and no hypothesis is tested "
                     "(see the violation checks).")
        return Report(title=f"SEM report: {spec.name}", lines=lines, tables=tables, admissible=False)
    tables[FIT_TITLE] = fit_table(result.fit_indices, criteria, pub.get("fit_revised") or {})
    tables["All fit indices (lavaan definitions)"] = pl.DataFrame(
        {"index": list(ALL_INDICES), "value": [float(result.fit_indices[k]) for k in ALL_INDICES]})
    structural = structural_table(result, pub.get("structural") or {}, alpha, bootstrap)
    tables[STRUCTURAL_TITLE] = structural
    tables["Table 8: hypothesis verdicts"] = structural.select("hypothesis", "verdict", "paper")
    tables[MEASUREMENT_TITLE] = measurement_table(result, pub.get("measurement") or {})
    if modindices is not None and modindices.height:
        tables["Modification indices (largest first; same_latent = admissible for revision)"] = modindices
    lines.append(f"hypotheses supported at p < {alpha:g}: {int(structural['supported'].sum())} of {structural.height}")
    return Report(title=f"SEM report: {spec.name}", lines=lines, tables=tables, admissible=True)


# -- tables -----------------------------------------------------------------------------
def _items_table(spec: Any) -> pl.DataFrame:
    rows = []
    for item, meaning in spec.items.items():
        latent = next((lat for lat in spec.latents if item in lat.items), None)
        rows.append({"item": item, "meaning": meaning, "latent": latent.name if latent else "-",
                     "latent_meaning": latent.meaning if latent else f"dropped: {spec.dropped.get(item, '')}"})
    return pl.DataFrame(rows)


def _hypotheses_table(spec: Any) -> pl.DataFrame:
    rels = [r for r in (*spec.regressions, *spec.covariances) if r.label]
    rels.sort(key=lambda r: int(r.label[1:]) if r.label[1:].isdigit() else 0)
    return pl.DataFrame([{"hypothesis": r.label, "path": f"{r.lhs} {'<-' if r.op == '~' else '<->'} {r.rhs}",
                          "content": r.text} for r in rels],
                        schema={"hypothesis": pl.Utf8, "path": pl.Utf8, "content": pl.Utf8})


def checks_table(checks: list[Check]) -> pl.DataFrame:
    """The violation checks (:func:`ccframe.sem.checks.violations`) as one row each."""
    return pl.DataFrame([{"check": c.number, "rule": c.name, "ok": c.ok, "detail": c.detail} for c in checks])


def fit_table(indices: dict[str, float], criteria: dict[str, tuple[str, float]],
              paper: dict[str, float]) -> pl.DataFrame:
    """Table 6: each criterion's index, standard, our value, whether it holds, and the paper's value."""
    judged = judge_fit(indices, criteria)
    return judged.with_columns(paper=pl.Series([_num(paper.get(i)) for i in judged["index"]], dtype=pl.Float64))


def structural_table(result: Any, paper: dict[str, list], alpha: float, bootstrap: Any = None, *,
                     admissible: bool = True, positive_only: bool = False) -> pl.DataFrame:
    """Table 7: each hypothesis's path, ours beside the paper's [std, unstd, S.E., C.R.], and its verdict.

    ``supported`` follows :func:`supported`: a hypothesis whose text says "positive" (or
    every one, with ``positive_only``) needs a positive estimate. An inadmissible solution
    (``admissible=False``) supports nothing: its verdicts read "not judged".
    """
    hyp = result.hypotheses()
    texts = {r.label: r.text for r in (*result.spec.regressions, *result.spec.covariances) if r.label}
    rows = []
    for r in hyp.iter_rows(named=True):
        label = r["label"]
        published = paper.get(label) or [None] * 4
        positive = positive_only or "positive" in texts.get(label, "").lower()
        ok = admissible and supported(r["estimate"], r["pvalue"], alpha, positive=positive)
        row = {"hypothesis": label, "path": _path(r), "std": r["std_all"], "paper_std": _num(published[0]),
               "estimate": r["estimate"], "paper_estimate": _num(published[1]), "se": r["se"],
               "paper_se": _num(published[2]), "cr": r["z"], "paper_cr": _num(published[3]),
               "p": r["pvalue"], "stars": stars(r["pvalue"]), "supported": ok,
               "verdict": "supported" if ok else "not supported" if admissible else "not judged",
               "paper": "supported" if label in paper else ""}
        rows.append(row)
    table = pl.DataFrame(rows)
    if bootstrap is not None:
        boot = bootstrap.table.select("label", "ci_lower", "ci_upper").filter(pl.col("label").is_not_null())
        table = table.join(boot.rename({"label": "hypothesis", "ci_lower": "boot_ci_lower",
                                        "ci_upper": "boot_ci_upper"}), on="hypothesis", how="left")
    return table


def measurement_table(result: Any, paper: dict[str, list]) -> pl.DataFrame:
    """Table 9: every loading of the fitted spec, ours beside the paper's [std, unstd, S.E., C.R.]."""
    rows = []
    for r in result.paths("=~").iter_rows(named=True):
        published = paper.get(r["rhs"]) or [None] * 4
        rows.append({"path": f"{r['rhs']} <- {r['lhs']}", "std": r["std_all"], "paper_std": _num(published[0]),
                     "estimate": r["estimate"], "paper_estimate": _num(published[1]), "se": r["se"],
                     "paper_se": _num(published[2]), "cr": r["z"], "paper_cr": _num(published[3]),
                     "p": r["pvalue"], "stars": stars(r["pvalue"])})
    return pl.DataFrame(rows)


def _preanalysis_tables(pre: Any, spec: Any, paper: dict[str, Any]) -> dict[str, pl.DataFrame]:
    loadings_paper = paper.get("loadings") or {}
    variance_paper = paper.get("cumulative_variance") or {}
    scales = []
    tables = {}
    for number, scale in enumerate(pre.scales, start=3):
        scales.append({"scale": scale.name, "kmo": scale.kmo, "bartlett_chisq": scale.bartlett_chisq,
                       "bartlett_df": scale.bartlett_df, "bartlett_p": scale.bartlett_pvalue,
                       "dropped": ", ".join(scale.dropped) or "-",
                       "flagged_off_structure": ", ".join(scale.inconsistent) or "-",
                       "cumulative_variance_pct": scale.cumulative_variance,
                       "paper_cumulative_variance_pct": _num(variance_paper.get(scale.name))})
        frame = scale.loadings
        comps = [c for c in frame.columns if c != "item"]
        rows = []
        for r in frame.iter_rows(named=True):
            values = [r[c] for c in comps]
            k = max(range(len(values)), key=lambda i: abs(values[i]))
            latent = next((lat.name for lat in spec.latents if r["item"] in lat.items), "-")
            rows.append({"item": r["item"], "latent": latent, "component": k + 1, "loading": values[k],
                         "paper_loading": _num(loadings_paper.get(r["item"]))})
        label = f"Table {number}" if number <= 5 else "Scale"
        tables[f"{label}: rotated loadings, scale {scale.name}"] = pl.DataFrame(rows)
    out = {"Pre-analysis (Section 3.2.2): KMO, Bartlett, retention at loading > 0.5": pl.DataFrame(scales)}
    out.update(tables)
    alpha_paper = paper.get("cronbach_alpha") or {}
    rel = pre.reliability.with_columns(
        paper_alpha=pl.Series([_num(alpha_paper.get(n)) for n in pre.reliability["latent"]], dtype=pl.Float64))
    out["Tables 3-5 (reliability): Cronbach's alpha, composite reliability, AVE"] = rel
    return out


def supported(estimate: float | None, pvalue: float | None, alpha: float, *, positive: bool) -> bool:
    """A hypothesis's verdict: two-sided p below ``alpha`` and, where ``positive``, a positive estimate."""
    significant = pvalue is not None and math.isfinite(pvalue) and pvalue < alpha
    return bool(significant and (not positive or (estimate is not None and estimate > 0)))


def _path(row: dict[str, Any]) -> str:
    arrow = "<-" if row["op"] == "~" else "<->"
    return f"{row['lhs']} {arrow} {row['rhs']}"


def _num(value: Any) -> float | None:
    return None if value is None else float(value)
