"""Results as Polars frames: per-replicate records and their summary over replicates."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from scipy.special import stdtrit

STATISTICS = ("mean", "sd", "ci_low", "ci_high", "n")


def replicate_frame(records_by_replicate: list[list[dict[str, float]]]) -> pl.DataFrame:
    """Long frame (replicate, year, metric, value) from each replicate's yearly records."""
    rows = [
        (replicate, int(record["year"]), metric, value)
        for replicate, records in enumerate(records_by_replicate)
        for record in records
        for metric, value in record.items()
        if metric != "year"
    ]
    return pl.DataFrame(rows, schema={"replicate": pl.Int64, "year": pl.Int64,
                                      "metric": pl.Utf8, "value": pl.Float64}, orient="row")


def summarise(replicates: pl.DataFrame, level: float = 0.95,
              by: tuple[str, ...] = ("year", "metric")) -> pl.DataFrame:
    """Mean, sd and the t-based ``level`` CI of each metric per year over replicates.

    NaN values (a quantity undefined in a replicate, e.g. a ratio over an empty group,
    or every metric of a cluster that died out) are left out of that metric's
    statistics; ``n`` counts those used, and a year none defines has NaN statistics.
    ``by`` names the columns that group ``value`` (other studies' replicates, e.g.
    variant and hypothesis); the result is sorted by them, last first.
    """
    defined = pl.col("value").filter(pl.col("value").is_not_nan())
    stats = (
        replicates.group_by(*by)
        .agg(defined.mean().alias("mean"), defined.std().alias("sd"),
             pl.col("value").is_not_nan().sum().cast(pl.UInt32).alias("n"))
    )
    quantiles = {n: t_quantile(level, n) for n in stats["n"].unique().to_list()}
    half = pl.col("n").replace_strict(quantiles, return_dtype=pl.Float64) * pl.col("sd") / pl.col("n").sqrt()
    return (
        stats.with_columns(ci_low=pl.col("mean") - half, ci_high=pl.col("mean") + half)
        .with_columns(pl.col("mean", "sd", "ci_low", "ci_high").fill_null(math.nan))
        .select(*by, *STATISTICS)
        .sort(*reversed(by))
    )


def t_quantile(level: float, n: int) -> float:
    """The t quantile of a two-sided ``level`` CI of a mean over ``n`` values (NaN for n < 2)."""
    return float(stdtrit(n - 1, 0.5 + level / 2)) if n > 1 else math.nan


@dataclass
class RunResult:
    """What a run returns: the summary, the per-replicate values and the config used."""

    summary: pl.DataFrame
    replicates: pl.DataFrame
    config: Any
    settings: Any
    metric_sources: dict[str, str] = field(default_factory=dict)  # metric -> "slot=impl" reporting it

    def metric(self, name: str) -> pl.DataFrame:
        """The summary rows of one metric, by year."""
        frame = self.summary.filter(pl.col("metric") == name).sort("year")
        if frame.is_empty():
            known = ", ".join(sorted(self.summary["metric"].unique().to_list()))
            raise KeyError(f"no metric {name!r}; metrics are {known}")
        return frame

    def means(self, name: str) -> list[float]:
        """The replicate means of one metric, year 0 first."""
        return self.metric(name)["mean"].to_list()

    def plugin_metrics(self) -> list[str]:
        """Metrics reported by mechanisms of slots that plugins add (not the seed's six), in report order."""
        from ccframe.plugins import CORE_SLOTS

        return [name for name, source in self.metric_sources.items()
                if "=" in source and source.split("=")[0] not in CORE_SLOTS]

    def table(self, metrics: tuple[str, ...] | list[str]) -> pl.DataFrame:
        """Wide table: one row per year, one column per metric, "mean ± CI half-width"."""
        known = set(self.summary["metric"].unique().to_list())
        chosen = list(dict.fromkeys(m for m in metrics if m in known))  # in order, each once
        wide = (
            self.summary.filter(pl.col("metric").is_in(chosen))
            .with_columns(cell=pl.format("{} ± {}", _fmt("mean"), _fmt_half()))
            .pivot(on="metric", index="year", values="cell")
            .sort("year")
        )
        return wide.select("year", *chosen)


def _fmt(column: str) -> pl.Expr:
    return pl.col(column).map_elements(lambda v: f"{v:.4g}", return_dtype=pl.Utf8)


def _fmt_half() -> pl.Expr:
    return ((pl.col("ci_high") - pl.col("ci_low")) / 2).fill_null(float("nan")).map_elements(
        lambda v: f"{v:.2g}", return_dtype=pl.Utf8)
