"""Which of H1-H16 depend on which mechanism: the virtual survey with one mechanism off at a time.

    .venv/bin/python experiments/virtual_survey/run.py --replicates 10 --jobs 2

Each variant of ``knockouts.yaml`` fields ``--replicates`` virtual surveys (the default
``task=virtual_survey``: 63 clusters, 481 respondents, the revised spec); replicate r uses
root seed r in every variant, so variants differ only by the knock-out. Writes
``results/estimates.parquet`` (one row per variant x replicate x hypothesis),
``results/summary.parquet``, ``results/summary.md`` and ``figures/*.png`` beside this file
(``--out other`` writes to ``other/`` and ``other/figures/``; ``--sem`` also fits the SEM).
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def one_survey(config: dict[str, Any], variant: str, overrides: dict[str, Any], replicate: int,
               fit_sem: bool) -> pl.DataFrame:
    """Field one virtual survey of ``variant`` with root seed ``replicate``; one row per hypothesis.

    ``std``, ``p`` and ``supported`` come from the composite-score paths
    (:func:`ccframe.survey.report.composite_paths`); with ``fit_sem`` the SEM's are added
    as ``sem_std``, ``sem_p``, ``sem_supported`` (Table 7 of
    :func:`ccframe.survey.report.side_by_side`) with the solution's admissibility (``proper``:
    the SEM layer's violation checks, as ``task=sem`` runs them). ``collapsed_share`` is the
    share of clusters that died out before the survey; when too few agents are left to field
    it, every hypothesis gets a row without an estimate, unsupported (``collapsed_share`` null).
    """
    import static_policy

    from ccframe.sem.report import STRUCTURAL_TITLE
    from ccframe.sem.spec import load_spec
    from ccframe.survey import report
    from ccframe.survey.instrument import FieldingError
    from ccframe.survey.world import field_survey

    static_policy.register()
    config = copy.deepcopy(config)
    config["seed"] = replicate
    for key, value in overrides.items():
        if key.startswith("task."):
            config["task"][key.removeprefix("task.")] = value
    cluster_overrides = {k: v for k, v in overrides.items() if not k.startswith("task.")}
    start = time.perf_counter()
    spec = load_spec(config["task"]["spec"])
    try:
        world = field_survey(config, cluster_overrides, fit_sem=fit_sem)
    except FieldingError as exc:  # (nearly) every cluster died out
        print(f"{variant}, replicate {replicate}: not fielded: {exc}", file=sys.stderr)
        unfielded = pl.DataFrame({"hypothesis": list(hypothesis_paths(spec)), "std": None, "p": None,
                                  "supported": False}, schema_overrides={"std": pl.Float64, "p": pl.Float64})
        if fit_sem:
            unfielded = unfielded.with_columns(sem_supported=pl.lit(False))
        return unfielded.with_columns(variant=pl.lit(variant), replicate=pl.lit(replicate),
                                      collapsed_share=pl.lit(None, pl.Float64),
                                      seconds=pl.lit(time.perf_counter() - start))
    significance = config["task"]["significance"]
    paths = report.composite_paths(spec, world.answers, significance)
    paths = paths.with_columns(variant=pl.lit(variant), replicate=pl.lit(replicate),
                               collapsed_share=pl.lit(world.contexts["collapsed"].is_not_null().mean()))
    if fit_sem:
        side = report.side_by_side(world.sem, significance, config["task"]["published"])
        sem = side.tables[STRUCTURAL_TITLE].select("hypothesis", sem_std="std", sem_p="p", sem_supported="supported")
        paths = paths.join(sem, on="hypothesis").with_columns(
            proper=pl.lit(side.admissible), cfi=pl.lit(world.sem.fit_indices.get("cfi")),
            rmsea=pl.lit(world.sem.fit_indices.get("rmsea")))
    return paths.with_columns(seconds=pl.lit(time.perf_counter() - start))


def summarise(estimates: pl.DataFrame) -> pl.DataFrame:
    """Per variant and hypothesis: support rate, and mean composite-score estimate with its 95% t-CI.

    The support rate counts a replicate whose clusters all died out as not supporting; the
    estimate's statistics are over the ``surveyed`` replicates. With SEM columns, also the
    SEM support rate and the share of admissible solutions.
    """
    from ccframe import results

    keys = ("variant", "hypothesis")
    aggregates = [pl.col("supported").mean().alias("support_rate"), pl.len().alias("replicates"),
                  pl.col("collapsed_share").mean()]
    if "sem_supported" in estimates.columns:
        aggregates += [pl.col("sem_supported").mean().alias("sem_support_rate"),
                       pl.col("proper").mean().alias("admissible_rate")]
    estimate = results.summarise(estimates.select(*keys, value=pl.col("std").fill_null(float("nan"))), by=keys)
    return (estimates.group_by(*keys).agg(aggregates)
            .join(estimate.rename({"mean": "mean_std", "sd": "sd_std", "n": "surveyed"}), on=keys)
            .sort("variant", pl.col("hypothesis").str.slice(1).cast(pl.Int64)))


def dependencies(summary: pl.DataFrame, variants: list[str]) -> pl.DataFrame:
    """For each hypothesis, the mechanisms whose knock-out removes (or creates) its support.

    A hypothesis *needs* a mechanism when the baseline supports it in at least half the
    replicates and the knock-out at most half as often; a knock-out *creates* support
    when the baseline supports it in under half and the knock-out in at least half.
    """
    base = summary.filter(pl.col("variant") == "baseline").select("hypothesis", base_rate="support_rate")
    rows = []
    for h in base.iter_rows(named=True):
        needs, creates = [], []
        for variant in variants:
            if variant == "baseline":
                continue
            rate = summary.filter((pl.col("variant") == variant) & (pl.col("hypothesis") == h["hypothesis"]))
            rate = float(rate["support_rate"][0])
            if h["base_rate"] >= 0.5 and rate <= h["base_rate"] / 2:
                needs.append(variant)
            if h["base_rate"] < 0.5 and rate >= 0.5:
                creates.append(variant)
        rows.append({"hypothesis": h["hypothesis"], "baseline_support": h["base_rate"],
                     "needs": ", ".join(needs) or "-", "created_by": ", ".join(creates) or "-"})
    return pl.DataFrame(rows)


def hypothesis_paths(spec: Any) -> dict[str, Any]:
    """The spec's labelled structural relations (H1..H16), keyed by label."""
    return {r.label: r for r in (*spec.regressions, *spec.covariances) if r.label}


def knockout_table(summary: pl.DataFrame, deps: pl.DataFrame, variants: list[str], config: dict[str, Any]) -> str:
    """REPORT.md's table: per hypothesis its path, the paper's value and each variant's estimate.

    A variant's cell is "mean (support rate)" over the mean's 95% t-CI; it is bold where the
    hypothesis needs the variant or the variant creates support (:func:`dependencies`).
    """
    from ccframe.sem.report import load_published
    from ccframe.sem.spec import load_spec

    arrows = {"~": "←", "~~": "↔"}
    paths = {h: f"{r.lhs}{arrows[r.op]}{r.rhs}" for h, r in hypothesis_paths(load_spec(config["task"]["spec"])).items()}
    paper = (load_published(config["task"]["published"]) or {}).get("structural", {})
    marked = {(row["hypothesis"], v.strip()) for row in deps.iter_rows(named=True)
              for column in ("needs", "created_by") for v in row[column].split(",") if v.strip() != "-"}
    lines = ["| H | path | paper | " + " | ".join(v.replace("_", " ") for v in variants) + " |",
             "|---" * (3 + len(variants)) + "|"]
    for h in sorted(paths, key=lambda label: int(label[1:])):
        cells = []
        for variant in variants:
            row = summary.filter((pl.col("variant") == variant) & (pl.col("hypothesis") == h)).row(0, named=True)
            cell = f"{row['mean_std']:.2f} ({row['support_rate']:.2f})"
            if math.isfinite(row["ci_low"]):
                cell += f"<br>[{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
            cell = cell.replace("nan", "–").replace("-", "−")
            cells.append(f"**{cell}**" if (h, variant) in marked else cell)
        published = f"{paper[h][0]:.3f}".lstrip("0") if h in paper else "–"
        lines.append(f"| {h} | {paths[h]} | {published} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figures(summary: pl.DataFrame, variants: list[str], folder: Path) -> None:
    """A heat map of support rates and a dot plot of mean standardised estimates with 95% CIs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    hypotheses = [f"H{k}" for k in range(1, 17)]
    rate = np.array([[float(summary.filter((pl.col("variant") == v) & (pl.col("hypothesis") == h))["support_rate"][0])
                      for h in hypotheses] for v in variants])
    fig, ax = plt.subplots(figsize=(11, 4.5))
    image = ax.imshow(rate, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(hypotheses)), hypotheses)
    ax.set_yticks(range(len(variants)), variants)
    for i in range(len(variants)):
        for j in range(len(hypotheses)):
            ax.text(j, i, f"{rate[i, j]:.1f}", ha="center", va="center", color="w" if rate[i, j] < 0.5 else "k",
                    fontsize=8)
    fig.colorbar(image, label="share supporting (composite, p < .05)")
    ax.set_title("Virtual survey: support for H1-H16 with one mechanism off")
    fig.tight_layout()
    fig.savefig(folder / "support_rates.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(12, 5))
    offsets = np.linspace(-0.35, 0.35, len(variants))
    for offset, variant in zip(offsets, variants, strict=True):
        part = summary.filter(pl.col("variant") == variant)
        order = [part.filter(pl.col("hypothesis") == h) for h in hypotheses]
        mean, low, high = (np.array([float(p[c][0]) for p in order]) for c in ("mean_std", "ci_low", "ci_high"))
        x = np.arange(len(hypotheses)) + offset
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", ms=3, capsize=2, label=variant)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(hypotheses)), hypotheses)
    ax.set_ylabel("standardised composite-score estimate (mean, 95% CI)")
    ax.set_title("Virtual survey: standardised paths by knock-out")
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(folder / "estimates.png", dpi=120)
    plt.close(fig)


def main() -> None:
    """Run the sweep and write the results, the summary and the figures."""
    from joblib import Parallel, delayed
    from omegaconf import OmegaConf

    from ccframe.runner import compose

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sem", action="store_true", help="also fit the SEM in every survey (slow)")
    parser.add_argument("--out", default="results", help="folder (beside this file) for results and figures")
    parser.add_argument("--tables-only", action="store_true",
                        help="survey nothing: rewrite summary.md and the figures from the folder's estimates.parquet")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every survey, e.g. task.clusters=30")
    args = parser.parse_args()

    variants_config = yaml.safe_load((HERE / "knockouts.yaml").read_text())
    variants = list(variants_config)
    config: Any = OmegaConf.to_container(compose(["task=virtual_survey", "tracking.enabled=false", *args.overrides]),
                                         resolve=True)
    results = HERE / args.out
    if args.tables_only:
        estimates = pl.read_parquet(results / "estimates.parquet")
        header = (results / "summary.md").read_text().splitlines()[0]  # how those surveys were run
    else:
        jobs = [(v, r) for v in variants for r in range(args.replicates)]
        print(f"{len(jobs)} virtual surveys: {len(variants)} variants x {args.replicates} replicates", file=sys.stderr)
        start = time.perf_counter()
        frames = Parallel(n_jobs=args.jobs, verbose=10)(
            delayed(one_survey)(config, v, variants_config[v] or {}, r, args.sem) for v, r in jobs)
        estimates = pl.concat(frames, how="diagonal_relaxed")  # a survey that could not be fielded has no SEM columns
        results.mkdir(exist_ok=True)
        estimates.write_parquet(results / "estimates.parquet")
        header = (f"{len(jobs)} surveys in {time.perf_counter() - start:.0f} s (--jobs {args.jobs}, "
                  f"{args.replicates} replicates, SEM fitted: {args.sem})")
    summary = summarise(estimates)
    summary.write_parquet(results / "summary.parquet")
    deps = dependencies(summary, variants)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, float_precision=2, tbl_formatting="MARKDOWN", fmt_str_lengths=200,
                   tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True, tbl_width_chars=250):
        text = [header, "", "## Dependencies (composite scores)",
                "", str(deps), "", "## Mean standardised estimate (support rate) by variant", "",
                knockout_table(summary, deps, variants, config), "", "## Per variant", "",
                str(summary.drop("sd_std"))]
    (results / "summary.md").write_text("\n".join(text) + "\n")
    figures(summary, variants, HERE / "figures" if args.out == "results" else results / "figures")
    print("\n".join(text[:8]))


if __name__ == "__main__":
    main()
