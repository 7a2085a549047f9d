"""Reproduction of the simulation seed: the fact checks themselves, and F1-F8's shapes on the default config.

The full reproduction (10 replicates, full sweeps, five seed blocks) is
``experiments/paper_abm/run.py``; here a reduced design (the default config's own
10 replicates, fewer sweep values) runs in well under a minute and asserts the
qualitative shape of each fact. Select with ``pytest -m reproduction``.
"""

from __future__ import annotations

import numpy as np
import pytest

from ccframe import facts
from ccframe.reproduction import design_pool, run_design, run_designs

pytestmark = pytest.mark.reproduction

YEARS = np.arange(11)


def hump(peak: int, top: float, end: float) -> np.ndarray:
    """1 at Y0, rising linearly to ``top`` at ``peak``, falling linearly to ``end`` at Y10."""
    up = np.linspace(1.0, top, peak + 1)
    down = np.linspace(top, end, 11 - peak)[1:]
    return np.concatenate([up, down])


# ----------------------------------------------------------------- the checks on known curves

def test_output_life_cycle_passes_the_seed_curve_and_fails_a_late_peak():
    assert facts.output_life_cycle({"output_index": hump(4, 2.3, 1.85)}).passed
    late = facts.output_life_cycle({"output_index": hump(6, 2.3, 1.85)})
    assert not late.passed and not late.shape and late.loss > 0


def test_output_life_cycle_shape_without_the_number():
    result = facts.output_life_cycle({"output_index": hump(4, 2.3, 1.5)})
    assert result.shape and not result.near and not result.passed


def test_revenue_ratio_must_drop_below_one_from_year_six():
    good = np.array([1.0, 1.08, 1.12, 1.10, 1.05, 1.0, 0.98, 0.95, 0.92, 0.89, 0.86])
    assert facts.revenue_ratio({"unit_revenue_ratio": good}).passed
    late = good.copy()
    late[6] = 1.01
    assert not facts.revenue_ratio({"unit_revenue_ratio": late}).passed
    never_above = good - 0.13  # rises and falls, but CBEC never pays more: no early "additional profits"
    assert never_above[6:].max() < 1 and not facts.revenue_ratio({"unit_revenue_ratio": never_above}).shape


def test_freight_effect_needs_the_overtaking_after_year_seven():
    base = 5000 + 100 * YEARS
    runs = {c: {"unit_revenue_es": base * (c / 4000) ** 0.5} for c in (2000.0, 3000.0, 4000.0, 5000.0)}
    assert not facts.freight_effect(runs).passed  # 3000 never overtakes
    overtakes = base * 0.95 + np.where(YEARS > 7, 600.0, 0.0)
    runs[3000.0] = {"unit_revenue_es": overtakes}
    assert facts.freight_effect(runs).passed
    early = base * 0.95 + np.where(YEARS > 5, 600.0, 0.0)  # overtakes from Y6: before the seed's "after Y7"
    runs[3000.0] = {"unit_revenue_es": early}
    assert not facts.freight_effect(runs).passed


def test_return_expectation_effect_direction():
    falling = {v: {"unit_revenue_es": np.full(11, 6000 - 1000 * v)} for v in (0.1, 0.2, 0.3)}
    rising = {v: {"unit_revenue_es": np.full(11, 6000 + 1000 * v)} for v in (0.1, 0.2, 0.3)}
    assert facts.return_expectation_effect(falling).passed
    assert not facts.return_expectation_effect(rising).passed


def test_transaction_times_must_converge_with_es_below_ts():
    ts, es = 35 - YEARS, 10 + YEARS
    assert facts.transaction_times({"transaction_time_ts": ts, "transaction_time_es": es}).passed
    crossed = {"transaction_time_ts": 35 - 2.0 * YEARS, "transaction_time_es": 10 + 2.0 * YEARS}
    assert not facts.transaction_times(crossed).passed


def test_numbers_are_matched_within_the_seeds_tolerance():
    assert facts.vision_growth({"vision_index": np.linspace(1, 14.5, 11)}).passed
    assert not facts.vision_growth({"vision_index": np.linspace(1, 10, 11)}).passed
    assert facts.reproduction_time({"reproduction_time_index": np.linspace(1, 0.92, 11)}).passed
    assert not facts.reproduction_time({"reproduction_time_index": np.linspace(1, 0.8, 11)}).passed
    assert facts.cbec_share({"cbec_share": np.linspace(0.05, 0.5, 11)}).passed


def test_an_undefined_year_counts_as_the_last_defined_one():
    ratio = np.array([1.0, 1.1, np.nan, 1.05, 1.0, 0.99, 0.97, 0.95, 0.92, 0.89, 0.86])
    assert np.isfinite(facts.revenue_ratio({"unit_revenue_ratio": ratio}).loss)


def test_a_design_without_its_sweeps_checks_only_the_standard_models_facts():
    flat = np.ones(11)
    standard = {name: flat for name in ("output_index", "unit_revenue_ratio", "vision_index",
                                        "transaction_time_ts", "transaction_time_es",
                                        "reproduction_time_index", "cbec_share")}
    assert [r.fact for r in facts.evaluate(standard, {}, {})] == ["F1", "F2", "F5", "F6", "F7", "F8"]
    with_freight = facts.evaluate(standard, {3000.0: {"unit_revenue_es": flat}, 4000.0: {"unit_revenue_es": flat}}, {})
    assert [r.fact for r in with_freight] == ["F1", "F2", "F3", "F5", "F6", "F7", "F8"]


def test_a_process_pool_gives_the_designs_a_loop_gives():
    design = {"seeds": (42, 43), "replicates": 1, "ctrans": (3000.0, 4000.0), "iexp": (0.1, 0.2)}
    serial = run_designs(**design)
    heard = []
    with design_pool(2) as pool:
        pooled = run_designs(**design, executor=pool, progress=heard.append)
    assert heard == ["1/6 seed 42: standard", "2/6 seed 42: ctrans=3000", "3/6 seed 42: iexp=0.1",
                     "4/6 seed 43: standard", "5/6 seed 43: ctrans=3000", "6/6 seed 43: iexp=0.1"]
    for one, other in zip(serial, pooled, strict=True):
        for run, same in ((one.standard, other.standard), (one.by_ctrans[3000.0], other.by_ctrans[3000.0]),
                          (one.by_iexp[0.1], other.by_iexp[0.1])):
            assert run.replicates.equals(same.replicates)
        assert [(f.fact, f.loss) for f in one.facts] == [(f.fact, f.loss) for f in other.facts]
    assert not serial[0].standard.replicates.equals(serial[1].standard.replicates)  # the seeds differ


# ----------------------------------------------------------------- the default config

# Facts whose shape the calibrated default config does not reproduce yet (see
# experiments/paper_abm/REPORT.md for by how much and why). Strict: a fix makes them XPASS,
# which fails the suite until the entry is removed here.
MISSED: dict[str, str] = {}


@pytest.fixture(scope="module")
def reduced_design():
    """The default config as the CLI runs it (seed 42, 10 replicates), with fewer sweep values."""
    return run_design(ctrans=(2000.0, 3000.0, 4000.0, 6000.0), iexp=(0.1, 0.2, 0.4))


@pytest.mark.parametrize("fact", [
    pytest.param(f, marks=pytest.mark.xfail(reason=MISSED[f], strict=True)) if f in MISSED else f
    for f in ("F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8")])
def test_default_config_reproduces_the_shape_of(fact, reduced_design):
    result = next(r for r in reduced_design.facts if r.fact == fact)
    assert result.shape, f"{fact} ({result.paper}) not reproduced: {result.ours}"


# Facts whose quoted number the default config also matches (within the seed's tolerance) in
# at least 4 of the report's 5 seed blocks, not only on seed 42: a regression here is a real change.
ROBUST_NUMBERS = ("F5", "F6", "F7")


@pytest.mark.parametrize("fact", ROBUST_NUMBERS)
def test_default_config_matches_the_seeds_number_of(fact, reduced_design):
    result = next(r for r in reduced_design.facts if r.fact == fact)
    assert result.passed, f"{fact} ({result.paper}) not matched: {result.ours}"
