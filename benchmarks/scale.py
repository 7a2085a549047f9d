"""Scale benchmark: ccframe against the per-agent Mesa baseline at 10^3, 10^4, 10^5 suppliers.

Each measurement runs in its own Python process (so peak memory is that run's alone)
and reports the model's wall time (construction and 10 years), the agent-years simulated
(active suppliers + servers summed over the years 0..10) and the process's peak resident
memory (``resource.getrusage``). Sizes keep the default config's proportions: servers
are a tenth of the suppliers and the demand grid has ten cells per supplier (1000 x 1000
at 10^5); see :func:`scaled_overrides` for what else is scaled and why.

    python -m benchmarks.scale --repeats 3             # all sizes, ccframe and baseline
    python -m benchmarks.scale --sizes 100000 --no-baseline
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import subprocess
import sys
import time


@functools.cache
def _defaults() -> dict[str, float]:
    """The default config's values that a scaled run scales (read from conf/, so calibration moves them)."""
    from ccframe.runner import compose

    config = compose([])
    sup, market = config.suppliers, config.market
    return {"suppliers": sup.s1.count + sup.s2.count + sup.s3.count, "s1": sup.s1.count, "s2": sup.s2.count,
            "b": market.b, "c0": market.c0, "fixed_cost": sup.fixed_cost, "radius": market.hotspot_radius,
            "side": market.grid_size}


def scaled_overrides(suppliers: int, years: int = 10, grid_side: int | None = None) -> list[str]:
    """Overrides for a run with ``suppliers`` suppliers, ``suppliers/10`` servers, ``10*suppliers`` cells.

    The supplier classes and server kinds keep the default shares (5:15:50; TS:ES 4:1);
    the hotspot radius grows with the grid's side so demand has the same layout; and the
    inverse demand's slope b is scaled by 70/``suppliers`` so that each supplier's Cournot
    output (eq. 2) stays near the default's. Without that, output per supplier falls like
    1/N while demand and server capacity grow like N, profits soar and free entry runs away
    (tens of millions of suppliers by year 10). The yearly fixed cost is scaled the same way,
    since a supplier's Cournot margin falls like 1/N: unscaled, every supplier of a large
    cluster makes a loss and the cluster dies out. The marginal cost scale c0 grows like N^(1/3)
    so that the cluster's marginal cost c = c0/N^(1/3), and with it the Cournot price (eq. 3),
    stays at the default's: unscaled, the price of a large cluster falls far below the freight
    C_trans, CBEC servers price at their break-even floor (docs/ODD.md 3.3.2) and CBEC entry runs
    away. ``grid_side`` replaces the scaled grid.
    """
    default = _defaults()
    shrink = default["suppliers"] / suppliers
    s1, s2 = suppliers * default["s1"] // default["suppliers"], suppliers * default["s2"] // default["suppliers"]
    servers = max(suppliers // 10, 2)
    es = servers // 5
    side = grid_side or round((10 * suppliers) ** 0.5)
    return [f"suppliers.s1.count={s1}", f"suppliers.s2.count={s2}",
            f"suppliers.s3.count={suppliers - s1 - s2}",
            f"servers.ts.count={servers - es}", f"servers.es.count={es}",
            f"market.grid_size={side}", f"market.hotspot_radius={default['radius'] * side / default['side']:g}",
            f"market.b={default['b'] * shrink:.10g}",
            f"suppliers.fixed_cost={default['fixed_cost'] * shrink:.10g}",
            f"market.c0={default['c0'] * shrink ** (-1 / 3):.10g}",
            f"years={years}", "replicates=1", "tracking.enabled=false"]


def measure(engine: str, suppliers: int, years: int, grid_side: int | None) -> dict[str, float]:
    """Build and run one model in this process; its time, agent-years and peak memory.

    For ccframe, also the time to build the Mesa agent views afterwards (the first read of
    ``model.agents``), which the run itself never needs; peak memory is taken before it.
    """
    from benchmarks.mesa_baseline import BaselineModel
    from ccframe.model import CoevolutionModel
    from ccframe.runner import compose, settings_from

    settings = settings_from(compose(scaled_overrides(suppliers, years, grid_side)))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # imports done: not timed
    start = time.perf_counter()
    if engine == "ccframe":
        model = CoevolutionModel(settings, seed=0)
        records = model.run()
        agent_years = sum(r["n_suppliers"] + r["n_servers_ts"] + r["n_servers_es"] for r in records)
    else:
        model = BaselineModel(settings, seed=0)
        records = model.run()
        agent_years = model.agent_years
    elapsed = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    views_start = time.perf_counter()
    views = len(model.agents) if engine == "ccframe" else 0
    views_seconds = time.perf_counter() - views_start
    last = records[-1]
    return {"engine": engine, "suppliers": suppliers, "seconds": elapsed, "agent_years": agent_years,
            "peak_mib": rss / 1024, "import_mib": rss_before / 1024,
            "views": views, "views_seconds": views_seconds,
            "final_suppliers": last["n_suppliers"], "final_servers": last["n_servers_ts"] + last["n_servers_es"]}


def in_subprocess(engine: str, suppliers: int, years: int, grid_side: int | None) -> dict[str, float]:
    """:func:`measure` in a fresh interpreter, so peak memory belongs to that run alone."""
    grid = ["--grid-side", str(grid_side)] if grid_side else []
    out = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--worker", engine,
                          "--sizes", str(suppliers), "--years", str(years), *grid],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run of median wall time (the same seed gives the same agents every time)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def main() -> None:
    """Measure every size and engine in a subprocess each; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1, help="runs per engine and size; the median is shown")
    parser.add_argument("--no-baseline", action="store_true", help="time ccframe only")
    parser.add_argument("--grid-side", type=int, help="demand grid side instead of 10 cells per supplier")
    parser.add_argument("--worker", choices=("ccframe", "baseline"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(measure(options.worker, options.sizes[0], options.years, options.grid_side)))
        return
    engines = ("ccframe",) if options.no_baseline else ("ccframe", "baseline")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{options.years} years, one replicate, seed 0; median of {options.repeats}; "
          f"grid side {options.grid_side or 'sqrt(10 x suppliers)'}", flush=True)
    rows = []
    for suppliers in options.sizes:
        runs: dict[str, list[dict[str, float]]] = {engine: [] for engine in engines}
        for _ in range(options.repeats):  # alternating, so machine noise hits both engines alike
            for engine in engines:
                runs[engine].append(in_subprocess(engine, suppliers, options.years, options.grid_side))
                r = runs[engine][-1]
                print(f"  {engine} at {suppliers:,} suppliers: {r['seconds']:.2f} s, {r['peak_mib']:.0f} MiB",
                      file=sys.stderr, flush=True)
        rows.extend(median_run(runs[engine]) for engine in engines)
    print("| suppliers (start -> year 10) | servers (year 10) | engine | s | agent-years | agent-years/s "
          "| peak MiB (after imports) | speed-up | views: s to build |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        rate = r["agent_years"] / r["seconds"]
        base = next((b for b in rows if b["engine"] == "baseline" and b["suppliers"] == r["suppliers"]), None)
        speedup = f"{rate / (base['agent_years'] / base['seconds']):.0f}x" if base and r is not base else ""
        print(f"| {r['suppliers']:,} -> {r['final_suppliers']:,.0f} | {r['final_servers']:,.0f} | {r['engine']} "
              f"| {r['seconds']:.2f} | {r['agent_years']:,.0f} | {rate:,.0f} | {r['peak_mib']:.0f} "
              f"({r['import_mib']:.0f}) | {speedup} | {_views(r)} |")


def _views(r: dict[str, float]) -> str:
    return f"{r['views_seconds']:.2f} ({r['views']:,.0f} agents)" if r["engine"] == "ccframe" else ""


if __name__ == "__main__":
    main()
