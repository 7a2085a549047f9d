"""Run the seed's reproduction design: the standard model and the Fig. 5 sweeps, then F1-F8.

Shared by the calibration study, the paper report and the reproduction test, so the
three check the facts on exactly the runs a user gets from ``python -m ccframe``:
the standard model is the default config (every scenario of Table V runs it; they
differ only in what they print), the sweeps change ``ctrans`` or ``iexp`` alone.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import polars as pl

from ccframe import facts
from ccframe.parallel import share_cores
from ccframe.results import RunResult
from ccframe.runner import compose, run, settings_from

CTRANS_SWEEP = (2000.0, 3000.0, 4000.0, 5000.0, 6000.0)   # seed Fig. 5(a)
IEXP_SWEEP = (0.1, 0.2, 0.3, 0.4)                         # seed Fig. 5(b)
STANDARD = {"ctrans": 4000.0, "iexp": 0.2}                # the seed's standard model
STANDARD_RUN = ("", 0.0)  # a sweep variant (key, value) that changes nothing: the standard model


@dataclass
class DesignResult:
    """The runs of one design and the facts checked on them."""

    standard: RunResult
    by_ctrans: dict[float, RunResult]
    by_iexp: dict[float, RunResult]
    facts: list[facts.FactResult] = field(default_factory=list)

    @property
    def loss(self) -> float:
        """The sum of the losses of the facts checked (see :func:`ccframe.facts.total_loss`)."""
        return facts.total_loss(self.facts)

    @property
    def collapsed_share(self) -> float:
        """The largest share of replicates that died out by the last year, over the design's runs."""
        runs = [self.standard, *self.by_ctrans.values(), *self.by_iexp.values()]
        return max(float(np.nan_to_num(run.means("collapsed")[-1])) for run in runs)


def means(result: RunResult) -> dict[str, np.ndarray]:
    """Every metric's replicate means by year (year 0 first), as arrays."""
    wide = result.summary.pivot(on="metric", index="year", values="mean").sort("year")
    return {name: wide[name].to_numpy() for name in wide.columns if name != "year"}


def run_overrides(overrides: Sequence[str], replicates: int, seed: int) -> RunResult:
    """One untracked run of the default config with Hydra-style overrides."""
    config = compose([*overrides, f"replicates={replicates}", f"seed={seed}", "tracking.enabled=false"])
    return run(settings_from(config), config)


@contextmanager
def design_pool(workers: int) -> Iterator[Executor | None]:
    """A pool of ``workers`` processes for :func:`run_designs`, or None (run in this process) for one.

    Spawned rather than forked (Polars' thread pool does not survive a fork), each worker with its
    share of the cores for Polars' threads.
    """
    if workers <= 1:
        yield None
        return
    share_cores(workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def run_design(overrides: Sequence[str] = (), *, replicates: int = 10, seed: int = 42,
               ctrans: Sequence[float] = CTRANS_SWEEP, iexp: Sequence[float] = IEXP_SWEEP,
               progress: Callable[[str], None] | None = None, executor: Executor | None = None) -> DesignResult:
    """Run the standard model and the sweeps with common seeds, and check F1-F8.

    The sweeps reuse the standard run for its own value (ctrans = 4000, iexp = 0.2);
    an empty sweep is not run, and its fact (F3 or F4) is not checked.
    """
    return run_designs(overrides, seeds=(seed,), replicates=replicates, ctrans=ctrans, iexp=iexp,
                       progress=progress, executor=executor)[0]


def run_designs(overrides: Sequence[str] = (), *, seeds: Sequence[int], replicates: int = 10,
                ctrans: Sequence[float] = CTRANS_SWEEP, iexp: Sequence[float] = IEXP_SWEEP,
                progress: Callable[[str], None] | None = None,
                executor: Executor | None = None) -> list[DesignResult]:
    """:func:`run_design` for each root seed; an ``executor`` (a process pool) runs the runs at once.

    Every run is seeded by its root seed alone, so a pool gives the results a loop gives.
    ``progress`` hears of each run as it finishes ("3/18 seed 43: ctrans=3000").
    """
    variants = [STANDARD_RUN, *(("ctrans", v) for v in ctrans if v != STANDARD["ctrans"]),
                *(("iexp", v) for v in iexp if v != STANDARD["iexp"])]
    jobs = [(seed, variant) for seed in seeds for variant in variants]
    results = (executor.map if executor else map)(
        run_overrides, [[*overrides, *_changes(variant)] for _, variant in jobs], repeat(replicates),
        [seed for seed, _ in jobs])
    runs = {}
    for done, (job, result) in enumerate(zip(jobs, results, strict=True), start=1):
        runs[job] = result
        if progress:
            seed, variant = job
            progress(f"{done}/{len(jobs)} seed {seed}: {' '.join(_changes(variant)) or 'standard'}")
    return [_design(runs, seed, ctrans, iexp) for seed in seeds]


def _changes(variant: tuple[str, float]) -> list[str]:
    """The override a sweep variant ("ctrans", 3000.0) makes: ["ctrans=3000"]; none for the standard run."""
    key, value = variant
    return [f"{key}={value:g}"] if key else []


def _design(runs: dict[tuple[int, tuple[str, float]], RunResult], seed: int, ctrans: Sequence[float],
            iexp: Sequence[float]) -> DesignResult:
    """One seed's design from its runs (keyed by seed and variant), with its facts checked."""
    def run_at(key: str, value: float) -> RunResult:
        return runs[seed, STANDARD_RUN if value == STANDARD[key] else (key, value)]

    standard = runs[seed, STANDARD_RUN]
    by_ctrans = {v: run_at("ctrans", v) for v in ctrans}
    by_iexp = {v: run_at("iexp", v) for v in iexp}
    design = DesignResult(standard, by_ctrans, by_iexp)
    design.facts = facts.evaluate(means(standard), {v: means(r) for v, r in by_ctrans.items()},
                                  {v: means(r) for v, r in by_iexp.items()})
    return design


def summary_table(design: DesignResult) -> pl.DataFrame:
    """One row per fact: id, scenario, the seed's value, ours, pass."""
    return pl.DataFrame([{"fact": f.fact, "scenario": f.scenario, "paper": f.paper, "ours": f.ours,
                          "passed": f.passed, "loss": round(f.loss, 3)} for f in design.facts])
