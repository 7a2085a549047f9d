"""Print the numbers of ODD.md's "What it does under the calibrated defaults" on the installed core.

ES servers' revenue share (replicate mean, 95% CI, share of clusters dead) at rates 0, 0.1,
0.2 and 0.4 for the default rules, vision alone and no fallback; the effect on seeds 1-3; and
vision alone in year 4. Needs this package installed beside ccframe:
``pip install plugins/ccframe-demand-personalisation && python plugins/ccframe-demand-personalisation/effect_table.py``
"""

import polars as pl

from ccframe.testing import small_run

SELECT = ["+mechanism=demand_personalisation"]
RATES = (0.0, 0.1, 0.2, 0.4)
VARIANTS = {"default rules": [], "channels=[ts,es] (vision alone)": ["personalisation.channels=[ts,es]"],
            "fallback=0": ["personalisation.fallback=0"]}


def es_share(extra: list[str], rate: float, seed: int = 11, year: int = 6) -> tuple[float, float, float, float]:
    """The ES servers' revenue share in ``year`` (mean, CI low, CI high) and the share of clusters dead."""
    result = small_run([*SELECT, *extra, f"personalisation.rate={rate}", "replicates=16", f"years={year}",
                        f"seed={seed}"])
    share = result.metric("es_server_revenue_share").filter(pl.col("year") == year)
    dead = result.metric("collapsed").filter(pl.col("year") == year)["mean"][0]
    return share["mean"][0], share["ci_low"][0], share["ci_high"][0], dead


def main() -> None:
    """Print the table's rows, then the seeds and the year-4 check."""
    print("ES servers' revenue share in year 6, seed 11, 16 replicates: mean [95% CI] (share dead)")
    for name, extra in VARIANTS.items():
        cells = (f"{m:.3f} [{lo:.3f}, {hi:.3f}] ({dead:.3f})" for m, lo, hi, dead in
                 (es_share(extra, rate) for rate in RATES))
        print(f"{name}: " + " | ".join(f"rate {r:g}: {c}" for r, c in zip(RATES, cells, strict=True)))
    for seed in (1, 2, 3):
        print(f"seed {seed}: rate 0 -> 0.4: {es_share([], 0.0, seed)[0]:.3f} -> {es_share([], 0.4, seed)[0]:.3f}")
    alone = VARIANTS["channels=[ts,es] (vision alone)"]
    print(f"vision alone, year 4: {es_share(alone, 0.0, year=4)[0]:.3f} -> {es_share(alone, 0.4, year=4)[0]:.3f}")


if __name__ == "__main__":
    main()
