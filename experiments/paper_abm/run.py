"""Reproduce the simulation seed: the four scenarios, the Fig. 5 sweeps, F1-F8 and their robustness.

One command (from the repository root)::

    .venv/bin/python experiments/paper_abm/run.py

runs the default config (the standard model every scenario of the seed's Table V
runs: seed 42, 10 replicates, exactly what ``python -m ccframe +scenario=<name>``
gives), the sweeps ctrans = 2000..6000 and iexp = 0.1..0.4, and the same design in
five blocks of 10 replicates (root seeds 42..46), then writes REPORT.md and one PNG
per fact beside this file. Every run is logged to MLflow (experiment ``paper_abm``):
a parent run with the facts, the report and the figures, and a child run per
simulated configuration with its replicate-averaged metrics by year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from omegaconf import OmegaConf

from ccframe.figures import pyplot
from ccframe.parallel import usable_cores
from ccframe.reproduction import CTRANS_SWEEP, IEXP_SWEEP, DesignResult, design_pool, run_designs
from ccframe.results import RunResult
from ccframe.tracking import Tracker, flatten, metric_series

HERE = Path(__file__).resolve().parent
BLOCK_SEEDS = (42, 43, 44, 45, 46)


@dataclass(frozen=True)
class Headline:
    """The number of a fact reported with its 95% CI: a metric in one year of one run."""

    label: str
    run: str          # "standard", "ctrans=<v>" or "iexp=<v>"
    metric: str
    year: int


HEADLINES = {
    "F1": [Headline("output index, Y10", "standard", "output_index", 10),
           Headline("output index, Y4", "standard", "output_index", 4)],
    "F2": [Headline("unit revenue ratio ES/TS, Y10", "standard", "unit_revenue_ratio", 10)],
    "F3": [Headline(f"CBEC unit revenue, ctrans={v:g}, Y10", f"ctrans={v:g}", "unit_revenue_es", 10)
           for v in CTRANS_SWEEP],
    "F4": [Headline(f"CBEC unit revenue, iexp={v:g}, Y10", f"iexp={v:g}", "unit_revenue_es", 10)
           for v in IEXP_SWEEP],
    "F5": [Headline("vision index, Y10", "standard", "vision_index", 10)],
    "F6": [Headline("TS transaction time, Y10", "standard", "transaction_time_ts", 10),
           Headline("ES transaction time, Y10", "standard", "transaction_time_es", 10)],
    "F7": [Headline("reproduction time index, Y10", "standard", "reproduction_time_index", 10)],
    "F8": [Headline("CBEC share, Y0", "standard", "cbec_share", 0),
           Headline("CBEC share, Y6", "standard", "cbec_share", 6)],
}
FIGURES = {  # fact -> (title, [(run, metric, label)]); the seed's figure in the title
    "F1": ("F1 (seed Fig. 3): total output, base year = 1", [("standard", "output_index", "output index")]),
    "F2": ("F2 (seed Fig. 4): CBEC / traditional unit revenue",
           [("standard", "unit_revenue_ratio", "unit revenue ratio")]),
    "F3": ("F3 (seed Fig. 5a): CBEC unit revenue by C_trans",
           [(f"ctrans={v:g}", "unit_revenue_es", f"ctrans = {v:g}") for v in CTRANS_SWEEP]),
    "F4": ("F4 (seed Fig. 5b): CBEC unit revenue by I_exp",
           [(f"iexp={v:g}", "unit_revenue_es", f"iexp = {v:g}") for v in IEXP_SWEEP]),
    "F5": ("F5 (seed Fig. 6): average vision, base year = 1", [("standard", "vision_index", "vision index")]),
    "F6": ("F6 (seed Fig. 7a): transaction time by server kind",
           [("standard", "transaction_time_ts", "TS"), ("standard", "transaction_time_es", "ES")]),
    "F7": ("F7 (seed Fig. 7b): reproduction time, base year = 1",
           [("standard", "reproduction_time_index", "reproduction time index")]),
    "F8": ("F8 (seed Fig. 2a): CBEC share of exports", [("standard", "cbec_share", "CBEC share")]),
}
REFERENCE_LINES = {"F1": 1.85, "F2": 0.86, "F5": 14.0, "F7": 0.91}
SCENARIOS = {"F1": "commodity", "F2": "fund", "F3": "fund", "F4": "fund", "F5": "information",
             "F6": "technology", "F7": "technology", "F8": "commodity"}


def runs_of(design: DesignResult) -> dict[str, RunResult]:
    """Every run of a design by name (the standard run appears once)."""
    runs = {"standard": design.standard}
    runs |= {f"ctrans={v:g}": r for v, r in design.by_ctrans.items()}
    runs |= {f"iexp={v:g}": r for v, r in design.by_iexp.items()}
    return runs


def headline_cell(runs: dict[str, RunResult], h: Headline) -> str:
    """'mean [ci_low, ci_high]' of a headline."""
    row = runs[h.run].metric(h.metric).filter(pl.col("year") == h.year).row(0, named=True)
    return f"{h.label}: {row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def draw(fact: str, runs: dict[str, RunResult], path: Path) -> Path:
    """The fact's figure: replicate means by year with 95% CI bands, the seed's value as a line."""
    plt = pyplot()
    title, curves = FIGURES[fact]
    fig, ax = plt.subplots(figsize=(6, 4))
    for run, metric, label in curves:
        rows = runs[run].metric(metric)
        years = rows["year"].to_numpy()
        ax.fill_between(years, rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy(), alpha=0.2)
        ax.plot(years, rows["mean"].to_numpy(), marker="o", ms=3, label=label)
    if fact in REFERENCE_LINES:
        ax.axhline(REFERENCE_LINES[fact], ls="--", color="grey", label=f"seed: {REFERENCE_LINES[fact]:g} at Y10")
    ax.set_xlabel("simulated year")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report(main: DesignResult, blocks: list[DesignResult], replicates: int, elapsed: float) -> str:
    """REPORT.md: per fact the seed's value, ours with 95% CI, pass/fail, figure, robustness over blocks."""
    runs = runs_of(main)
    passed = sum(f.passed for f in main.facts)
    lines = [
        "# Reproduction of the simulation seed (F1–F8)",
        "",
        f"Generated by `python experiments/paper_abm/run.py` on {dt.date.today().isoformat()} "
        f"({elapsed / 60:.1f} min on a shared 2-core machine). Default config: the standard model "
        f"(ctrans = 4000, iexp = 0.2), root seed 42, {replicates} replicates — the numbers "
        "`python -m ccframe +scenario=<scenario>` prints. Sweeps change `ctrans` or `iexp` alone, with the "
        "same seeds. Checks: `ccframe/facts.py`. 95% CIs are t-based over replicates.",
        "",
        f"**{passed}/8 facts pass on the default config.**",
        "",
        "| fact | scenario | the seed | ours (mean [95% CI]) | pass | holds in blocks (seeds 42–46) |",
        "|---|---|---|---|---|---|",
    ]
    for fact in main.facts:
        cells = "<br>".join(headline_cell(runs, h) for h in HEADLINES[fact.fact])
        held = [next(f for f in b.facts if f.fact == fact.fact).passed for b in blocks]
        blocks_cell = f"{sum(held)}/{len(held)} (" + " ".join("✓" if h else "✗" for h in held) + ")"
        lines.append(f"| {fact.fact} | {fact.scenario} | {fact.paper} | {cells} | "
                     f"{'**pass**' if fact.passed else '**FAIL**'} | {blocks_cell} |")
    discussion = HERE / "discussion.md"
    if discussion.exists():  # the authors' reading of the results, kept by hand beside the generated tables
        lines += ["", discussion.read_text().strip()]
    lines += ["", "## Per fact", ""]
    for fact in main.facts:
        lines += [f"### {fact.fact} — {fact.paper}", "",
                  f"Run: `python -m ccframe +scenario={SCENARIOS[fact.fact]}`"
                  + (" with the sweep values as overrides" if fact.fact in ("F3", "F4") else "") + ".",
                  "", f"Ours: {fact.ours}", "",
                  f"Result: {'pass' if fact.passed else 'FAIL'} (calibration loss {fact.loss:.3g}).", "",
                  f"![{fact.fact}]({fact.fact}.png)", ""]
    return "\n".join(lines) + "\n"


def log_to_mlflow(main: DesignResult, blocks: list[DesignResult], files: list[Path], uri: str) -> str:
    """A parent run (facts, report, figures) with a child run per configuration of the main design."""
    tracker = Tracker(uri)
    parent = tracker.start("paper_abm", "F1-F8 reproduction", {"ccframe.experiment": "paper_abm"})
    for name, result in runs_of(main).items():
        child = tracker.start("paper_abm", name, {"ccframe.overrides": name}, parent_run_id=parent)
        params = flatten(OmegaConf.to_container(result.config, resolve=True))
        tracker.log_result(child, params, metric_series(result.summary))
        tracker.finish(child)
    metrics = [(f"pass_{f.fact}", float(f.passed), 0) for f in main.facts]
    metrics += [(f"blocks_pass_{f.fact}", float(sum(next(g for g in b.facts if g.fact == f.fact).passed
                                                     for b in blocks)), 0) for f in main.facts]
    metrics += [("facts_passed", float(sum(f.passed for f in main.facts)), 0)]
    tracker.log_result(parent, {"blocks": ",".join(map(str, BLOCK_SEEDS))}, metrics)
    for path in files:
        tracker.client.log_artifact(parent, str(path))
    tracker.finish(parent)
    return parent


def main(argv: list[str] | None = None) -> None:
    """Run the design on the default config and in five seed blocks, write the report, log it."""
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE, help="folder for REPORT.md and the PNGs")
    parser.add_argument("--mlflow-uri", default="", help="MLflow tracking URI (default: ./mlflow.db)")
    parser.add_argument("--workers", type=int, default=usable_cores(),
                        help="processes running the runs at once (default: the usable cores; same results)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    def progress(what: str) -> None:
        print(f"[{time.perf_counter() - start:5.0f} s] run {what} done", file=sys.stderr, flush=True)

    with design_pool(args.workers) as pool:
        designs = run_designs(seeds=BLOCK_SEEDS, replicates=args.replicates, progress=progress, executor=pool)
    main_design = designs[0]  # root seed 42: the default config's own runs
    args.out.mkdir(parents=True, exist_ok=True)
    runs = runs_of(main_design)
    figures = [draw(f.fact, runs, args.out / f"{f.fact}.png") for f in main_design.facts]
    text = report(main_design, designs, args.replicates, time.perf_counter() - start)
    (args.out / "REPORT.md").write_text(text)
    run_id = log_to_mlflow(main_design, designs, [args.out / "REPORT.md", *figures], args.mlflow_uri)
    for f in main_design.facts:
        print(f"{f.fact} {'pass' if f.passed else 'FAIL'}  {f.ours[:140]}", file=sys.stderr)
    print(f"wrote {args.out / 'REPORT.md'}; MLflow run {run_id} (experiment paper_abm)", file=sys.stderr)


if __name__ == "__main__":
    main()
