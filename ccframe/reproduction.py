"""Run the seed's reproduction design: the standard model and the Fig. 5 sweeps, then F1-F8.

Shared by the calibration study, the paper report and the reproduction test, so the
three check the facts on exactly the runs a user gets from ``python -m ccframe``:
the standard model is the default config (every scenario of Table V runs it; they
differ only in what they print), the sweeps change ``ctrans`` or ``iexp`` alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ccframe import facts
from ccframe.results import RunResult
from ccframe.runner import compose, run, settings_from

CTRANS_SWEEP = (2000.0, 3000.0, 4000.0, 5000.0, 6000.0)   # seed Fig. 5(a)
IEXP_SWEEP = (0.1, 0.2, 0.3, 0.4)                         # seed Fig. 5(b)
STANDARD = {"ctrans": 4000.0, "iexp": 0.2}                # the seed's standard model


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


def run_design(overrides: Sequence[str] = (), *, replicates: int = 10, seed: int = 42,
               ctrans: Sequence[float] = CTRANS_SWEEP, iexp: Sequence[float] = IEXP_SWEEP,
               progress: Callable[[str], None] | None = None) -> DesignResult:
    """Run the standard model and the sweeps with common seeds, and check F1-F8.

    The sweeps reuse the standard run for its own value (ctrans = 4000, iexp = 0.2);
    an empty sweep is not run, and its fact (F3 or F4) is not checked.
    """
    def one(extra: list[str]) -> RunResult:
        if progress:
            progress(" ".join(extra) or "standard")
        return run_overrides([*overrides, *extra], replicates, seed)

    standard = one([])
    by_ctrans = {v: standard if v == STANDARD["ctrans"] else one([f"ctrans={v:g}"]) for v in ctrans}
    by_iexp = {v: standard if v == STANDARD["iexp"] else one([f"iexp={v:g}"]) for v in iexp}
    design = DesignResult(standard, by_ctrans, by_iexp)
    design.facts = facts.evaluate(means(standard), {v: means(r) for v, r in by_ctrans.items()},
                                  {v: means(r) for v, r in by_iexp.items()})
    return design


def summary_table(design: DesignResult) -> pl.DataFrame:
    """One row per fact: id, scenario, the seed's value, ours, pass."""
    return pl.DataFrame([{"fact": f.fact, "scenario": f.scenario, "paper": f.paper, "ours": f.ours,
                          "passed": f.passed, "loss": round(f.loss, 3)} for f in design.facts])
