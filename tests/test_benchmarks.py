"""The per-agent Mesa baseline of benchmarks/ computes what ccframe computes.

BENCHMARKS.md compares ccframe's speed with this baseline; the comparison only means
something if both run the same rules, so the two must agree year by year.
"""

import math

import pytest

from benchmarks.mesa_baseline import BaselineModel
from benchmarks.scale import scaled_overrides
from ccframe.model import CoevolutionModel


@pytest.mark.parametrize("overrides", [
    ("tracking.enabled=false",),
    ("tracking.enabled=false", "alpha=0.3", "ctrans=3000", "suppliers.fixed_cost=500", "seed=5"),
    tuple(scaled_overrides(700, years=6)),
])
def test_baseline_follows_ccframe_year_by_year(settings_for, overrides):
    settings = settings_for(*overrides)
    expected = CoevolutionModel(settings, seed=3).run()
    got = BaselineModel(settings, seed=3).run()
    assert len(got) == len(expected) == settings.years + 1
    for ours, theirs in zip(expected, got, strict=True):
        for metric, value in theirs.items():
            assert value == pytest.approx(ours[metric], rel=1e-9, nan_ok=True), (ours["year"], metric)
    assert not math.isnan(got[-1]["revenue_es"])

