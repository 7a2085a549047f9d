"""The per-agent Mesa baseline of benchmarks/ computes what ccframe computes.

BENCHMARKS.md compares ccframe's speed with this baseline; the comparison only means
something if both run the same rules, so the two must agree year by year.

Both sum fractional window weights (docs/ODD.md 3.3.1) in different orders, so they can
differ in the last bit, and where a supplier's midpoint sits exactly on a server's bound in
matching (equal outputs, capacity-bound servers of equal speed) such a bit can send it to the
neighbouring server. At 700 suppliers root seed 3 meets such a tie in Y2 (seeds 1, 2, 4, 5 and
6 meet none by Y6), so that case runs on seed 1: the check is of the rules, not of tie-breaking.
"""

import math

import pytest

from benchmarks.mesa_baseline import BaselineModel
from benchmarks.scale import scaled_overrides
from ccframe.model import CoevolutionModel


@pytest.mark.parametrize(("overrides", "seed"), [
    (("tracking.enabled=false",), 3),
    (("tracking.enabled=false", "iexp=0.1", "fund.revenue_share=0.8"), 3),  # CBEC servers at break-even
    (("tracking.enabled=false", "alpha=0.3", "ctrans=3000", "suppliers.fixed_cost=500", "seed=5"), 3),
    (("tracking.enabled=false", "commodity.reach_in_price=0.3"), 3),  # the reach widens the market too
    (tuple(scaled_overrides(700, years=6)), 1),
])
def test_baseline_follows_ccframe_year_by_year(settings_for, overrides, seed):
    settings = settings_for(*overrides)
    expected = CoevolutionModel(settings, seed=seed).run()
    got = BaselineModel(settings, seed=seed).run()
    assert len(got) == len(expected) == settings.years + 1
    for ours, theirs in zip(expected, got, strict=True):
        for metric, value in theirs.items():
            assert value == pytest.approx(ours[metric], rel=1e-9, nan_ok=True), (ours["year"], metric)
    assert not math.isnan(got[-1]["revenue_es"])

